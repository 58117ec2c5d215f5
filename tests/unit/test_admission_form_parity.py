"""The admission package's JSON Schema forms answer as the marshmallow forms they replaced did:
the same values (defaults applied) for good input, the same field paths and zh-CN messages for
bad input, except for the differences listed here, each on purpose."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import InvalidInput
from tests.admission_marshmallow_forms import FORMS
from tests.factories import APPROVE, application
from tests.packages import shipped, shipped_diagram

DIAGRAM = shipped_diagram("matter_admission")


def app(**changes: Any) -> dict[str, Any]:
    return application(**changes)


def without(values: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != key}


APPLICATION_CASES = [
    app(),
    app(term_type="long", end_date=None),
    without(app(), "end_date"),
    {},
    [],
    "x",
    None,
    5,
    app(name=""),
    app(name="   "),
    app(name=None),
    app(name=5),
    app(name="x" * 201),
    app(name="a\nb"),
    app(name="\ud800"),
    app(basis="依据\x00"),
    app(content="多行\r\n内容\t"),
    app(content="x" * 5001),
    app(reason=None),
    app(reason="x" * 2001),
    app(term_type="forever"),
    app(term_type=5),
    app(term_type=None),
    without(app(), "term_type"),
    app(end_date=None),
    without(app(), "end_date"),
    app(end_date="2026-11-01"),
    app(end_date="2026-12-01"),
    app(term_type="long", end_date="2026-11-01"),
    app(start_date="12/01/2026"),
    app(start_date="2026-13-01"),
    app(start_date=20261201),
    app(start_date=None),
    app(start_date="2026-1-5", end_date="2027-01-01"),
    app(start_date="2026-12-01T00:00:00"),
    app(end_date=5),
    app(end_date="soon"),
    app(townships=[]),
    app(townships="donghe"),
    app(townships=["donghe", "donghe"]),
    app(townships=[""]),
    app(townships=["x" * 65]),
    app(townships=[5]),
    app(townships=None),
    app(townships=["c"] * 51),
    app(townships=[f"t{i}" for i in range(51)]),
    app(townships=["don\x00ghe"]),
    app(resources=None),
    app(resources="x"),
    app(resources={}),
    app(resources={"funding_yuan": "很多"}),
    app(resources={"funding_yuan": -5}),
    app(resources={"funding_yuan": 3_000_000_000_000}),
    app(resources={"staff": 2**63}),
    app(resources={"staff": 1.0}),
    app(resources={"staff": True}),
    app(resources={"staff": 1.5}),
    app(resources={"extra": 1}),
    app(resources={"powers": None}),
    app(resources_justification=None),
    app(assessment="x" * 2001),
    app(surprise=1),
    app(**{"a\x01": 1}),
    app(townships=[], end_date="2026-11-01"),
    app(name="", end_date="2026-11-01"),
    app(end_date=None, name=""),
]
DECISION_CASES = [
    {"decision": "pass"},
    {"decision": "return"},
    {"decision": "return", "comment": "  "},
    {"decision": "return", "comment": "请补充"},
    {"decision": "reject", "comment": "无依据"},
    {"decision": "reject", "reasons": [], "comment": "无依据"},
    {"decision": "reject", "reasons": ["x"], "comment": "c"},
    {"decision": "reject", "reasons": ["no_basis"], "comment": "c"},
    {"decision": "reject", "reasons": ["no_basis"]},
    {"decision": "pass", "reasons": ["no_basis"]},
    {"decision": "reject", "reasons": ["no_basis", "no_basis"], "comment": "c"},
    {"decision": "maybe"},
    {},
    {"decision": None},
    {"decision": 1},
    {"decision": "pass", "reasons": "no_basis"},
    {"decision": "pass", "reasons": None},
    {"decision": "pass", "comment": None},
    {"decision": "pass", "x": 1},
    {"decision": "reject", "reasons": [1], "comment": "c"},
]
LEGAL_CASES = [
    {"opinion": "lawful"},
    {"opinion": "needs_change"},
    {"opinion": "unlawful", "comment": " "},
    {"opinion": "unlawful", "comment": "违法"},
    {"opinion": "x"},
    {},
    {"opinion": "lawful", "comment": "x" * 5001},
]
REVISE_CASES = [
    {"action": "withdraw"},
    {"action": "withdraw", "comment": "不再需要"},
    {"action": "withdraw", "application": None},
    {"action": "withdraw", "application": app()},
    {"action": "withdraw", "application": {"name": "x"}},
    {"action": "resubmit"},
    {"action": "resubmit", "application": None},
    {"action": "resubmit", "application": app()},
    {"action": "resubmit", "application": {"name": "x"}},
    {"action": "resubmit", "application": "x"},
    {"action": "resubmit", "application": app(end_date="2026-11-01")},
    {"action": "resubmit", "application": app(end_date=None)},
    {"action": "resubmit", "application": app(townships=["a", "a"])},
    {"action": "x"},
    {},
    {"action": "resubmit", "application": app(extra=1)},
]
CONFIRM_CASES = [
    {"confirmed": True, "resources_received": True},
    {"confirmed": False, "resources_received": True},
    {"confirmed": True, "resources_received": False},
    {"confirmed": True, "resources_received": False, "comment": "经费未到"},
    {"confirmed": "yes", "resources_received": True},
    {"confirmed": 1, "resources_received": True},
    {},
    {"confirmed": None, "resources_received": True},
    {"confirmed": False, "resources_received": False},
    {"confirmed": True, "resources_received": False, "comment": "  "},
]
CLOSING_CASES = [
    {"decision": "township_exits", "comment": "乡镇无力承接"},
    {"decision": "matter_exits"},
    {"decision": "keep", "comment": " "},
    {"decision": "x", "comment": "c"},
    {},
]
REEVAL_CASES = [
    {"decision": "continue", "comment": "继续"},
    {"decision": "exit"},
    {"decision": "stop", "comment": "c"},
]
CASES = {
    "start_apply": APPLICATION_CASES,
    "review": DECISION_CASES,
    "legal_review": LEGAL_CASES,
    "revise": REVISE_CASES,
    "decide_objection": CLOSING_CASES,
    "reevaluate": REEVAL_CASES,
}

UNCONFIRMED = "须确认事项已进入；如有异议，请在进入后提出异议"
CONTROL = "不能包含控制字符（U+0001）"

# Where the package forms answer otherwise, and why. (step, payload, old answer, new answer)
DIFFERENCES = [
    # JSON Schema checks cross-field rules (if/then, uniqueItems) together with each field,
    # where marshmallow skipped its schema-level rules while any field was wrong: more of
    # what is wrong is said at once (a list or object whose parts are wrong is still told
    # only about its parts, as before).
    (
        "start_apply",
        app(townships=["c"] * 51),
        {"townships": ["长度应在 1 到 50 之间"]},
        {"townships": ["长度应在 1 到 50 之间", "乡镇不能重复"]},
    ),
    (
        "start_apply",
        app(end_date=None, name=""),
        {"name": ["不能只填空白"]},
        {"name": ["不能只填空白"], "end_date": ["短期事项须填写结束日期"]},
    ),
    # A field name holding a control character is named for that, not only as unknown.
    ("start_apply", app(**{"a\x01": 1}), {"a\x01": ["不允许的字段"]}, {"a\x01": [CONTROL]}),
]


def answer(form: Any, payload: Any) -> Any:
    try:
        return form.validate(payload)
    except InvalidInput as refused:
        return refused.errors


def _cases() -> list[tuple[str, Any]]:
    changed = {(step, repr(payload)) for step, payload, _, _ in DIFFERENCES}
    return [
        (step, payload)
        for step, payloads in CASES.items()
        for payload in payloads
        if (step, repr(payload)) not in changed
    ]


@pytest.mark.parametrize(("step", "payload"), _cases())
def test_the_package_form_answers_as_the_marshmallow_form_did(step: str, payload: Any) -> None:
    assert answer(DIAGRAM.forms[step], payload) == answer(FORMS[step], payload)


@pytest.mark.parametrize(("step", "payload", "old", "new"), DIFFERENCES)
def test_each_known_difference_is_as_listed(step: str, payload: Any, old: Any, new: Any) -> None:
    assert answer(FORMS[step], payload) == old
    assert answer(DIAGRAM.forms[step], payload) == new


def test_every_step_of_the_diagram_is_compared() -> None:
    """Every form the marshmallow forms had, but the approval's, which asks more, and the
    confirmation's, where a township may now decline (both below); 编办's decision on a
    decline is new."""
    assert set(CASES) | {"approve", "confirm_entry"} == set(FORMS)
    assert set(DIAGRAM.forms) == set(FORMS) | {"decide_decline"}


def test_a_township_confirms_with_its_resources_or_declines_with_its_reason() -> None:
    form = DIAGRAM.forms["confirm_entry"]
    confirmed = {"confirmed": True, "resources_received": True, "comment": ""}
    assert form.validate({"confirmed": True, "resources_received": True}) == confirmed
    assert answer(form, {"confirmed": True}) == {
        "resources_received": ["确认进入时须填写资源是否到位"]
    }
    assert answer(form, {"confirmed": True, "resources_received": False}) == {
        "comment": ["资源未到位时须说明情况"]
    }
    declined = form.validate({"confirmed": False, "comment": "本镇无对应职能"})
    assert declined == {"confirmed": False, "comment": "本镇无对应职能"}
    assert answer(form, {"confirmed": False}) == {"comment": ["拒绝进入须写明理由"]}
    assert answer(form, {"confirmed": False, "comment": "x", "resources_received": True}) == {
        "resources_received": ["拒绝进入时不填写资源是否到位"]
    }
    # Only JSON true/false (marshmallow took 1 for true, against its own rule).
    assert "confirmed" in answer(form, {"confirmed": 1, "resources_received": True})
    assert "confirmed" in answer(form, {"confirmed": "yes", "resources_received": True})


TODAY = {"data": {"legal_review": {"opinion": "lawful"}}, "today": "2026-11-30"}
UNLAWFUL = {"data": {"legal_review": {"opinion": "unlawful"}}, "today": "2026-11-30"}


def test_the_approval_records_the_meeting_that_decided_it() -> None:
    """审批 answers as the review form for its conclusion, and a pass or a refusal names the
    meeting, its date (not in the future) and the minutes number; a return needs none."""
    form = DIAGRAM.forms["approve"]
    for payload in DECISION_CASES[:3]:
        if payload.get("decision") == "return":
            assert answer(form, payload) == answer(FORMS["approve"], payload)
    missing = answer(form, {"decision": "pass"})
    assert set(missing) == {"meeting", "meeting_date", "minutes_no"}
    assert "会议、日期和纪要编号" in missing["meeting"][0]
    approved = form.validate(APPROVE, TODAY)
    assert approved["meeting"] == "standing_committee" and approved["minutes_no"]
    with pytest.raises(InvalidInput) as refused:
        form.validate({**APPROVE, "meeting_date": "2026-12-01"}, TODAY)
    assert refused.value.errors == {"meeting_date": ["会议日期不能晚于今天"]}


@pytest.mark.parametrize("step", ["review", "approve"])
def test_an_unlawful_opinion_cannot_be_passed(step: str) -> None:
    form = DIAGRAM.forms[step]
    payload = APPROVE if step == "approve" else {"decision": "pass"}
    with pytest.raises(InvalidInput) as refused:
        form.validate(payload, UNLAWFUL)
    assert "不合法" in refused.value.errors["decision"][0]
    returned = form.validate({"decision": "return", "comment": "请依法修改"}, UNLAWFUL)
    assert returned["decision"] == "return"
    assert form.validate(payload, TODAY)["decision"] == "pass"


def test_the_revised_application_is_the_application_form() -> None:
    """The revise step edits the application with the same fields, titles and rules: the two
    package files cannot drift apart (a field added to one reaches the other)."""
    files = shipped("matter_admission").files
    application = json.loads(files["application.json"])
    revise = json.loads(files["revise.json"])
    revised = revise["properties"]["application"]
    assert revised["properties"] == application["properties"]
    assert revised["required"] == application["required"]
