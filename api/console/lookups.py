"""Reads beside the use cases: the signed-in actor, townships, an instance's diagram progress."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.authz import Actor
from engine.errors import Unauthenticated
from engine.models import Instance, Organization, User
from engine.services.context import Context
from engine.services.directory import OrgRef
from engine.workflow.services import commands


def actor_for_user_id(ctx: Context, user_id: int) -> Actor:
    """The session's user as an Actor, with roles as they are now (like a bearer token's)."""
    with ctx.db.read() as session:
        user = session.get(User, user_id)
        org = session.get(Organization, user.org_id) if user is not None else None
        if user is None or org is None or not user.active:
            raise Unauthenticated("登录已失效，请重新登录")
        return Actor(
            user_id=user.id,
            username=user.username,
            org_id=org.id,
            org_code=org.code,
            org_name=org.name,
            roles=frozenset(user.roles),
            display_name=user.display_name,
        )


def townships(ctx: Context) -> list[OrgRef]:
    """Every township of the county, for the pickers (reference data, no matter in it)."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(Organization.code, Organization.name)
            .where(Organization.level == "township")
            .order_by(Organization.id)
        )
        return [OrgRef(code, name) for code, name in rows]


def organizations(ctx: Context) -> list[OrgRef]:
    """Every organisation below the county (reference data), for pickers and for naming the
    organisations a trail entry lists by code."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(Organization.code, Organization.name)
            .where(Organization.level != "county")
            .order_by(Organization.id)
        )
        return [OrgRef(code, name) for code, name in rows]


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
