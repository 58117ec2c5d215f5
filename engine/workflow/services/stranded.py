"""Stranded instances: not ended, yet nothing can move them on. Found, and released.

An instance is stranded when its stored state holds a loop child completed but never merged
(what older code left after a restart), or when it has no ready user task, no waiting timer or
message, and no end. Releasing re-runs the engine on a correctly wired diagram; it is recorded
on the instance's trail like any command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor, require_role
from engine.errors import Conflict, NotFound
from engine.models import Instance
from engine.models_ops import OpsReading
from engine.workflow.context import Context
from engine.workflow.counties import administered, administers
from engine.workflow.services import commands, incidents

REASONS = {
    "unmerged": "多个乡镇（单位）并行办理的环节已办完，但流程未能汇合继续",
    "no_way_on": "流程既没有待办、也没有等待中的时限或消息，且尚未结束",
}
BATCH = 200


@dataclass(frozen=True)
class StrandedInstance:
    instance_id: int
    process_id: str
    title: str
    status: str
    reason: str
    reason_text: str
    updated_at: datetime
    # Whether `release` can move it on (merging is mechanical; a dead end needs a person).
    releasable: bool


def _reason(session: Session, ctx: Context, instance: Instance) -> str | None:
    loaded = commands.restore(session, ctx, instance, [], command=False)
    if loaded.released:  # restore merges at once what older code left unmerged
        return "unmerged"
    return ctx.runtime.stranded_reason(loaded.workflow)


def scan(ctx: Context, limit: int = 1000, actor: Actor | None = None) -> list[StrandedInstance]:
    """Every stranded instance among those not ended (each one's state is read: a county's
    live instances are thousands, read in batches), at most `limit`; of those the
    administrator `actor` keeps (None: the worker's and the CLI's sweep, every county's)."""
    found: list[StrandedInstance] = []
    after = 0
    with ctx.db.read() as session:
        while len(found) < limit:
            batch = session.scalars(
                select(Instance)
                .where(
                    Instance.ended_at.is_(None),
                    Instance.status != commands.TERMINATED,
                    Instance.id > after,
                    administered(actor),
                )
                .order_by(Instance.id)
                .limit(BATCH)
            ).all()
            if not batch:
                break
            for instance in batch:
                reason = _reason(session, ctx, instance)
                if reason is not None:
                    found.append(
                        StrandedInstance(
                            instance_id=instance.id,
                            process_id=instance.process_id,
                            title=instance.title,
                            status=instance.status,
                            reason=reason,
                            reason_text=REASONS[reason],
                            updated_at=instance.updated_at,
                            releasable=reason == "unmerged",
                        )
                    )
            after = batch[-1].id
            session.expunge_all()
    return found[:limit]


def find(ctx: Context, actor: Actor, limit: int = 1000) -> list[StrandedInstance]:
    require_role(actor, "admin", "查看滞留流程")
    return scan(ctx, limit, actor)


def release(ctx: Context, instance_id: int, actor: Actor | None) -> str:
    """Move a stranded instance on (its trail says so); returns its status afterwards.

    `actor` None is the operator's command line acting as the system.
    """
    if actor is not None:
        require_role(actor, "admin", "恢复滞留流程")
    now = ctx.clock.now()
    with incidents.attempt(ctx, actor, "release") as noted, ctx.db.write() as session:
        instance = session.get(Instance, instance_id, with_for_update=True)
        if instance is None or not administers(actor, instance.county_id):
            raise NotFound("事项不存在")
        noted.on(instance)
        loaded = commands.restore(
            session, ctx, instance, commands.township_ids(session, instance.id)
        )
        if not loaded.released:
            reason = ctx.runtime.stranded_reason(loaded.workflow)
            if reason is None:
                raise Conflict("该事项并未滞留，无需恢复")
            raise Conflict(f"该事项无法自动恢复：{REASONS[reason]}；请核查后由管理员终止或处理")
        commands.save(session, ctx, loaded, actor, "admin" if actor else "system", [], now)
        return loaded.instance.status


@dataclass(frozen=True)
class Outcome:
    instance_id: int
    released: bool
    text: str


def release_all(ctx: Context) -> list[Outcome]:
    """The operator's sweep: try every stranded instance, releasing what can be released."""
    outcomes = []
    for item in scan(ctx):
        if not item.releasable:
            outcomes.append(Outcome(item.instance_id, False, f"无法自动恢复：{item.reason_text}"))
            continue
        try:
            status = release(ctx, item.instance_id, None)
            outcomes.append(Outcome(item.instance_id, True, f"已恢复，状态 {status}"))
        except Conflict as exc:
            outcomes.append(Outcome(item.instance_id, False, exc.message))
    return outcomes


READING = "instances_stranded"


def sweep(ctx: Context) -> int:
    """The worker's periodic pass: release what can be released, store how many stay stranded
    (the `zhunru_instances_stranded` gauge reads it); returns that number."""
    remaining = sum(not outcome.released for outcome in release_all(ctx))
    with ctx.db.write() as session:
        session.merge(OpsReading(name=READING, value=remaining, measured_at=ctx.clock.now()))
    return remaining
