"""The console draws a package's JSON Schema form as it draws the built-in ones: every label,
hint and choice from the schema, conditional fields from its if/then, typed payloads back."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from api.console import forms
from api.console.schema_forms import defaults, describe, payload_from, read_only
from engine.errors import InvalidInput
from engine.workflow.schema_forms import SchemaForm, build_form
from tests.packages import shipped_diagram

# A township's review of a matter handed down by a county department, as a package would ship it.
REVIEW = {
    "title": "乡镇审核",
    "type": "object",
    "required": ["decision", "staff", "received_on"],
    "properties": {
        "decision": {
            "title": "审核结论",
            "description": "退回的，须写明退回理由。",
            "oneOf": [
                {"const": "accept", "title": "同意承接"},
                {"const": "return", "title": "退回补正"},
            ],
        },
        "staff": {"title": "承办人数（名）", "type": "integer", "minimum": 1, "maximum": 50},
        "received_on": {"title": "收到日期", "type": "string", "format": "date"},
        "urgent": {"title": "是否紧急", "type": "boolean", "default": False},
        "department": {
            "title": "交办部门",
            "type": "string",
            "oneOf": [
                {"const": f"d{n}", "title": name}
                for n, name in enumerate(
                    ["县司法局", "县民政局", "县应急局", "县农业农村局", "县人社局"]
                )
            ],
        },
        "resources": {
            "title": "随事下放的资源",
            "type": "array",
            "uniqueItems": True,
            "items": {
                "type": "string",
                "oneOf": [
                    {"const": "funding", "title": "经费"},
                    {"const": "staff", "title": "人员"},
                    {"const": "powers", "title": "权限"},
                ],
            },
        },
        "points": {"title": "存在的问题", "type": "array", "items": {"type": "string"}},
        "opinion": {"title": "审核意见", "type": "string", "maxLength": 2000},
        "contact": {
            "title": "联系人",
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"title": "姓名", "type": "string", "maxLength": 50},
                "phone": {"title": "电话", "type": "string"},
            },
        },
    },
    "allOf": [
        {
            "if": {"properties": {"decision": {"const": "return"}}, "required": ["decision"]},
            "then": {
                "required": ["return_reason"],
                "properties": {
                    "return_reason": {
                        "title": "退回理由",
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 500,
                    }
                },
            },
        },
        {
            "if": {"properties": {"urgent": {"const": True}}},
            "then": {"required": ["deadline"]},
            "else": {"properties": {"reason_not_urgent": {"title": "不紧急的说明"}}},
        },
    ],
}
REVIEW["properties"]["deadline"] = {"title": "办结期限", "type": "string", "format": "date"}
UI = {
    "ui:order": ["decision", "return_reason", "*", "contact"],
    "opinion": {"ui:help": "写明审核的依据和意见。"},
    "points": {"ui:help": "每行填写一条。"},
}


def by_name(views: list[forms.FieldView]) -> dict[str, forms.FieldView]:
    found = {}
    for view in views:
        found[view.name] = view
        found.update(by_name(view.children))
    return found


def test_every_label_hint_and_choice_comes_from_the_schema() -> None:
    views = by_name(describe(REVIEW, UI))

    assert views["decision"].label == "审核结论"
    assert views["decision"].hint == "退回的，须写明退回理由。"
    assert views["decision"].choices == [("accept", "同意承接"), ("return", "退回补正")]
    assert views["opinion"].hint == "写明审核的依据和意见。"
    assert views["urgent"].choices == [("true", "是"), ("false", "否")]
    assert views["resources"].choices == [
        ("funding", "经费"),
        ("staff", "人员"),
        ("powers", "权限"),
    ]
    assert views["contact.name"].label == "姓名"
    # Nothing a person reads is an English word or a property's key.
    texts = [text for v in views.values() for text in (v.label, v.hint)]
    texts += [title for v in views.values() for _, title in v.choices]
    assert texts and not [text for text in texts if re.search("[A-Za-z_]", text)]


def test_each_property_becomes_the_input_its_type_calls_for() -> None:
    views = by_name(describe(REVIEW, UI))
    kinds = {name: view.kind for name, view in views.items()}

    assert kinds == {
        "decision": "radio",
        "return_reason": "text",
        "staff": "number",
        "received_on": "date",
        "urgent": "radio",
        "department": "select",  # five choices: a drop-down list
        "resources": "checkboxes",
        "points": "lines",
        "opinion": "textarea",  # long enough to be multi-line
        "deadline": "date",
        "reason_not_urgent": "text",
        "contact": "group",
        "contact.name": "text",
        "contact.phone": "text",
    }
    assert (views["staff"].minimum, views["staff"].maximum) == (1, 50)
    assert views["return_reason"].maxlength == 500
    assert [v.required for v in (views["decision"], views["opinion"], views["contact.name"])] == [
        True,
        False,
        True,
    ]


def test_ui_order_places_listed_fields_and_the_rest_where_the_star_stands() -> None:
    names = [view.name for view in describe(REVIEW, UI)]

    assert names[:2] == ["decision", "return_reason"]
    assert names[-1] == "contact"
    assert set(names) == {n for n in by_name(describe(REVIEW)) if "." not in n}


def test_conditional_fields_show_for_the_answer_their_schema_names() -> None:
    views = by_name(describe(REVIEW, UI))

    assert views["return_reason"].shown_when_text == "decision=return"
    assert views["return_reason"].required  # required whenever it shows
    assert views["deadline"].shown_when_text == "urgent=true"
    assert views["reason_not_urgent"].shown_when_text == "urgent=false"
    assert views["opinion"].shown_when is None


def test_a_condition_inside_a_group_names_the_field_by_its_full_name() -> None:
    schema = {"type": "object", "properties": {"contact": REVIEW}}

    views = by_name(describe(schema))

    assert views["contact.return_reason"].shown_when_text == "contact.decision=return"


def test_values_errors_and_fixed_fields_are_drawn_back() -> None:
    values = {"decision": "return", "resources": ["staff"], "points": ["一", "二"]}
    errors = {"return_reason": ["此项为必填项"], "contact.name": ["此项为必填项"]}

    views = by_name(describe(REVIEW, UI, values, errors, hidden={"staff"}, omit={"opinion"}))

    assert views["decision"].value == "return"
    assert views["resources"].values == ["staff"]
    assert views["points"].value == "一\n二"
    assert views["return_reason"].errors == ["此项为必填项"]
    assert views["contact.name"].errors == ["此项为必填项"]
    assert views["staff"].kind == "hidden"
    assert "opinion" not in views
    summary = forms.summary(errors, describe(REVIEW, UI))
    assert ("f-contact-name", "联系人 › 姓名：此项为必填项") in summary


def test_posted_fields_become_the_typed_json_payload() -> None:
    posted = MultiDict(
        [
            ("decision", "return"),
            ("return_reason", "资源未到位"),
            ("staff", "3"),
            ("received_on", "2026-12-21"),
            ("urgent", "true"),
            ("deadline", "2027-01-05"),
            ("reason_not_urgent", "只在不紧急时提交"),
            ("resources", "funding"),
            ("resources", "powers"),
            ("points", "经费不足\r\n\r\n 人员未配备 "),
            ("opinion", ""),
            ("contact.name", "张三"),
            ("contact.phone", ""),
        ]
    )

    assert payload_from(REVIEW, posted) == {
        "decision": "return",
        "return_reason": "资源未到位",
        "staff": 3,
        "received_on": "2026-12-21",
        "urgent": True,
        "deadline": "2027-01-05",
        "resources": ["funding", "powers"],
        "points": ["经费不足", "人员未配备"],
        "contact": {"name": "张三"},
    }


def test_a_field_whose_condition_is_not_met_is_not_sent() -> None:
    posted = MultiDict([("decision", "accept"), ("return_reason", "多余"), ("urgent", "false")])

    payload = payload_from(REVIEW, posted)

    assert "return_reason" not in payload and "deadline" not in payload
    assert payload["urgent"] is False


def test_what_does_not_parse_is_passed_on_for_the_schema_to_refuse() -> None:
    payload = payload_from(REVIEW, MultiDict([("staff", "三"), ("urgent", "也许")]))

    assert payload == {"staff": "三", "urgent": "也许"}


def test_choices_keep_the_type_of_their_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "level": {
                "title": "等级",
                "type": "integer",
                "oneOf": [{"const": 1, "title": "一级"}, {"const": 2, "title": "二级"}],
            },
        },
    }

    assert payload_from(schema, MultiDict([("level", "2")])) == {"level": 2}
    assert by_name(describe(schema))["level"].choices == [("1", "一级"), ("2", "二级")]


def test_a_form_starts_with_the_schema_defaults() -> None:
    assert forms.flat_values(defaults(REVIEW)) == {"urgent": "false"}


def test_submitted_values_read_as_a_person_reads_them() -> None:
    values = {
        "decision": "return",
        "return_reason": "资源未到位",
        "staff": 3,
        "received_on": "2026-12-21",
        "urgent": False,
        "department": "d1",
        "resources": ["funding", "powers"],
        "points": ["经费不足", "人员未配备"],
        "contact": {"name": "张三"},
    }

    rows = read_only(REVIEW, values, UI)

    assert rows == [
        ("审核结论", "退回补正"),
        ("退回理由", "资源未到位"),
        ("承办人数（名）", "3"),
        ("收到日期", "2026年12月21日"),  # as the console writes every date
        ("是否紧急", "否"),
        ("交办部门", "县民政局"),
        ("随事下放的资源", "经费、权限"),
        ("存在的问题", "经费不足；人员未配备"),
        ("姓名", "张三"),
    ]


def test_a_property_without_a_title_falls_back_to_its_key() -> None:
    schema = {"type": "object", "properties": {"remark": {"type": "string"}}}

    assert describe(schema)[0].label == "remark"


def built() -> SchemaForm:
    text = json.dumps(REVIEW, ensure_ascii=False).encode()
    return build_form("review.json", text, json.dumps(UI).encode())


def test_a_posted_form_round_trips_through_the_package_form() -> None:
    form = built()
    posted = MultiDict(
        [
            ("decision", "accept"),
            ("staff", "12"),
            ("received_on", "2026-12-21"),
            ("urgent", "true"),
            ("deadline", "2027-01-05"),
            ("resources", "staff"),
            ("points", "人员未配备"),
            ("contact.name", "李四"),
        ]
    )

    values = form.validate(payload_from(form.json_schema, posted))

    drawn = by_name(describe(form.json_schema, form.ui_schema, forms.flat_values(values)))
    assert (drawn["staff"].value, drawn["urgent"].value) == ("12", "true")
    assert drawn["resources"].values == ["staff"]
    assert ("是否紧急", "是") in read_only(form.json_schema, values, form.ui_schema)


def test_the_package_forms_errors_show_beside_their_fields_in_chinese() -> None:
    form = built()
    posted = MultiDict(
        [("decision", "return"), ("staff", "0"), ("received_on", "2026-12-21")]
        + [("contact.phone", "0871-1234567")]
    )

    with pytest.raises(InvalidInput) as refused:
        form.validate(payload_from(form.json_schema, posted))

    errors = forms.flat_errors(refused.value.errors)
    views = by_name(describe(form.json_schema, form.ui_schema, {}, errors))
    assert views["return_reason"].errors == ["此项为必填项"]
    assert views["staff"].errors and all(
        not re.search("[A-Za-z]", e) for e in views["staff"].errors
    )
    assert views["contact.name"].errors == ["此项为必填项"]


def test_a_field_a_branch_only_wants_left_empty_is_not_shown_for_that_answer() -> None:
    """审批澄清: the method shows for approving only, though refusing says "choose none"."""
    diagram = shipped_diagram("clearance")
    form = diagram.forms["cl_approve"]
    shown = {view.name: view.shown_when for view in describe(form.json_schema, form.ui_schema)}
    assert shown["method"] == ("decision", ("approve",))
    assert shown["scope"] == ("decision", ("approve",))
    assert shown["explanation"] == ("decision", ("refuse",))
    refused = MultiDict({"decision": "refuse", "method": "written", "explanation": "不批准"})
    assert payload_from(form.json_schema, refused, form.ui_schema) == {
        "decision": "refuse",
        "explanation": "不批准",
    }


def test_an_optional_choice_offers_its_titled_values_only() -> None:
    """A choice that may be left empty ({"type": "null"} beside its consts) lists no 'null'."""
    form = shipped_diagram("fault_tolerance").forms["ft_appeal_decide"]
    (outcome,) = [v for v in describe(form.json_schema) if v.name == "outcome"]
    assert outcome.kind == "radio"
    assert [code for code, _ in outcome.choices] == ["exempt", "reduced", "lighter", "not_granted"]
