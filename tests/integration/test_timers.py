"""Time, made real: deadlines escalate, short-term matters expire, long-term ones are reviewed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.admission.services import matters
from engine.models import AuditEvent, Instance
from engine.services import notices
from engine.services.context import Context
from engine.workflow.audit import verify_chain
from engine.workflow.services import instances, tasks
from engine.workflow.services.timers import fire_due
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.integration.test_admission_services import actor, take


def _admit(ctx: Context, **overrides) -> int:
    detail = instances.start(
        ctx,
        "matter_admission",
        application(townships=["donghe"], **overrides),
        actor(ctx, "nongye"),
    )
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    take(ctx, "xianwei", APPROVE)
    take(ctx, "donghe", CONFIRM)
    return detail.id


def _trail_actions(ctx: Context, instance_id: int) -> list[tuple[str, str | None]]:
    return [(e.action, e.task) for e in instances.trail(ctx, instance_id, actor(ctx, "jiwei"))]


def test_overdue_review_is_marked_and_escalated_but_stays_open(ctx: Context, clock) -> None:
    detail = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    take(ctx, "sifa", LAWFUL)
    review = next(t for t in tasks.inbox(ctx, actor(ctx, "bianban")) if t.bpmn_id == "review")
    assert review.due_at is not None and not review.overdue
    # Fifteen working days: three weeks or more from now, never less.
    assert review.due_at - clock.now() >= timedelta(days=19)

    clock.advance(timedelta(days=5))
    assert fire_due(ctx).timers == 0  # not due yet: nothing happens
    clock.advance(timedelta(days=40))
    assert fire_due(ctx).timers == 1

    late = next(t for t in tasks.inbox(ctx, actor(ctx, "bianban")) if t.bpmn_id == "review")
    assert late.id == review.id and late.overdue
    told = notices.notifications(ctx, actor(ctx, "xianwei"))
    assert [n.kind for n in told] == ["step_overdue"] and "审核" in told[0].message
    assert ("timer_fired", "deadline_review") in _trail_actions(ctx, detail.id)
    assert ("task_escalated", "review") in _trail_actions(ctx, detail.id)
    assert fire_due(ctx).timers == 0  # fired once, never again
    # The step is still the gatekeeper's to finish.
    assert take(ctx, "bianban", PASS).open_tasks[0].bpmn_id == "approve"


def test_short_term_matter_leaves_the_register_on_its_end_date(ctx: Context, clock) -> None:
    end = (clock.now() + timedelta(days=60)).date()
    instance_id = _admit(
        ctx, term_type="short", start_date=str(end - timedelta(days=30)), end_date=str(end)
    )
    donghe = actor(ctx, "donghe")
    assert [r.status for r in matters.register(ctx, donghe)] == ["in_force"]

    clock.advance(timedelta(days=59))
    fire_due(ctx)
    assert matters.register(ctx, donghe)[0].status == "in_force"
    clock.advance(timedelta(days=2))
    fire_due(ctx)

    entry = matters.register(ctx, donghe)[0]
    assert (entry.status, entry.exit_reason) == ("exited", "expired")
    assert "期限届满" in notices.notifications(ctx, donghe)[0].message
    assert instances.get(ctx, instance_id, actor(ctx, "jiwei")).status == "exited"


def test_long_term_matter_gets_a_yearly_review(ctx: Context, clock) -> None:
    instance_id = _admit(ctx, term_type="long", end_date=None)
    bianban = actor(ctx, "bianban")
    assert [t for t in tasks.inbox(ctx, bianban) if t.bpmn_id == "reevaluate"] == []

    clock.advance(timedelta(days=366))
    fire_due(ctx)
    review = [t for t in tasks.inbox(ctx, bianban) if t.bpmn_id == "reevaluate"]
    assert [t.instance_id for t in review] == [instance_id]
    told = [
        n for n in notices.notifications(ctx, actor(ctx, "nongye")) if n.kind == "reevaluation_due"
    ]
    assert len(told) == 1 and "年度评估" in told[0].message  # the department is told
    detail = tasks.complete(
        ctx, review[0].id, {"decision": "continue", "comment": "仍需乡镇协助"}, bianban
    )
    assert detail.status == "in_force"

    clock.advance(timedelta(days=366))
    fire_due(ctx)
    review = next(t for t in tasks.inbox(ctx, bianban) if t.bpmn_id == "reevaluate")
    detail = tasks.complete(
        ctx, review.id, {"decision": "exit", "comment": "已纳入部门职责"}, bianban
    )
    assert detail.status == "exited"
    assert matters.register(ctx, actor(ctx, "donghe"))[0].exit_reason == "reevaluated"


def test_fired_timers_keep_the_trail_chain_intact(ctx: Context, clock) -> None:
    instance_id = _admit(
        ctx,
        term_type="short",
        end_date=str((clock.now() + timedelta(days=3)).date()),
        start_date=str(clock.now().date()),
    )
    clock.advance(timedelta(days=10))
    fire_due(ctx)
    with ctx.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(list(events)) == []
        assert session.get(Instance, instance_id).next_timer_at is None


def test_township_confirmation_has_its_deadline_and_a_late_one_is_escalated(
    ctx: Context, clock
) -> None:
    """Each township confirms inside the loop over townships (a subprocess with the register
    entry after it): its task still shows the deadline set on the loop, and runs over it."""
    detail = instances.start(
        ctx,
        "matter_admission",
        application(townships=["donghe", "chengguan"]),
        actor(ctx, "nongye"),
    )
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    take(ctx, "xianwei", APPROVE)
    [confirm] = [t for t in tasks.inbox(ctx, actor(ctx, "donghe")) if t.instance_id == detail.id]
    assert confirm.bpmn_id == "confirm_entry" and confirm.due_at is not None
    days = ctx.steps.working_days()["confirm_entry"]
    assert confirm.due_at - clock.now() >= timedelta(days=days)
    take(ctx, "donghe", CONFIRM)  # one township in time

    clock.advance(timedelta(days=2 * days + 10))
    assert fire_due(ctx).timers == 1
    [late] = [t for t in tasks.inbox(ctx, actor(ctx, "chengguan")) if t.instance_id == detail.id]
    assert late.overdue
    told = notices.notifications(ctx, actor(ctx, "bianban"))
    assert any(n.kind == "step_overdue" and "确认进入" in n.message for n in told)
    assert ("timer_fired", "deadline_confirm_entry") in _trail_actions(ctx, detail.id)
    # Late is not lost: the township still confirms and the matter is in force in both.
    assert take(ctx, "chengguan", CONFIRM).status == "in_force"
    registered = {r.township.code for r in matters.register(ctx, actor(ctx, "bianban"))}
    assert registered >= {"donghe", "chengguan"}
