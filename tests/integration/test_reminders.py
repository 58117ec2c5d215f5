"""Reminders before a deadline: whoever holds a step is told its last day is near, exactly
once, by whichever worker looks first; a step done in time is never reminded (issue 14)."""

from __future__ import annotations

from datetime import timedelta

from engine.services import notices
from engine.services.context import Context, build_context
from engine.worker import Worker
from engine.workflow.services import instances, tasks
from engine.workflow.services.reminders import send_due
from tests.factories import LAWFUL, application
from tests.integration.test_admission_services import actor, take


def another_worker(ctx: Context) -> Context:
    return build_context(ctx.settings, clock=ctx.clock)


def test_a_step_near_its_last_day_is_reminded_once(ctx: Context, clock) -> None:
    matter = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye")).id
    [legal] = tasks.inbox(ctx, actor(ctx, "sifa"))
    assert legal.due_date is not None
    assert send_due(ctx) == 0  # ten working days left: too early
    # Move to the working day before its last day: two working days left, today counted.
    day = legal.due_date - timedelta(days=1)
    while not ctx.calendar.is_working_day(day):
        day -= timedelta(days=1)
    clock.advance(ctx.calendar.start_of_local_day(day) - clock.now() + timedelta(hours=9))

    assert send_due(ctx) == 1
    assert send_due(another_worker(ctx)) == 0  # once, whichever worker looks again
    [told] = notices.notifications(ctx, actor(ctx, "sifa"))
    last = legal.due_date
    assert told.kind == "step_due_soon" and told.instance_id == matter
    assert f"须于{last.year}年{last.month}月{last.day}日前（含当日）办理完毕" in told.message
    trail = [(e.action, e.task) for e in instances.trail(ctx, matter, actor(ctx, "jiwei"))]
    assert ("task_reminded", "legal_review") in trail
    assert notices.notifications(ctx, actor(ctx, "bianban")) == []  # only whoever holds it


def test_a_step_done_in_time_is_not_reminded_and_the_worker_sends_them(ctx: Context, clock) -> None:
    instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    take(ctx, "sifa", LAWFUL)  # done at once
    [review] = tasks.inbox(ctx, actor(ctx, "bianban"))
    clock.advance(timedelta(days=9))
    assert send_due(ctx) == 0  # the review still has more than two working days
    clock.advance(review.due_at - clock.now() - timedelta(hours=12))  # the last day
    worker = Worker(ctx, poll_seconds=0.01)
    worker.remind_if_due()
    kinds = [n.kind for n in notices.notifications(ctx, actor(ctx, "bianban"))]
    assert kinds == ["step_due_soon"]
    assert notices.notifications(ctx, actor(ctx, "sifa")) == []  # its step was done in time
