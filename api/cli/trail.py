"""`zhunru audit`: sign a checkpoint, verify the whole trail, create a signing key.

These commands run with the database credentials of whoever starts them (an operator or an
auditor's own machine), so unlike the API they take no user role.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from config import Settings
from engine.errors import DomainError
from engine.services.context import build_context, create_schema
from engine.trail import checkpoints, signing
from engine.trail.services import trail


def _fail(message: str) -> NoReturn:
    click.echo(f"错误：{message}", err=True)
    sys.exit(2)


@click.group("audit", help="审计记录：签发检查点、核验、生成签名密钥。")
def audit() -> None:
    pass


@audit.command("checkpoint", help="Sign a checkpoint over every trail event and print its note.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the signed note to this file (keep it: it is your evidence).",
)
def checkpoint(out: str | None) -> None:
    ctx = build_context(Settings.from_env())
    create_schema(ctx)
    try:
        made = checkpoints.create(ctx.db, ctx.settings, ctx.clock.now())
    except DomainError as exc:
        _fail(exc.message)
    if out:
        Path(out).write_text(made.note, encoding="utf-8")
    click.echo(made.note, nl=False)


class _Bar:
    """A click progress bar that learns its length from the first report."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@audit.command("verify", help="Verify every chain and checkpoint; exit status 1 on any problem.")
@click.option(
    "--checkpoint",
    "held",
    multiple=True,
    type=click.File("r", encoding="utf-8"),
    help="A signed checkpoint you kept earlier (repeatable): today's log must still contain it.",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="A verifier key (name+id+base64) you trust, in addition to the configured ones.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(held: tuple[IO[str], ...], keys: tuple[str, ...], as_json: bool) -> None:
    ctx = build_context(Settings.from_env())
    bar = _Bar("核验审计记录")
    try:
        report = trail.verify_log(ctx, [h.read() for h in held], keys, bar)
    except (DomainError, signing.NoteError) as exc:
        _fail(getattr(exc, "message", str(exc)))
    finally:
        bar.close()
    if as_json:
        click.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    sys.exit(0 if report.ok else 1)


def _print_report(report: trail.VerifyReport) -> None:
    rate = report.events / report.seconds if report.seconds else 0
    click.echo(
        f"事件 {report.events} 个，链 {report.chains} 条，检查点 {report.checkpoints} 个，"
        f"所持检查点 {report.held_checkpoints} 个；"
        f"用时 {report.seconds:.2f} 秒（{rate:,.0f} 个/秒）"
    )
    click.echo(f"最近有效检查点之后的事件：{report.events_since_checkpoint} 个")
    for warning in report.warnings:
        click.echo(f"注意：{warning}")
    if report.ok:
        click.echo("核验通过：所有链完整，检查点签名有效且前后一致。")
        return
    click.echo(f"发现 {report.problem_count} 个问题：")
    for problem in report.problems:
        click.echo(f"  - {problem.message}")
    if report.problem_count > len(report.problems):
        click.echo(f"  … 另有 {report.problem_count - len(report.problems)} 个未列出")


@audit.command("keygen", help="Write a new Ed25519 signing key file; print its verifier key.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Key file to create (default: ZHUNRU_AUDIT_KEY_FILE). Never overwritten.",
)
@click.option("--name", help="Key name (default: the log's origin, ZHUNRU_AUDIT_ORIGIN).")
def keygen(out: str | None, name: str | None) -> None:
    settings = Settings.from_env()
    path = Path(out) if out else settings.audit_key_file
    if path is None:
        _fail("请用 --out 指定密钥文件，或设置 ZHUNRU_AUDIT_KEY_FILE")
        return
    try:
        signer = signing.generate_signer(name or settings.audit_origin)
        signing.write_signer(path, signer)
    except signing.NoteError as exc:
        _fail(str(exc))
    click.echo(f"签名私钥已写入 {path}（仅所有者可读）；验证公钥（交给审计方保存）：", err=True)
    click.echo(signer.verifier.text())
