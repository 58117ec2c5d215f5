"""`zhunru backup` and `zhunru restore`: the whole database, SQLite or PostgreSQL.

A restore ends by verifying the restored trail (the same check as `zhunru audit verify`) and
exits 1 if it does not verify.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from config import Settings
from engine.errors import DomainError
from engine.services import backup as backups
from engine.services.context import build_context
from engine.trail import signing
from engine.trail.services import trail

PG_BINDIR = click.option(
    "--pg-bindir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="ZHUNRU_PG_BINDIR",
    help="PostgreSQL only: where pg_dump/pg_restore are (default: PATH).",
)


def _fail(message: str) -> NoReturn:
    click.echo(f"错误：{message}", err=True)
    sys.exit(2)


def _summary_line(summary: backups.Summary) -> str:
    return (
        f"事项 {summary.instances} 个，待办记录 {summary.tasks} 条，审计事件 {summary.events} 个"
        f"（最后事件编号 {summary.last_event_id}）"
    )


@click.command(
    "backup", help="Back up the database to OUT while the service runs (SQLite or PostgreSQL)."
)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@PG_BINDIR
def backup(out: Path, pg_bindir: Path | None) -> None:
    url = Settings.from_env().database_url
    try:
        backups.backup(url, out, pg_bindir)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"已备份到 {out}（{out.stat().st_size:,} 字节）")
    if backups.backend(url) == "sqlite":
        click.echo(f"备份内容：{_summary_line(backups.summarize_sqlite_file(out))}")


@click.command(
    "restore",
    help="Restore a backup into the configured database (or --to URL), then verify its trail.",
)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "target", help="Database URL to restore into (default: ZHUNRU_DATABASE_URL).")
@click.option("--yes", is_flag=True, help="SQLite: replace an existing database file.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary and report as JSON.")
@PG_BINDIR
def restore(
    source: Path, target: str | None, yes: bool, as_json: bool, pg_bindir: Path | None
) -> None:
    settings = Settings.from_env()
    url = target or settings.database_url
    if backups.backend(url) == "sqlite" and backups.sqlite_path(url).exists() and not yes:
        _fail(f"{backups.sqlite_path(url)} 已存在：先停止服务和定时器进程，再加 --yes 覆盖")
    try:
        backups.restore(source, url, pg_bindir)
    except DomainError as exc:
        _fail(exc.message)
    ctx = build_context(settings.with_overrides(database_url=url))
    try:
        summary = backups.summarize(ctx)
        report = trail.verify_log(ctx, [])
    except (DomainError, signing.NoteError) as exc:
        _fail(getattr(exc, "message", str(exc)))
    except SQLAlchemyError as exc:  # e.g. a backup from an older release: upgrade, then verify
        _fail(
            f"已恢复，但无法核验：{str(exc).splitlines()[0]}。"
            "若备份来自旧版本，请先运行 zhunru db upgrade，再运行 zhunru audit verify"
        )
    finally:
        ctx.db.dispose()
    if as_json:
        click.echo(
            json.dumps(
                {"summary": asdict(summary), "trail": asdict(report)}, ensure_ascii=False, indent=2
            )
        )
    else:
        click.echo(f"已恢复：{_summary_line(summary)}")
        verdict = "核验通过" if report.ok else f"核验未通过：{report.problem_count} 个问题"
        click.echo(f"审计记录{verdict}（事件 {report.events} 个，链 {report.chains} 条）")
        for problem in report.problems:
            click.echo(f"  - {problem.message}")
        for warning in report.warnings:
            click.echo(f"注意：{warning}")
        if summary.missing_files:
            click.echo(
                f"注意：数据库中的文书和附件共 {summary.files} 个，文件存储中缺少 "
                f"{summary.missing_files} 个：请从文件存储（{settings.blob_store}）的备份恢复"
            )
    sys.exit(0 if report.ok else 1)
