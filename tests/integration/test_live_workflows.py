"""A worker keeps each instance's workflow between commands (engine/workflow/live.py): reused
only while the stored state is the one it left, restored as before when another worker, a
failed command or an administrator changed it — on SQLite and PostgreSQL. The tests run with
every reuse checked against a fresh restore (tests/conftest.py), so the whole suite checks it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.models import AuditEvent
from engine.services.context import Context, build_context
from engine.workflow.audit import verify_chain
from engine.workflow.live import LiveWorkflows
from engine.workflow.services import instances
from tests.conftest import make_settings
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.integration.test_admission_services import actor, take


@pytest.fixture
def other_worker(database_url: str, ctx: Context) -> Iterator[Context]:
    """A second process on the same database, with workflows of its own."""
    worker = build_context(make_settings(database_url), clock=ctx.clock)
    yield worker
    worker.db.dispose()


def test_a_worker_reuses_its_workflow_until_another_writes_the_instance(
    ctx: Context, other_worker: Context
) -> None:
    started = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    take(ctx, "sifa", LAWFUL)
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)  # the filing's workflow, run on

    take(other_worker, "bianban", PASS)  # the other worker holds nothing: it restores
    assert (other_worker.live.hits, other_worker.live.misses) == (0, 1)

    # This worker's workflow is one step behind the stored state: not reused, restored.
    take(ctx, "xianwei", APPROVE)
    assert (ctx.live.hits, ctx.live.misses) == (1, 1)
    take(ctx, "chengguan", CONFIRM)
    done = take(ctx, "donghe", CONFIRM)
    assert (ctx.live.hits, ctx.live.misses) == (3, 1)
    assert done.status == "in_force"
    assert started.id not in ctx.live._kept  # no step open: a matter in force is not kept
    with ctx.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == started.id).order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(list(events)) == []


def test_a_refused_command_leaves_nothing_kept(ctx: Context) -> None:
    started = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    assert started.id in ctx.live._kept
    with pytest.raises(Conflict):  # only a matter in force is withdrawn
        instances.withdraw(ctx, started.id, {"reason": "重复申报"}, actor(ctx, "nongye"))
    assert started.id not in ctx.live._kept  # taken by the refused command, not put back
    take(ctx, "sifa", LAWFUL)  # restored from the stored state
    assert (ctx.live.hits, ctx.live.misses) == (1, 1)


def test_a_kept_workflow_that_differs_from_the_stored_state_is_caught(ctx: Context) -> None:
    instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    [kept] = list(ctx.live._kept.values())
    kept.workflow.last_task.data["changed_behind_the_store"] = True  # a bug in the making
    with pytest.raises(AssertionError, match="not its stored state"):
        take(ctx, "sifa", LAWFUL)


def _commit(engine: Any, live: LiveWorkflows, instance_id: int, state: bytes, rollback=False):
    with Session(engine) as session, session.begin():
        live.keep_on_commit(session, instance_id, 1, state, f"workflow {instance_id}")
        if rollback:
            session.rollback()


def test_kept_only_on_commit_and_the_oldest_goes_first() -> None:
    engine = create_engine("sqlite://")
    live = LiveWorkflows(size=2)
    _commit(engine, live, 1, b"a", rollback=True)
    assert len(live) == 0
    for instance_id in (1, 2, 3):
        _commit(engine, live, instance_id, b"state %d" % instance_id)
    assert live.take(1, 1, b"state 1") is None  # evicted
    assert live.take(2, 1, b"other state") is None  # stored state changed: restore
    assert live.take(2, 1, b"state 2") is None  # and the stale one is gone
    assert live.take(3, 2, b"state 3") is None  # another version
    _commit(engine, live, 3, b"state 3")
    assert live.take(3, 1, b"state 3") == "workflow 3"
    assert LiveWorkflows(size=0).take(3, 1, b"state 3") is None
    # A savepoint released inside the command is not its commit.
    with Session(engine) as session, session.begin():
        live.keep_on_commit(session, 4, 1, b"state 4", "workflow 4")
        with session.begin_nested():
            pass
        assert 4 not in live._kept
    assert live.take(4, 1, b"state 4") == "workflow 4"
    engine.dispose()
