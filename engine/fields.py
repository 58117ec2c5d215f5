"""marshmallow fields and base schema with zh-CN messages, shared by engine forms and API bodies."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema as _Schema
from marshmallow import ValidationError, fields, validate

_COMMON = {
    "required": "此项为必填项",
    "null": "此项不能为空",
    "validator_failed": "取值无效",
}


class Schema(_Schema):
    """Base schema: unknown fields are refused, with Chinese messages."""

    error_messages = {"unknown": "不允许的字段", "type": "应为 JSON 对象"}


class String(fields.String):
    """Text that every database can store: valid UTF-8, no NUL characters."""

    default_error_messages = {
        **_COMMON,
        "invalid": "应为文本",
        "invalid_utf8": "不是有效的 UTF-8 文本",
        "nul": "不能包含空字符（\\u0000）",
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates such as "\ud800"
            raise self.make_error("invalid_utf8") from exc
        if "\x00" in text:
            raise self.make_error("nul")
        return text


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


def text(maximum: int, required: bool = False, **kwargs: Any) -> String:
    """A free-text field: trimmed length limits, and not blank when required."""
    validators = [length(maximum), not_blank] if required else [length(maximum)]
    if not required:
        kwargs.setdefault("load_default", "")
    return String(required=required, validate=validators, **kwargs)
