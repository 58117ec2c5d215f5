"""`zhunru stranded [--release]` and `zhunru incidents`: an operator's view of instances that
cannot move on, and of the engine's failures."""

from __future__ import annotations

import click

from config import Settings
from engine.services.context import build_context
from engine.workflow.services import incidents, stranded


@click.command("stranded", help="列出无法继续流转的事项；--release 恢复其中可以自动恢复的。")
@click.option("--release", is_flag=True, help="恢复可以自动恢复的滞留事项（记入留痕）。")
def stranded_command(release: bool) -> None:
    ctx = build_context(Settings.from_env())
    try:
        if release:
            outcomes = stranded.release_all(ctx)
            for outcome in outcomes:
                click.echo(f"事项 {outcome.instance_id}：{outcome.text}")
            click.echo(f"共处理 {len(outcomes)} 个滞留事项。")
            return
        found = stranded.scan(ctx)
        for item in found:
            mark = "可自动恢复" if item.releasable else "需人工处理"
            click.echo(f"事项 {item.instance_id}「{item.title}」：{item.reason_text}（{mark}）")
        click.echo(f"共 {len(found)} 个滞留事项。")
    finally:
        ctx.db.dispose()


@click.command("incidents", help="列出未处理的流程运行故障。")
def incidents_command() -> None:
    ctx = build_context(Settings.from_env())
    try:
        rows = incidents.unresolved(ctx, limit=500)
        for row in rows:
            click.echo(
                f"故障 {row.id}：事项 {row.instance_id or '（未创建）'}，{row.kind}/{row.action}，"
                f"环节 {row.step or '—'}，第 {row.attempts} 次：{row.cause}"
            )
        click.echo(f"共 {len(rows)} 个未处理故障。")
    finally:
        ctx.db.dispose()
