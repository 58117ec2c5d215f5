"""Reminders: an open step whose last day is near is told to whoever holds it, once.

The worker calls `send_due` every minute or so. A step is reminded when its last day (the day
before its deadline instant) falls within `remind_days_before` working days, today counted; it
is told to its organisation, or to every office holding its role, and the instance's trail
records `task_reminded`. Exactly once, across workers: the instance is locked first (as every
command locks it) and the step's `reminded_at` is checked and set under that lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Instance, Task
from engine.services.notices import org_codes, tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.services.commands import record
from engine.workflow.services.timers import orgs_with_role
from engine.workflow.workdays import written_date

KIND = "step_due_soon"
BATCH = 200


def horizon(ctx: Context, now: datetime) -> datetime | None:
    """Steps due at or before this instant are within the reminder window (None: no reminders)."""
    days = ctx.settings.remind_days_before
    if days <= 0:
        return None
    today = ctx.calendar.local(now).date()
    last = ctx.calendar.add_working_days(today, days - 1)  # today is the first of them
    return ctx.calendar.start_of_local_day(last + timedelta(days=1))


def send_due(ctx: Context, now: datetime | None = None) -> int:
    """Remind every open step whose last day is near and that was not reminded; how many."""
    now = now or ctx.clock.now()
    until = horizon(ctx, now)
    if until is None:
        return 0
    with ctx.db.read() as session:
        due = session.execute(
            select(Task.id, Task.instance_id)
            .where(
                Task.state == "open",
                Task.reminded_at.is_(None),
                Task.due_at.is_not(None),
                Task.due_at <= until,
                Task.due_at > now,
            )
            .order_by(Task.due_at)
            .limit(BATCH)
        ).all()
    sent = 0
    for task_id, instance_id in due:
        with ctx.db.write() as session:
            sent += _remind(session, ctx, task_id, instance_id, now)
    return sent


def _remind(session: Session, ctx: Context, task_id: int, instance_id: int, now: datetime) -> int:
    instance = session.get(Instance, instance_id, with_for_update=True)
    task = session.get(Task, task_id, populate_existing=True)
    if instance is None or task is None or task.state != "open" or task.reminded_at is not None:
        return 0  # done, or reminded by another worker meanwhile
    assert task.due_at is not None
    last = ctx.calendar.last_day(task.due_at)
    told = (
        [task.org_id]
        if task.org_id is not None
        else orgs_with_role(session, task.role, instance.county_id)
    )
    message = (
        f"事项“{instance.title}”的“{task.name}”须于{written_date(last)}前"
        "（含当日）办理完毕，请抓紧办理。"
    )
    tell(session, told, instance.id, KIND, message, now)
    task.reminded_at = now
    payload = {"due_date": last.isoformat(), "told": org_codes(session, told)}
    record(session, instance, None, "system", [Entry("task_reminded", task.bpmn_id, payload)], now)
    return 1
