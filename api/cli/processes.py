"""`zhunru process versions PROCESS_ID`, `zhunru process activate PROCESS_ID VERSION` and
`zhunru process migrate PROCESS_ID --from N --to M`: see a process's deployed versions, make one
current again (rolling a bad deployment back), move running instances between versions."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from config import Settings
from engine.errors import DomainError
from engine.services.context import Context, build_context, create_schema
from engine.workflow.services import deployments, migration


def _context() -> Context:
    ctx = build_context(Settings.from_env())
    create_schema(ctx)
    return ctx


def _fail(error: DomainError) -> NoReturn:
    click.echo(f"错误：{error.message}", err=True)
    for field, messages in error.errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            click.echo(f"  {field}：{message}", err=True)
    sys.exit(2)


STATES = {"draft": "草稿", "active": "当前", "retired": "停用"}


def _line(info: deployments.ProcessInfo) -> str:
    mark = STATES.get(info.state, info.state)
    deployed = info.deployed_at.isoformat(timespec="seconds")
    return f"{mark} {info.process_id} v{info.version} {info.sha256[:12]} {deployed}"


@click.group("process", help="流程版本：列出已部署的版本，或把某一版本设为当前版本（回退）。")
def process() -> None:
    pass


@process.command("versions", help="List every deployed version of a process, newest first.")
@click.argument("process_id")
def versions(process_id: str) -> None:
    try:
        infos = deployments.list_versions(_context(), process_id)
    except DomainError as exc:
        _fail(exc)
    for info in infos:
        click.echo(_line(info))


@process.command(
    "activate",
    help="Make VERSION of PROCESS_ID current: new applications start on it (a rollback).",
)
@click.argument("process_id")
@click.argument("version", type=click.IntRange(min=1))
def activate(process_id: str, version: int) -> None:
    try:
        info = deployments.activate(_context(), process_id, version, actor=None)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"已设为当前版本：{_line(info).strip()}")


@process.command(
    "migrate",
    help="Move every running instance of version --from of PROCESS_ID that can move to --to; "
    "list those that cannot, with the reasons.",
)
@click.argument("process_id")
@click.option("--from", "from_version", type=click.IntRange(min=1), required=True)
@click.option("--to", "to_version", type=click.IntRange(min=1), required=True)
def migrate(process_id: str, from_version: int, to_version: int) -> None:
    try:
        report = migration.migrate_all(_context(), process_id, from_version, to_version, None)
    except DomainError as exc:
        _fail(exc)
    for instance_id, reasons in report.refused.items():
        click.echo(f"事项 {instance_id} 未迁移：{'；'.join(reasons)}")
    click.echo(
        f"已从第 {from_version} 版迁移到第 {to_version} 版：{len(report.moved)} 个事项；"
        f"未迁移：{len(report.refused)} 个。"
    )
