"""Backup and restore of the whole database, and what a restored copy holds.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies the database in one
step, inside one read transaction: a consistent snapshot, taken while the server and workers
keep writing (in WAL mode readers never block writers). The copy is checked
(`PRAGMA integrity_check`), turned into a single self-contained file (journal mode DELETE) and
moved into place only when complete, readable by its owner only. Restore copies a backup into
the target through the same API, so SQLite itself replaces the pages and the target's WAL
stays coherent.

PostgreSQL: `pg_dump --format=custom`, which reads one repeatable-read snapshot (consistent
while the service runs), and `pg_restore` into an empty database, in one transaction. Both are
the machine's own binaries (`bindir`, else PATH); the dump's server must not be newer than them.

After a restore, `summarize` counts what the copy holds and `engine.trail.services.trail.verify_log`
checks its trail (the CLI does both).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import Conflict, InvalidInput
from engine.models import AuditEvent, Instance, Task
from engine.models_documents import Attachment, IssuedDocument
from engine.workflow.context import Context

PG_DUMP_FORMAT = "custom"
# Tables a Zhunru database has whatever its version; a file without them is not a backup of one.
REQUIRED_TABLES = {"alembic_version", "instance", "audit_event"}


@dataclass(frozen=True)
class Summary:
    instances: int
    tasks: int
    events: int
    last_event_id: int | None
    # Documents and attachments the database names, and those the file store lacks (files
    # are not in a database backup: they are restored from the disk's or bucket's own).
    files: int = 0
    missing_files: int = 0


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise InvalidInput(f"不是 SQLite 数据库文件：{parsed.render_as_string(hide_password=True)}")
    return Path(parsed.database)


# --- SQLite -------------------------------------------------------------------------------


def backup_sqlite(url: str, out: Path) -> None:
    """A consistent copy of a live SQLite database, written to `out` (which must not exist)."""
    source = sqlite_path(url)
    if not source.exists():
        raise InvalidInput(f"数据库文件不存在：{source}")
    _refuse_existing(out)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _owner_only(partial)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src:
            with closing(sqlite3.connect(partial)) as dst:
                src.backup(dst)  # pages=-1: the whole database in one step, one snapshot
                dst.execute("PRAGMA journal_mode=DELETE")
                _check_sqlite(dst, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    _fsync_dir(out.parent)


def restore_sqlite(backup: Path, url: str) -> None:
    """Replace the database at `url` (created if missing) with the backup's content.

    Stop the server and workers first: they would otherwise keep working on the replaced data.
    """
    target = sqlite_path(url)
    if not backup.is_file():
        raise InvalidInput(f"备份文件不存在：{backup}")
    with closing(_read_only(backup)) as src:
        try:
            _check_sqlite(src, backup)
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{backup} 不是 SQLite 备份：{exc}") from exc
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _owner_only(target)
        with closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            _check_sqlite(dst, target)


def summarize_sqlite_file(path: Path) -> Summary:
    """What a SQLite backup file holds, read without touching it."""
    with closing(_read_only(path)) as conn:
        instances, tasks, events, last = conn.execute(
            "SELECT (SELECT count(*) FROM instance), (SELECT count(*) FROM task),"
            " (SELECT count(*) FROM audit_event), (SELECT max(id) FROM audit_event)"
        ).fetchone()
    return Summary(instances, tasks, events, last)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


def _check_sqlite(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        raise Conflict(f"{path} 未通过完整性检查：{result[:5]}")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not REQUIRED_TABLES <= tables:
        raise InvalidInput(f"{path} 不是准入数据库（缺少表：{sorted(REQUIRED_TABLES - tables)}）")


# --- PostgreSQL ---------------------------------------------------------------------------


def backup_postgres(url: str, out: Path, bindir: Path | None = None) -> None:
    """`pg_dump --format=custom` of the database at `url` into `out` (must not exist)."""
    _refuse_existing(out)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _owner_only(partial)
    try:
        _run(
            _binary("pg_dump", bindir),
            url,
            ["--format", PG_DUMP_FORMAT, "--no-owner", "--no-privileges", "--file", str(partial)],
        )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def restore_postgres(dump: Path, url: str, bindir: Path | None = None) -> None:
    """`pg_restore` a dump into the database at `url`, which must exist and be empty (create
    one with `createdb`, restore, then point ZHUNRU_DATABASE_URL at it)."""
    if not dump.is_file():
        raise InvalidInput(f"备份文件不存在：{dump}")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            present = inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        raise InvalidInput(
            f"无法连接目标数据库（须先用 createdb 建好）：{exc.args[0][:500]}"
        ) from exc
    finally:
        engine.dispose()
    if present:
        raise Conflict(f"目标数据库不是空库（已有 {len(present)} 张表）：请恢复到新建的空数据库")
    _run(
        _binary("pg_restore", bindir),
        url,
        ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", str(dump)],
    )


def _binary(name: str, bindir: Path | None) -> str:
    if bindir is not None:
        candidate = bindir / name
        if not candidate.exists():
            raise InvalidInput(f"{bindir} 中没有 {name}")
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(f"找不到 {name}：请安装 PostgreSQL 客户端，或指定其目录（--pg-bindir）")
    return found


def _run(binary: str, url: str, args: list[str]) -> None:
    """Run a PostgreSQL tool on `url`; the password goes in the environment, not the argv."""
    conninfo, password = _libpq(make_url(url))
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    done = subprocess.run(
        [binary, "--dbname", conninfo, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise Conflict(
            f"{Path(binary).name} 失败（{done.returncode}）：{done.stderr.strip()[-2000:]}"
        )


def _libpq(url: URL) -> tuple[str, str | None]:
    if url.get_backend_name() != "postgresql":
        raise InvalidInput("不是 PostgreSQL 数据库地址")
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), url.password


# --- both ---------------------------------------------------------------------------------


def backup(url: str, out: Path, bindir: Path | None = None) -> None:
    if backend(url) == "sqlite":
        backup_sqlite(url, out)
    else:
        backup_postgres(url, out, bindir)


def restore(source: Path, url: str, bindir: Path | None = None) -> None:
    if backend(url) == "sqlite":
        restore_sqlite(source, url)
    else:
        restore_postgres(source, url, bindir)


def summarize(ctx: Context) -> Summary:
    """What a database holds, to compare a restored copy with its source."""
    with ctx.db.read() as session:
        named = set(session.scalars(select(Attachment.sha256).distinct()))
        named |= set(session.scalars(select(IssuedDocument.sha256).distinct()))
        counts = Summary(
            instances=session.scalar(select(func.count()).select_from(Instance)) or 0,
            tasks=session.scalar(select(func.count()).select_from(Task)) or 0,
            events=session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            last_event_id=session.scalar(select(func.max(AuditEvent.id))),
        )
    missing = sum(1 for digest in named if not ctx.blobs.exists(digest))
    return replace(counts, files=len(named), missing_files=missing)


def _refuse_existing(out: Path) -> None:
    if out.exists():
        raise Conflict(f"{out} 已存在：备份从不覆盖已有文件")
    if not out.parent.is_dir():
        raise InvalidInput(f"目录不存在：{out.parent}")


def _owner_only(path: Path) -> None:
    """Create `path` empty, readable by its owner only (it will hold password hashes)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
