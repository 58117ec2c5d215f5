"""Due timers: claim an instance whose next timer is due, fire it, project, audit — one transaction.

On PostgreSQL the claim is `SELECT … FOR UPDATE SKIP LOCKED`: any number of workers on any number
of machines take different instances, and the row lock is the lease — a worker killed mid-fire
rolls back and another takes the instance. On SQLite writers are serialized, so one worker at a
time makes progress (run one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.errors import Conflict, DomainError, NotFound
from engine.models import Instance, Organization, Task, User
from engine.services.notices import org_codes, tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import administers
from engine.workflow.processes import DEFAULT_ESCALATION
from engine.workflow.services import commands, incidents
from engine.workflow.services.rows import update_row

log = logging.getLogger("zhunru.timers")

DEADLINE_PREFIX = "deadline_"


@dataclass(frozen=True)
class FireResult:
    instances: int
    timers: int


def fire_due(ctx: Context, now: datetime | None = None, limit: int = 1000) -> FireResult:
    """Fire every timer due by `now`, one instance per transaction, at most `limit` instances."""
    now = now or ctx.clock.now()
    instances = timers = 0
    while instances < limit:
        fired = _fire_one(ctx, now)
        if fired is None:
            break
        instances += 1
        timers += fired
    return FireResult(instances, timers)


def _fire_one(ctx: Context, now: datetime) -> int | None:
    """Claim the instance whose timer is due first and fire its due timers.

    A failure on that instance (the engine, or a bug of ours) becomes a timer incident that
    holds its timers back with a growing delay: the next poll moves on to the others.
    """
    claimed: int | None = None
    try:
        with ctx.db.write() as session:
            instance = session.scalar(
                select(Instance)
                .where(Instance.next_timer_at <= now)
                .order_by(Instance.next_timer_at, Instance.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if instance is None:
                return None
            claimed = instance.id
            return _fire(session, ctx, instance, now, None)
    except Conflict:
        raise  # another writer changed the instance meanwhile: the next poll sees it anew
    except Exception as exc:
        if claimed is None:
            raise
        log.warning("timers of instance %s failed: %s", claimed, exc)
        incidents.timer_failed(ctx, claimed, exc, now)
        return 0


def _fire(
    session: Session, ctx: Context, instance: Instance, now: datetime, by: Actor | None
) -> int:
    loaded = commands.restore(session, ctx, instance, commands.township_ids(session, instance.id))
    fired = ctx.runtime.fire_due_timers(loaded.workflow, now)
    changes = [Entry("timer_fired", timer, {}) for timer in fired]
    for timer in fired:
        if timer.startswith(DEADLINE_PREFIX):
            changes += _escalate(session, ctx, instance, timer.removeprefix(DEADLINE_PREFIX), now)
    commands.save(session, ctx, loaded, by, "admin" if by else "system", changes, now)
    incidents.timers_recovered(session, instance.id, now)
    return len(fired)


def retry(ctx: Context, incident_id: int, actor: Actor) -> incidents.IncidentInfo:
    """An administrator retries a timer incident: its instance's due timers run now."""
    instance_id = incidents.open_timer_incident(ctx, incident_id, actor)
    fire_instance(ctx, instance_id, ctx.clock.now(), by=actor)
    return incidents.get(ctx, incident_id, actor)


def fire_instance(ctx: Context, instance_id: int, now: datetime, by: Actor) -> int:
    """An administrator retries one instance's timers now; a failure counts on its incident."""
    try:
        with ctx.db.write() as session:
            instance = session.get(Instance, instance_id, with_for_update=True)
            if instance is None or not administers(by, instance.county_id):
                raise NotFound("事项不存在")
            return _fire(session, ctx, instance, now, by)
    except DomainError:
        raise
    except Exception as exc:
        incident = incidents.timer_failed(ctx, instance_id, exc, now)
        raise Conflict(
            f"重试仍未成功（第 {incident.attempts} 次），原因：{incident.cause}"
        ) from exc


def _escalate(
    session: Session, ctx: Context, instance: Instance, step: str, now: datetime
) -> list[Entry]:
    """Mark the late step's open tasks overdue and tell the supervising office."""
    late = session.scalars(
        select(Task)
        .filter_by(instance_id=instance.id, bpmn_id=step, state="open")
        .where(Task.escalated_at.is_(None))
    ).all()
    for task in late:
        update_row(session, task, escalated_at=now)
    # Who supervises the late step is the county's configuration (config/steps.toml).
    role = ctx.steps.escalate_to(step) or DEFAULT_ESCALATION
    told = orgs_with_role(session, role, instance.county_id)
    step_name = late[0].name if late else step
    message = f"事项“{instance.title}”的“{step_name}”已超过办理时限，请督办。"
    tell(session, told, instance.id, "step_overdue", message, now)
    return [Entry("task_escalated", step, {"tasks": len(late), "told": org_codes(session, told)})]


def orgs_with_role(session: Session, role: str, county_id: int | None) -> list[int]:
    """The county's organisations where someone active holds `role` (those a notice to the
    role reaches: another county's offices are never told)."""
    rows = session.execute(
        select(User.org_id, User.roles)
        .join(Organization, Organization.id == User.org_id)
        .where(User.active.is_(True), Organization.county_id == county_id)
    )
    return sorted({org_id for org_id, roles in rows if role in roles})
