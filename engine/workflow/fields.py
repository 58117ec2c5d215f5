"""marshmallow fields and base schema with zh-CN messages, shared by engine forms and API bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema as _Schema
from marshmallow import ValidationError, fields, validate

from engine.errors import InvalidInput

_COMMON = {
    "required": "此项为必填项",
    "null": "此项不能为空",
    "validator_failed": "取值无效",
}


class Schema(_Schema):
    """Base schema: unknown fields are refused, with Chinese messages."""

    error_messages = {"unknown": "不允许的字段", "type": "应为 JSON 对象"}


# What no stored text may hold, so that every export can carry it: C0 and C1 control characters
# and U+FFFE/U+FFFF (XML, hence XLSX, has no place for them). Multi-line text keeps tab and line
# feed; a carriage return ("\r\n" from a browser's text area) becomes a line feed.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
_FORBIDDEN_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n?")
_LINE_CHARS = "\t\n\r"
# Free text allowed this long is multi-line (the console draws it as a text area).
MULTILINE_FROM = 1000


def forbidden_char(text: str, multiline: bool = False) -> str | None:
    """The first character `text` may not hold."""
    found = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN).search(text)
    return found.group() if found else None


def char_problem(text: str, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored, in Chinese, or None: the message every text input gives."""
    char = forbidden_char(text, multiline)
    if char is None:
        return None
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        return "不能包含空字符（\\u0000）"
    if char in _LINE_CHARS:
        return f"只能填写一行，不能包含换行符或制表符（{code}）"
    if char in "\ufffe\uffff":
        return f"不能包含无效字符（{code}）"
    return f"不能包含控制字符（{code}）"


def printable(text: str) -> str:
    """`text` with each forbidden character but tab and line breaks shown as U+FFFD: for
    writing out values stored before the rule existed."""
    return _FORBIDDEN_MULTILINE.sub("\ufffd", text)


class String(fields.String):
    """Text that every database and export can store: valid UTF-8, no control characters
    (tab and line breaks only when `multiline`, a carriage return stored as a line feed)."""

    default_error_messages = {
        **_COMMON,
        "invalid": "应为文本",
        "invalid_utf8": "不是有效的 UTF-8 文本",
    }

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates such as "\ud800"
            raise self.make_error("invalid_utf8") from exc
        problem = char_problem(text, self.multiline)
        if problem is not None:
            raise ValidationError(problem)
        return _LINE_BREAKS.sub("\n", text) if self.multiline else text


class Integer(fields.Integer):
    default_error_messages = {**_COMMON, "invalid": "应为整数", "too_large": "数值过大"}

    def __init__(self, strict: bool = True, **kwargs: Any) -> None:
        # JSON bodies must carry numbers; query strings can only carry text.
        super().__init__(strict=strict, **kwargs)


class Boolean(fields.Boolean):
    """Only JSON true/false: "yes" or 1 is a mistake worth reporting, not a guess."""

    default_error_messages = {**_COMMON, "invalid": "应为 true 或 false"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(truthy={True}, falsy={False}, **kwargs)


class Date(fields.Date):
    default_error_messages = {
        **_COMMON,
        "invalid": "应为日期，格式 YYYY-MM-DD",
        "format": "日期格式应为 YYYY-MM-DD",
    }


class DateTime(fields.DateTime):
    default_error_messages = {**_COMMON, "invalid": "应为 ISO 8601 日期时间"}


class List(fields.List):
    default_error_messages = {**_COMMON, "invalid": "应为列表"}


class Nested(fields.Nested):
    default_error_messages = {**_COMMON, "type": "应为 JSON 对象"}


def load_input(schema: Schema, payload: Any, message: str, partial: bool = False) -> dict[str, Any]:
    """Validate input; a mistake is InvalidInput with Chinese messages per field. `partial`:
    only the fields given (no defaults), for edits."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("请求体应为 JSON 对象", {"_schema": ["应为 JSON 对象"]})
    try:
        return schema.load(payload, partial=partial)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput(message, errors) from exc


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("不能只填空白")


def length(maximum: int, minimum: int = 0) -> validate.Length:
    if minimum:
        return validate.Length(
            min=minimum, max=maximum, error=f"长度应在 {minimum} 到 {maximum} 之间"
        )
    return validate.Length(max=maximum, error=f"长度不能超过 {maximum}")


def one_of(choices: list[str] | tuple[str, ...], labels: dict[str, str] | None = None) -> Any:
    shown = "、".join(f"{c}（{labels[c]}）" if labels else c for c in choices)
    return validate.OneOf(choices, error=f"应为以下之一：{shown}")


def at_least(minimum: int) -> validate.Range:
    return validate.Range(min=minimum, error=f"不能小于 {minimum}")


def between(minimum: int, maximum: int) -> validate.Range:
    return validate.Range(min=minimum, max=maximum, error=f"应在 {minimum} 到 {maximum} 之间")


def text(
    maximum: int, required: bool = False, multiline: bool | None = None, **kwargs: Any
) -> String:
    """A free-text field: trimmed length limits, and not blank when required. It is multi-line
    (tab and line breaks allowed) when `multiline`, by default when it may be MULTILINE_FROM
    characters or longer."""
    validators = [length(maximum), not_blank] if required else [length(maximum)]
    if not required:
        kwargs.setdefault("load_default", "")
    if multiline is None:
        multiline = maximum >= MULTILINE_FROM
    return String(required=required, validate=validators, multiline=multiline, **kwargs)
