"""Reliability on real PostgreSQL: many workers fire each timer exactly once, even when one is
killed mid-run; many clients racing for the same tasks each get one winner, no lost update."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.errors import Conflict
from engine.models import AuditEvent, Instance
from engine.services.context import Context, build_context
from engine.workflow.audit import VERIFY_COLUMNS, verify
from engine.workflow.services import instances, tasks
from tests.conftest import make_settings
from tests.factories import LAWFUL, application
from tests.integration.test_admission_services import actor

ROOT = Path(__file__).resolve().parents[2]
TIMERS = 2000


@pytest.fixture
def pg_ctx(postgres, postgres_template, clock):
    name = f"zhunru_rel_{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    admin.dispose()
    ctx = build_context(make_settings(postgres.url(name)), clock=clock)
    yield ctx
    ctx.db.dispose()


def _at_review(ctx: Context, count: int) -> list[int]:
    """`count` applications waiting for review, each with its review deadline timer armed."""
    nongye, sifa = actor(ctx, "nongye"), actor(ctx, "sifa")

    def one(i: int) -> int:
        detail = instances.start(ctx, "matter_admission", application(name=f"事项{i}"), nongye)
        tasks.complete(ctx, detail.open_tasks[0].id, LAWFUL, sifa)
        return detail.id

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def _fired_per_instance(ctx: Context) -> Counter[int]:
    with ctx.db.read() as session:
        rows = session.execute(
            select(AuditEvent.instance_id, func.count())
            .where(AuditEvent.action == "timer_fired")
            .group_by(AuditEvent.instance_id)
        ).all()
    return Counter({instance_id: count for instance_id, count in rows})


def test_four_workers_one_killed_fire_every_timer_exactly_once(pg_ctx: Context, clock) -> None:
    ids = _at_review(pg_ctx, TIMERS)
    due = (clock.now() + timedelta(days=60)).isoformat()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process", pg_ctx.settings.database_url, due],
            cwd=ROOT,
        )
        for _ in range(4)
    ]
    try:
        deadline = time.monotonic() + 120
        while sum(_fired_per_instance(pg_ctx).values()) < TIMERS // 5:
            assert time.monotonic() < deadline, "workers made no progress"
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # mid-run, possibly mid-transaction
        for worker in workers[1:]:
            worker.wait(timeout=180)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    fired = _fired_per_instance(pg_ctx)
    assert set(fired) == set(ids), "every timer fired"
    assert set(fired.values()) == {1}, "no timer fired twice"
    with pg_ctx.db.read() as session:
        still_due = (
            select(func.count())
            .select_from(Instance)
            .where(Instance.next_timer_at <= datetime.fromisoformat(due))
        )
        assert session.scalar(still_due) == 0, "nothing left due"
    with pg_ctx.db.engine.connect() as conn:
        rows = conn.execute(
            select(*VERIFY_COLUMNS)
            .where(AuditEvent.instance_id.is_not(None))
            .order_by(AuditEvent.instance_id, AuditEvent.seq)
        )
        assert list(verify(rows)) == []


def test_sixteen_clients_racing_for_the_same_tasks_get_one_winner_each(pg_ctx: Context) -> None:
    nongye = actor(pg_ctx, "nongye")
    opened = [
        instances.start(pg_ctx, "matter_admission", application(name=f"竞争{i}"), nongye)
        for i in range(8)
    ]
    task_ids = [detail.open_tasks[0].id for detail in opened]
    sifa = actor(pg_ctx, "sifa")
    barrier = threading.Barrier(16)
    wins: Counter[int] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client(seat: int) -> None:
        barrier.wait()
        for task_id in task_ids[seat % 2 :] + task_ids[: seat % 2]:
            try:
                tasks.complete(
                    pg_ctx, task_id, {"opinion": "lawful", "comment": f"客户端{seat}"}, sifa
                )
                with lock:
                    wins[task_id] += 1
            except Conflict:
                pass
            except BaseException as exc:  # anything else is a bug
                failures.append(exc)

    threads = [threading.Thread(target=client, args=(seat,)) for seat in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert wins == Counter({task_id: 1 for task_id in task_ids})
    with pg_ctx.db.read() as session:
        completed = session.execute(
            select(AuditEvent.instance_id, func.count())
            .where(AuditEvent.action == "task_completed", AuditEvent.task == "legal_review")
            .group_by(AuditEvent.instance_id)
        ).all()
    assert sorted(completed) == sorted((d.id, 1) for d in opened)
