"""`zhunru users …`: a county's organisations and people in bulk (XLSX/CSV), e-mail addresses,
and an administrator's password reset from the server when nobody can sign in."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

import click

from config import Settings
from engine.errors import DomainError
from engine.services import accounts, people
from engine.services.context import Context, build_context, create_schema
from engine.services.people_io import SHEETS, export_people, import_people
from engine.tables import format_of


def _context() -> Context:
    ctx = build_context(Settings.from_env())
    create_schema(ctx)
    return ctx


def _fail(error: DomainError) -> None:
    click.echo(f"错误：{error.message}", err=True)
    headers = {k: v for sheet in SHEETS for k, v in sheet.columns.items()}
    rows: dict[str, Any] = error.errors.get("rows") or {}
    for where, fields in rows.items():
        sheet, _, line = where.partition("!")
        reasons = "；".join(
            f"{headers.get(k, '本行')}：{'、'.join(map(str, v))}" for k, v in fields.items()
        )
        click.echo(f"  {sheet}表第 {line} 行：{reasons}", err=True)
    for key, messages in error.errors.items():
        if key != "rows":
            click.echo(f"  {key}：{'、'.join(map(str, messages))}", err=True)
    sys.exit(2)


@click.group(help="单位与人员：批量导入导出、电子邮箱、重置密码。")
def users() -> None:
    pass


@users.command(
    "import",
    help="Import organisations and people from FILE (.xlsx with sheets 单位 and 人员, or "
    "one .csv); all or none. New people's temporary passwords go to --passwords.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--passwords",
    "passwords_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("initial-passwords.csv"),
    show_default=True,
    help="Where the temporary passwords of the people created are written (mode 600).",
)
def import_command(file: Path, passwords_file: Path) -> None:
    ctx = _context()
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label="导入单位和人员"))
            bars[0].__enter__()
        bars[0].update(1)

    try:
        result = import_people(ctx, None, file.name, file.read_bytes(), progress)
    except DomainError as exc:
        _fail(exc)
        return
    finally:
        if bars:
            bars[0].__exit__(None, None, None)
    click.echo(
        f"已导入：新增单位 {result.organizations_created}，"
        f"更新单位 {result.organizations_updated}，"
        f"新增人员 {result.people_created}，更新人员 {result.people_updated}，"
        f"未变 {result.unchanged}"
    )
    if result.new_people:
        descriptor = os.open(passwords_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["登录名", "姓名", "单位", "临时密码"])
            for person in result.new_people:
                writer.writerow(
                    [
                        person.username,
                        person.display_name,
                        person.org_name,
                        person.temporary_password,
                    ]
                )
        click.echo(
            f"{len(result.new_people)} 名新人员的临时密码已写入 {passwords_file}"
            "（仅本人可读；分发后请删除，本人首次登录须修改密码）"
        )


@users.command(
    "export",
    help="Export organisations and people to FILE (.xlsx: both sheets; .csv: one table, "
    "see --table).",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--table", type=click.Choice(["organizations", "people"]), default="people")
def export_command(file: Path, table: str) -> None:
    try:
        exported = export_people(_context(), None, format_of(file.name), table)
    except DomainError as exc:
        _fail(exc)
        return
    file.write_bytes(exported.data)
    click.echo(f"已导出到 {file}")


@users.command(
    "reset-password", help="Issue USERNAME a temporary password (changed at next sign-in)."
)
@click.argument("username")
def reset_password_command(username: str) -> None:
    try:
        issued = people.reset_password(_context(), None, username)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"{issued.user.display_name} 的临时密码：{issued.temporary_password}")
    click.echo("本人下次登录时须修改密码。")


@users.command("email", help="Set where notices reach USERNAME by e-mail (empty ADDRESS: none).")
@click.argument("username")
@click.argument("address")
def users_email(username: str, address: str) -> None:
    try:
        accounts.set_email(_context(), username, address)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"已设置 {username} 的电子邮箱：{address or '（无）'}")
