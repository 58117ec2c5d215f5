"""The `zhunru` command line: init-db, deploy, load-demo, serve."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from config import Settings, SettingsError
from engine.demo import load_demo, load_demo_activity
from engine.demo_city import load_demo_city, load_demo_city_activity
from engine.errors import DomainError
from engine.services.context import Context, build_context, create_schema
from engine.workflow.runtime import EngineFailure
from engine.workflow.services.deployments import deploy_directory


def _context() -> Context:
    return build_context(Settings.from_env())


def _engine_cause(exc: BaseException) -> str:
    """What the engine failed on, for the operator at the terminal (the incident keeps it too)."""
    cause = exc.__cause__
    if isinstance(cause, EngineFailure):
        return f"（环节 {cause.step or '—'}：{cause.cause}）"
    return ""


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(2)


@click.group(help="准入 Zhunru：事项准入、容错纠错与澄清正名的流程服务。")
def main() -> None:
    pass


@main.command("init-db", help="Bring the database schema up to date (same as `db upgrade`).")
def init_db() -> None:
    ctx = _context()
    create_schema(ctx)
    click.echo(f"数据库已就绪：{ctx.db.engine.url.render_as_string(hide_password=True)}")


@main.group("db", help="Schema migrations (Alembic).")
def db() -> None:
    pass


@db.command("upgrade", help="Apply every migration not yet applied.")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    from engine import migrate

    ctx = _context()
    migrate.upgrade(ctx.db.engine, revision)
    click.echo(f"数据库已升级到 {revision}")


@db.command("check", help="Exit 1 if the database schema differs from the code's models.")
def db_check() -> None:
    from engine import migrate

    differences = migrate.differences(_context().db.engine)
    for difference in differences:
        click.echo(str(difference))
    sys.exit(1 if differences else 0)


@main.command(
    "deploy",
    help="Deploy every procedure package in a directory (default: the bpmn/ folder): each "
    "sub-folder, and each loose *.bpmn. New versions are drafts unless --activate.",
)
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--activate", is_flag=True, help="Also make each the version new instances use.")
def deploy(directory: str | None, activate: bool) -> None:
    ctx = _context()
    create_schema(ctx)
    try:
        infos = deploy_directory(
            ctx, Path(directory) if directory else ctx.settings.bpmn_dir, activate=activate
        )
    except DomainError as exc:
        _fail(f"{exc.message} {exc.errors}")
    for info in infos:
        click.echo(f"{info.process_id} v{info.version} {info.state} {info.sha256[:12]}")


@main.command("load-demo", help="Create the demo county (password from ZHUNRU_DEMO_PASSWORD).")
def load_demo_command() -> None:
    ctx = _context()
    create_schema(ctx)
    password = ctx.settings.demo_password
    try:
        result = load_demo(ctx, password)
        verb = "已创建" if result.created else "已存在，未改动"
        click.echo(f"演示县{verb}。用户名：{', '.join(result.usernames)}")
        if result.created:
            filed = load_demo_activity(ctx)
            click.echo(f"已办理演示的会议、督查检查、吹哨、部门评价和报表 {filed} 件。")
            city = load_demo_city(ctx, password)
            load_demo_city_activity(ctx)
            click.echo(
                "演示县隶属清江市，同市另有清源县（已有两件准入申请）；市委编办可查看两县的负担统计。"
                f"用户名：{', '.join(city.usernames)}"
            )
    except DomainError as exc:
        _fail(exc.message + _engine_cause(exc))
    click.echo(f"演示密码（所有用户相同，来自 ZHUNRU_DEMO_PASSWORD）：{password}")


@main.command("worker", help="Fire due timers (deadlines, expiry, re-evaluation) until SIGTERM.")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
def worker(once: bool) -> None:
    from api import logs
    from engine.worker import Worker

    ctx = _context()
    logs.configure(ctx.settings.log_level)
    runner = Worker(ctx)
    if once:
        click.echo(f"已触发 {runner.run_once()} 个事项的到期定时器")
        return
    runner.install_signal_handlers()
    runner.run()


@main.command("serve", help="Serve the API with gunicorn.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option(
    "--with-worker",
    is_flag=True,
    help="Also fire due timers in a thread of this process (embedded SQLite setups).",
)
def serve(host: str, port: int, workers: int, threads: int, with_worker: bool) -> None:
    from gunicorn.app.base import BaseApplication

    from api import create_app, gunicorn_conf

    settings = Settings.from_env()
    try:
        settings.require_secret()
    except SettingsError as exc:
        _fail(str(exc))

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            # JSON logs (one line per request from the app) and multi-process metrics.
            self.cfg.set("logconfig_dict", gunicorn_conf.logs.logging_config(settings.log_level))
            for hook in ("on_starting", "post_worker_init", "child_exit", "on_exit"):
                self.cfg.set(hook, getattr(gunicorn_conf, hook))

        def load(self):  # type: ignore[no-untyped-def]
            return create_app(settings)

    if with_worker:
        from engine.worker import Worker

        Worker(build_context(settings)).start_thread()
    click.echo(f"准入服务：http://{host}:{port}/api/v1/docs")
    _Server().run()


from api.cli.duty_lists import catalog  # noqa: E402

main.add_command(catalog)

from api.cli.trail import audit  # noqa: E402

main.add_command(audit)

from api.cli.operations import backup, restore  # noqa: E402

main.add_command(backup)
main.add_command(restore)

from api.cli.instances import incidents_command, stranded_command  # noqa: E402

main.add_command(stranded_command)
main.add_command(incidents_command)

from api.cli.people import users  # noqa: E402
from api.cli.processes import process  # noqa: E402

main.add_command(users)

main.add_command(process)
