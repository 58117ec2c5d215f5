"""The pre-check keeps each county's lists in memory: a warm filing reads no list from the
database, and every change to a list — in this process or another — is seen by the next one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

from engine.duty_lists.services import catalog
from engine.duty_lists.services.catalog import ItemFilter
from engine.duty_lists.services.precheck import run_precheck
from engine.models import Organization
from engine.services import accounts
from engine.services.context import Context
from tests.factories import application

NAME = "社区矫正对象日常走访"
ROOT = Path(__file__).resolve().parents[2]


def kinds(ctx: Context, township: str, name: str = NAME) -> list[str]:
    with ctx.db.read() as session:
        org = session.scalar(select(Organization).where(Organization.code == township))
        found = run_precheck(session, ctx, application(name=name, townships=[township]), [org])
    return sorted(f.kind for f in found.findings)


@contextmanager
def statements(ctx: Context) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)


def add_item(ctx: Context, name: str) -> int:
    body = {"list_type": "assisting", "category": "平安法治", "name": name}
    return catalog.create_item(ctx, accounts.actor_of(ctx, "bianban"), body).id


def test_a_warm_filing_reads_no_list_and_a_change_is_seen_at_once(ctx: Context) -> None:
    assert kinds(ctx, "chengguan") == []
    with statements(ctx) as seen:
        assert kinds(ctx, "chengguan") == []
    touched = [s for s in seen if "duty_item" in s]
    assert touched == [], touched
    assert any("duty_list_stamp" in s for s in seen)

    add_item(ctx, "社区矫正对象走访")  # now on every township's assisting list
    assert kinds(ctx, "chengguan") == ["on_duty_list"]
    # Removed for one township: that township's list changes, the others' stay.
    bianban = accounts.actor_of(ctx, "bianban")
    item = catalog.list_items(
        ctx, bianban, ItemFilter(township="xishan", q="社区矫正对象走访")
    ).items[0]
    catalog.retire_item(ctx, bianban, item.id, {"township": "xishan", "reason": "由司法所承担"})
    assert kinds(ctx, "xishan") == []
    assert kinds(ctx, "chengguan") == ["on_duty_list"]


def test_another_process_sees_a_list_change_on_its_next_filing(ctx: Context) -> None:
    other = subprocess.Popen(
        [sys.executable, "-m", "tests.precheck_process", ctx.settings.database_url, NAME, "donghe"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdin is not None and other.stdout is not None
        assert json.loads(other.stdout.readline()) == []  # warm: read twice
        add_item(ctx, "社区矫正对象走访")
        other.stdin.write("again\n")
        other.stdin.flush()
        assert json.loads(other.stdout.readline()) == ["on_duty_list"]
        other.stdin.close()
        assert other.wait(timeout=30) == 0
    finally:
        if other.poll() is None:
            other.kill()


def test_an_item_taking_effect_tomorrow_counts_from_tomorrow(ctx: Context, clock) -> None:
    tomorrow = ctx.calendar.local(clock.now()).date() + timedelta(days=1)
    body = {
        "list_type": "assisting",
        "category": "平安法治",
        "name": "社区矫正对象走访",
        "effective_from": tomorrow.isoformat(),
    }
    catalog.create_item(ctx, accounts.actor_of(ctx, "bianban"), body)
    assert kinds(ctx, "chengguan") == []  # remembered for today
    clock.advance(timedelta(days=1))
    assert kinds(ctx, "chengguan") == ["on_duty_list"]
