"""Service tasks' operations run in the command that passes them, once, in its transaction: the
shipped 借调准入 package (deployed by the demo) taken step by step, each step in a fresh process
(its own registry, the diagram parsed anew), on SQLite and PostgreSQL; an operation that fails
rolls the whole command back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, ProcedureFailed
from engine.models import AuditEvent, Matter, Notification
from engine.services.context import Context, build_context
from engine.workflow import operations
from engine.workflow.processes import GENERIC, kind_of
from engine.workflow.services import instances, tasks
from tests.conftest import make_settings
from tests.integration.test_admission_services import actor

PROCESS_ID = "secondment_admission"
PASS = {"decision": "pass"}
DRAFT = {"decision": "pass", "comment": "借调必要，依据充分，乡镇已同意"}


def application(**changes: Any) -> dict[str, Any]:
    start = date.today() + timedelta(days=7)
    return {
        "person_name": "张三",
        "position": "西山镇农业服务中心科员",
        "township": "xishan",
        "reason": "县农业农村局开展高标准农田建设督导，需熟悉基层情况的人员",
        "work": "高标准农田建设督导",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=90)).isoformat(),
        "basis": "县委办〔2025〕3号",
        "township_agreed": True,
        **changes,
    }


@pytest.fixture
def fresh(database_url: str, ctx: Context) -> Iterator[Any]:
    """Another process each time: its own diagram registry, nothing parsed or run before."""
    opened: list[Context] = []

    def open_context() -> Context:
        opened.append(build_context(make_settings(database_url), clock=ctx.clock))
        return opened[-1]

    yield open_context
    for context in opened:
        context.db.dispose()


def take(ctx: Context, username: str, bpmn_id: str, form: dict[str, Any]) -> Any:
    who = actor(ctx, username)
    task = next(t for t in tasks.inbox(ctx, who) if t.bpmn_id == bpmn_id)
    return tasks.complete(ctx, task.id, form, who)


def ran(ctx: Context, instance_id: int) -> list[str | None]:
    """The steps whose operations the trail records, in order."""
    with ctx.db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.task)
                .where(AuditEvent.instance_id == instance_id, AuditEvent.action == "operation_ran")
                .order_by(AuditEvent.seq)
            )
        )


def actions(ctx: Context, instance_id: int) -> list[str]:
    with ctx.db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.instance_id == instance_id)
                .order_by(AuditEvent.seq)
            )
        )


def register_rows(ctx: Context, instance_id: int) -> list[tuple[str, str]]:
    with ctx.db.read() as session:
        rows = session.scalars(select(Matter).where(Matter.instance_id == instance_id)).all()
        return [(row.name, row.status) for row in rows]


def notices(ctx: Context, instance_id: int) -> int:
    with ctx.db.read() as session:
        return (
            session.scalar(select(func.count()).where(Notification.instance_id == instance_id)) or 0
        )


def test_each_operation_runs_once_in_the_command_that_passes_it_in_fresh_processes(
    ctx: Context, fresh: Any
) -> None:
    assert kind_of(PROCESS_ID) is GENERIC  # no Python knows this procedure
    started = instances.start(ctx, PROCESS_ID, application(), actor(ctx, "nongye"))
    take(fresh(), "bianban_sun", "review_draft", DRAFT)
    take(fresh(), "bianban", "review", PASS)
    assert ran(ctx, started.id) == [] and notices(ctx, started.id) == 0

    approved = take(fresh(), "xianwei", "approve", PASS)
    assert [(t.bpmn_id, t.township) for t in approved.open_tasks] == [
        ("confirm_departure", "xishan")
    ]
    assert ran(ctx, started.id) == ["notify_township"] and notices(ctx, started.id) == 1

    departed = take(fresh(), "xishan", "confirm_departure", {"departed_on": "2025-03-03"})
    name = "借调：张三（西山镇农业服务中心科员，借调从事高标准农田建设督导）"
    assert register_rows(ctx, started.id) == [(name, "in_force")]
    assert ran(ctx, started.id) == ["notify_township", "enter_register"]
    # The township's task is due at the end of the secondment (the boundary timer).
    assert [t.bpmn_id for t in departed.open_tasks] == ["confirm_return"]
    assert departed.open_tasks[0].due_at is not None

    returned = take(fresh(), "xishan", "confirm_return", {"returned_on": "2025-06-01"})
    assert (returned.status, returned.open_tasks) == ("exited", [])
    assert register_rows(ctx, started.id) == [(name, "exited")]
    assert ran(ctx, started.id) == ["notify_township", "enter_register", "exit_register"]
    # The township told of the approval, then it and the department of the return.
    assert notices(ctx, started.id) == 3


def test_a_failing_operation_rolls_the_whole_command_back(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = instances.start(ctx, PROCESS_ID, application(), actor(ctx, "nongye"))
    take(ctx, "bianban_sun", "review_draft", DRAFT)
    take(ctx, "bianban", "review", PASS)
    take(ctx, "xianwei", "approve", PASS)
    trail_before = actions(ctx, started.id)
    entered = operations.known_operations()["register.enter"]

    def refuse(*_: Any) -> list:
        raise Conflict("台账暂不可登记")

    def crash(*_: Any) -> list:
        raise RuntimeError("register unavailable")

    for run, error in ((refuse, Conflict), (crash, ProcedureFailed)):
        monkeypatch.setitem(
            operations._OPERATIONS,
            "register.enter",
            operations.Operation(
                entered.name, run, entered.label, entered.required, entered.optional
            ),
        )
        with pytest.raises(error):
            take(ctx, "xishan", "confirm_departure", {"departed_on": "2025-03-03"})
        # Nothing of the command is stored: the task is open, no entry, no trail.
        assert [t.bpmn_id for t in tasks.inbox(ctx, actor(ctx, "xishan"))] == ["confirm_departure"]
        assert register_rows(ctx, started.id) == []
        # (a crash opens an incident, which its trail records after the rollback)
        assert actions(ctx, started.id) in (trail_before, [*trail_before, "incident_opened"])
        trail_before = actions(ctx, started.id)

    monkeypatch.setitem(operations._OPERATIONS, "register.enter", entered)
    take(ctx, "xishan", "confirm_departure", {"departed_on": "2025-03-03"})
    assert [status for _, status in register_rows(ctx, started.id)] == ["in_force"]
    assert ran(ctx, started.id) == ["notify_township", "enter_register"]
