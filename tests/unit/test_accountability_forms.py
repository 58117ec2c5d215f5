"""The accountability forms (the packages' JSON Schema files): schema rules and cross-checks
against the case, the task's data, the county's tolerance rules and today, each refused with a
Chinese message on the field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from engine.accountability.forms_accountability import APPEAL_FORM, LABELS, OUTCOMES
from engine.errors import InvalidInput
from engine.workflow.schema_forms import SchemaForm, labelled_choices
from tests import accountability_factories as af
from tests.packages import shipped_diagram

TODAY = date(2099, 3, 2)
CJK = re.compile(r"[\u4e00-\u9fff]")
DIAGRAMS = {process: shipped_diagram(process) for process in ("fault_tolerance", "clearance")}
START_FORMS = {process: diagram.forms["start_apply"] for process, diagram in DIAGRAMS.items()}
TASK_FORMS = {
    step: form
    for diagram in DIAGRAMS.values()
    for step, form in diagram.forms.items()
    if step != "start_apply"
}
FT_APPLY = START_FORMS["fault_tolerance"]
CL_APPLY = START_FORMS["clearance"]
Form = SchemaForm


def ctx(**kwargs: Any) -> dict[str, Any]:
    return af.context(today=TODAY, **kwargs)


def errors_of(form: Form, payload: Any, context: dict[str, Any] | None = None) -> dict:
    with pytest.raises(InvalidInput) as caught:
        form.validate(payload, ctx() if context is None else context)
    return caught.value.errors


def refused(
    form: Form, payload: Any, field: str, message: str, context: dict | None = None
) -> None:
    errors = errors_of(form, payload, context)
    assert field in errors, errors
    assert message in str(errors[field]), errors[field]
    assert CJK.search(str(errors[field]))


# --- registration and labels ----------------------------------------------------------------


def test_forms_are_registered_and_store_under_the_contracts_keys() -> None:
    assert {"fault_tolerance", "clearance"} <= set(START_FORMS)
    keys = {
        "ft_accept": "ft_accept",
        "ft_verify": "ft_verify",
        "ft_decide": "ft_decision",
        "ft_appeal_decide": "ft_appeal",
        "ft_rectify": "ft_rectify",
        "ft_supervise": "ft_supervise",
        "ft_file": "ft_filing",
        "cl_eligibility": "cl_eligibility",
        "cl_approve": "cl_approval",
        "cl_carry_out": "cl_result",
        "cl_refer": "cl_referral",
    }
    for task, key in keys.items():
        assert list(TASK_FORMS[task].data_for(task, {"x": 1})) == [key], task
    assert FT_APPLY.data_for("application", {"x": 1}) == {"application": {"x": 1}}
    assert CL_APPLY.data_for("application", {"x": 1}) == {"application": {"x": 1}}
    assert APPEAL_FORM.data_for("", {"reason": "r"}) == {"appeal": {"reason": "r"}}


def test_every_enumeration_has_chinese_labels() -> None:
    assert {"distinctions", "outcomes", "clearance_methods", "ineligible_grounds"} <= set(LABELS)
    for name, labels in LABELS.items():
        assert labels, name
        assert all(CJK.search(label) for label in labels.values()), name
    assert set(LABELS["distinctions"]) == {"inexperience", "exploration", "unintentional"}
    assert set(OUTCOMES) == {"exempt", "reduced", "lighter", "not_granted"}


# Choices whose codes the service also names (checks' messages, case effects, console results).
SHARED_CHOICES = {
    ("start_apply", "distinctions"): "distinctions",
    ("ft_decide", "distinctions"): "distinctions",
    ("ft_decide", "outcome"): "outcomes",
    ("ft_verify", "suggestion"): "outcomes",
    ("ft_appeal_decide", "outcome"): "outcomes",
    ("cl_eligibility", "grounds"): "ineligible_grounds",
    ("cl_approve", "method"): "clearance_methods",
    ("cl_carry_out", "method"): "clearance_methods",
    ("cl_refer", "referred_to"): "referral_targets",
}


@pytest.mark.parametrize(("step", "field"), sorted(SHARED_CHOICES))
def test_the_forms_title_the_codes_as_the_service_names_them(step: str, field: str) -> None:
    form = FT_APPLY if step == "start_apply" else TASK_FORMS[step]
    prop = form.json_schema["properties"][field]
    choices = labelled_choices(prop.get("items", prop))
    assert dict(choices) == LABELS[SHARED_CHOICES[(step, field)]]


# --- 容错纠错: application ----------------------------------------------------------------------


def test_valid_tolerance_application() -> None:
    values = FT_APPLY.validate(af.ft_application(), ctx())
    assert values["case_id"] == 1 and values["no_private_gain"] is True
    assert values["distinctions"] == ["inexperience", "exploration"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"no_private_gain": False}, "no_private_gain", "须声明未谋取私利"),
        ({"no_private_gain": "yes"}, "no_private_gain", "应为 true 或 false"),
        ({"distinctions": []}, "distinctions", "长度应在 1 到 3 之间"),
        ({"distinctions": ["bold"]}, "distinctions", "应为以下之一"),
        ({"distinctions": ["inexperience"] * 2}, "distinctions", "不能重复"),
        ({"circumstances": []}, "circumstances", "长度应在 1 到 50 之间"),
        ({"circumstances": ["emergency"] * 2}, "circumstances", "容错情形不能重复"),
        ({"circumstances": ["made_up"]}, "circumstances", "不是本县规定的容错情形：made_up"),
        ({"facts": " "}, "facts", "不能只填空白"),
        ({"grounds": "理" * 5001}, "grounds", "长度不能超过 5000"),
        ({"case_id": 0}, "case_id", "应在 1 到"),
        ({"case_id": "1"}, "case_id", "应为整数"),
        ({"case_id": 2**40}, "case_id", "应在 1 到"),
    ],
)
def test_bad_tolerance_application(change: dict, field: str, message: str) -> None:
    refused(FT_APPLY, af.ft_application(**change), field, message)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (af.open_case(status="decided", finding="proven", concluded=True), "问责决定已作出"),
        (af.untrue_case(), "案件已办结，不能再申请容错"),
    ],
)
def test_tolerance_only_while_the_case_is_open(case: dict, message: str) -> None:
    refused(FT_APPLY, af.ft_application(), "case_id", message, ctx(case=case))


@pytest.mark.parametrize("case", [None, {}], ids=["absent", "empty"])
def test_application_without_a_case_is_left_to_the_service(case: dict | None) -> None:
    context = ctx()
    context.pop("case")
    if case is not None:
        context["case"] = case  # what the service passes when the id names no readable case
    assert FT_APPLY.validate(af.ft_application(), context)["case_id"] == 1


def test_circumstances_need_the_countys_rules() -> None:
    context = ctx()
    del context["rules"]
    with pytest.raises(LookupError):
        FT_APPLY.validate(af.ft_application(), context)


# --- 容错纠错: steps ----------------------------------------------------------------------------


def test_acceptance_refusal_needs_an_explanation() -> None:
    form = TASK_FORMS["ft_accept"]
    refused(form, {"decision": "refuse"}, "explanation", "不予受理时须向申请人说明理由")
    assert form.validate(af.refuse_acceptance("逾期申请"), ctx())["explanation"] == "逾期申请"
    assert form.validate(af.ACCEPT, ctx()) == {"decision": "accept", "explanation": ""}
    refused(form, {"decision": "maybe"}, "decision", "应为以下之一")


def test_verification() -> None:
    form = TASK_FORMS["ft_verify"]
    assert form.validate(af.ft_verification(), ctx())["suggestion"] == "reduced"
    refused(form, af.ft_verification(departments_consulted=[]), "departments_consulted", "长度")
    refused(
        form,
        af.ft_verification(departments_consulted=["县财政局"] * 2),
        "departments_consulted",
        "核实部门不能重复",
    )
    refused(form, af.ft_verification(suggestion="pardon"), "suggestion", "应为以下之一")
    payload = af.ft_verification()
    del payload["findings"]
    refused(form, payload, "findings", "此项为必填项")


DECIDE = TASK_FORMS["ft_decide"]


def test_valid_decisions() -> None:
    values = DECIDE.validate(af.ft_decision("reduced"), ctx())
    assert values["rectification_required"] is False
    assert values["rectification_deadline"] is None and values["exclusions"] == []
    exempt = af.ft_decision("exempt", circumstances=["emergency"])
    assert DECIDE.validate(exempt, ctx())["outcome"] == "exempt"
    assert DECIDE.validate(af.ft_decision("not_granted"), ctx())["circumstances"] == []
    with_rectification = af.ft_decision("lighter", rectification=True, today=TODAY)
    values = DECIDE.validate(with_rectification, ctx())
    assert values["rectification_deadline"] == "2099-04-01"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"distinctions": []}, "distinctions", "予以容错时须至少选择一项“三个区分开来”情形"),
        ({"circumstances": []}, "circumstances", "予以容错时须至少选择一项容错情形"),
        ({"circumstances": ["cooperated", "cooperated"]}, "circumstances", "不能重复"),
        ({"circumstances": ["nope"]}, "circumstances", "不是本县规定的容错情形：nope"),
        ({"exclusions": ["nope"]}, "exclusions", "不是本县规定的不予容错情形：nope"),
        ({"exclusions": ["mass_incident"] * 2}, "exclusions", "不予容错情形不能重复"),
        (
            {"exclusions": ["work_safety_accident"]},
            "outcome",
            "存在不予容错情形“安全生产重大责任事故”，只能认定为不予容错",
        ),
        (
            {"outcome": "exempt", "circumstances": ["policy_unclear", "cooperated"]},
            "outcome",
            "认定免责须至少符合一项可予免责的容错情形",
        ),
        ({"reasoning": ""}, "reasoning", "不能只填空白"),
        ({"rectification_required": True}, "rectification_deadline", "须填写整改期限"),
        ({"rectification_required": True}, "rectification_items", "须写明整改事项"),
        ({"rectification_deadline": "2099-05-01"}, "rectification_deadline", "不应填写整改期限"),
        ({"rectification_items": "整改"}, "rectification_items", "不应填写整改事项"),
    ],
)
def test_bad_decisions(change: dict, field: str, message: str) -> None:
    refused(DECIDE, {**af.ft_decision("reduced"), **change}, field, message)


def test_an_exclusion_allows_only_not_granted() -> None:
    found = ["food_drug_safety", "mass_incident"]
    errors = errors_of(DECIDE, af.ft_decision("lighter", exclusions=found))
    assert errors == {
        "outcome": ["存在不予容错情形“食品药品安全重大事件”、“引发群体性事件”，只能认定为不予容错"]
    }
    values = DECIDE.validate(af.ft_decision("not_granted", exclusions=found), ctx())
    assert values["exclusions"] == found


@pytest.mark.parametrize(
    ("deadline", "ok"), [("2099-03-01", False), ("2099-03-02", False), ("2099-03-03", True)]
)
def test_rectification_deadline_lies_after_today(deadline: str, ok: bool) -> None:
    payload = af.ft_decision("reduced", rectification=True, rectification_deadline=deadline)
    if ok:
        assert DECIDE.validate(payload, ctx())["rectification_deadline"] == deadline
    else:
        refused(DECIDE, payload, "rectification_deadline", "整改期限须晚于今天")


APPEAL_DECIDE = TASK_FORMS["ft_appeal_decide"]
FIRST = {"ft_decision": {"outcome": "reduced"}}


def test_appeal_decision() -> None:
    context = ctx(data=FIRST)
    changed = APPEAL_DECIDE.validate(af.appeal_changed("exempt"), context)
    assert changed["outcome"] == "exempt"
    assert APPEAL_DECIDE.validate(af.appeal_upheld(), context)["outcome"] is None
    refused(
        APPEAL_DECIDE,
        af.appeal_changed("reduced"),
        "outcome",
        "变更后的认定结果与原认定（减责）相同",
        context,
    )
    refused(
        APPEAL_DECIDE,
        {"decision": "changed", "reasoning": "r"},
        "outcome",
        "须选择新的认定结果",
        context,
    )
    refused(
        APPEAL_DECIDE,
        {**af.appeal_upheld(), "outcome": "exempt"},
        "outcome",
        "维持原认定时不应选择新的认定结果",
        context,
    )
    refused(APPEAL_DECIDE, {"decision": "upheld"}, "reasoning", "此项为必填项", context)


def test_changed_appeal_needs_the_first_decision() -> None:
    with pytest.raises(LookupError):
        APPEAL_DECIDE.validate(af.appeal_changed("exempt"), ctx(data={}))


def test_appeal_body() -> None:
    assert APPEAL_FORM.validate(af.ft_appeal("不服")) == {"reason": "不服"}
    with pytest.raises(InvalidInput) as caught:
        APPEAL_FORM.validate({"reason": "  "})
    assert "不能只填空白" in str(caught.value.errors["reason"])


def test_rectification_report_supervision_and_filing() -> None:
    rectify, supervise, file = (TASK_FORMS[t] for t in ("ft_rectify", "ft_supervise", "ft_file"))
    assert rectify.validate(af.ft_rectification(today=TODAY), ctx())["completed_on"] == "2099-03-01"
    assert rectify.validate({"report": "已整改"}, ctx())["completed_on"] is None
    refused(
        rectify, {"report": "已整改", "completed_on": "2099-03-03"}, "completed_on", "不能晚于今天"
    )
    refused(rectify, {"completed_on": "2099-03-01"}, "report", "此项为必填项")
    assert supervise.validate(af.SUPERVISE_CLOSED, ctx())["decision"] == "closed"
    refused(supervise, {"decision": "continue"}, "comment", "继续整改时须写明尚未整改到位的问题")
    assert supervise.validate(af.supervise_continue(), ctx())["decision"] == "continue"
    assert file.validate(af.ft_filing(today=TODAY), ctx())["filed_on"] == "2099-03-01"
    refused(file, af.ft_filing(filed_on="2099-03-03"), "filed_on", "报备日期不能晚于今天")
    refused(file, af.ft_filing(filed_on=None), "filed_on", "此项不能为空")
    refused(file, af.ft_filing(filed_with=""), "filed_with", "不能只填空白")


# --- 澄清正名: application ----------------------------------------------------------------------


def test_clearance_application_and_proposal() -> None:
    values = CL_APPLY.validate(af.cl_application(), ctx())
    assert values["origin"] == "application" and values["person_consulted"] is False
    assert CL_APPLY.validate(af.cl_proposal(), ctx())["person_consulted"] is True
    refused(
        CL_APPLY, af.cl_proposal(person_consulted=False), "person_consulted", "须事先征求本人意见"
    )
    payload = af.cl_proposal()
    del payload["person_consulted"]
    refused(CL_APPLY, payload, "person_consulted", "须事先征求本人意见")
    refused(
        CL_APPLY, af.cl_application(preferred_method="phone"), "preferred_method", "应为以下之一"
    )
    refused(CL_APPLY, af.cl_application(false_report=""), "false_report", "不能只填空白")
    refused(CL_APPLY, af.cl_application(origin="rumour"), "origin", "应为以下之一")


# --- 澄清正名: steps ----------------------------------------------------------------------------

ELIGIBILITY = TASK_FORMS["cl_eligibility"]


@pytest.mark.parametrize("finding", ["untrue", "partly_untrue"])
def test_untrue_concluded_harmful_case_is_eligible(finding: str) -> None:
    values = ELIGIBILITY.validate(af.eligible(), ctx(case=af.untrue_case(finding=finding)))
    assert values["false_points"] == af.FALSE_POINTS and values["grounds"] == []


@pytest.mark.parametrize(
    ("case", "messages"),
    [
        (
            af.untrue_case(status="not_proven", finding="not_proven"),
            ["核查结论为“查无实据但不能排除”，不符合澄清条件"],
        ),
        (
            af.untrue_case(status="decided", finding="proven"),
            ["核查结论为“问题属实”，不符合澄清条件"],
        ),
        (af.untrue_case(concluded=False), ["问题尚未了结，不符合澄清条件"]),
        (af.untrue_case(harm=False), ["未对本人工作、生活或名誉造成不良影响，不符合澄清条件"]),
        (
            af.open_case(),
            [
                "核查结论为“尚无核查结论”，不符合澄清条件",
                "问题尚未了结，不符合澄清条件",
                "未对本人工作、生活或名誉造成不良影响，不符合澄清条件",
            ],
        ),
    ],
)
def test_eligible_is_refused_when_the_case_does_not_qualify(case: dict, messages: list) -> None:
    assert errors_of(ELIGIBILITY, af.eligible(), ctx(case=case)) == {"decision": messages}


def test_ineligible_needs_grounds_and_an_explanation_and_no_false_points() -> None:
    case = ctx(case=af.untrue_case(harm=False))
    errors = errors_of(ELIGIBILITY, {"decision": "ineligible"}, case)
    assert errors["grounds"] == ["不符合澄清条件时须选择至少一项理由"]
    assert errors["explanation"] == ["不符合澄清条件时须向申请人说明理由"]
    refused(
        ELIGIBILITY,
        {**af.ineligible(["no_harm"]), "false_points": ["x"]},
        "false_points",
        "不应填写失实问题",
        case,
    )
    assert ELIGIBILITY.validate(af.ineligible(["no_harm"]), case)["grounds"] == ["no_harm"]
    refused(ELIGIBILITY, {"decision": "eligible"}, "false_points", "须列明核实为失实的问题", case)
    refused(
        ELIGIBILITY,
        {**af.eligible(), "grounds": ["no_harm"]},
        "grounds",
        "符合澄清条件时不应选择",
        case,
    )
    refused(ELIGIBILITY, af.eligible(["甲", "甲"]), "false_points", "失实问题不能重复", case)


@pytest.mark.parametrize(
    ("grounds", "message"),
    [
        (["not_untrue"], "案件核查结论为“失实”，不能以“核查结论不是失实”为由"),
        (["not_proven"], "案件核查结论为“失实”，不能以“查无实据但不能排除”为由"),
        (["not_concluded"], "问题已了结，不能以“问题尚未了结”为由"),
        (["no_harm"], "案件记录已造成不良影响，不能以“未造成不良影响”为由"),
    ],
)
def test_ineligibility_grounds_must_match_the_case(grounds: list, message: str) -> None:
    refused(ELIGIBILITY, af.ineligible(grounds), "grounds", message, ctx(case=af.untrue_case()))


def test_eligibility_needs_the_case() -> None:
    context = ctx()
    del context["case"]
    with pytest.raises(LookupError):
        ELIGIBILITY.validate(af.eligible(), context)


APPROVE = TASK_FORMS["cl_approve"]
VERIFIED = {"cl_eligibility": af.eligible()}


def test_approval() -> None:
    context = ctx(data=VERIFIED)
    assert APPROVE.validate(af.approved("in_person"), context)["scope"] == af.FALSE_POINTS
    refused(
        APPROVE,
        af.approved(scope=["另一个问题"]),
        "scope",
        "澄清范围只能是核实为失实的问题：另一个问题",
        context,
    )
    errors = errors_of(APPROVE, {"decision": "approve"}, context)
    assert errors == {"method": ["批准澄清时须选择澄清方式"], "scope": ["批准澄清时须列明澄清范围"]}
    refused(APPROVE, {"decision": "refuse"}, "explanation", "不予批准时须向申请人说明理由", context)
    refused(
        APPROVE,
        {**af.approval_refused(), "method": "written"},
        "method",
        "不应选择澄清方式",
        context,
    )
    assert APPROVE.validate(af.approval_refused(), context)["method"] is None
    refused(APPROVE, af.approved(method="radio"), "method", "应为以下之一", context)


CARRY_OUT = TASK_FORMS["cl_carry_out"]


def approved_context(method: str = "meeting", scope: list[str] | None = None) -> dict:
    return ctx(data={"cl_approval": af.approved(method, scope)})


@pytest.mark.parametrize("method", ["written", "in_person", "meeting", "circular"])
def test_carried_out_by_each_method(method: str) -> None:
    values = CARRY_OUT.validate(af.carried_out(method, today=TODAY), approved_context(method))
    assert values["method"] == method and values["malicious_accusation"] is False
    assert values["written_record"]


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("meeting", "会议澄清须写明会议名称、地点和参会人员"),
        ("in_person", "当面澄清须写明时间、地点和在场人员"),
        ("circular", "通报澄清须写明通报文号"),
    ],
)
def test_every_method_but_written_says_where(method: str, message: str) -> None:
    payload = af.carried_out(method, today=TODAY, occasion=" ")
    refused(CARRY_OUT, payload, "occasion", message, approved_context(method))


def test_carry_out_keeps_to_the_approval_and_today() -> None:
    refused(
        CARRY_OUT,
        af.carried_out("written", today=TODAY),
        "method",
        "须按批准的方式澄清：会议澄清",
        approved_context("meeting"),
    )
    refused(
        CARRY_OUT,
        af.carried_out("meeting", ["甲"], today=TODAY),
        "points_cleared",
        "超出批准的澄清范围：甲",
        approved_context("meeting"),
    )
    narrow = approved_context("meeting", af.FALSE_POINTS[:1])
    refused(
        CARRY_OUT,
        af.carried_out("meeting", today=TODAY),
        "points_cleared",
        f"超出批准的澄清范围：{af.FALSE_POINTS[1]}",
        narrow,
    )
    refused(
        CARRY_OUT,
        af.carried_out(today=TODAY, carried_out_on="2099-03-03"),
        "carried_out_on",
        "澄清日期不能晚于今天",
        approved_context(),
    )
    refused(
        CARRY_OUT,
        af.carried_out(today=TODAY, written_record=""),
        "written_record",
        "不能只填空白",
        approved_context(),
    )
    refused(
        CARRY_OUT,
        af.carried_out(today=TODAY, points_cleared=[]),
        "points_cleared",
        "长度",
        approved_context(),
    )
    today_ok = af.carried_out(today=TODAY, carried_out_on="2099-03-02", malicious_accusation=True)
    assert CARRY_OUT.validate(today_ok, approved_context())["malicious_accusation"] is True


def test_referral() -> None:
    form = TASK_FORMS["cl_refer"]
    assert (
        form.validate(af.referral(referred_to="discipline"), ctx())["referred_to"] == "discipline"
    )
    refused(form, af.referral(referred_to="court"), "referred_to", "应为以下之一")
    refused(form, af.referral(reason=""), "reason", "不能只填空白")


def test_unknown_fields_are_refused() -> None:
    refused(TASK_FORMS["cl_refer"], af.referral(extra=1), "extra", "不允许的字段")
    refused(FT_APPLY, af.ft_application(extra=1), "extra", "不允许的字段")
