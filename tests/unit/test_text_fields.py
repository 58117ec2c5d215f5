"""Every text input refuses control characters through one field type
(engine.workflow.fields.String)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from marshmallow import ValidationError, fields

import api.rest.trail  # noqa: F401  (its query schemas)
import api.schemas  # noqa: F401
import api.schemas_accountability  # noqa: F401
import api.schemas_duty_lists  # noqa: F401
import api.schemas_people  # noqa: F401
import engine.accountability.case_forms  # noqa: F401
import engine.duty_lists.catalog_forms  # noqa: F401
import engine.services.people_forms  # noqa: F401
import engine.workflow.forms  # noqa: F401  (registers the accountability forms too)
from engine.duty_lists.catalog_files import write
from engine.workflow import fields as f


def _schemas(base: type = f.Schema) -> Iterator[type[f.Schema]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _schemas(sub)


def _text_fields(schema: type[f.Schema], path: str = "") -> Iterator[tuple[str, fields.Field]]:
    for name, spec in schema().fields.items():
        where = f"{path}{schema.__name__}.{name}"
        while isinstance(spec, fields.List):
            spec = spec.inner
        if isinstance(spec, fields.Nested):
            yield from _text_fields(type(spec.schema), where + " › ")
        elif isinstance(spec, fields.String | fields.Dict | fields.Raw):
            yield where, spec


INPUT_TEXT = sorted({where: spec for s in _schemas() for where, spec in _text_fields(s)}.items())


def test_the_input_schemas_were_found() -> None:
    names = {where.split(".")[0] for where, _ in INPUT_TEXT}
    assert {"ApplicationSchema", "CaseSchema", "ItemRowSchema", "TokenRequestSchema"} <= names
    assert {"EventQuerySchema", "VerifyQuerySchema", "ItemQuerySchema"} <= names
    assert {"UserSchema", "OrganizationSchema", "PasswordChangeSchema"} <= names
    assert len(INPUT_TEXT) > 80


@pytest.mark.parametrize(("where", "spec"), INPUT_TEXT, ids=[w for w, _ in INPUT_TEXT])
def test_every_text_field_is_the_project_string_and_refuses_control_characters(
    where: str, spec: fields.Field
) -> None:
    assert isinstance(spec, f.String), (
        f"{where} is {type(spec).__name__}, not engine.workflow.fields.String"
    )
    for bad, shown in (("a\x01b", "U+0001"), ("a\x9fb", "U+009F"), ("a\uffffb", "U+FFFF")):
        with pytest.raises(ValidationError) as refused:
            spec.deserialize(bad)
        assert shown in str(refused.value.messages), where
    with pytest.raises(ValidationError) as nul:
        spec.deserialize("a\x00b")
    assert "空字符" in str(nul.value.messages)


@pytest.mark.parametrize("text", ["第一行\n第二行", "甲\t乙", "甲\r\n乙", "甲\r乙"])
def test_line_breaks_and_tabs_only_in_multi_line_text(text: str) -> None:
    assert f.text(5000).deserialize(text) == text.replace("\r\n", "\n").replace("\r", "\n")
    with pytest.raises(ValidationError) as refused:
        f.text(200).deserialize(text)
    assert "只能填写一行" in str(refused.value.messages)
    with pytest.raises(ValidationError):
        f.String().deserialize(text)
    assert f.String(multiline=True).deserialize(text) == f.text(5000).deserialize(text)
    assert f.text(200, multiline=True).deserialize(text) == f.text(5000).deserialize(text)


def test_length_is_judged_after_line_breaks_are_folded() -> None:
    assert f.text(1000).deserialize("甲\r\n" * 333 + "乙") == "甲\n" * 333 + "乙"


def test_printable_keeps_text_and_marks_what_no_export_can_hold() -> None:
    assert f.printable("事项\t名称\r\n说明") == "事项\t名称\r\n说明"
    assert f.printable("a\x00b\x0bc\x7fd\ufffe") == "a\ufffdb\ufffdc\ufffdd\ufffd"
    assert f.char_problem("正常文本") is None
    assert write("xlsx", [{"name": "旧\x01数据", "description": "a\x1fb\uffff"}])
