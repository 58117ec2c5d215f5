"""The admission package's forms validate on the server with zh-CN messages per field."""

from __future__ import annotations

import pytest

from engine.admission.services.admission import revise_data
from engine.errors import InvalidInput
from tests.factories import MEETING, application
from tests.packages import shipped_diagram

FORMS = shipped_diagram("matter_admission").forms
APPLY = FORMS["start_apply"]


def errors_of(form, payload) -> dict:
    with pytest.raises(InvalidInput) as caught:
        form.validate(payload)
    return caught.value.errors


def test_valid_application_is_normalised_to_json_values() -> None:
    values = APPLY.validate(application(resources={"funding_yuan": 1}))
    assert values["start_date"] == "2026-12-01"
    assert values["resources"] == {"funding_yuan": 1, "staff": 0, "powers": ""}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"basis": ""}, "basis", "不能只填空白"),
        ({"basis": None}, "basis", "此项不能为空"),
        ({"term_type": "forever"}, "term_type", "应为以下之一"),
        ({"end_date": None}, "end_date", "短期事项须填写结束日期"),
        ({"end_date": "2026-11-01"}, "end_date", "结束日期须晚于开始日期"),
        ({"start_date": "12/01/2026"}, "start_date", "YYYY-MM-DD"),
        ({"townships": []}, "townships", "长度"),
        ({"townships": ["donghe", "donghe"]}, "townships", "乡镇不能重复"),
        ({"townships": "donghe"}, "townships", "应为列表"),
        ({"resources": {"funding_yuan": "很多"}}, "resources", "应为整数"),
        ({"resources": {"funding_yuan": -5}}, "resources", "应在 0 到"),
        ({"resources": {"funding_yuan": 3_000_000_000_000}}, "resources", "应在 0 到"),
        ({"resources": {"staff": 2**63}}, "resources", "应在 0 到"),
        ({"name": "\ud800"}, "name", "UTF-8"),
        ({"basis": "依据\x00"}, "basis", "空字符"),
        ({"townships": ["don\x00ghe"]}, "townships", "空字符"),
        ({"surprise": 1}, "surprise", "不允许的字段"),
    ],
)
def test_bad_application_names_the_field(change: dict, field: str, message: str) -> None:
    errors = errors_of(APPLY, application(**change))
    assert field in errors
    assert message in str(errors[field])


def test_missing_basis_is_required() -> None:
    payload = application()
    del payload["basis"]
    assert errors_of(APPLY, payload) == {"basis": ["此项为必填项"]}


def test_long_term_matter_needs_no_end_date() -> None:
    assert APPLY.validate(application(term_type="long", end_date=None))["end_date"] is None


def test_non_object_body_is_refused() -> None:
    assert "_schema" in errors_of(APPLY, ["not", "an", "object"])


@pytest.mark.parametrize("step", ["review", "approve"])
def test_return_and_reject_need_grounds(step: str) -> None:
    form = FORMS[step]
    assert "comment" in errors_of(form, {"decision": "return"})
    assert "reasons" in errors_of(form, {"decision": "reject", "comment": "无依据"})
    assert "reasons" in errors_of(form, {"decision": "reject", "reasons": ["x"], "comment": "c"})
    meeting = MEETING if step == "approve" else {}  # the approval also names its meeting
    passed = {"decision": "pass", "reasons": [], "comment": "", **meeting}
    assert form.validate({"decision": "pass", **meeting}) == passed


def test_pass_takes_no_rejection_reasons_and_reasons_are_unique() -> None:
    form = FORMS["review"]
    assert "reasons" in errors_of(form, {"decision": "pass", "reasons": ["no_basis"]})
    duplicate = {"decision": "reject", "reasons": ["no_basis", "no_basis"], "comment": "无依据"}
    assert "reasons" in errors_of(form, duplicate)


def test_withdrawal_carries_no_application() -> None:
    form = FORMS["revise"]
    assert "application" in errors_of(form, {"action": "withdraw", "application": application()})


def test_resubmission_carries_a_complete_application() -> None:
    form = FORMS["revise"]
    assert "application" in errors_of(form, {"action": "resubmit"})
    assert "application" in errors_of(form, {"action": "resubmit", "application": {"name": "x"}})
    values = form.validate({"action": "resubmit", "application": application()})
    data = revise_data(form, values)
    assert data["townships"] == ["chengguan", "donghe"]
    assert data["revise"] == {"action": "resubmit", "comment": ""}


def test_a_townships_confirmation_goes_under_entry() -> None:
    form = FORMS["confirm_entry"]
    values = form.validate({"confirmed": True, "resources_received": True})
    assert form.data_for("confirm_entry", values) == {"entry": values}


def test_township_explains_missing_resources_or_why_it_declines() -> None:
    form = FORMS["confirm_entry"]
    assert "comment" in errors_of(form, {"confirmed": False})
    assert "comment" in errors_of(form, {"confirmed": True, "resources_received": False})
    assert "confirmed" in errors_of(form, {"confirmed": "yes", "resources_received": True})


def test_errors_never_mix_list_indices_with_names() -> None:
    """What the fuzzer found: text problems inside an unknown field (or a list's items beside
    the list's own rule) made an error tree JSON cannot sort, hence a 500."""
    import json

    unknown = application(surprise=["\x10", {"\x98": None}])
    assert errors_of(APPLY, unknown) == {"surprise": ["不允许的字段"]}
    twice = errors_of(APPLY, application(townships=["", ""]))
    assert twice == {"townships": {0: ["长度应在 1 到 64 之间"], 1: ["长度应在 1 到 64 之间"]}}
    json.dumps(twice, sort_keys=True)
