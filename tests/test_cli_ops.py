"""`zhunru backup` / `zhunru restore`: a live SQLite database copied while commands write, and
the PostgreSQL recipe (pg_dump/pg_restore from the machine's binaries); each restore verifies
its trail."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from api.cli import main
from engine.services.context import build_context
from engine.workflow.services import instances, tasks
from tests.conftest import SECRET, make_settings
from tests.factories import LAWFUL, application
from tests.integration.test_admission_services import actor


def env_for(url: str) -> dict[str, str]:
    return {"ZHUNRU_DATABASE_URL": url, "ZHUNRU_SECRET_KEY": SECRET}


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: what 'the data are equal' compares."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            return {
                name: sorted(conn.execute(text(f'SELECT * FROM "{name}"')).all(), key=repr)
                for name in names
            }
    finally:
        engine.dispose()


class Writer(threading.Thread):
    """Files applications and gives legal opinions, one command after another, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.ctx = build_context(make_settings(url))
        self.done = 0
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            nongye, sifa = actor(self.ctx, "nongye"), actor(self.ctx, "sifa")
            while not self.stopping.is_set():
                detail = instances.start(
                    self.ctx, "matter_admission", application(name=f"备份中{self.done}"), nongye
                )
                tasks.complete(self.ctx, detail.open_tasks[0].id, LAWFUL, sifa)
                self.done += 1
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.ctx.db.dispose()

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "writer made no progress"
            time.sleep(0.01)


def test_sqlite_backup_while_writing_then_restore_verifies_and_equals(
    sqlite_template: Path, tmp_path: Path
) -> None:
    live = tmp_path / "live.db"
    live.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{live}"
    backup = tmp_path / "backups" / "zhunru-backup.db"
    backup.parent.mkdir()
    runner = CliRunner()

    writer = Writer(url)
    writer.start()
    try:
        writer.wait_for(3)
        during = writer.done
        made = runner.invoke(main, ["backup", str(backup)], env=env_for(url))
        after = writer.done
        writer.wait_for(after + 3)  # still writing afterwards: the backup blocked nobody
    finally:
        writer.stopping.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert made.exit_code == 0, made.output
    assert "已备份到" in made.output and "审计事件" in made.output

    assert stat.S_IMODE(backup.stat().st_mode) == 0o600, "it holds password hashes"
    assert not list(backup.parent.glob("*-wal")) and not list(backup.parent.glob("*.partial"))
    copy = sqlite3.connect(backup)
    filed = copy.execute("SELECT count(*) FROM instance WHERE title LIKE '备份中%'").fetchone()[0]
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()
    assert during <= filed <= after + 1, "a snapshot taken while the writer ran"
    assert filed < writer.done

    again = runner.invoke(main, ["backup", str(backup)], env=env_for(url))
    assert again.exit_code == 2 and "已存在" in again.output, "never overwrites a backup"

    restored = tmp_path / "restored" / "zhunru.db"
    restored_url = f"sqlite:///{restored}"
    result = runner.invoke(
        main, ["restore", str(backup), "--to", restored_url, "--json"], env=env_for(url)
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["trail"]["ok"] is True and report["trail"]["problem_count"] == 0
    assert report["trail"]["events"] == report["summary"]["events"] > 0
    assert table_rows(restored_url) == table_rows(f"sqlite:///{backup}")

    refused = runner.invoke(main, ["restore", str(backup), "--to", restored_url], env=env_for(url))
    assert refused.exit_code == 2 and "--yes" in refused.output
    replaced = runner.invoke(
        main, ["restore", str(backup), "--to", restored_url, "--yes"], env=env_for(url)
    )
    assert replaced.exit_code == 0 and "核验通过" in replaced.output, replaced.output


def test_restore_of_a_tampered_backup_reports_the_trail_and_fails(
    sqlite_template: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.db"
    made = CliRunner().invoke(
        main, ["backup", str(backup)], env=env_for(f"sqlite:///{sqlite_template}")
    )
    assert made.exit_code == 0, made.output
    with sqlite3.connect(backup) as copy:
        copy.execute("UPDATE audit_event SET payload_json = '{}' WHERE id = 2")
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    result = CliRunner().invoke(
        main, ["restore", str(backup), "--to", restored_url], env=env_for(restored_url)
    )
    assert result.exit_code == 1, result.output
    assert "核验未通过" in result.output

    with sqlite3.connect(backup) as copy:  # as if from a release before checkpoints
        copy.execute("DROP TABLE checkpoint")
    older = CliRunner().invoke(
        main, ["restore", str(backup), "--to", restored_url, "--yes"], env=env_for(restored_url)
    )
    assert older.exit_code == 2 and "zhunru db upgrade" in older.output, older.output

    not_ours = tmp_path / "other.db"
    sqlite3.connect(not_ours).execute("CREATE TABLE t (x)").connection.close()
    refused = CliRunner().invoke(
        main, ["restore", str(not_ours), "--to", f"sqlite:///{tmp_path / 'x.db'}"], env={}
    )
    assert refused.exit_code == 2 and "不是准入数据库" in refused.output
    garbage = tmp_path / "notes.txt"
    garbage.write_text("PGDMP? no, just text\n" * 100)
    refused = CliRunner().invoke(
        main, ["restore", str(garbage), "--to", f"sqlite:///{tmp_path / 'x.db'}"], env={}
    )
    assert refused.exit_code == 2 and "不是 SQLite 备份" in refused.output


@pytest.mark.postgres
def test_postgres_recipe_dump_while_serving_restore_into_a_fresh_database(
    postgres, postgres_template, tmp_path: Path
) -> None:
    admin = create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    suffix = f"{os.getpid()}_{time.monotonic_ns()}"
    source, target = f"zhunru_bak_{suffix}", f"zhunru_res_{suffix}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {source} TEMPLATE {postgres_template}"))
        conn.execute(text(f"CREATE DATABASE {target}"))
    admin.dispose()
    source_url, target_url = postgres.url(source), postgres.url(target)
    bindir = ["--pg-bindir", str(postgres.bindir)]
    dump = tmp_path / "zhunru.dump"
    runner = CliRunner()

    writer = Writer(source_url)
    writer.start()
    try:
        writer.wait_for(2)
        live = runner.invoke(
            main, ["backup", str(tmp_path / "live.dump"), *bindir], env=env_for(source_url)
        )
        writer.wait_for(writer.done + 2)
    finally:
        writer.stopping.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert live.exit_code == 0, live.output

    # The recipe, quiescent, so the copy can be compared with its source row for row.
    made = runner.invoke(main, ["backup", str(dump), *bindir], env=env_for(source_url))
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    result = runner.invoke(
        main, ["restore", str(dump), "--to", target_url, "--json", *bindir], env=env_for(source_url)
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["trail"]["ok"] is True and report["trail"]["events"] > 0
    assert table_rows(target_url) == table_rows(source_url)

    # The dump taken during the writes restores into another fresh database and verifies.
    admin = create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {target}_live"))
    admin.dispose()
    from_live = runner.invoke(
        main,
        ["restore", str(tmp_path / "live.dump"), "--to", postgres.url(f"{target}_live"), *bindir],
        env=env_for(source_url),
    )
    assert from_live.exit_code == 0 and "核验通过" in from_live.output, from_live.output

    again = runner.invoke(main, ["restore", str(dump), "--to", target_url, *bindir], env={})
    assert again.exit_code == 2 and "不是空库" in again.output
    nowhere = postgres.url(f"{target}_missing")
    missing = runner.invoke(main, ["restore", str(dump), "--to", nowhere, *bindir], env={})
    assert missing.exit_code == 2 and "createdb" in missing.output
