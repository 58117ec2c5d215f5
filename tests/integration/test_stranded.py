"""Stranded instances: the old restart bug reproduced through the services, found and released;
and a stranded state kept from that code (tests/fixtures) released by today's engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.admission.services import matters
from engine.errors import Conflict, Forbidden
from engine.models import AuditEvent, Instance, Task
from engine.services.context import Context, build_context
from engine.workflow import specs
from engine.workflow.audit import verify_chain
from engine.workflow.runtime import pack
from engine.workflow.services import instances, stranded
from tests.factories import CONFIRM, LAWFUL, PASS, application
from tests.integration.test_admission_services import actor, take
from tests.packages import activate_before_service_tasks

FIXTURE = Path(__file__).parents[1] / "fixtures" / "stranded_confirm_entry.json"


@pytest.fixture(autouse=True)
def version_of_old_code(ctx: Context) -> None:
    """The matters old code stranded ran on the diagram of its day: confirm_entry itself the
    multi-instance step, the register entry made after it."""
    activate_before_service_tasks(ctx, "matter_admission")


def restarted(ctx: Context) -> Context:
    """A new process on the same database: nothing parsed, nothing wired."""
    return build_context(ctx.settings, clock=ctx.clock)


def approved(ctx: Context, townships: list[str]) -> int:
    detail = instances.start(
        ctx, "matter_admission", application(townships=townships), actor(ctx, "nongye")
    )
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    take(ctx, "xianwei", PASS)  # the approval form of that version
    return detail.id


def trail_verifies(ctx: Context, instance_id: int) -> list[str]:
    with ctx.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(list(events)) == []
        return [e.action for e in events]


def test_matter_stranded_by_old_code_is_found_and_released(ctx: Context, monkeypatch) -> None:
    instance_id = approved(ctx, ["chengguan"])
    monkeypatch.setattr(specs, "_wire_loops", lambda spec: None)
    old = restarted(ctx)
    take(old, "chengguan", CONFIRM)
    assert instances.get(old, instance_id, actor(old, "nongye")).status == "pending"
    assert [s.instance_id for s in stranded.scan(old)] == [instance_id]  # seen even by old code
    old.db.dispose()
    monkeypatch.undo()

    new = restarted(ctx)
    admin = actor(new, "admin")
    found = stranded.find(new, admin)
    assert [(s.instance_id, s.reason, s.releasable) for s in found] == [
        (instance_id, "unmerged", True)
    ]
    assert stranded.release(new, instance_id, admin) == "in_force"

    assert stranded.find(new, admin) == []
    register = matters.register(new, actor(new, "chengguan"))
    assert [(r.instance_id, r.status) for r in register] == [(instance_id, "in_force")]
    actions = trail_verifies(new, instance_id)
    assert actions[-2:] == ["instance_released", "status_changed"]
    with pytest.raises(Conflict, match="并未滞留"):
        stranded.release(new, instance_id, admin)
    new.db.dispose()


def test_only_administrators_see_or_release_stranded_instances(ctx: Context) -> None:
    for username in ("bianban", "nongye", "chengguan"):
        with pytest.raises(Forbidden):
            stranded.find(ctx, actor(ctx, username))
        with pytest.raises(Forbidden):
            stranded.release(ctx, 1, actor(ctx, username))


def test_half_stranded_matter_heals_when_the_last_township_confirms(ctx: Context, monkeypatch):
    """One township confirmed under the old code after a restart, the other after the fix:
    the matter enters in force with both confirmations merged."""
    instance_id = approved(ctx, ["chengguan", "donghe"])
    monkeypatch.setattr(specs, "_wire_loops", lambda spec: None)
    old = restarted(ctx)
    take(old, "chengguan", CONFIRM)
    old.db.dispose()
    monkeypatch.undo()

    new = restarted(ctx)
    take(new, "donghe", CONFIRM)
    detail = instances.get(new, instance_id, actor(new, "nongye"))
    assert detail.status == "in_force"
    assert len(detail.data["entries"]) == 2
    assert "instance_released" in trail_verifies(new, instance_id)
    new.db.dispose()


def test_stored_state_stranded_by_old_code_is_released(ctx: Context) -> None:
    """The state a restart left before the fix (kept as a fixture), stored on a matter whose
    township had confirmed: listed, then released to in force."""
    instance_id = approved(ctx, ["chengguan"])
    state = FIXTURE.read_text(encoding="utf-8")
    with ctx.db.write() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        instance.state = pack(json.dumps(json.loads(state)))
        for task in session.scalars(select(Task).where(Task.instance_id == instance_id)):
            task.state = "completed"  # as the old confirmation left them
    admin = actor(ctx, "admin")
    assert [s.instance_id for s in stranded.find(ctx, admin)] == [instance_id]
    assert stranded.release(ctx, instance_id, admin) == "in_force"
    detail = instances.get(ctx, instance_id, actor(ctx, "nongye"))
    assert detail.data["entries"] == [
        {"confirmed": True, "resources_received": True, "comment": ""}
    ]
    assert detail.actions == ["withdraw"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_operator_command_lists_and_releases_in_a_fresh_process(ctx: Context, monkeypatch):
    """`zhunru stranded` and `zhunru stranded --release`, each a new process."""
    instance_id = approved(ctx, ["chengguan"])
    monkeypatch.setattr(specs, "_wire_loops", lambda spec: None)
    old = restarted(ctx)
    take(old, "chengguan", CONFIRM)
    old.db.dispose()
    monkeypatch.undo()
    env = {
        **os.environ,
        "ZHUNRU_DATABASE_URL": ctx.settings.database_url,
        "ZHUNRU_SECRET_KEY": ctx.settings.secret_key,
    }
    zhunru = str(Path(sys.executable).parent / "zhunru")

    listed = subprocess.run([zhunru, "stranded"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert f"事项 {instance_id}" in listed.stdout and "可自动恢复" in listed.stdout

    released = subprocess.run(
        [zhunru, "stranded", "--release"], env=env, capture_output=True, text=True
    )
    assert released.returncode == 0, released.stderr
    assert f"事项 {instance_id}：已恢复，状态 in_force" in released.stdout
    assert instances.get(ctx, instance_id, actor(ctx, "nongye")).status == "in_force"
    again = subprocess.run([zhunru, "stranded"], env=env, capture_output=True, text=True)
    assert "共 0 个滞留事项" in again.stdout


def test_worker_sweep_releases_and_the_gauge_counts_what_is_left(ctx: Context, monkeypatch):
    from engine.services import gauges  # noqa: PLC0415
    from engine.worker import Worker  # noqa: PLC0415

    instance_id = approved(ctx, ["chengguan"])
    monkeypatch.setattr(specs, "_wire_loops", lambda spec: None)
    old = restarted(ctx)
    take(old, "chengguan", CONFIRM)
    old.db.dispose()
    monkeypatch.undo()

    worker = Worker(restarted(ctx))
    worker.sweep_if_due()
    assert instances.get(ctx, instance_id, actor(ctx, "nongye")).status == "in_force"
    readings = {gauge.name: value for gauge, value in gauges.read_all(ctx)}
    assert readings["zhunru_instances_stranded"] == 0.0
    worker.ctx.db.dispose()
