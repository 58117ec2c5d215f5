"""费随事转, tracked (issue 14): each township is promised its share of a matter's resources;
one that confirms entry without them is owed the rest by a working-day deadline, records what
arrives, and a shortfall past its last day is escalated once, by whichever worker looks first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine.admission.services import burden, matters, resources
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import ResourceDelivery
from engine.services import notices
from engine.services.context import Context, build_context
from engine.worker import Worker
from engine.workflow.services import instances
from engine.workflow.workdays import written_date
from tests.factories import CONFIRM, application
from tests.integration.test_burden import NOT_RECEIVED, actor, admit, file

# 60,000 yuan and 2 staff for three townships: 20,000 and 1 / 20,000 and 1 / 20,000 and 0.
THREE = ["chengguan", "donghe", "xishan"]


def today(ctx: Context) -> date:
    return ctx.calendar.local(ctx.clock.now()).date()


def by_township(rows: list[resources.TownshipResources]) -> dict[str, resources.TownshipResources]:
    return {row.township.code: row for row in rows}


@pytest.fixture
def owed(ctx: Context, clock) -> int:
    """A matter for three townships: 城关 and 西山 confirm with the resources, 东河 without."""
    matter = file(ctx, "nongye", townships=THREE)
    admit(ctx, matter, {"chengguan": CONFIRM, "donghe": NOT_RECEIVED, "xishan": CONFIRM})
    return matter


def test_each_township_is_promised_its_share_and_the_applicant_told_what_is_owed(
    ctx: Context, owed: int
) -> None:
    rows = by_township(resources.of_instance(ctx, actor(ctx, "bianban"), owed))
    shares = [(r.funding_yuan, r.staff) for r in rows.values()]
    assert shares == [(20000, 1), (20000, 1), (20000, 0)]  # the totals, never counted thrice
    chengguan, donghe = rows["chengguan"], rows["donghe"]
    assert chengguan.resources_received and chengguan.funding_received_yuan == 20000
    assert [d.note for d in chengguan.deliveries] == ["确认进入时已到位"]
    assert not donghe.resources_received
    assert donghe.owed == ["经费20000元", "人员1名", "下放的权限"]
    due = ctx.calendar.add_working_days(today(ctx), ctx.settings.shortfall_working_days)
    assert donghe.shortfall_due == due and not donghe.shortfall_overdue

    told = [
        n
        for n in notices.notifications(ctx, actor(ctx, "nongye"))
        if n.kind == "resources_shortfall"
    ]
    assert len(told) == 1 and told[0].instance_id == owed
    assert f"请于{written_date(due)}前（含当日）补齐" in told[0].message
    assert "东河乡" in told[0].message and "经费20000元" in told[0].message

    [entry] = [e for e in matters.register(ctx, actor(ctx, "donghe")) if e.instance_id == owed]
    assert (entry.funding_yuan, entry.funding_received_yuan, entry.shortfall_due) == (20000, 0, due)
    trail = instances.trail(ctx, owed, actor(ctx, "jiwei"))
    [entered] = [
        e for e in trail if e.action == "matter_entered" and e.payload["township"] == "donghe"
    ]
    assert entered.payload["shortfall_due"] == due.isoformat()


def test_deliveries_close_the_shortfall_and_the_report_counts_them(ctx: Context, owed: int) -> None:
    donghe = actor(ctx, "donghe")
    # The department records what it sent: the township is told; nothing counts as arrived yet.
    sent = {"township": "donghe", "received_on": today(ctx), "funding_yuan": 20000, "staff": 1}
    recorded = resources.deliver(ctx, actor(ctx, "nongye"), owed, sent)
    assert (recorded.funding_sent_yuan, recorded.funding_received_yuan) == (20000, 0)
    assert not recorded.resources_received
    [told] = [n for n in notices.notifications(ctx, donghe) if n.kind == "resources_sent"]
    assert "县农业农村局登记" in told.message and "经费20000元" in told.message
    part = resources.deliver(
        ctx, donghe, owed, {"received_on": today(ctx), "funding_yuan": 15000, "note": "第一批"}
    )
    assert not part.resources_received and part.owed == ["经费5000元", "人员1名", "下放的权限"]
    row = burden.of_townships(ctx, actor(ctx, "bianban"), ["donghe"])[0]
    assert (row.funding_promised_yuan, row.funding_received_yuan, row.open_shortfalls) == (
        20000,
        15000,
        1,
    )

    rest = {"received_on": today(ctx), "funding_yuan": 5000, "staff": 1, "powers_in_place": True}
    done = resources.deliver(ctx, donghe, owed, rest)
    assert done.resources_received and done.owed == [] and done.shortfall_due is None
    assert [(d.kind, d.funding_yuan) for d in done.deliveries] == [
        ("sent", 20000),
        ("received", 15000),
        ("received", 5000),
    ]
    row = burden.of_townships(ctx, actor(ctx, "bianban"), ["donghe"])[0]
    assert (row.funding_received_yuan, row.staff_received, row.open_shortfalls) == (20000, 1, 0)
    assert (row.matters_resources_received, row.matters_resources_missing) == (1, 0)

    messages = [
        n.message
        for n in notices.notifications(ctx, actor(ctx, "nongye"))
        if n.kind == "resources_delivered"
    ]
    assert any("尚缺经费5000元、人员1名、下放的权限" in m for m in messages)
    assert any("应下放该乡镇的资源已全部到位" in m for m in messages)
    actions = [e.action for e in instances.trail(ctx, owed, actor(ctx, "jiwei"))]
    assert actions.count("resources_delivered") == 2 and actions.count("shortfall_closed") == 1
    assert actions.count("resources_sent") == 1
    # Nothing is owed any more: the deadline passing escalates nothing.
    ctx.clock.advance(timedelta(days=60))
    assert resources.escalate_due(ctx) == 0


def _deliveries(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(ResourceDelivery)) or 0


def test_a_bad_delivery_is_refused_and_changes_nothing(ctx: Context, owed: int) -> None:
    donghe, before = actor(ctx, "donghe"), _deliveries(ctx)
    cases = {
        "received_on": {"received_on": today(ctx) + timedelta(days=1), "funding_yuan": 1},
        "funding_yuan": {"received_on": today(ctx)},  # nothing arrived
    }
    for field, values in cases.items():
        with pytest.raises(InvalidInput) as refused:
            resources.deliver(ctx, donghe, owed, values)
        assert field in refused.value.errors
    good = {"received_on": today(ctx), "funding_yuan": 1}
    with pytest.raises(InvalidInput) as refused:  # the department names where it sent them
        resources.deliver(ctx, actor(ctx, "nongye"), owed, good)
    assert "township" in refused.value.errors
    with pytest.raises(InvalidInput):  # a township records only what reached itself
        resources.deliver(ctx, donghe, owed, {**good, "township": "chengguan"})
    with pytest.raises(Forbidden):  # an office judging it records neither
        resources.deliver(ctx, actor(ctx, "bianban"), owed, good)
    with pytest.raises(NotFound):  # a township the matter is not addressed to
        resources.deliver(ctx, actor(ctx, "nanhu"), owed, good)
    pending = file(ctx, "nongye", townships=["donghe"])
    with pytest.raises(Conflict):  # not on its register yet
        resources.deliver(ctx, donghe, pending, good)
    assert _deliveries(ctx) == before
    assert not resources.of_instance(ctx, donghe, owed)[0].resources_received


def test_reads_are_scoped(ctx: Context, owed: int) -> None:
    assert [r.township.code for r in resources.of_instance(ctx, actor(ctx, "donghe"), owed)] == [
        "donghe"
    ]
    assert len(resources.of_instance(ctx, actor(ctx, "nongye"), owed)) == 3
    assert len(resources.of_instance(ctx, actor(ctx, "jiwei"), owed)) == 3
    with pytest.raises(NotFound):
        resources.of_instance(ctx, actor(ctx, "nanhu"), owed)
    with pytest.raises(NotFound):
        resources.of_instance(ctx, actor(ctx, "jiaoyu"), owed)


def test_a_shortfall_past_its_last_day_is_escalated_once_by_the_worker(
    ctx: Context, owed: int, clock
) -> None:
    [donghe] = [
        r
        for r in resources.of_instance(ctx, actor(ctx, "bianban"), owed)
        if not r.resources_received
    ]
    assert donghe.shortfall_due is not None
    # The last day itself is still in time.
    clock.advance(
        ctx.calendar.start_of_local_day(donghe.shortfall_due) - clock.now() + timedelta(hours=20)
    )
    assert resources.escalate_due(ctx) == 0
    clock.advance(timedelta(hours=12))  # the next morning

    Worker(ctx, poll_seconds=0.01).remind_if_due()  # the worker runs the domain's job
    assert resources.escalate_due(build_context(ctx.settings, clock=ctx.clock)) == 0  # once

    for who in ("bianban", "nongye", "donghe"):
        told = [
            n
            for n in notices.notifications(ctx, actor(ctx, who))
            if n.kind == "shortfall_escalated"
        ]
        assert len(told) == 1, who
        assert "逾期仍缺经费20000元、人员1名、下放的权限" in told[0].message
    row = burden.of_townships(ctx, actor(ctx, "bianban"), ["donghe"])[0]
    assert (row.open_shortfalls, row.overdue_shortfalls) == (1, 1)
    [late] = [
        r
        for r in resources.of_instance(ctx, actor(ctx, "bianban"), owed)
        if not r.resources_received
    ]
    assert late.shortfall_overdue and late.shortfall_escalated_at is not None
    [escalated] = [
        e
        for e in instances.trail(ctx, owed, actor(ctx, "jiwei"))
        if e.action == "shortfall_escalated"
    ]
    assert escalated.payload["township"] == "donghe"
    assert escalated.payload["told"] == ["bianban", "donghe", "nongye"]


def test_a_matter_without_resources_owes_nothing(ctx: Context, clock) -> None:
    bare = application(resources={"funding_yuan": 0, "staff": 0, "powers": ""})
    bare["resources_justification"] = "本事项不需要下放经费和人员，由乡镇现有力量承担"
    matter = file(ctx, "nongye", **{k: v for k, v in bare.items() if k != "name"})
    admit(ctx, matter, {"chengguan": NOT_RECEIVED, "donghe": CONFIRM})
    rows = by_township(resources.of_instance(ctx, actor(ctx, "bianban"), matter))
    assert rows["chengguan"].shortfall_due is None and rows["donghe"].deliveries == []
    clock.advance(timedelta(days=90))
    assert resources.escalate_due(ctx) == 0
