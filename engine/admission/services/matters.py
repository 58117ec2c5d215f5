"""Read use cases for townships: the register of admitted matters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from engine.authz import (
    Actor,
    instance_scope,
)
from engine.errors import InvalidInput
from engine.models import Instance, Matter, Organization
from engine.services.directory import OrgRef
from engine.workflow.context import Context
from engine.workflow.counties import instance_in
from engine.workflow.fields import char_problem

REGISTER_STATUSES = ("in_force", "exited")


@dataclass(frozen=True)
class RegisterEntry:
    instance_id: int
    township: OrgRef
    name: str
    term_type: str
    start_date: date
    end_date: date | None
    funding_yuan: int
    staff: int
    funding_received_yuan: int
    staff_received: int
    powers: str
    powers_received: bool
    resources_received: bool
    shortfall_due: date | None
    status: str
    entered_at: datetime
    exited_at: datetime | None
    exit_reason: str | None


def register(
    ctx: Context, actor: Actor, township: str | None = None, status: str | None = None
) -> list[RegisterEntry]:
    """The register of admitted matters, as far as the caller may read it."""
    if status is not None and status not in REGISTER_STATUSES:
        raise InvalidInput("筛选条件有误", {"status": ["应为 in_force 或 exited"]})
    problem = char_problem(township) if township else None
    if problem is not None:
        raise InvalidInput("筛选条件有误", {"township": [problem]})
    scope = instance_scope(actor)
    query = select(Matter).join(Instance, Instance.id == Matter.instance_id)
    if scope.everything:
        query = query.where(instance_in(scope.county_id))
    else:
        allowed = []
        if scope.township_org_id is not None:
            allowed.append(Matter.township_org_id == scope.township_org_id)
        if scope.applicant_org_id is not None:
            allowed.append(Instance.applicant_org_id == scope.applicant_org_id)
        if not allowed:
            return []
        query = query.where(allowed[0] if len(allowed) == 1 else allowed[0] | allowed[1])
    if status:
        query = query.where(Matter.status == status)
    with ctx.db.read() as session:
        if township:
            org_id = session.scalar(select(Organization.id).where(Organization.code == township))
            if org_id is None:
                return []
            query = query.where(Matter.township_org_id == org_id)
        rows = session.scalars(query.order_by(Matter.entered_at.desc(), Matter.id.desc())).all()
        orgs = ctx.names.orgs(session, [r.township_org_id for r in rows])
        return [
            RegisterEntry(
                instance_id=r.instance_id,
                township=orgs[r.township_org_id],
                name=r.name,
                term_type=r.term_type,
                start_date=r.start_date,
                end_date=r.end_date,
                funding_yuan=r.funding_yuan,
                staff=r.staff,
                funding_received_yuan=r.funding_received_yuan,
                staff_received=r.staff_received,
                powers=r.powers,
                powers_received=r.powers_received,
                resources_received=r.resources_received,
                shortfall_due=None if r.resources_received else r.shortfall_due,
                status=r.status,
                entered_at=r.entered_at,
                exited_at=r.exited_at,
                exit_reason=r.exit_reason,
            )
            for r in rows
        ]
