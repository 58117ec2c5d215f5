"""Input schemas for duty-list items (API bodies and imported rows), with zh-CN messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, pre_load, validates_schema

from engine.duty_lists.catalog import ITEM_STATUSES, LIST_LABELS
from engine.workflow import fields as f

# What a user may type instead of a code: the Chinese label ("基本履职事项", "有效").
_LIST_BY_LABEL = {label: code for code, label in LIST_LABELS.items()}
_STATUS_BY_LABEL = {label: code for code, label in ITEM_STATUSES.items()}
ITEM_FIELDS = (
    "list_type",
    "category",
    "name",
    "description",
    "responsible_body",
    "cooperating_department",
    "basis",
    "effective_from",
    "effective_to",
)


def _code_of(values: dict[str, Any], key: str, by_label: Mapping[str, str]) -> None:
    value = values.get(key)
    if isinstance(value, str):
        values[key] = by_label.get(value.strip(), value.strip())


class _ItemFields(f.Schema):
    list_type = f.String(validate=f.one_of(list(LIST_LABELS), LIST_LABELS))
    category = f.String(validate=[f.length(100), f.not_blank])
    name = f.String(validate=[f.length(200), f.not_blank])
    description = f.text(5000)
    responsible_body = f.text(200)
    cooperating_department = f.text(200)
    basis = f.text(2000)
    effective_from = f.Date(load_default=None, allow_none=True)
    effective_to = f.Date(load_default=None, allow_none=True)

    @pre_load
    def _labels(self, data: Any, **_: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            _code_of(data, "list_type", _LIST_BY_LABEL)
            _code_of(data, "status", _STATUS_BY_LABEL)
        return data

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("effective_from"), data.get("effective_to")
        if start is not None and end is not None and end < start:
            raise ValidationError("失效日期不能早于生效日期", "effective_to")


class ItemSchema(_ItemFields):
    """新增清单事项: scope is a township code for an addition, empty for the county template."""

    scope = f.String(load_default=None, allow_none=True, validate=f.length(64))
    code = f.String(load_default=None, allow_none=True, validate=f.length(40, 1))
    list_type = f.String(required=True, validate=f.one_of(list(LIST_LABELS), LIST_LABELS))
    category = f.String(required=True, validate=[f.length(100), f.not_blank])
    name = f.String(required=True, validate=[f.length(200), f.not_blank])


class ItemEditSchema(_ItemFields):
    """修改清单事项: only the fields given change; where an item belongs does not."""

    code = f.String(validate=f.length(40, 1))

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("请至少修改一项内容")


class RetireSchema(f.Schema):
    """废止 (no township) or 从某乡镇清单移除 (township given)."""

    township = f.String(load_default=None, allow_none=True, validate=f.length(64))
    reason = f.text(2000, required=True)


class ItemRowSchema(ItemSchema):
    """One imported row: the scope (organisation code) and the code say which item it is."""

    scope = f.String(required=True, validate=[f.length(64), f.not_blank])
    code = f.String(required=True, validate=[f.length(40), f.not_blank])
    status = f.String(load_default="active", validate=f.one_of(list(ITEM_STATUSES), ITEM_STATUSES))


def load(
    schema: f.Schema, payload: Any, message: str = "清单事项填写有误", partial: bool = False
) -> dict[str, Any]:
    """Validate input; a mistake is InvalidInput with Chinese messages per field. `partial`:
    only the fields given (no defaults), for edits."""
    values = f.load_input(schema, payload, message, partial)
    for key in ("name", "category", "code", "scope"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip()
    return values
