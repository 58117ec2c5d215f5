"""Incidents: the engine failed on an instance; administrators see why, retry, or close them.

A command that fails inside the engine is rolled back whole; `attempt` then opens an incident in
a transaction of its own and gives the caller `ProcedureFailed` with the incident's number. A
timer that fails opens (or counts again on) a timer incident and holds that instance's timers
back with a growing delay, so the worker neither spins on it nor stalls the timers behind it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.authz import Actor, require_role
from engine.errors import Conflict, NotFound, ProcedureFailed
from engine.models import Deployment, Instance
from engine.models_ops import Incident
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import administered, administers
from engine.workflow.runtime import EngineFailure
from engine.workflow.services import commands
from engine.workflow.services.rows import update_instance, update_row

# Timer retries wait 1, 2, 4 … minutes after each failure, at most this long.
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts - 1, 16)), MAX_BACKOFF)


@dataclass
class Attempt:
    """What a command is working on, noted as it learns it, for the incident if it fails."""

    action: str
    instance_id: int | None = None
    deployment_id: int | None = None
    process_id: str = ""

    def on(self, instance: Instance) -> None:
        self.instance_id = instance.id
        self.deployment_id = instance.deployment_id
        self.process_id = instance.process_id

    def on_deployment(self, deployment: Deployment) -> None:
        self.deployment_id = deployment.id
        self.process_id = deployment.process_id


@contextmanager
def attempt(ctx: Context, actor: Actor | None, action: str) -> Iterator[Attempt]:
    """Wrap a command's transaction: an EngineFailure inside becomes an incident (written after
    the rollback) and ProcedureFailed for the caller."""
    noted = Attempt(action)
    try:
        yield noted
    except EngineFailure as failure:
        incident_id = _open(ctx, noted, actor, failure)
        raise ProcedureFailed(
            f"流程运行出错，本次操作未生效，已登记为第 {incident_id} 号故障，"
            "请联系平台管理员处理后重试",
            incident_id,
        ) from failure


def _open(ctx: Context, noted: Attempt, actor: Actor | None, failure: EngineFailure) -> int:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        incident = Incident(
            instance_id=noted.instance_id,
            deployment_id=noted.deployment_id,
            process_id=noted.process_id,
            kind="command",
            action=noted.action,
            step=failure.step,
            cause=failure.cause,
            attempts=1,
            opened_at=now,
            opened_by=actor.user_id if actor else None,
            last_failed_at=now,
        )
        session.add(incident)
        session.flush()
        if noted.instance_id is not None:
            instance = session.get(Instance, noted.instance_id, with_for_update=True)
            if instance is not None:
                _on_trail(session, instance, incident, now)
        return incident.id


def _on_trail(session: Session, instance: Instance, incident: Incident, now: datetime) -> None:
    commands.record(
        session,
        instance,
        None,
        "system",
        [
            Entry(
                "incident_opened",
                incident.step,
                {"incident": incident.id, "kind": incident.kind, "action": incident.action},
            )
        ],
        now,
    )


def timer_failed(ctx: Context, instance_id: int, cause: BaseException, now: datetime) -> Incident:
    """A timer failed on this instance: count it on the open timer incident (or open one) and
    hold the instance's timers back until the incident's next retry."""
    step = cause.step if isinstance(cause, EngineFailure) else None
    text = cause.cause if isinstance(cause, EngineFailure) else f"{type(cause).__name__}: {cause}"
    with ctx.db.write() as session:
        instance = session.get(Instance, instance_id, with_for_update=True)
        if instance is None:
            raise NotFound("事项不存在")
        incident = _open_timer_incident(session, instance_id)
        if incident is None:
            incident = Incident(
                instance_id=instance.id,
                deployment_id=instance.deployment_id,
                process_id=instance.process_id,
                kind="timer",
                action="fire_timers",
                step=step,
                cause=text[:2000],
                attempts=1,
                opened_at=now,
                last_failed_at=now,
                retry_at=now + backoff(1),
            )
            session.add(incident)
            session.flush()
            _on_trail(session, instance, incident, now)
        else:
            attempts = incident.attempts + 1
            update_row(
                session,
                incident,
                attempts=attempts,
                cause=text[:2000],
                step=step,
                last_failed_at=now,
                retry_at=now + backoff(attempts),
            )
        update_instance(session, instance, next_timer_at=incident.retry_at)
        return incident


def _open_timer_incident(session: Session, instance_id: int) -> Incident | None:
    return session.scalar(
        select(Incident)
        .where(
            Incident.instance_id == instance_id,
            Incident.kind == "timer",
            Incident.resolved_at.is_(None),
        )
        .order_by(Incident.id.desc())
        .limit(1)
    )


def timers_recovered(session: Session, instance_id: int, now: datetime) -> None:
    """The instance's timers ran: its open timer incident is resolved by the retry."""
    incident = _open_timer_incident(session, instance_id)
    if incident is not None:
        update_row(session, incident, resolved_at=now, resolution="retried", retry_at=None)


def resolve_open(session: Session, instance_id: int, actor: Actor, how: str, now: datetime) -> None:
    """Close every open incident of an instance (it was terminated)."""
    for incident in session.scalars(
        select(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
    ):
        update_row(
            session,
            incident,
            resolved_at=now,
            resolved_by=actor.user_id,
            resolution=how,
            retry_at=None,
        )


# -- administrators ------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentInfo:
    id: int
    instance_id: int | None
    instance_title: str | None
    process_id: str
    kind: str
    action: str
    step: str | None
    cause: str
    attempts: int
    opened_at: datetime
    last_failed_at: datetime
    retry_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None


def _info(session: Session, incident: Incident) -> IncidentInfo:
    title = (
        session.scalar(select(Instance.title).where(Instance.id == incident.instance_id))
        if incident.instance_id
        else None
    )
    return IncidentInfo(
        id=incident.id,
        instance_id=incident.instance_id,
        instance_title=title,
        process_id=incident.process_id,
        kind=incident.kind,
        action=incident.action,
        step=incident.step,
        cause=incident.cause,
        attempts=incident.attempts,
        opened_at=incident.opened_at,
        last_failed_at=incident.last_failed_at,
        retry_at=incident.retry_at,
        resolved_at=incident.resolved_at,
        resolution=incident.resolution,
    )


def listing(
    ctx: Context, actor: Actor, open_only: bool = True, limit: int = 100
) -> list[IncidentInfo]:
    """Incidents, newest first (open ones only, unless asked)."""
    require_role(actor, "admin", "查看故障")
    return _listing(ctx, open_only, limit, actor)


def unresolved(ctx: Context, limit: int = 100) -> list[IncidentInfo]:
    """Open incidents, newest first (the operator's command line: no actor)."""
    return _listing(ctx, True, limit, None)


def _listing(ctx: Context, open_only: bool, limit: int, actor: Actor | None) -> list[IncidentInfo]:
    """A county's administrators: its instances' incidents, and the deployments' (which are
    every county's)."""
    kept = select(Instance.id).where(administered(actor))
    with ctx.db.read() as session:
        query = (
            select(Incident)
            .where(or_(Incident.instance_id.is_(None), Incident.instance_id.in_(kept)))
            .order_by(Incident.id.desc())
            .limit(max(1, min(limit, 500)))
        )
        if open_only:
            query = query.where(Incident.resolved_at.is_(None))
        return [_info(session, row) for row in session.scalars(query)]


def get(ctx: Context, incident_id: int, actor: Actor) -> IncidentInfo:
    require_role(actor, "admin", "查看故障")
    with ctx.db.read() as session:
        incident = _kept(session, session.get(Incident, incident_id), actor)
        return _info(session, incident)


def _kept(session: Session, incident: Incident | None, actor: Actor) -> Incident:
    """The incident, if the administrator keeps its instance (another county's: as if absent)."""
    instance = (
        session.get(Instance, incident.instance_id)
        if incident is not None and incident.instance_id is not None
        else None
    )
    if incident is None or (instance is not None and not administers(actor, instance.county_id)):
        raise NotFound("故障不存在")
    return incident


def open_timer_incident(ctx: Context, incident_id: int, actor: Actor) -> int:
    """The instance of an open timer incident an administrator may retry (see timers.retry)."""
    require_role(actor, "admin", "重试故障")
    with ctx.db.read() as session:
        incident = _kept(session, session.get(Incident, incident_id), actor)
        if incident.resolved_at is not None:
            raise Conflict("该故障已处理")
        if incident.kind != "timer" or incident.instance_id is None:
            raise Conflict(
                "该故障由用户操作引起，不能由管理员重试；排除原因后请将其关闭，由原办理人重新提交"
            )
        return incident.instance_id


def resolve(ctx: Context, incident_id: int, actor: Actor) -> IncidentInfo:
    """Close an incident once its cause is dealt with (on the instance's trail)."""
    require_role(actor, "admin", "处理故障")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        incident = _kept(session, session.get(Incident, incident_id, with_for_update=True), actor)
        if incident.resolved_at is not None:
            raise Conflict("该故障已处理")
        update_row(
            session,
            incident,
            resolved_at=now,
            resolved_by=actor.user_id,
            resolution="resolved",
            retry_at=None,
        )
        if incident.instance_id is not None:
            instance = session.get(Instance, incident.instance_id, with_for_update=True)
            assert instance is not None
            values = {}
            if incident.kind == "timer" and instance.suspended_at is None:
                # Its timers were held back for the retry: let them run again now.
                values["next_timer_at"] = now
            commands.record(
                session,
                instance,
                actor,
                "admin",
                [Entry("incident_resolved", incident.step, {"incident": incident.id})],
                now,
                values,
            )
        return _info(session, incident)
