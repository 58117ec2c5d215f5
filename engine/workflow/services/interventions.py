"""An administrator's hand on an instance: suspend, resume, terminate — each on its trail.

Suspended: no command or timer runs on the instance (its timers are held; on resume they are
due again from the state). Terminated: the instance ends where it stands; its open tasks are
cancelled, a matter in force leaves the townships' registers (each township told), and its
open incidents are closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update

from engine.authz import Actor, require_role
from engine.errors import Conflict, NotFound
from engine.models import Instance, Task
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import administers
from engine.workflow.forms import REASON_FORM
from engine.workflow.processes import terminated
from engine.workflow.services import commands, incidents


def _reason(body: Any) -> str:
    """Why the administrator acts: the same reason form as a withdrawal or an objection."""
    return str(REASON_FORM.validate(body)["reason"])


def _held(session: Any, instance_id: int, actor: Actor, action: str) -> Instance:
    require_role(actor, "admin", action)
    instance = session.get(Instance, instance_id, with_for_update=True)
    if instance is None or not administers(actor, instance.county_id):
        raise NotFound("事项不存在")
    if instance.ended_at is not None or instance.status == commands.TERMINATED:
        raise Conflict("该事项已结束")
    return instance


@dataclass(frozen=True)
class Controlled:
    """What an administrator sees of an instance they act on: its state, not its contents."""

    id: int
    process_id: str
    title: str
    status: str
    suspended_at: datetime | None
    ended_at: datetime | None


def _controlled(instance: Instance) -> Controlled:
    return Controlled(
        instance.id,
        instance.process_id,
        instance.title,
        instance.status,
        instance.suspended_at,
        instance.ended_at,
    )


def suspend(ctx: Context, instance_id: int, body: Any, actor: Actor) -> Controlled:
    reason = _reason(body)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        instance = _held(session, instance_id, actor, "暂停办理")
        if instance.suspended_at is not None:
            raise Conflict("该事项已处于暂停状态")
        commands.record(
            session,
            instance,
            actor,
            "admin",
            [Entry("instance_suspended", None, {"reason": reason})],
            now,
            {"suspended_at": now, "next_timer_at": None},
        )
        return _controlled(instance)


def resume(ctx: Context, instance_id: int, body: Any, actor: Actor) -> Controlled:
    reason = _reason(body)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        instance = _held(session, instance_id, actor, "恢复办理")
        if instance.suspended_at is None:
            raise Conflict("该事项未被暂停")
        loaded = commands.restore(session, ctx, instance, [], command=False)
        commands.record(
            session,
            instance,
            actor,
            "admin",
            [Entry("instance_resumed", None, {"reason": reason})],
            now,
            {"suspended_at": None, "next_timer_at": ctx.runtime.next_due(loaded.workflow)},
        )
        return _controlled(instance)


def terminate(ctx: Context, instance_id: int, body: Any, actor: Actor) -> Controlled:
    reason = _reason(body)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        instance = _held(session, instance_id, actor, "终止办理")
        cancelled = session.execute(
            update(Task)
            .where(Task.instance_id == instance.id, Task.state == "open")
            .values(state="cancelled", completed_at=now)
            .returning(Task.bpmn_id)
        ).all()
        changes = [
            Entry(
                "instance_terminated",
                None,
                {"reason": reason, "tasks_cancelled": sorted({row[0] for row in cancelled})},
            )
        ]
        changes += terminated(session, instance, now)
        changes.append(
            Entry("status_changed", None, {"from": instance.status, "to": commands.TERMINATED})
        )
        incidents.resolve_open(session, instance.id, actor, "terminated", now)
        values = {
            "status": commands.TERMINATED,
            "ended_at": now,
            "next_timer_at": None,
            "suspended_at": None,
        }
        commands.record(session, instance, actor, "admin", changes, now, values)
        return _controlled(instance)
