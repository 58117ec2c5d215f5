"""Duty lists as files: read and write CSV and XLSX rows with Chinese headers; no database here."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException

from engine.errors import InvalidInput
from engine.workflow.fields import printable

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
_FIELD_OF = {**{h: k for k, h in COLUMNS.items()}, **{k: k for k in COLUMNS}}
REQUIRED_COLUMNS = ("code", "scope", "list_type", "category", "name")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@")
MAX_ROWS = 20_000
MAX_COLUMNS = 50


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file (the header is line 1) and its non-empty cells."""

    line: int
    values: dict[str, str]


def format_of(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in FORMATS:
        raise InvalidInput("文件格式不支持", {"file": ["应为 .csv 或 .xlsx 文件"]})
    return suffix


def read_rows(filename: str, data: bytes) -> list[Row]:
    """The rows of an uploaded list; an unreadable file or header is InvalidInput."""
    raw = _xlsx_rows(data) if format_of(filename) == "xlsx" else _csv_rows(data)
    header = next(raw, None)
    if header is None:
        raise InvalidInput("文件为空", {"file": ["文件没有表头行"]})
    fields = _header_fields(header[1])
    rows = []
    for line, cells in raw:
        if len(rows) >= MAX_ROWS:
            raise InvalidInput("文件行数过多", {"file": [f"一次最多导入 {MAX_ROWS} 行"]})
        values = {
            field: text for field, text in zip(fields, map(_cell_text, cells), strict=False) if text
        }
        if values:
            rows.append(Row(line, values))
    return rows


def _header_fields(cells: list[Any]) -> list[str]:
    names = [_cell_text(cell) for cell in cells][:MAX_COLUMNS]
    unknown = [name for name in names if name and name not in _FIELD_OF]
    fields = [_FIELD_OF.get(name, "") for name in names]
    missing = [COLUMNS[k] for k in REQUIRED_COLUMNS if k not in fields]
    problems = [f"未知列：{'、'.join(unknown)}"] if unknown else []
    problems += [f"缺少列：{'、'.join(missing)}"] if missing else []
    if problems:
        raise InvalidInput("表头有误（第 1 行）", {"file": problems})
    return fields


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = str(cell).strip()
    return text[1:] if text[:1] == "'" and text[1:2] in _FORMULA_STARTS else text


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GB18030 (GBK); everything else as UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("文件编码无法识别", {"file": ["请使用 UTF-8 或 GBK 编码的 CSV 文件"]})


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput("CSV 文件格式有误", {"file": [f"第 {start} 行：{exc}"]}) from exc


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput("无法读取 XLSX 文件", {"file": ["文件已损坏或不是 XLSX 格式"]}) from exc
    try:
        sheet = book.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), 1):
            yield line, list(cells)
    finally:
        book.close()


def write(fmt: str, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A file of the given format ("csv" or "xlsx") with one row per item."""
    header = list(COLUMNS.values())
    lines = [[_out(row.get(field)) for field in COLUMNS] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([[_inert(cell) for cell in line] for line in lines])
        # With a BOM, Excel opens UTF-8 Chinese text correctly.
        return buffer.getvalue().encode("utf-8-sig")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("职责清单")
    sheet.append(header)
    for line in lines:
        sheet.append([_text_cell(sheet, cell) for cell in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _inert(text: str) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula (read back by _cell_text)."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _text_cell(sheet: Any, text: str) -> WriteOnlyCell:
    """An XLSX cell typed as text, so a value such as "=…" stays text, never a formula."""
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _out(value: Any) -> str:
    """A cell's text. A control character stored before inputs refused them shows as U+FFFD:
    XLSX cannot hold it, and an import would refuse it."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return printable(str(value))
