"""Reads beside the use cases: the signed-in actor, townships, an instance's diagram progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.authz import Actor
from engine.burden.services.gates import acting_departments
from engine.models import Instance, Organization
from engine.services.context import Context
from engine.services.directory import OrgRef
from engine.workflow.counties import city_counties
from engine.workflow.services import commands


def townships(ctx: Context, actor: Actor, retired_too: bool = False) -> list[OrgRef]:
    """The caller's county's townships (reference data, no matter in it): those a matter may
    still be addressed to, for the pickers; `retired_too` for filters and naming older
    records. (A city office: every county's.)"""
    with ctx.db.read() as session:
        query = select(Organization.code, Organization.name).where(
            Organization.level == "township", _of_county(actor)
        )
        if not retired_too:
            query = query.where(Organization.active.is_(True))
        rows = session.execute(query.order_by(Organization.id))
        return [OrgRef(code, name) for code, name in rows]


def departments(ctx: Context, actor: Actor) -> list[OrgRef]:
    """The caller's county's departments that act for themselves (reference data), for the
    pickers of fields marked `x-department` (the department a township's need is routed to,
    or rates)."""
    with ctx.db.read() as session:
        found = acting_departments(session, actor.county_id)
        return [OrgRef(org.code, org.name) for org in found]


def marked_choices(ctx: Context, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Options of the fields packages mark as organisations, by mark."""
    return {
        "x-township": [(t.code, t.name) for t in townships(ctx, actor)],
        "x-department": [(d.code, d.name) for d in departments(ctx, actor)],
    }


def organizations(ctx: Context, actor: Actor) -> list[OrgRef]:
    """Every organisation below the county in the caller's county (reference data), for
    pickers and for naming the organisations a trail entry lists by code."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(Organization.code, Organization.name)
            .where(Organization.level.not_in(("city", "county")), _of_county(actor))
            .order_by(Organization.id)
        )
        return [OrgRef(code, name) for code, name in rows]


def counties(ctx: Context, actor: Actor) -> list[OrgRef]:
    """The counties of a city office's city (reference data; none for anyone else)."""
    if actor.county_id is not None or actor.city_id is None:
        return []
    with ctx.db.read() as session:
        rows = session.execute(
            select(Organization.code, Organization.name)
            .where(Organization.id.in_(city_counties(actor.city_id)))
            .order_by(Organization.id)
        )
        return [OrgRef(code, name) for code, name in rows]


def _of_county(actor: Actor) -> Any:
    """The caller's county's organisations; for a city office, those of its counties."""
    if actor.county_id is not None:
        return Organization.county_id == actor.county_id
    return Organization.county_id.in_(city_counties(actor.city_id))


def applicants_of(ctx: Context, instance_ids: list[int]) -> dict[int, OrgRef]:
    """Applicant of each instance; callers pass only ids a use case has already shown them."""
    if not instance_ids:
        return {}
    with ctx.db.read() as session:
        rows = session.execute(
            select(Instance.id, Instance.applicant_org_id).where(Instance.id.in_(instance_ids))
        ).all()
        orgs = ctx.names.orgs(session, [org_id for _, org_id in rows])
        return {instance_id: orgs[org_id] for instance_id, org_id in rows}


@dataclass(frozen=True)
class Progress:
    """An instance's diagram and where it stands: the steps passed and the steps open now."""

    xml: bytes
    completed: frozenset[str]
    current: frozenset[str]


def progress(ctx: Context, instance_id: int, actor: Actor) -> Progress:
    """The diagram of an instance the caller may see (NotFound otherwise, as everywhere)."""
    with ctx.db.read() as session:
        instance, township_ids = commands.visible_instance(session, instance_id, actor, lock=False)
        loaded = commands.restore(session, ctx, instance, township_ids, command=False)
        workflow = loaded.workflow
        current = {view.bpmn_id for view in ctx.runtime.ready_user_tasks(workflow)}
        return Progress(
            xml=loaded.diagram.xml,
            completed=frozenset(ctx.runtime.completed_ids(workflow)) - current,
            current=frozenset(current),
        )
