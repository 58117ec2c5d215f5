"""The accountability packages' JSON Schema forms (bpmn/fault_tolerance/, bpmn/clearance/) answer
as the marshmallow forms they replaced did: the same values (defaults applied) for good input,
the same field paths and zh-CN messages for bad input, and the same cross-checks against the
case, the earlier steps' data, the county's rules and today; except for the differences listed
here, each on purpose."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.errors import InvalidInput
from tests import accountability_factories as af
from tests.accountability_marshmallow_forms import START, TASKS
from tests.packages import shipped_diagram

TODAY = date(2099, 3, 2)
PROCESSES = ("fault_tolerance", "clearance")
DIAGRAMS = {process: shipped_diagram(process) for process in PROCESSES}
POINTS = af.FALSE_POINTS


def ctx(**kwargs: Any) -> dict[str, Any]:
    return af.context(today=TODAY, **kwargs)


def without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


def day(offset: int) -> str:
    return date.fromordinal(TODAY.toordinal() + offset).isoformat()


CONTROL = "a\x01b"
LONG = "x" * 5001
FT_APP = af.ft_application()
CL_APP = af.cl_application()
DECIDE = af.ft_decision(today=TODAY)
DECIDE_RECTIFY = af.ft_decision(rectification=True, today=TODAY)
UNTRUE = af.untrue_case()
DECIDED_DATA = {"ft_decision": {"outcome": "reduced"}}
ELIGIBLE_DATA = {"cl_eligibility": af.eligible()}
APPROVED_DATA = {"cl_approval": af.approved()}

# (payload, context) per step; a bare payload uses ctx().
START_CASES: dict[str, list[Any]] = {
    "fault_tolerance": [
        FT_APP,
        {},
        [],
        None,
        "x",
        without(FT_APP, "facts"),
        without(FT_APP, "no_private_gain"),
        {**FT_APP, "case_id": 0},
        {**FT_APP, "case_id": 2**31},
        {**FT_APP, "case_id": "1"},
        {**FT_APP, "case_id": 1.0},
        {**FT_APP, "case_id": True},
        {**FT_APP, "case_id": None},
        {**FT_APP, "facts": "  "},
        {**FT_APP, "facts": LONG},
        {**FT_APP, "facts": "多行\r\n事实\t"},
        {**FT_APP, "facts": "a\x00b"},
        {**FT_APP, "grounds": None},
        {**FT_APP, "distinctions": []},
        {**FT_APP, "distinctions": ["inexperience", "inexperience"]},
        {**FT_APP, "distinctions": ["luck"]},
        {**FT_APP, "distinctions": "inexperience"},
        {**FT_APP, "distinctions": [1]},
        {**FT_APP, "distinctions": ["inexperience"] * 4},
        {**FT_APP, "circumstances": []},
        {**FT_APP, "circumstances": ["reform_first_try", "reform_first_try"]},
        {**FT_APP, "circumstances": [""]},
        {**FT_APP, "circumstances": ["x" * 61]},
        {**FT_APP, "circumstances": [f"c{i}" for i in range(51)]},
        {**FT_APP, "circumstances": ["made_up"]},
        {**FT_APP, "circumstances": ["a\x01"]},
        {**FT_APP, "no_private_gain": False},
        {**FT_APP, "no_private_gain": "true"},
        {**FT_APP, "no_private_gain": None},
        {**FT_APP, "surprise": 1},
        {**FT_APP, "facts": "", "no_private_gain": False},
        (FT_APP, ctx(case=af.open_case(status="decided"))),
        (FT_APP, ctx(case=af.open_case(status="proven"))),
        (FT_APP, ctx(case={})),
        ({**FT_APP, "circumstances": ["made_up"]}, ctx(case=af.open_case(status="proven"))),
    ],
    "clearance": [
        CL_APP,
        af.cl_proposal(),
        {},
        without(CL_APP, "preferred_method"),
        {**CL_APP, "origin": "rumour"},
        {**CL_APP, "origin": None},
        without(CL_APP, "origin"),
        {**CL_APP, "preferred_method": None},
        {**CL_APP, "preferred_method": "shout"},
        {**CL_APP, "preferred_method": 5},
        {**CL_APP, "basic_facts": " "},
        {**CL_APP, "false_report": LONG},
        {**CL_APP, "clearance_requested": CONTROL},
        {**CL_APP, "case_id": -1},
        {**CL_APP, "person_consulted": True},
        {**CL_APP, "person_consulted": "yes"},
        af.cl_proposal(person_consulted=False),
        without(af.cl_proposal(), "person_consulted"),
        af.cl_proposal(person_consulted=None),
        {**CL_APP, "x": None},
        af.cl_proposal(person_consulted=False, origin=None),
    ],
}

TASK_CASES: dict[str, list[Any]] = {
    "ft_accept": [
        af.ACCEPT,
        af.refuse_acceptance(),
        {"decision": "refuse"},
        {"decision": "refuse", "explanation": "   "},
        {"decision": "accept", "explanation": "受理"},
        {"decision": "maybe"},
        {"decision": None},
        {},
        {"decision": "accept", "explanation": LONG},
        {"decision": "accept", "explanation": None},
        {"decision": "refuse", "explanation": None},
    ],
    "ft_verify": [
        af.ft_verification(),
        af.ft_verification(departments_consulted=[]),
        af.ft_verification(departments_consulted=["县财政局", "县财政局"]),
        af.ft_verification(departments_consulted=[""]),
        af.ft_verification(departments_consulted=["  "]),
        af.ft_verification(departments_consulted=["x" * 201]),
        af.ft_verification(departments_consulted=[f"部门{i}" for i in range(31)]),
        af.ft_verification(departments_consulted=["县\n财政局"]),
        af.ft_verification(departments_consulted="县财政局"),
        af.ft_verification(suggestion="pardon"),
        af.ft_verification(findings="x" * 10001),
        af.ft_verification(findings="多行\n核实"),
        without(af.ft_verification(), "suggestion"),
    ],
    "ft_decide": [
        DECIDE,
        DECIDE_RECTIFY,
        af.ft_decision("not_granted"),
        af.ft_decision("exempt"),
        af.ft_decision("reduced", distinctions=[]),
        af.ft_decision("lighter", circumstances=[]),
        without(DECIDE, "distinctions", "circumstances"),
        af.ft_decision(distinctions=["inexperience", "inexperience"]),
        af.ft_decision(circumstances=["reform_first_try", "reform_first_try"]),
        af.ft_decision(exclusions=["mass_incident", "mass_incident"]),
        af.ft_decision(outcome="forgiven"),
        without(DECIDE, "outcome"),
        af.ft_decision(reasoning=""),
        af.ft_decision(rectification_required=True),
        af.ft_decision(rectification_required=True, rectification_deadline=None),
        af.ft_decision(rectification_required=True, rectification_deadline=day(30)),
        af.ft_decision(rectification_required=True, rectification_items="整改"),
        af.ft_decision(
            rectification_required=True, rectification_deadline=day(30), rectification_items=" "
        ),
        af.ft_decision(rectification_deadline=day(30)),
        af.ft_decision(rectification_items="整改"),
        af.ft_decision(rectification_items="   "),
        af.ft_decision(rectification_required=False, rectification_deadline=None),
        af.ft_decision(rectification_required="yes"),
        af.ft_decision(rectification_required=None),
        af.ft_decision(
            rectification_required=True, rectification_deadline="soon", rectification_items="x"
        ),
        af.ft_decision(
            rectification_required=True, rectification_deadline=day(0), rectification_items="x"
        ),
        af.ft_decision(
            rectification_required=True, rectification_deadline=day(-3), rectification_items="x"
        ),
        af.ft_decision(circumstances=["made_up"]),
        af.ft_decision(exclusions=["invented"]),
        af.ft_decision(exclusions=["mass_incident"]),
        af.ft_decision("not_granted", exclusions=["mass_incident", "private_gain"]),
        af.ft_decision("exempt", circumstances=["losses_recovered"]),
        af.ft_decision("exempt", circumstances=["losses_recovered"], exclusions=["mass_incident"]),
        af.ft_decision(distinctions="inexperience"),
        af.ft_decision(exclusions=None),
        af.ft_decision(outcome="forgiven", distinctions=[]),
        af.ft_decision(rectification_required="yes", rectification_deadline=day(30)),
        af.ft_decision(distinctions=["x", "x"]),
    ],
    "ft_appeal_decide": [
        (af.appeal_upheld(), ctx(data=DECIDED_DATA)),
        (af.appeal_changed(), ctx(data=DECIDED_DATA)),
        (af.appeal_changed("reduced"), ctx(data=DECIDED_DATA)),
        (af.appeal_changed("not_granted"), ctx(data=DECIDED_DATA)),
        ({"decision": "changed", "reasoning": "r"}, ctx(data=DECIDED_DATA)),
        ({"decision": "changed", "outcome": None, "reasoning": "r"}, ctx(data=DECIDED_DATA)),
        ({**af.appeal_upheld(), "outcome": "exempt"}, ctx(data=DECIDED_DATA)),
        ({**af.appeal_upheld(), "outcome": None}, ctx(data=DECIDED_DATA)),
        ({**af.appeal_changed(), "outcome": "pardon"}, ctx(data=DECIDED_DATA)),
        ({**af.appeal_changed(), "outcome": 3}, ctx(data=DECIDED_DATA)),
        ({"decision": "overturned", "reasoning": "r"}, ctx(data=DECIDED_DATA)),
        ({"decision": "upheld"}, ctx(data=DECIDED_DATA)),
        ({}, ctx(data=DECIDED_DATA)),
    ],
    "ft_rectify": [
        af.ft_rectification(today=TODAY),
        {"report": "已整改"},
        {"report": "已整改", "completed_on": None},
        {"report": "已整改", "completed_on": day(0)},
        {"report": "已整改", "completed_on": day(1)},
        {"report": "已整改", "completed_on": "yesterday"},
        {"report": "已整改", "completed_on": "2099-02-30"},
        {"report": "", "completed_on": day(-1)},
        {"completed_on": day(1)},
        {"report": "x" * 10001},
    ],
    "ft_supervise": [
        af.SUPERVISE_CLOSED,
        af.supervise_continue(),
        {"decision": "continue"},
        {"decision": "continue", "comment": "\t"},
        {"decision": "closed", "comment": "很好"},
        {"decision": "reopen"},
        {"decision": "closed", "comment": 5},
        {"decision": "continue", "comment": LONG},
    ],
    "ft_file": [
        af.ft_filing(today=TODAY),
        without(af.ft_filing(today=TODAY), "reference"),
        af.ft_filing(today=TODAY, filed_on=day(0)),
        af.ft_filing(today=TODAY, filed_on=day(1)),
        af.ft_filing(today=TODAY, filed_on="2099/03/01"),
        af.ft_filing(today=TODAY, filed_on=None),
        without(af.ft_filing(today=TODAY), "filed_on"),
        af.ft_filing(today=TODAY, filed_with="x" * 201),
        af.ft_filing(today=TODAY, filed_with="县委\n办公室"),
        af.ft_filing(today=TODAY, reference="x" * 101),
        af.ft_filing(today=TODAY, filed_with=" ", filed_on=day(1)),
    ],
    "cl_eligibility": [
        (af.eligible(), ctx(case=UNTRUE)),
        (af.eligible(), ctx(case=af.untrue_case(finding="partly_untrue"))),
        (af.eligible(), ctx(case=af.untrue_case(finding="not_proven"))),
        (af.eligible(), ctx(case=af.untrue_case(concluded=False, harm=False))),
        (af.eligible(), ctx(case=af.open_case())),
        (af.ineligible(), ctx(case=af.untrue_case(finding="not_proven"))),
        (af.ineligible(["not_proven"]), ctx(case=UNTRUE)),
        (af.ineligible(["not_untrue", "not_concluded", "no_harm"]), ctx(case=UNTRUE)),
        (af.ineligible(["not_untrue"]), ctx(case=af.open_case(finding="proven"))),
        ({"decision": "ineligible", "explanation": "不符合"}, ctx(case=UNTRUE)),
        ({"decision": "ineligible", "grounds": ["no_harm"]}, ctx(case=af.open_case())),
        ({**af.ineligible(), "false_points": POINTS}, ctx(case=UNTRUE)),
        ({**af.ineligible(), "grounds": ["no_harm", "no_harm"]}, ctx(case=UNTRUE)),
        ({**af.ineligible(), "grounds": ["bad_luck"]}, ctx(case=UNTRUE)),
        ({"decision": "eligible"}, ctx(case=UNTRUE)),
        ({**af.eligible(), "grounds": ["no_harm"]}, ctx(case=UNTRUE)),
        ({**af.eligible(), "explanation": "符合"}, ctx(case=UNTRUE)),
        (af.eligible([POINTS[0], POINTS[0]]), ctx(case=UNTRUE)),
        (af.eligible(["x" * 501]), ctx(case=UNTRUE)),
        (af.eligible([" "]), ctx(case=UNTRUE)),
        (af.eligible([f"问题{i}" for i in range(51)]), ctx(case=UNTRUE)),
        ({"decision": "unsure"}, ctx(case=UNTRUE)),
        ({}, ctx(case=UNTRUE)),
    ],
    "cl_approve": [
        (af.approved(), ctx(data=ELIGIBLE_DATA)),
        (af.approved(scope=[POINTS[0]]), ctx(data=ELIGIBLE_DATA)),
        (af.approved(scope=["另一问题"]), ctx(data=ELIGIBLE_DATA)),
        (af.approval_refused(), ctx(data=ELIGIBLE_DATA)),
        ({"decision": "approve", "scope": POINTS}, ctx(data=ELIGIBLE_DATA)),
        ({"decision": "approve", "method": None, "scope": POINTS}, ctx(data=ELIGIBLE_DATA)),
        ({"decision": "approve", "method": "written"}, ctx(data=ELIGIBLE_DATA)),
        ({"decision": "approve", "method": "written", "scope": []}, ctx(data=ELIGIBLE_DATA)),
        (af.approved(scope=[POINTS[0], POINTS[0]]), ctx(data=ELIGIBLE_DATA)),
        ({"decision": "refuse"}, ctx(data=ELIGIBLE_DATA)),
        ({**af.approval_refused(), "method": "written"}, ctx(data=ELIGIBLE_DATA)),
        ({**af.approval_refused(), "scope": POINTS}, ctx(data=ELIGIBLE_DATA)),
        ({**af.approval_refused(), "method": None, "scope": []}, ctx(data=ELIGIBLE_DATA)),
        ({"decision": "refuse", "method": "written", "scope": POINTS}, ctx(data=ELIGIBLE_DATA)),
        (af.approved(method="shout"), ctx(data=ELIGIBLE_DATA)),
        ({"decision": "defer"}, ctx(data=ELIGIBLE_DATA)),
        ({"decision": "approve", "method": "written", "scope": [""]}, ctx(data=ELIGIBLE_DATA)),
    ],
    "cl_carry_out": [
        (af.carried_out(today=TODAY), ctx(data=APPROVED_DATA)),
        (af.carried_out(malicious=True, today=TODAY), ctx(data=APPROVED_DATA)),
        (af.carried_out("written", today=TODAY), ctx(data=APPROVED_DATA)),
        (af.carried_out("in_person", today=TODAY, occasion=""), ctx(data=APPROVED_DATA)),
        (af.carried_out("meeting", today=TODAY, occasion="  "), ctx(data=APPROVED_DATA)),
        (without(af.carried_out("circular", today=TODAY), "occasion"), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, carried_out_on=day(1)), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, points=["另一问题"]), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, points=[POINTS[0], POINTS[0]]), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, points_cleared=[]), ctx(data=APPROVED_DATA)),
        ({**af.carried_out(today=TODAY), "method": "telepathy"}, ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, written_record=""), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, malicious_accusation="no"), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, occasion="x" * 2001), ctx(data=APPROVED_DATA)),
        (af.carried_out(today=TODAY, carried_out_on=None), ctx(data=APPROVED_DATA)),
        ({}, ctx(data=APPROVED_DATA)),
    ],
    "cl_refer": [
        af.referral(),
        without(af.referral(), "reference"),
        af.referral(referred_to="court"),
        af.referral(reason=""),
        af.referral(reference="x" * 101),
        af.referral(extra=1),
        {},
    ],
}

START_STEP = "start_apply"

BLANK = "不能只填空白"
METHODS = (
    "应为以下之一：written（书面澄清）、in_person（当面澄清）、meeting（会议澄清）、"
    "circular（通报澄清）"
)
OUTCOME_CHOICES = (
    "应为以下之一：exempt（免责）、reduced（减责）、lighter（从轻）、not_granted（不予容错）"
)
GROUND_CHOICES = (
    "应为以下之一：not_untrue（核查结论不是失实）、not_proven（查无实据但不能排除）、"
    "not_concluded（问题尚未了结）、no_harm（未造成不良影响）"
)
IN_PERSON = "当面澄清须写明时间、地点和在场人员"
CARRIED = af.carried_out("in_person", today=TODAY)

# Where the package forms answer otherwise, and why: (process, step, payload, old, new).
# All of them are one difference. JSON Schema checks the cross-field rules (if/then,
# uniqueItems, const) together with each field's own, where marshmallow skipped its schema-level
# rules (@validates_schema) while any field was wrong: when a form has several mistakes, more of
# them are said at once, including a rule about a field whose value is wrong itself ("not one
# of the choices" and "should not be chosen when refusing"). A list whose items are wrong is
# still told only about its items. The named checks (case, earlier steps, rules, today) run,
# as before, only on a form that is otherwise valid.
DIFFERENCES: list[tuple[str, str, Any, Any, Any]] = [
    (
        "fault_tolerance",
        START_STEP,
        {**FT_APP, "facts": "", "no_private_gain": False},
        {"facts": [BLANK]},
        {"facts": [BLANK], "no_private_gain": ["须声明未谋取私利；谋取私利的不予容错"]},
    ),
    (
        "fault_tolerance",
        START_STEP,
        {**FT_APP, "distinctions": ["inexperience"] * 4},
        {"distinctions": ["长度应在 1 到 3 之间"]},
        {"distinctions": ["长度应在 1 到 3 之间", "“三个区分开来”情形不能重复"]},
    ),
    (
        "clearance",
        START_STEP,
        af.cl_proposal(person_consulted=False, basic_facts=" "),
        {"basic_facts": [BLANK]},
        {"basic_facts": [BLANK], "person_consulted": ["承办部门提议澄清须事先征求本人意见"]},
    ),
    (
        "fault_tolerance",
        "ft_accept",
        {"decision": "refuse", "explanation": " " * 5001},
        {"explanation": ["长度不能超过 5000"]},
        {"explanation": ["长度不能超过 5000", "不予受理时须向申请人说明理由"]},
    ),
    (
        "fault_tolerance",
        "ft_decide",
        af.ft_decision(distinctions=[], reasoning=""),
        {"reasoning": [BLANK]},
        {"reasoning": [BLANK], "distinctions": ["予以容错时须至少选择一项“三个区分开来”情形"]},
    ),
    (
        "fault_tolerance",
        "ft_decide",
        af.ft_decision(rectification_required=True, reasoning=""),
        {"reasoning": [BLANK]},
        {
            "reasoning": [BLANK],
            "rectification_deadline": ["要求限期整改时须填写整改期限"],
            "rectification_items": ["要求限期整改时须写明整改事项"],
        },
    ),
    (
        "fault_tolerance",
        "ft_decide",
        af.ft_decision(rectification_deadline="soon"),
        {"rectification_deadline": ["应为日期，格式 YYYY-MM-DD"]},
        {
            "rectification_deadline": [
                "应为日期，格式 YYYY-MM-DD",
                "未要求限期整改时不应填写整改期限",
            ]
        },
    ),
    (
        "fault_tolerance",
        "ft_appeal_decide",
        {"decision": "changed"},
        {"reasoning": ["此项为必填项"]},
        {"reasoning": ["此项为必填项"], "outcome": ["变更认定时须选择新的认定结果"]},
    ),
    (
        "fault_tolerance",
        "ft_appeal_decide",
        {"decision": "upheld", "outcome": "pardon", "reasoning": "r"},
        {"outcome": [OUTCOME_CHOICES]},
        {"outcome": [OUTCOME_CHOICES, "维持原认定时不应选择新的认定结果"]},
    ),
    (
        "clearance",
        "cl_eligibility",
        {"decision": "eligible", "false_points": ["x" * 501], "grounds": ["no_harm"]},
        {"false_points": {0: ["长度应在 1 到 500 之间"]}},
        {
            "false_points": {0: ["长度应在 1 到 500 之间"]},
            "grounds": ["符合澄清条件时不应选择不符合条件的理由"],
        },
    ),
    (
        "clearance",
        "cl_eligibility",
        {"decision": "ineligible", "grounds": ["bad_luck"], "false_points": POINTS},
        {"grounds": {0: [GROUND_CHOICES]}},
        {
            "grounds": {0: [GROUND_CHOICES]},
            "explanation": ["不符合澄清条件时须向申请人说明理由"],
            "false_points": ["不符合澄清条件时不应填写失实问题"],
        },
    ),
    (
        "clearance",
        "cl_eligibility",
        {"decision": "ineligible", "grounds": "no_harm"},
        {"grounds": ["应为列表"]},
        {"grounds": ["应为列表"], "explanation": ["不符合澄清条件时须向申请人说明理由"]},
    ),
    (
        "clearance",
        "cl_approve",
        {"decision": "approve", "method": "shout", "scope": []},
        {"method": [METHODS]},
        {"method": [METHODS], "scope": ["批准澄清时须列明澄清范围"]},
    ),
    (
        "clearance",
        "cl_approve",
        {"decision": "refuse", "method": "shout"},
        {"method": [METHODS]},
        {
            "method": [METHODS, "不予批准时不应选择澄清方式"],
            "explanation": ["不予批准时须向申请人说明理由"],
        },
    ),
    (
        "clearance",
        "cl_carry_out",
        {**CARRIED, "occasion": "", "points_cleared": []},
        {"points_cleared": ["长度应在 1 到 50 之间"]},
        {"points_cleared": ["长度应在 1 到 50 之间"], "occasion": [IN_PERSON]},
    ),
    (
        "clearance",
        "cl_carry_out",
        {**CARRIED, "occasion": "", "written_record": ""},
        {"written_record": [BLANK]},
        {"written_record": [BLANK], "occasion": [IN_PERSON]},
    ),
    (
        "clearance",
        "cl_carry_out",
        {**CARRIED, "method": "circular", "occasion": "", "points_cleared": ["a", "a", ""]},
        {"points_cleared": {2: ["长度应在 1 到 500 之间", BLANK]}},
        {
            "points_cleared": {2: ["长度应在 1 到 500 之间", BLANK]},
            "occasion": ["通报澄清须写明通报文号和通报范围"],
        },
    ),
]


def answer(form: Any, payload: Any, context: dict[str, Any]) -> Any:
    try:
        return form.validate(payload, context)
    except InvalidInput as refused:
        return refused.errors


def _split(case: Any) -> tuple[Any, dict[str, Any]]:
    if isinstance(case, tuple):
        return case
    return case, ctx()


def _process(step: str) -> str:
    return "fault_tolerance" if step.startswith("ft_") else "clearance"


def _all_cases() -> list[tuple[str, str, Any, dict[str, Any]]]:
    cases = [(process, step, payload, ctx()) for process, step, payload, _, _ in DIFFERENCES]
    cases += [
        (process, START_STEP, *_split(case))
        for process, found in START_CASES.items()
        for case in found
    ]
    cases += [
        (_process(step), step, *_split(case))
        for step, found in TASK_CASES.items()
        for case in found
    ]
    return cases


def _old(process: str, step: str) -> Any:
    return START[process] if step == START_STEP else TASKS[step]


def _new(process: str, step: str) -> Any:
    return DIAGRAMS[process].forms[step]


def _changed() -> set[tuple[str, str, str]]:
    return {(process, step, repr(payload)) for process, step, payload, _, _ in DIFFERENCES}


def _same_cases() -> list[Any]:
    changed = _changed()
    return [
        pytest.param(process, step, payload, context, id=f"{process}.{step}[{i}]")
        for i, (process, step, payload, context) in enumerate(_all_cases())
        if (process, step, repr(payload)) not in changed
    ]


@pytest.mark.parametrize(("process", "step", "payload", "context"), _same_cases())
def test_the_package_form_answers_as_the_marshmallow_form_did(
    process: str, step: str, payload: Any, context: dict[str, Any]
) -> None:
    assert answer(_new(process, step), payload, context) == answer(
        _old(process, step), payload, context
    )


@pytest.mark.parametrize(("process", "step", "payload", "old", "new"), DIFFERENCES)
def test_each_known_difference_is_as_listed(
    process: str, step: str, payload: Any, old: Any, new: Any
) -> None:
    assert answer(_old(process, step), payload, ctx()) == old
    assert answer(_new(process, step), payload, ctx()) == new


def test_every_step_of_both_diagrams_is_compared() -> None:
    for process in PROCESSES:
        steps = {START_STEP} | {s for s in TASK_CASES if _process(s) == process}
        assert steps == set(DIAGRAMS[process].forms), process
    assert set(TASK_CASES) == set(TASKS) and set(START_CASES) == set(START)


@pytest.mark.parametrize(
    ("process", "step"),
    [(_process(step), step) for step in TASKS] + [(p, START_STEP) for p in START],
)
def test_values_go_where_they_went(process: str, step: str) -> None:
    """The data key (x-data-key) is the marshmallow form's to_data key."""
    old, new = _old(process, step), _new(process, step)
    key = "application" if step == START_STEP else step
    assert list(new.data_for(key, {"x": 1})) == list(old.data_for(key, {"x": 1}))
