"""The accountability procedures in time: appeal windows close, late steps are escalated,
rectification is supervised to closure — through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.accountability.services import cases, procedures
from engine.admission.services import burden
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.services import notices
from engine.services.context import Context
from engine.trail.services import trail
from engine.worker import Worker
from engine.workflow.services import instances, tasks
from engine.workflow.services.timers import fire_due
from tests import accountability_factories as af
from tests.conftest import DEMO_PASSWORD
from tests.integration.test_admission_services import actor, take


def own_case_id(ctx: Context, username: str) -> int:
    [case] = cases.list_cases(ctx, actor(ctx, username)).items
    return case.id


def decided(ctx: Context, outcome: str = "reduced", rectification: bool = False) -> int:
    """zhangming's fault-tolerance application, accepted, verified and decided."""
    case_id = own_case_id(ctx, "zhangming")
    detail = procedures.start_process(
        ctx, "fault_tolerance", af.ft_application(case_id=case_id), actor(ctx, "zhangming")
    )
    take(ctx, "jiwei", af.ACCEPT, "ft_accept")
    take(ctx, "jiwei", af.ft_verification(), "ft_verify")
    take(ctx, "jiwei_shenli", af.ft_decision(outcome, rectification=rectification), "ft_decide")
    return detail.id


def opened_case(ctx: Context, username: str, matter: str) -> cases.CaseDetail:
    """A case about one person, opened by the organisation department."""
    body = {
        "subject_kind": "person",
        "subject_username": username,
        "matter_reported": matter,
        "responsibility_level": "principal",
    }
    return cases.open_case(ctx, body, actor(ctx, "zuzhibu"))


def open_steps(ctx: Context, username: str) -> list[str]:
    return sorted(t.bpmn_id for t in tasks.inbox(ctx, actor(ctx, username)))


def trail_of(ctx: Context, instance_id: int) -> list[tuple[str, str | None]]:
    return [(e.action, e.task) for e in instances.trail(ctx, instance_id, actor(ctx, "jiwei"))]


def assert_trail_verifies(ctx: Context) -> None:
    report = trail.verify(ctx, actor(ctx, "jiwei"))
    assert report.ok, report.problems


def test_an_unappealed_decision_is_filed_once_the_appeal_window_closes(ctx: Context, clock):
    instance_id = decided(ctx)
    assert "ft_file" not in open_steps(ctx, "jiwei")  # the window is open: 15 days

    clock.advance(timedelta(days=10))
    assert fire_due(ctx).timers == 0
    clock.advance(timedelta(days=7))
    assert fire_due(ctx).timers == 1
    assert ("timer_fired", "gw_appeal") in trail_of(ctx, instance_id)

    zhangming = actor(ctx, "zhangming")
    assert instances.get(ctx, instance_id, zhangming).actions == []
    with pytest.raises(Conflict):
        procedures.appeal(ctx, instance_id, {"reason": "逾期申诉"}, zhangming)
    done = take(ctx, "jiwei", af.ft_filing(), "ft_file")
    assert done.status == "concluded"
    assert_trail_verifies(ctx)


def test_an_appeal_not_decided_in_thirty_days_is_escalated_and_stays_open(ctx: Context, clock):
    instance_id = decided(ctx)
    procedures.appeal(ctx, instance_id, {"reason": "请求免责"}, actor(ctx, "zhangming"))
    [appeal] = [t for t in tasks.inbox(ctx, actor(ctx, "jiwei_shenli"))]
    assert appeal.bpmn_id == "ft_appeal_decide"
    assert appeal.due_at is not None and appeal.due_at - clock.now() >= timedelta(days=30)

    clock.advance(timedelta(days=32))
    assert fire_due(ctx).timers == 1
    [late] = tasks.inbox(ctx, actor(ctx, "jiwei_shenli"))
    assert late.id == appeal.id and late.overdue
    told = notices.notifications(ctx, actor(ctx, "jiwei"))
    assert [n.kind for n in told] == ["step_overdue"] and "申诉" in told[0].message
    # Nobody outside the case's readers hears of it.
    assert notices.notifications(ctx, actor(ctx, "xianwei")) == []

    # 回避: the first decider may neither claim nor decide the appeal; a colleague does.
    shenli = actor(ctx, "jiwei_shenli")
    with pytest.raises(Forbidden, match="回避"):
        tasks.claim(ctx, appeal.id, shenli)
    with pytest.raises(Forbidden, match="回避"):
        tasks.complete(ctx, appeal.id, af.appeal_upheld(), shenli)
    take(ctx, "zhaomin", af.appeal_upheld(), "ft_appeal_decide")
    case = cases.get_case(ctx, own_case_id(ctx, "zhangming"), actor(ctx, "zhangming"))
    assert case.tolerance_outcome == "reduced"
    assert take(ctx, "jiwei", af.ft_filing(), "ft_file").status == "concluded"
    assert_trail_verifies(ctx)


def test_rectification_is_the_cadres_own_task_and_is_supervised_to_closure(ctx: Context, clock):
    instance_id = decided(ctx, rectification=True)
    assert open_steps(ctx, "zhangming") == ["ft_rectify"]
    assert open_steps(ctx, "chengguan") == []  # his township's office does not see it

    take(ctx, "zhangming", af.ft_rectification(), "ft_rectify")
    take(ctx, "jiwei", af.supervise_continue(), "ft_supervise")
    [again] = tasks.inbox(ctx, actor(ctx, "zhangming"))
    assert again.bpmn_id == "ft_rectify" and again.assignee == "zhangming"

    clock.advance(timedelta(days=32))  # past the rectification deadline and the appeal window
    assert fire_due(ctx).timers == 2
    [late] = tasks.inbox(ctx, actor(ctx, "zhangming"))
    assert late.overdue
    assert ("task_escalated", "ft_rectify") in trail_of(ctx, instance_id)
    assert "ft_file" not in open_steps(ctx, "jiwei")  # correction is not closed yet

    take(ctx, "zhangming", af.ft_rectification(), "ft_rectify")
    take(ctx, "jiwei", af.SUPERVISE_CLOSED, "ft_supervise")
    assert take(ctx, "jiwei", af.ft_filing(), "ft_file").status == "concluded"
    steps = [task for action, task in trail_of(ctx, instance_id) if action == "task_completed"]
    assert steps == [
        "ft_accept",
        "ft_verify",
        "ft_decide",
        "ft_rectify",
        "ft_supervise",
        "ft_rectify",
        "ft_supervise",
        "ft_file",
    ]
    assert_trail_verifies(ctx)


def test_clearance_late_by_five_working_days_is_escalated_then_referred_on(ctx: Context, clock):
    lihua = actor(ctx, "lihua")
    case_id = own_case_id(ctx, "lihua")
    detail = procedures.start_process(ctx, "clearance", af.cl_application(case_id=case_id), lihua)
    take(ctx, "jiwei", af.eligible(), "cl_eligibility")
    take(ctx, "jiwei_shenli", af.approved("in_person"), "cl_approve")
    [carry_out] = tasks.inbox(ctx, actor(ctx, "jiwei"))
    # Five working days: a week or more, never less.
    assert carry_out.due_at is not None and carry_out.due_at - clock.now() >= timedelta(days=7)

    clock.advance(timedelta(days=20))
    assert fire_due(ctx).timers == 1
    assert tasks.inbox(ctx, actor(ctx, "jiwei"))[0].overdue
    assert [n.kind for n in notices.notifications(ctx, actor(ctx, "jiwei_shenli"))] == [
        "step_overdue"
    ]

    take(ctx, "jiwei", af.carried_out("in_person", malicious=True), "cl_carry_out")
    assert cases.get_case(ctx, case_id, lihua).clearance_method == "in_person"
    done = take(ctx, "jiwei", af.referral(), "cl_refer")
    assert done.status == "cleared"
    # A second clearance of a cleared case is refused.
    with pytest.raises(Conflict):
        procedures.start_process(ctx, "clearance", af.cl_application(case_id=case_id), lihua)
    assert [t for a, t in trail_of(ctx, detail.id) if a == "task_completed"] == [
        "cl_eligibility",
        "cl_approve",
        "cl_carry_out",
        "cl_refer",
    ]
    assert_trail_verifies(ctx)


def test_a_unit_applies_through_its_cadres_and_the_case_record_is_on_the_trail(ctx: Context):
    zuzhibu = actor(ctx, "zuzhibu")
    opened = cases.open_case(
        ctx,
        {
            "subject_kind": "unit",
            "subject_org": "xishan",
            "matter_reported": "西山镇防汛物资储备不足",
            "responsibility_level": "principal",
        },
        zuzhibu,
    )
    wangfang, xishan = actor(ctx, "wangfang"), actor(ctx, "xishan")
    # The unit's users read it; wangfang applies for the unit.
    assert [c.id for c in cases.list_cases(ctx, xishan).items] == [opened.id]
    detail = procedures.start_process(
        ctx, "fault_tolerance", af.ft_application(case_id=opened.id), wangfang
    )
    assert instances.get(ctx, detail.id, xishan).status == "pending"
    take(ctx, "jiwei", af.refuse_acceptance(), "ft_accept")
    assert instances.get(ctx, detail.id, wangfang).status == "refused"
    [notice] = notices.notifications(ctx, xishan)
    assert notice.kind == "tolerance_refused"

    events = cases.get_case(ctx, opened.id, zuzhibu).events
    assert [(e.action, e.actor) for e in events] == [("case_opened", "zuzhibu")]
    assert_trail_verifies(ctx)


def test_case_procedures_are_no_matters_in_the_burden_report(ctx: Context):
    decided(ctx)
    report = burden.report(ctx, actor(ctx, "xianwei"))
    assert "chengguan" not in {d.department.code for d in report.departments}
    assert sum(d.filed for d in report.departments) == 0


def test_the_cadre_and_the_organisation_department_are_told_each_turn(ctx: Context) -> None:
    """Acceptance, the decision, the appeal's result, the clearance's approval and its carrying
    out each reach the person concerned, and the organisation department (issue 14)."""
    zhangming, zuzhibu = actor(ctx, "zhangming"), actor(ctx, "zuzhibu")
    case_id = own_case_id(ctx, "zhangming")
    started = procedures.start_process(
        ctx, "fault_tolerance", af.ft_application(case_id=case_id), zhangming
    )
    take(ctx, "jiwei", af.ACCEPT, "ft_accept")
    [accepted] = notices.notifications(ctx, zhangming)
    assert accepted.kind == "tolerance_accepted" and "已受理" in accepted.message
    assert [n.kind for n in notices.notifications(ctx, zuzhibu)] == ["tolerance_accepted"]
    take(ctx, "jiwei", af.ft_verification(), "ft_verify")
    take(ctx, "jiwei_shenli", af.ft_decision("reduced"), "ft_decide")
    procedures.appeal(ctx, started.id, af.ft_appeal(), zhangming)
    take(ctx, "zhaomin", af.appeal_upheld(), "ft_appeal_decide")
    kinds = [n.kind for n in notices.notifications(ctx, zuzhibu)]
    assert kinds == ["appeal_decided", "tolerance_decided", "tolerance_accepted"]

    lihua = actor(ctx, "lihua")
    cl_case = own_case_id(ctx, "lihua")
    procedures.start_process(ctx, "clearance", af.cl_application(case_id=cl_case), lihua)
    take(ctx, "jiwei", af.eligible(), "cl_eligibility")
    take(ctx, "jiwei_shenli", af.approved("meeting"), "cl_approve")
    [approval] = notices.notifications(ctx, lihua)
    assert approval.kind == "clearance_approved" and "已批准" in approval.message
    assert notices.notifications(ctx, zuzhibu)[0].kind == "clearance_approved"
    assert notices.notifications(ctx, zhangming)[0].kind == "appeal_decided"  # not lihua's


def test_a_proven_case_concludes_with_its_accountability_decision(ctx: Context, clock) -> None:
    """问责决定: recorded with outcome, document number and date once the report is proven;
    until then the cadre may still apply for fault tolerance; bad input changes nothing."""
    jiwei, zuzhibu, zhangming = actor(ctx, "jiwei"), actor(ctx, "zuzhibu"), actor(ctx, "zhangming")
    case_id = own_case_id(ctx, "zhangming")
    proven = cases.record_finding(
        ctx, case_id, {"finding": "proven", "harm": False, "note": "问题属实"}, jiwei
    )
    assert (proven.status, proven.concluded_at) == ("proven", None)
    assert "fault_tolerance" in cases.get_case(ctx, case_id, zhangming).actions  # not yet decided

    today = ctx.calendar.local(clock.now()).date()
    good = {
        "outcome": "admonition",
        "document_no": "县纪委问〔2026〕3号",
        "decided_on": today.isoformat(),
    }
    for bad, field in (
        ({**good, "decided_on": (today + timedelta(days=1)).isoformat()}, "decided_on"),
        ({**good, "document_no": " "}, "document_no"),
        ({**good, "outcome": "fine"}, "outcome"),
    ):
        with pytest.raises(InvalidInput) as refused:
            cases.record_decision(ctx, case_id, bad, zuzhibu)
        assert field in refused.value.errors
    with pytest.raises(Forbidden):
        cases.record_decision(ctx, case_id, good, actor(ctx, "jiwei_shenli"))  # not an opener
    assert cases.get_case(ctx, case_id, zuzhibu).status == "proven"

    decided = cases.record_decision(ctx, case_id, good, zuzhibu)
    assert (decided.status, decided.decision_outcome) == ("decided", "admonition")
    assert decided.decision_no == "县纪委问〔2026〕3号" and decided.concluded_at is not None
    [told] = [n for n in notices.notifications(ctx, zhangming) if n.kind == "case_decided"]
    assert "诫勉" in told.message and "县纪委问〔2026〕3号" in told.message
    assert any(n.kind == "case_decided" for n in notices.notifications(ctx, zuzhibu))
    assert notices.notifications(ctx, actor(ctx, "chengguan")) == []  # the cadre's own notice
    assert "fault_tolerance" not in cases.get_case(ctx, case_id, zhangming).actions
    with pytest.raises(Conflict):
        cases.record_decision(ctx, case_id, good, jiwei)
    actions = [e.action for e in cases.get_case(ctx, case_id, jiwei).events]
    assert actions[-1] == "case_decision_recorded"


def test_the_organ_that_verified_a_report_carries_out_the_clearance(ctx: Context) -> None:
    """谁核实谁澄清: a township's discipline committee verifies a report untrue; the cadre's
    clearance goes to that committee, not to the county's discipline organ."""
    from sqlalchemy import select

    from engine.models import Organization
    from engine.services import accounts

    with ctx.db.write() as session:
        donghe = session.scalar(select(Organization).where(Organization.code == "donghe"))
        committee = accounts.add_organization(
            session, "donghe_jiwei", "东河乡纪委", "department", donghe
        )
        accounts.add_user(
            session,
            username="donghe_jiwei",
            display_name="东河乡纪委书记",
            password=DEMO_PASSWORD,
            org=committee,
            roles=["discipline"],
            by=None,
            at=ctx.clock.now(),
        )
    committee_member = actor(ctx, "donghe_jiwei")
    opened = opened_case(ctx, "lihua", "反映其违规发放救助金")
    verified = cases.record_finding(
        ctx,
        opened.id,
        {"finding": "untrue", "harm": True, "note": "经核查反映失实"},
        committee_member,
    )
    assert verified.verified_by is not None and verified.verified_by.name == "东河乡纪委"
    lihua = actor(ctx, "lihua")
    procedures.start_process(ctx, "clearance", af.cl_application(case_id=opened.id), lihua)
    assert [t.bpmn_id for t in tasks.inbox(ctx, committee_member)] == ["cl_eligibility"]
    assert [t for t in tasks.inbox(ctx, actor(ctx, "jiwei")) if t.bpmn_id == "cl_eligibility"] == []
    [task] = tasks.inbox(ctx, committee_member)
    with pytest.raises(Forbidden):  # nor may the county organ take it
        tasks.claim(ctx, task.id, actor(ctx, "jiwei"))


def test_an_untrue_report_that_affected_a_promotion_makes_a_proposal_due(
    ctx: Context, clock
) -> None:
    """应当澄清: the finding records what the untrue report affected; the handling organ must
    then propose the clearance within its limit, or the worker escalates it once."""
    zuzhibu, jiwei = actor(ctx, "zuzhibu"), actor(ctx, "jiwei")
    opened = opened_case(ctx, "zhangming", "反映其在征地补偿中优亲厚友")
    with pytest.raises(InvalidInput) as refused:  # only an untrue report is to be cleared
        cases.record_finding(
            ctx,
            opened.id,
            {"finding": "proven", "harm": False, "note": "属实", "clearance_triggers": ["awards"]},
            jiwei,
        )
    assert "clearance_triggers" in refused.value.errors
    finding = {
        "finding": "untrue",
        "harm": True,
        "note": "经核查反映失实",
        "clearance_triggers": ["selection", "repeated_reports"],
    }
    verified = cases.record_finding(ctx, opened.id, finding, jiwei)
    due = verified.clearance_proposal_due
    today = ctx.calendar.local(clock.now()).date()
    assert due == ctx.calendar.add_working_days(today, 10)  # config/steps.toml
    assert "clearance_proposal" in cases.get_case(ctx, opened.id, zuzhibu).actions

    assert cases.escalate_proposals(ctx) == 0  # not yet due
    clock.advance(ctx.calendar.start_of_local_day(due) - clock.now() + timedelta(days=1, hours=9))
    Worker(ctx, poll_seconds=0.01).remind_if_due()  # the worker runs the domain's job
    assert cases.escalate_proposals(ctx) == 0  # once
    told = [
        n for n in notices.notifications(ctx, zuzhibu) if n.kind == "clearance_proposal_overdue"
    ]
    assert len(told) == 1 and "影响选拔任用、已了结问题被反复举报" in told[0].message
    assert any(n.kind == "clearance_proposal_overdue" for n in notices.notifications(ctx, jiwei))
    events = [e.action for e in cases.get_case(ctx, opened.id, jiwei).events]
    assert "clearance_proposal_overdue" in events


def test_a_proposal_made_in_time_is_not_escalated(ctx: Context, clock) -> None:
    zuzhibu, jiwei = actor(ctx, "zuzhibu"), actor(ctx, "jiwei")
    opened = opened_case(ctx, "lihua", "反映其违规发放救助金")
    finding = {"finding": "untrue", "harm": True, "note": "失实", "clearance_triggers": ["awards"]}
    cases.record_finding(ctx, opened.id, finding, jiwei)
    procedures.start_process(ctx, "clearance", af.cl_proposal(case_id=opened.id), zuzhibu)
    assert cases.get_case(ctx, opened.id, zuzhibu).clearance_proposal_due is None  # proposed
    clock.advance(timedelta(days=40))
    assert cases.escalate_proposals(ctx) == 0
