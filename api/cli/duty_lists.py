"""`zhunru catalog import FILE` and `zhunru catalog export FILE`: duty lists as CSV or XLSX."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from config import Settings
from engine.duty_lists.catalog_files import COLUMNS, format_of
from engine.duty_lists.services.catalog_io import export_items, import_items
from engine.errors import DomainError
from engine.services.context import Context, build_context, create_schema


def _context() -> Context:
    ctx = build_context(Settings.from_env())
    create_schema(ctx)
    return ctx


def _fail(error: DomainError) -> None:
    click.echo(f"错误：{error.message}", err=True)
    rows: dict[str, Any] = error.errors.get("rows") or {}
    for line, fields in rows.items():
        reasons = "；".join(
            f"{COLUMNS.get(k, k)}：{'、'.join(map(str, v))}" for k, v in fields.items()
        )
        click.echo(f"  第 {line} 行：{reasons}", err=True)
    for key, messages in error.errors.items():
        if key != "rows":
            click.echo(f"  {key}：{'、'.join(map(str, messages))}", err=True)
    sys.exit(2)


@click.group("catalog", help="职责清单：从 CSV/XLSX 导入，或导出为 CSV/XLSX。")
def catalog() -> None:
    pass


@catalog.command("import", help="Import duty-list items from FILE (.csv or .xlsx); all or none.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    ctx = _context()
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label="导入清单事项"))
            bars[0].__enter__()
        bars[0].update(1)

    try:
        result = import_items(ctx, None, file.name, file.read_bytes(), progress)
    except DomainError as exc:
        _fail(exc)
        return
    finally:
        if bars:
            bars[0].__exit__(None, None, None)
    click.echo(
        f"已导入 {result.rows} 行：新增 {result.created}，更新 {result.updated}，"
        f"未变 {result.unchanged}"
    )


@catalog.command("export", help="Export duty lists to FILE (.csv or .xlsx).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--township", help="Only this township's effective list (its code).")
def export_command(file: Path, township: str | None) -> None:
    ctx = _context()
    try:
        exported = export_items(ctx, None, format_of(file.name), township)
    except DomainError as exc:
        _fail(exc)
        return
    file.write_bytes(exported.data)
    click.echo(f"已导出到 {file}")
