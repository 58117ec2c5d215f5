"""The service layer: the same lifecycles through engine use cases, committed to a database."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from bench.common import APPLICATION, STEPS, actors
from engine.models import AuditEvent, Instance, Task
from engine.services.context import Context
from engine.workflow.services import instances, tasks


def lifecycle(ctx: Context, who: dict[str, Any]) -> int:
    detail = instances.start(ctx, "matter_admission", APPLICATION, who["nongye"])
    for username, bpmn_id, form in STEPS:
        task = next(
            t
            for t in detail.open_tasks
            if t.bpmn_id == bpmn_id and (t.township is None or t.township == username)
        )
        detail = tasks.complete(ctx, task.id, form, who[username])
    assert detail.status == "in_force", detail.status
    return detail.id


def run(ctx: Context, lifecycles: int) -> dict[str, Any]:
    who = actors(ctx)
    lifecycle(ctx, who)
    began = time.perf_counter()
    for _ in range(lifecycles):
        last = lifecycle(ctx, who)
    elapsed = time.perf_counter() - began
    steps = lifecycles * len(STEPS)
    return {
        "backend": ctx.db.engine.dialect.name,
        "lifecycles": lifecycles,
        "steps_per_s": round(steps / elapsed, 1),
        "ms_per_step": round(elapsed / steps * 1000, 3),
        "stored_bytes": stored_bytes(ctx, last),
    }


def stored_bytes(ctx: Context, instance_id: int) -> dict[str, int]:
    """Bytes one admitted instance's rows carry: its state, its inbox rows, its trail.

    Column payload only (text as UTF-8, 8 bytes per number or timestamp); index and page
    overhead is the database's and not counted.
    """
    with ctx.db.read() as session:
        state = session.scalar(select(Instance.state).where(Instance.id == instance_id)) or b""
        task_rows = session.scalars(select(Task).where(Task.instance_id == instance_id)).all()
        inbox = sum(
            _text_bytes(row.bpmn_id, row.name, row.lane, row.role, row.spiff_task_id, row.state)
            + 8 * 8
            for row in task_rows
        )
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id)
        ).all()
        trail = sum(
            _text_bytes(e.payload_json, e.hash, e.prev_hash, e.action, e.task, e.role) + 8 * 6
            for e in events
        )
        return {"state": len(state), "inbox": inbox, "trail": trail, "events": len(events)}


def _text_bytes(*values: str | None) -> int:
    return sum(len(v.encode()) for v in values if v)
