"""A matter survives a server restart between every step of its lifecycle.

The worst bug so far: a matter approved before a restart and confirmed by a township after it
was stranded for ever (pending, no open task) — SpiffWorkflow wires a multi-instance child's
completion lazily, so state restored into a freshly parsed diagram behaved differently. Here a
real `zhunru serve` is stopped and started again before each step, so every step runs in a
process that has never run that diagram; the matter must still end in force, on the register of
each township, with a trail that verifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from engine.models import Instance, Matter, Organization
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.servers import (
    BACKEND_PARAMS,
    Client,
    ZhunruServer,
    audit_verify,
    fresh_database,
    running,
    stranded_instances,
)

USERS = ("nongye", "sifa", "bianban", "xianwei", "chengguan", "donghe", "jiwei")


def my_task(client: Client, instance_id: int, bpmn_id: str) -> dict:
    """My one open task of this step of this matter, from my inbox."""
    inbox = client.get("/api/v1/tasks")
    assert inbox.status_code == 200, inbox.text
    mine = [t for t in inbox.json() if t["instance_id"] == instance_id and t["bpmn_id"] == bpmn_id]
    assert len(mine) == 1, (client.username, bpmn_id, inbox.json())
    return mine[0]


def complete(client: Client, instance_id: int, bpmn_id: str, form: dict) -> dict:
    task = my_task(client, instance_id, bpmn_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
    assert response.status_code == 200, f"{response.text}\n{client.server.log_tail()}"
    return response.json()


MATTERS = {"one township": ["chengguan"], "two townships": ["chengguan", "donghe"]}


def lifecycle(townships: list[str]) -> list[tuple[str, str, dict]]:
    """(user, step, form) after filing, up to the matter in force."""
    return [
        ("sifa", "legal_review", LAWFUL),
        ("bianban", "review", PASS),
        ("xianwei", "approve", APPROVE),
        *[(township, "confirm_entry", CONFIRM) for township in townships],
    ]


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_matters_survive_a_restart_between_every_step(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    """Two matters, one to one township and one to two, walked in step: the server restarts
    between every two steps of each; the matters take turns going first in a fresh process."""
    database_url = fresh_database(request, backend, tmp_path)
    server = ZhunruServer(database_url, tmp_path, workers=1, threads=4)
    ids: dict[str, int] = {}
    with running(server):
        # Tokens are signed with the shared secret: they outlive the process that issued them.
        users = {name: Client(server, name, keepalive=False) for name in USERS}
        for label, townships in MATTERS.items():
            filed = users["nongye"].post(
                "/api/v1/processes/matter_admission/instances",
                json=application(name=f"重启之间的事项（{label}）", townships=townships),
            )
            assert filed.status_code == 201, f"{filed.text}\n{server.log_tail()}"
            ids[label] = filed.json()["id"]

        todo = {label: lifecycle(townships) for label, townships in MATTERS.items()}
        last: dict[str, dict] = {}
        turn = 0
        while any(todo.values()):
            server.restart()  # every step below runs in a process that never ran the diagram
            turn += 1
            order = list(todo) if turn % 2 else list(reversed(todo))
            for label in order:
                if not todo[label]:
                    continue
                user, bpmn_id, form = todo[label].pop(0)
                after = last[label] = complete(users[user], ids[label], bpmn_id, form)
                if todo[label]:
                    assert after["status"] == "pending", after
                    assert after["open_tasks"], f"{label} stranded after {bpmn_id}: {after}"
        outcome = {label: (a["status"], a["open_tasks"]) for label, a in last.items()}
        assert outcome == {label: ("in_force", []) for label in MATTERS}, (
            f"('pending', []) is a stranded matter: {outcome}"
        )

        server.restart()  # and it is still so, as a fresh process reads it
        jiwei, nongye = users["jiwei"], users["nongye"]
        for label, townships in MATTERS.items():
            instance_id = ids[label]
            assert jiwei.get(f"/api/v1/instances/{instance_id}").json()["status"] == "in_force"
            detail = nongye.get(f"/api/v1/instances/{instance_id}").json()
            assert detail["actions"] == ["withdraw"], detail
            for township in townships:
                register = users[township].get("/api/v1/register").json()
                assert (instance_id, "in_force") in [
                    (r["instance_id"], r["status"]) for r in register
                ], register
            trail = jiwei.get(f"/api/v1/instances/{instance_id}/trail").json()
            completed = [e["task"] for e in trail if e["action"] == "task_completed"]
            assert completed == [bpmn_id for _, bpmn_id, _ in lifecycle(townships)]
        # filed in the first process; one restart per round of steps, and one to read it back
        assert server.starts == 1 + len(lifecycle(MATTERS["two townships"])) + 1

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            statuses = dict(
                conn.execute(
                    select(Instance.id, Instance.status).where(Instance.id.in_(ids.values()))
                ).all()
            )
            on_register = conn.execute(
                select(Matter.instance_id, Organization.code, Matter.status)
                .join(Organization, Organization.id == Matter.township_org_id)
                .order_by(Matter.instance_id, Organization.code)
            ).all()
    finally:
        engine.dispose()
    assert statuses == {instance_id: "in_force" for instance_id in ids.values()}
    assert [tuple(r) for r in on_register] == sorted(
        (ids[label], township, "in_force")
        for label, townships in MATTERS.items()
        for township in townships
    )
    assert stranded_instances(database_url) == []
    audit_verify(database_url)
