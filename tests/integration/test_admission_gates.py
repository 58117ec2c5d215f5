"""Gates with force, and the county's own time limits: a legality opinion binds the review,
every human step has a limit from configuration and a late one is told to whom the county
configured — through the services, each step in a fresh process, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from config.steps import StepRulesError, load_step_rules
from engine.admission.services import matters
from engine.errors import InvalidInput
from engine.services import notices
from engine.services.context import Context, build_context
from engine.workflow.services import instances, tasks
from engine.workflow.services.timers import fire_due
from tests.conftest import make_settings
from tests.factories import APPROVE, LAWFUL, PASS, application, returned
from tests.integration.test_admission_services import actor, take


def fresh(ctx: Context) -> Context:
    """Another worker on the same database: nothing parsed yet."""
    return build_context(ctx.settings, clock=ctx.clock)


def filed(ctx: Context) -> int:
    return instances.start(
        ctx, "matter_admission", application(townships=["donghe"]), actor(ctx, "nongye")
    ).id


def open_steps(ctx: Context, instance_id: int) -> list[str]:
    detail = instances.get(ctx, instance_id, actor(ctx, "nongye"))
    return [t.bpmn_id for t in detail.open_tasks]


def test_an_unlawful_opinion_cannot_be_passed_only_returned_or_refused(ctx: Context) -> None:
    matter = filed(ctx)
    take(fresh(ctx), "sifa", {"opinion": "unlawful", "comment": "无法律依据，不得下放"})
    worker = fresh(ctx)
    with pytest.raises(InvalidInput) as refused:
        take(worker, "bianban", PASS)
    assert "不合法" in refused.value.errors["decision"][0]
    assert open_steps(worker, matter) == ["review"]  # nothing stored
    take(fresh(ctx), "bianban", returned("请依法修改或撤回"))
    assert open_steps(ctx, matter) == ["revise"]


def test_needs_change_goes_back_to_the_applicant_with_the_opinion(ctx: Context) -> None:
    matter = filed(ctx)
    take(fresh(ctx), "sifa", {"opinion": "needs_change", "comment": "经费来源表述须修改"})
    worker = fresh(ctx)
    assert open_steps(worker, matter) == ["revise"]  # the gatekeeper never saw it
    detail = instances.get(worker, matter, actor(worker, "nongye"))
    assert detail.data["legal_review"]["comment"] == "经费来源表述须修改"
    [revise] = tasks.inbox(worker, actor(worker, "nongye"))
    assert revise.bpmn_id == "revise" and revise.due_at is not None
    take(
        fresh(ctx),
        "nongye",
        {
            "action": "resubmit",
            "application": application(townships=["donghe"], name="农田水利设施日常巡查（修改稿）"),
        },
    )
    assert open_steps(ctx, matter) == ["legal_review"]  # reviewed for legality again
    take(fresh(ctx), "sifa", LAWFUL)
    take(fresh(ctx), "bianban", PASS)
    assert take(fresh(ctx), "xianwei", APPROVE).open_tasks[0].bpmn_id == "confirm_entry"


def test_a_late_legal_review_is_told_to_the_gatekeeper(ctx: Context, clock) -> None:
    matter = filed(ctx)
    [legal] = tasks.inbox(ctx, actor(ctx, "sifa"))
    days = ctx.steps.working_days()["legal_review"]
    assert legal.due_at is not None and legal.due_at - clock.now() >= timedelta(days=days)
    # In time through the tenth working day from today, inclusive; late as the next day begins.
    today = ctx.calendar.local(clock.now()).date()
    assert legal.due_date == ctx.calendar.add_working_days(today, days)
    assert legal.due_at == ctx.calendar.start_of_local_day(legal.due_date + timedelta(days=1))
    clock.advance(timedelta(days=2 * days + 10))
    assert fire_due(fresh(ctx)).timers == 1
    told = notices.notifications(ctx, actor(ctx, "bianban"))
    assert [n.kind for n in told] == ["step_overdue"] and "合法性审查" in told[0].message
    assert take(ctx, "sifa", LAWFUL).open_tasks[0].bpmn_id == "review"
    assert instances.get(ctx, matter, actor(ctx, "nongye")).status == "pending"


def test_who_is_told_of_a_late_step_is_the_countys_configuration(
    ctx: Context, clock, tmp_path: Path
) -> None:
    """The same diagram, another county's rules: review in 3 working days, told to the
    auditor instead of the county leadership. No release, only the file and a restart."""
    rules = Path(ctx.settings.step_rules_file).read_text(encoding="utf-8")
    rules = rules.replace(
        '[review]              # 审核（县委编办）\nworking_days = 15\nescalate_to = "approver"',
        '[review]\nworking_days = 3\nescalate_to = "auditor"',
    )
    assert 'escalate_to = "auditor"' in rules.split("[review]")[1].split("[")[0]
    custom = tmp_path / "steps.toml"
    custom.write_text(rules, encoding="utf-8")
    settings = make_settings(str(ctx.db.engine.url)).with_overrides(step_rules_file=custom)
    county = build_context(settings, clock=clock)
    filed(county)
    take(county, "sifa", LAWFUL)
    [review] = tasks.inbox(county, actor(county, "bianban"))
    assert review.due_at is not None and review.due_at - clock.now() < timedelta(days=10)
    clock.advance(timedelta(days=8))
    assert fire_due(county).timers == 1
    assert [n.kind for n in notices.notifications(county, actor(county, "jiwei"))] == [
        "step_overdue"
    ]
    assert notices.notifications(county, actor(county, "xianwei")) == []
    county.db.dispose()


def test_a_malformed_rules_file_stops_the_service_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "steps.toml"
    bad.write_text('[review]\nworking_days = "fifteen"\n', encoding="utf-8")
    with pytest.raises(StepRulesError, match=r"\[review\] working_days"):
        load_step_rules(bad)
    bad.write_text('[review]\nworking_days = 3\nescalate_to = "mayor"\n', encoding="utf-8")
    settings = make_settings("sqlite://").with_overrides(step_rules_file=bad)
    with pytest.raises(StepRulesError, match="mayor"):
        build_context(settings)


DECLINE = {"confirmed": False, "comment": "本镇无对应执法人员和经费，无法承担"}


def approved_for(ctx: Context, townships: list[str]) -> int:
    matter = instances.start(
        ctx, "matter_admission", application(townships=townships), actor(ctx, "nongye")
    ).id
    take(fresh(ctx), "sifa", LAWFUL)
    take(fresh(ctx), "bianban", PASS)
    take(fresh(ctx), "xianwei", APPROVE)
    return matter


def test_a_township_declines_and_the_gatekeeper_drops_it_the_others_keep_the_matter(
    ctx: Context,
) -> None:
    matter = approved_for(ctx, ["chengguan", "donghe"])
    take(fresh(ctx), "donghe", DECLINE)
    take(fresh(ctx), "chengguan", {"confirmed": True, "resources_received": True})
    worker = fresh(ctx)
    assert instances.get(worker, matter, actor(worker, "nongye")).status == "pending"
    [decide] = [t for t in tasks.inbox(worker, actor(worker, "bianban")) if t.instance_id == matter]
    assert decide.bpmn_id == "decide_decline" and decide.due_at is not None
    with pytest.raises(InvalidInput) as refused:
        take(worker, "bianban", {"decision": "drop", "reason": ""})
    assert "reason" in refused.value.errors
    done = take(fresh(ctx), "bianban", {"decision": "drop", "reason": "该乡镇确无相应职能"})
    assert done.status == "in_force"
    register = matters.register(ctx, actor(ctx, "bianban"))
    assert [(r.township.code, r.status) for r in register if r.instance_id == matter] == [
        ("chengguan", "in_force")
    ]
    dropped = notices.notifications(ctx, actor(ctx, "donghe"))[0]
    assert dropped.kind == "township_dropped" and "不再由本乡镇承担" in dropped.message
    told = {n.kind: n.message for n in notices.notifications(ctx, actor(ctx, "nongye"))}
    assert "township_dropped" in told and "matter_entered" in told
    # The department heard of the decline when it was made, with the township's reason.
    assert told["township_declined"].startswith("东河乡：拒绝事项")
    assert "本镇无对应执法人员和经费" in told["township_declined"]


def test_an_upheld_decline_enters_the_township_with_the_reason_and_resources_open(
    ctx: Context,
) -> None:
    matter = approved_for(ctx, ["donghe"])
    take(fresh(ctx), "donghe", DECLINE)
    done = take(fresh(ctx), "bianban", {"decision": "uphold", "reason": "属于乡镇法定职责"})
    assert done.status == "in_force"
    [entry] = [r for r in matters.register(ctx, actor(ctx, "donghe")) if r.instance_id == matter]
    assert entry.status == "in_force" and entry.resources_received is False
    upheld = notices.notifications(ctx, actor(ctx, "donghe"))[0]
    assert upheld.kind == "entry_upheld" and "属于乡镇法定职责" in upheld.message


def test_each_township_is_told_at_approval_and_entered_when_it_confirms(ctx: Context) -> None:
    """The loop's service tasks run in the command that reaches them, not when the whole loop
    ends: every township is told the moment the matter is approved, and a township that
    confirms is on its register at once while the other has not answered yet."""
    matter = approved_for(ctx, ["chengguan", "donghe"])
    for township in ("chengguan", "donghe"):
        told = [n.kind for n in notices.notifications(ctx, actor(ctx, township))]
        assert told == ["matter_incoming"], township
    take(fresh(ctx), "chengguan", {"confirmed": True, "resources_received": True})
    register = matters.register(ctx, actor(ctx, "bianban"))
    assert [r.township.code for r in register if r.instance_id == matter] == ["chengguan"]
    told = [n.kind for n in notices.notifications(ctx, actor(ctx, "nongye"))]
    assert told.count("matter_entered") == 1
