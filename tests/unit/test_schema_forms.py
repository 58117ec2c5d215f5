"""A package's JSON Schema forms are vetted when deployed and validate on the server like the
marshmallow forms: the same zh-CN messages, the same error shape, the same strictness."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from engine.errors import InvalidDiagram, InvalidInput
from engine.workflow.schema_forms import (
    SchemaForm,
    build_form,
    known_checks,
    labelled_choices,
    register_check,
)

DECISION = {
    "title": "审核结论",
    "oneOf": [
        {"const": "pass", "title": "通过"},
        {"const": "return", "title": "退回修改"},
        {"const": "reject", "title": "不予准入"},
    ],
}

REVIEW: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "审核",
    "type": "object",
    "x-data-key": "review",
    "required": ["decision", "summary", "meeting_date"],
    "properties": {
        "decision": DECISION,
        "summary": {"type": "string", "title": "审核摘要", "maxLength": 200},
        "comment": {"type": "string", "title": "意见", "maxLength": 5000, "default": ""},
        "meeting_date": {"type": "string", "format": "date"},
        "resources": {"$ref": "#/$defs/resources"},
        "codes": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{4}$"},
            "uniqueItems": True,
            "maxItems": 3,
            "default": [],
            "x-messages": {"uniqueItems": "事项编码不能重复"},
        },
        "contact": {"type": "string", "format": "email"},
        "urgent": {"type": "boolean", "default": False},
    },
    "allOf": [
        {
            # "required" in the condition: without it a form with no decision would count as
            # a return (an absent property satisfies "properties").
            "if": {"properties": {"decision": {"const": "return"}}, "required": ["decision"]},
            "then": {
                "required": ["comment"],
                "x-messages": {"required": "退回修改时须填写意见"},
            },
        }
    ],
    "$defs": {
        "resources": {
            "type": "object",
            "default": {},
            "properties": {
                "funding_yuan": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100_000_000_000,
                    "default": 0,
                },
                "staff": {"type": "integer", "minimum": 0, "default": 0},
            },
        }
    },
}

UI = {"summary": {"ui:widget": "textarea"}}


def form_of(schema: dict[str, Any], ui: dict[str, Any] | None = None) -> SchemaForm:
    raw_ui = json.dumps(ui).encode() if ui is not None else None
    return build_form("review.json", json.dumps(schema, ensure_ascii=False).encode(), raw_ui)


def review(**changes: Any) -> dict[str, Any]:
    values = {"decision": "pass", "summary": "材料齐全，依据充分", "meeting_date": "2026-12-03"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not ...}


def errors_of(form: SchemaForm, payload: Any, context: Mapping[str, Any] | None = None) -> dict:
    with pytest.raises(InvalidInput) as caught:
        form.validate(payload, context)
    return caught.value.errors


def refusals(schema: Any, ui: Any = None) -> list[str]:
    raw = schema if isinstance(schema, bytes) else json.dumps(schema).encode()
    with pytest.raises(InvalidDiagram) as caught:
        build_form("review.json", raw, ui)
    return caught.value.errors["files"]


FORM = form_of(REVIEW, UI)


def test_form_describes_itself() -> None:
    assert (FORM.name, FORM.title, FORM.data_key, FORM.checks) == (
        "review.json",
        "审核",
        "review",
        (),
    )
    assert FORM.ui_schema == UI
    assert FORM.data_for("review_task", {"decision": "pass"}) == {"review": {"decision": "pass"}}
    without_key = form_of({"type": "object", "properties": {}})
    assert without_key.data_for("approve", {}) == {"approve": {}}


def test_valid_review_gets_defaults_at_every_depth() -> None:
    values = FORM.validate(review(resources={"staff": 2}))
    assert values == {
        "decision": "pass",
        "summary": "材料齐全，依据充分",
        "meeting_date": "2026-12-03",
        "comment": "",
        "codes": [],
        "urgent": False,
        "resources": {"funding_yuan": 0, "staff": 2},
    }
    assert FORM.validate(review())["resources"] == {"funding_yuan": 0, "staff": 0}


def test_defaults_are_not_shared_between_submissions() -> None:
    first = FORM.validate(review())
    first["codes"].append("AB1234")
    assert FORM.validate(review())["codes"] == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"decision": "maybe"}, {"decision": ["应为以下之一：通过、退回修改、不予准入"]}),
        ({"decision": ...}, {"decision": ["此项为必填项"]}),
        ({"summary": "   "}, {"summary": ["不能只填空白"]}),
        ({"summary": None}, {"summary": ["此项不能为空"]}),
        ({"summary": 12}, {"summary": ["应为文本"]}),
        ({"summary": "长" * 201}, {"summary": ["长度不能超过 200"]}),
        ({"meeting_date": "12/03/2026"}, {"meeting_date": ["应为日期，格式 YYYY-MM-DD"]}),
        ({"meeting_date": "2026-02-30"}, {"meeting_date": ["应为日期，格式 YYYY-MM-DD"]}),
        ({"contact": "wang.example.com"}, {"contact": ["应为电子邮件地址"]}),
        ({"urgent": "true"}, {"urgent": ["应为 true 或 false"]}),
        ({"urgent": 1}, {"urgent": ["应为 true 或 false"]}),
        ({"codes": "AB1234"}, {"codes": ["应为列表"]}),
        ({"codes": ["AB1234", "AB1234"]}, {"codes": ["事项编码不能重复"]}),
        ({"codes": ["AB1234", "ab"]}, {"codes": {1: ["格式不正确"]}}),
        ({"codes": ["AB0001", "AB0002", "AB0003", "AB0004"]}, {"codes": ["长度不能超过 3"]}),
        ({"resources": "很多"}, {"resources": {"_schema": ["应为 JSON 对象"]}}),
        (
            {"resources": {"funding_yuan": -5}},
            {"resources": {"funding_yuan": ["应在 0 到 100000000000 之间"]}},
        ),
        ({"resources": {"staff": -1}}, {"resources": {"staff": ["不能小于 0"]}}),
        ({"resources": {"staff": 1.0}}, {"resources": {"staff": ["应为整数"]}}),
        ({"resources": {"staff": True}}, {"resources": {"staff": ["应为整数"]}}),
        ({"resources": {"staff": 1, "cars": 2}}, {"resources": {"cars": ["不允许的字段"]}}),
        ({"surprise": 1}, {"surprise": ["不允许的字段"]}),
    ],
)
def test_each_mistake_is_named_under_its_field(change: dict, expected: dict) -> None:
    assert errors_of(FORM, review(**change)) == expected


def test_every_mistake_is_reported_at_once() -> None:
    errors = errors_of(FORM, review(decision=..., summary="", surprise=1, codes=["x", "AB1234"]))
    assert errors == {
        "decision": ["此项为必填项"],
        "summary": ["不能只填空白"],
        "surprise": ["不允许的字段"],
        "codes": {0: ["格式不正确"]},
    }


def test_payload_that_is_not_an_object_is_refused_like_formkit() -> None:
    with pytest.raises(InvalidInput) as caught:
        FORM.validate(["decision", "pass"])
    assert caught.value.message == "表单应为 JSON 对象"
    assert caught.value.errors == {"_schema": ["应为 JSON 对象"]}


@pytest.mark.parametrize("comment", [..., "", "  \n "])
def test_returning_needs_a_comment(comment: Any) -> None:
    errors = errors_of(FORM, review(decision="return", comment=comment))
    assert errors == {"comment": ["退回修改时须填写意见"]}


def test_returning_with_a_comment_and_passing_without_one_are_fine() -> None:
    assert FORM.validate(review(decision="return", comment="依据不足"))["comment"] == "依据不足"
    assert FORM.validate(review(decision="pass"))["comment"] == ""


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("comment", "意见\x00", "不能包含空字符（\\u0000）"),
        ("comment", "意见\x1b[31m", "不能包含控制字符（U+001B）"),
        ("meeting_date", "2026-12-03\n", "只能填写一行，不能包含换行符或制表符（U+000A）"),
        ("contact", "wang@example.com\t", "只能填写一行，不能包含换行符或制表符（U+0009）"),
        ("comment", "\ud800", "不是有效的 UTF-8 文本"),
    ],
)
def test_text_that_cannot_be_stored_is_refused(field: str, text: str, message: str) -> None:
    assert errors_of(FORM, review(**{field: text})) == {field: [message]}


def test_control_characters_in_list_items_are_refused_by_index() -> None:
    assert errors_of(FORM, review(codes=["AB1234", "AB\x001234"])) == {
        "codes": {1: ["不能包含空字符（\\u0000）"]}
    }


def test_long_text_and_text_areas_keep_their_lines_with_crlf_stored_as_lf() -> None:
    values = FORM.validate(review(summary="一、材料齐全\r\n二、依据充分", comment="甲\r\n\t乙"))
    assert values["summary"] == "一、材料齐全\n二、依据充分"  # a textarea in the uiSchema
    assert values["comment"] == "甲\n\t乙"  # maxLength 5000 ≥ MULTILINE_FROM


def test_line_breaks_count_once_towards_the_length() -> None:
    # marshmallow measures normalised text: 100 × "\r\n" is 100 characters, not 200.
    assert FORM.validate(review(summary="\r\n".join(["字"] * 100)))["summary"].count("\n") == 99
    assert errors_of(FORM, review(summary="字" * 199 + "  ")) == {"summary": ["长度不能超过 200"]}


def test_a_nullable_field_reports_the_branch_that_fits_its_value() -> None:
    date_or_nothing = {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
    form = form_of({"type": "object", "properties": {"end_date": date_or_nothing}})
    assert form.validate({"end_date": None}) == {"end_date": None}
    assert errors_of(form, {"end_date": "12/01/2026"}) == {
        "end_date": ["应为日期，格式 YYYY-MM-DD"]
    }


def test_a_nullable_long_text_is_still_multi_line() -> None:
    note = {"anyOf": [{"type": "string", "maxLength": 5000}, {"type": "null"}]}
    form = form_of({"type": "object", "properties": {"note": note}})
    assert form.validate({"note": "甲\r\n乙"}) == {"note": "甲\n乙"}
    assert form.validate({"note": None}) == {"note": None}


def test_single_line_text_refuses_a_line_break() -> None:
    form = form_of({"type": "object", "properties": {"name": {"type": "string", "maxLength": 50}}})
    assert errors_of(form, {"name": "甲\r\n乙"}) == {
        "name": ["只能填写一行，不能包含换行符或制表符（U+000D）"]
    }


def test_a_field_declared_in_a_branch_is_known_and_checked_where_the_branch_applies() -> None:
    reason = {"type": "string", "maxLength": 500, "x-messages": {"required": "退回时须写明理由"}}
    conditional = {
        **REVIEW,
        "allOf": [
            {
                "if": {"properties": {"decision": {"const": "return"}}, "required": ["decision"]},
                "then": {"required": ["return_reason"], "properties": {"return_reason": reason}},
            }
        ],
    }
    form = form_of(conditional)
    returned = form.validate(review(decision="return", return_reason="缺少经费测算依据"))
    assert returned["return_reason"] == "缺少经费测算依据"
    assert errors_of(form, review(decision="return")) == {"return_reason": ["退回时须写明理由"]}
    assert errors_of(form, review(decision="return", return_reason="长" * 501)) == {
        "return_reason": ["长度不能超过 500"]
    }
    assert errors_of(form, review(decision="return", return_reason="甲\n乙")) == {
        "return_reason": ["只能填写一行，不能包含换行符或制表符（U+000A）"]
    }
    assert errors_of(form, review(reason="x")) == {"reason": ["不允许的字段"]}


def test_objects_that_allow_more_properties_say_so() -> None:
    form = form_of(
        {
            "type": "object",
            "properties": {"extra": {"type": "object", "additionalProperties": {"type": "string"}}},
        }
    )
    assert form.validate({"extra": {"任意": "值"}}) == {"extra": {"任意": "值"}}
    assert errors_of(form, {"extra": {"a": 1}}) == {"extra": {"a": ["应为文本"]}}
    assert errors_of(form, {"extra": {"a\x00": "b"}}) == {
        "extra": {"a\x00": ["不能包含空字符（\\u0000）"]}
    }


def test_choice_labels_come_from_the_schema() -> None:
    assert labelled_choices(DECISION) == [
        ("pass", "通过"),
        ("return", "退回修改"),
        ("reject", "不予准入"),
    ]
    assert labelled_choices({"enum": ["short", "long"]}) == [("short", "short"), ("long", "long")]
    assert labelled_choices({"type": "string"}) == []


# --- named checks -------------------------------------------------------------------------------

SEEN: list[tuple[dict, Mapping]] = []


def _funding_within_budget(
    values: dict[str, Any], context: Mapping[str, Any]
) -> dict[str, list[str]]:
    SEEN.append((values, context))
    if values["resources"]["funding_yuan"] > context["budget_yuan"]:
        return {"resources": ["经费超出本年度预算"]}
    return {}


register_check("test_funding_within_budget", _funding_within_budget)
CHECKED = form_of({**REVIEW, "x-checks": ["test_funding_within_budget"]})


def test_checks_run_with_context_once_the_schema_passes() -> None:
    SEEN.clear()
    errors = errors_of(CHECKED, review(resources={"funding_yuan": 9000}), {"budget_yuan": 5000})
    assert errors == {"resources": ["经费超出本年度预算"]}
    assert SEEN[-1][0]["resources"] == {"funding_yuan": 9000, "staff": 0}  # defaults applied
    assert SEEN[-1][1] == {"budget_yuan": 5000}
    assert CHECKED.validate(review(), {"budget_yuan": 5000})["decision"] == "pass"


def test_checks_do_not_run_on_an_invalid_form() -> None:
    SEEN.clear()
    errors = errors_of(CHECKED, review(decision="maybe", resources={"funding_yuan": 9000}), {})
    assert list(errors) == ["decision"]
    assert SEEN == []


def test_a_check_name_belongs_to_one_function() -> None:
    register_check("test_funding_within_budget", _funding_within_budget)  # again: harmless
    assert "test_funding_within_budget" in known_checks()
    with pytest.raises(ValueError, match="already registered"):
        register_check("test_funding_within_budget", lambda values, context: {})


# --- deploy-time refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (b'{"type": "object",', "不是有效的 JSON（第 1 行"),
        ('{"type": "object", "title": "审核"}'.encode("gbk"), "不是 UTF-8 文本"),
        (b'{"type": "object", "type": "array"}', "键 type 出现了不止一次"),
        (b'["type", "object"]', "应为 JSON 对象"),
        (b'{"type": "object", "title": "' + b"x" * 256 * 1024 + b'"}', "文件超过 256 KiB"),
        ({"type": "array"}, "顶层的 type 应为 object"),
        ({"type": "object", "properties": {"a": {"type": "text"}}}, "不是有效的 JSON Schema"),
        ({"type": "object", "properties": {"a": {"pattern": "(["}}}, "不是有效的 JSON Schema"),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}},
            "#/properties/a：只能引用本文件内的定义（#…），不能引用 https://example.com/a.json",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/none"}}},
            "引用 #/$defs/none 找不到",
        ),
        ({"type": "object", "$id": "https://example.com/review.json"}, "不支持 $id"),
        (
            {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#"},
            "只支持 JSON Schema 2020-12",
        ),
        ({"type": "object", "properties": {"a": {"format": "phone"}}}, "不支持的格式 phone"),
        ({"type": "object", "dependencies": {"a": ["b"]}}, "不再有 dependencies"),
        ({"type": "object", "x-checks": ["no_such_rule"]}, "未知的校验规则 no_such_rule"),
        (
            {"type": "object", "required": ["comment"]},
            "#：comment 未在所属对象的 properties 中声明",
        ),
        (
            {"type": "object", "properties": {}, "if": {"properties": {"decison": {"const": "x"}}}},
            "#/if：decison 未在所属对象的 properties 中声明",
        ),
        (
            {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 1, "default": 0}},
            },
            "#/properties/n：默认值不符合本项自身的要求",
        ),
        ({"type": "object", "x-data-key": "review-1"}, "x-data-key 应为标识符"),
        ({"type": "object", "x-data-key": "class"}, "x-data-key 应为标识符"),
    ],
)
def test_a_bad_form_file_is_refused_at_deploy(schema: Any, problem: str) -> None:
    problems = refusals(schema)
    assert any(problem in p for p in problems), problems
    assert all(p.startswith("review.json：") for p in problems)


def test_every_problem_of_a_form_file_is_listed() -> None:
    schema = {"type": "object", "x-checks": ["a", "b"], "x-data-key": "1x"}
    assert refusals(schema) == [
        "review.json：未知的校验规则 a",
        "review.json：未知的校验规则 b",
        "review.json：x-data-key 应为标识符（字母开头，仅含字母、数字和下划线，至多 64 个字符）",
    ]


def test_a_bad_ui_schema_is_refused() -> None:
    assert refusals({"type": "object"}, b"[1]") == ["review.json：应为 JSON 对象"]


def _titled(template: str) -> SchemaForm:
    schema = {
        "type": "object",
        "x-title": template,
        "properties": {
            "name": {"type": "string", "title": "姓名"},
            "post": {
                "type": "object",
                "title": "岗位",
                "properties": {"unit": {"type": "string", "title": "单位"}},
            },
        },
    }
    return build_form("titled.json", json.dumps(schema).encode())


def test_an_instance_is_named_by_its_start_forms_title_template() -> None:
    form = _titled("借调：{name}（{post.unit}）")
    assert form.title_for({"name": "张三", "post": {"unit": "西山镇"}}) == "借调：张三（西山镇）"
    assert form.title_for({"name": "李四"}) == "借调：李四（）"  # an optional part left out
    assert build_form("plain.json", b'{"type": "object"}').title_for({"x": 1}) is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("借调：{nobody}", "{nobody} 不是本表单的字段"),
        ("借调：{name.__class__}", "不是本表单的字段"),
        ("借调：{name} }", "花括号不成对"),
        ("", "标题模板"),
    ],
)
def test_a_title_template_names_only_the_forms_own_fields(template: str, problem: str) -> None:
    with pytest.raises(InvalidDiagram) as refused:
        _titled(template)
    assert problem in json.dumps(refused.value.errors, ensure_ascii=False)
