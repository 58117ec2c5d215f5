"""Duty lists as files: the table of a list's items, read and written as CSV or XLSX with
Chinese headers (engine/tables does the files); no database here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.tables import FORMATS, Row, Sheet, format_of
from engine.tables import read_rows as _read_rows
from engine.tables import write as _write

__all__ = ["COLUMNS", "FORMATS", "SHEET", "Row", "format_of", "read_rows", "write"]

# field → header, in file order. Imports accept either the header or the field name.
COLUMNS: dict[str, str] = {
    "code": "编码",
    "scope": "适用范围",
    "list_type": "清单类型",
    "category": "类别",
    "name": "事项名称",
    "description": "事项描述",
    "responsible_body": "责任主体",
    "cooperating_department": "配合部门",
    "basis": "依据",
    "status": "状态",
    "effective_from": "生效日期",
    "effective_to": "失效日期",
}
SHEET = Sheet("职责清单", COLUMNS, ("code", "scope", "list_type", "category", "name"))


def read_rows(filename: str, data: bytes) -> list[Row]:
    """The rows of an uploaded list; an unreadable file or header is InvalidInput."""
    return _read_rows(SHEET, filename, data)


def write(fmt: str, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A file of the given format ("csv" or "xlsx") with one row per item."""
    return _write(SHEET, fmt, rows)
