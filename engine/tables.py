"""Tables as files: read and write CSV and XLSX rows under Chinese headers, for any kind of
record a county keeps in a spreadsheet (duty lists, organisations, people). No database here.

A `Sheet` names a table's columns (field → header) and which are required; imports accept the
header or the field name. Cells are text: a spreadsheet formula is never written (a cell that
would start one is marked) and never run when read back.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException

from engine.errors import InvalidInput
from engine.workflow.fields import printable

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@")
MAX_ROWS = 20_000
MAX_COLUMNS = 50


@dataclass(frozen=True)
class Sheet:
    """One kind of table: its sheet's title in a workbook, its columns and required ones."""

    title: str
    columns: Mapping[str, str]
    required: tuple[str, ...]

    def field_of(self, name: str) -> str | None:
        if name in self.columns:
            return name
        return next((k for k, header in self.columns.items() if header == name), None)


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


def read_rows(sheet: Sheet, filename: str, data: bytes) -> list[Row]:
    """The rows of an uploaded table (in a workbook, its first sheet); an unreadable file or
    header is InvalidInput."""
    if format_of(filename) == "xlsx":
        with _workbook(data) as book:
            return _rows(sheet, _xlsx_rows(book.worksheets[0]), "")
    return _rows(sheet, _csv_rows(data), "")


def read_workbook(sheets: Sequence[Sheet], filename: str, data: bytes) -> dict[str, list[Row]]:
    """Rows per sheet title. A workbook holds each table on the sheet of its title (absent:
    no rows); a CSV file holds one table, the one whose required headers it has."""
    if format_of(filename) == "xlsx":
        found: dict[str, list[Row]] = {}
        with _workbook(data) as book:
            titles = {ws.title.strip(): ws for ws in book.worksheets}
            unknown = [t for t in titles if not any(s.title == t for s in sheets)]
            if unknown or not any(s.title in titles for s in sheets):
                wanted = "、".join(s.title for s in sheets)
                raise InvalidInput(
                    "工作表名称有误",
                    {"file": [f"工作表应为：{wanted}（未知：{'、'.join(unknown)}）"]},
                )
            for sheet in sheets:
                ws = titles.get(sheet.title)
                found[sheet.title] = _rows(sheet, _xlsx_rows(ws), sheet.title) if ws else []
        return found
    lines = list(_csv_rows(data))
    header = [_cell_text(c) for c in lines[0][1]] if lines else []
    for sheet in sheets:
        if all(sheet.columns[k] in header or k in header for k in sheet.required):
            return {s.title: _rows(s, iter(lines), s.title) if s is sheet else [] for s in sheets}
    wanted = "；".join(f"{s.title}：{'、'.join(s.columns[k] for k in s.required)}" for s in sheets)
    raise InvalidInput("表头有误（第 1 行）", {"file": [f"应有以下一组列：{wanted}"]})


def _rows(sheet: Sheet, raw: Iterator[tuple[int, list[Any]]], where: str) -> list[Row]:
    header = next(raw, None)
    if header is None:
        raise InvalidInput("文件为空", {"file": [f"{where}没有表头行"]})
    fields = _header_fields(sheet, header[1], where)
    rows = []
    for line, cells in raw:
        if len(rows) >= MAX_ROWS:
            raise InvalidInput("文件行数过多", {"file": [f"一次最多导入 {MAX_ROWS} 行"]})
        values = {
            field: text for field, text in zip(fields, map(_cell_text, cells), strict=False) if text
        }
        values.pop("", None)
        if values:
            rows.append(Row(line, values))
    return rows


def _header_fields(sheet: Sheet, cells: list[Any], where: str) -> list[str]:
    names = [_cell_text(cell) for cell in cells][:MAX_COLUMNS]
    unknown = [name for name in names if name and sheet.field_of(name) is None]
    fields = [sheet.field_of(name) or "" for name in names]
    missing = [sheet.columns[k] for k in sheet.required if k not in fields]
    problems = [f"未知列：{'、'.join(unknown)}"] if unknown else []
    problems += [f"缺少列：{'、'.join(missing)}"] if missing else []
    if problems:
        raise InvalidInput(f"{where}表头有误（第 1 行）", {"file": problems})
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


class _workbook:
    """An uploaded workbook, opened read-only and closed after use."""

    def __init__(self, data: bytes) -> None:
        try:
            self.book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise InvalidInput(
                "无法读取 XLSX 文件", {"file": ["文件已损坏或不是 XLSX 格式"]}
            ) from exc

    def __enter__(self) -> Any:
        return self.book

    def __exit__(self, *_: object) -> None:
        self.book.close()


def _xlsx_rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    for line, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), 1):
        yield line, list(cells)


def write(sheet: Sheet, fmt: str, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A file of the given format ("csv" or "xlsx") with one row per record."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(list(sheet.columns.values()))
        writer.writerows([[_inert(str(cell)) for cell in line] for line in _lines(sheet, rows)])
        # With a BOM, Excel opens UTF-8 Chinese text correctly.
        return buffer.getvalue().encode("utf-8-sig")
    return write_workbook([(sheet, rows)])


def write_workbook(tables: Sequence[tuple[Sheet, Iterable[Mapping[str, Any]]]]) -> bytes:
    """One XLSX workbook, each table on the sheet of its title."""
    book = Workbook(write_only=True)
    for sheet, rows in tables:
        ws = book.create_sheet(sheet.title)
        ws.append(list(sheet.columns.values()))
        for line in _lines(sheet, rows):
            # Whole numbers stay numbers (a spreadsheet sums them); all else is text.
            ws.append([cell if isinstance(cell, int) else _text_cell(ws, cell) for cell in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lines(sheet: Sheet, rows: Iterable[Mapping[str, Any]]) -> list[list[str | int]]:
    return [[_out(row.get(field)) for field in sheet.columns] for row in rows]


def _inert(text: str) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula (read back by _cell_text)."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _text_cell(sheet: Any, text: str) -> WriteOnlyCell:
    """An XLSX cell typed as text, so a value such as "=…" stays text, never a formula."""
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _out(value: Any) -> str | int:
    """A cell's text, or a whole number as itself. A control character stored before inputs
    refused them shows as U+FFFD: XLSX cannot hold it, and an import would refuse it."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(printable(str(v)) for v in value)
    return printable(str(value))
