"""Lifecycles over HTTP while the API server's processes are SIGKILLed, on PostgreSQL.

Client threads walk matters from filing to in force against gunicorn with two workers; first a
worker is SIGKILLed (gunicorn forks a new one), later the master (its workers are orphaned and
must leave by themselves; a new server starts on the same port). Clients treat a lost
connection or a 5xx as "unknown", re-read the matter and carry on. Afterwards, from the
database and the trail: every acknowledged write is there exactly once, no refused write left a
trace, no instance is stranded, and `zhunru audit verify` passes.

test_reliability.py covers the timer workers killed mid-run and races at the service level;
this covers the API processes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from engine.models import AuditEvent, Instance, Matter, Task
from tests.conftest import BACKENDS
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.servers import (
    Client,
    ZhunruServer,
    audit_verify,
    fresh_database,
    running,
    stranded_instances,
)

CLIENTS = 4
LIFECYCLES = 3  # per client
APPLICANTS = ("nongye", "jiaoyu", "minzheng")
TOWNSHIPS = ("chengguan", "donghe", "xishan", "nanhu", "beiling")
STEP_USER = {"legal_review": "sifa", "review": "bianban", "approve": "xianwei"}
STEP_FORM = {"legal_review": LAWFUL, "review": PASS, "approve": APPROVE, "confirm_entry": CONFIRM}
USERS = (*APPLICANTS, *STEP_USER.values(), *TOWNSHIPS, "jiwei")
WORKER_KILL_AT = 0.3  # of the expected acknowledged writes
MASTER_KILL_AT = 0.6
DEADLINE = 150.0  # seconds for the whole run; the test fails rather than hang


@dataclass
class Ledger:
    """What the clients were told. `unknown`: no answer, or a 5xx (the write may or may not
    have happened); `refused`: a 4xx other than the expected 409 for a step already taken."""

    filed: dict[str, int] = field(default_factory=dict)  # title -> instance id (acknowledged)
    unknown_filings: list[str] = field(default_factory=list)
    completed: list[tuple[int, int, str, str]] = field(default_factory=list)  # inst, task, step, by
    unknown: Counter[str] = field(default_factory=Counter)
    already_done: int = 0
    finished: list[tuple[int, list[str]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acknowledged(self) -> int:
        return len(self.filed) + len(self.completed)


def _outcome(response: requests.Response | None) -> str:
    return "no answer" if response is None else str(response.status_code)


class Walker:
    """One client thread: files matters and walks each to in force, whatever the server does."""

    def __init__(self, seat: int, users: dict[str, Client], ledger: Ledger, until: float):
        self.seat = seat
        self.users = {name: client.session() for name, client in users.items()}
        self.ledger = ledger
        self.until = until

    def _send(self, client: Client, method: str, path: str, **kwargs) -> requests.Response | None:
        try:
            return client.http.request(method, client.server.url + path, timeout=10, **kwargs)
        except requests.RequestException:
            return None

    def _read(self, instance_id: int) -> dict:
        """The matter as the auditor reads it, retried until the server answers."""
        pause = 0.02
        while time.monotonic() < self.until:
            response = self._send(self.users["jiwei"], "GET", f"/api/v1/instances/{instance_id}")
            if response is not None and response.status_code == 200:
                return response.json()
            time.sleep(pause)  # back off while the server is down
            pause = min(pause * 2, 0.5)
        raise TimeoutError(f"instance {instance_id} unreadable until the deadline")

    def _file(self, number: int, townships: list[str]) -> int:
        attempt = 0
        pause = 0.02
        while time.monotonic() < self.until:
            attempt += 1
            title = f"混沌事项{self.seat}-{number}-{attempt}"
            applicant = self.users[APPLICANTS[(self.seat + number) % len(APPLICANTS)]]
            response = self._send(
                applicant,
                "POST",
                "/api/v1/processes/matter_admission/instances",
                json=application(name=title, townships=townships),
            )
            if response is not None and response.status_code == 201:
                with self.ledger.lock:
                    self.ledger.filed[title] = response.json()["id"]
                return response.json()["id"]
            if response is not None and response.status_code < 500:
                raise AssertionError(f"filing refused: {response.status_code} {response.text}")
            with self.ledger.lock:
                self.ledger.unknown_filings.append(title)
                self.ledger.unknown[f"file {_outcome(response)}"] += 1
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        raise TimeoutError("could not file until the deadline")

    def _walk(self, instance_id: int, townships: list[str]) -> None:
        detail: dict | None = None
        while time.monotonic() < self.until:
            if detail is None:
                detail = self._read(instance_id)
            if detail["status"] == "in_force" and not detail["open_tasks"]:
                with self.ledger.lock:
                    self.ledger.finished.append((instance_id, townships))
                return
            if not detail["open_tasks"]:
                raise AssertionError(f"instance {instance_id} stranded: {detail}")
            task = detail["open_tasks"][0]
            step = task["bpmn_id"]
            user = STEP_USER.get(step) or task["township"]
            response = self._send(
                self.users[user],
                "POST",
                f"/api/v1/tasks/{task['id']}/complete",
                json=STEP_FORM[step],
            )
            if response is not None and response.status_code == 200:
                with self.ledger.lock:
                    self.ledger.completed.append((instance_id, task["id"], step, user))
                detail = response.json()
                continue
            with self.ledger.lock:
                if response is None or response.status_code >= 500:
                    self.ledger.unknown[f"{step} {_outcome(response)}"] += 1
                elif response.status_code == 409:  # an earlier unanswered attempt took it
                    self.ledger.already_done += 1
                else:
                    raise AssertionError(f"{step} refused: {response.status_code} {response.text}")
            detail = None  # re-read: did it happen?
        raise TimeoutError(f"instance {instance_id} not in force until the deadline")

    def run(self) -> None:
        try:
            for number in range(LIFECYCLES):
                first = TOWNSHIPS[(self.seat * LIFECYCLES + number) % len(TOWNSHIPS)]
                second = TOWNSHIPS[(self.seat * LIFECYCLES + number + 1) % len(TOWNSHIPS)]
                townships = [first] if number % 2 == 0 else [first, second]
                self._walk(self._file(number, townships), townships)
        except BaseException as exc:  # reported by the test, not lost in the thread
            with self.ledger.lock:
                self.ledger.failures.append(f"client {self.seat}: {exc!r}")


def _expected_writes() -> int:
    per_client = sum(4 + (1 if n % 2 == 0 else 2) for n in range(LIFECYCLES))
    return CLIENTS * per_client


def _wait_for(ledger: Ledger, writes: int, until: float, threads: list[threading.Thread]) -> None:
    while ledger.acknowledged < writes:
        assert time.monotonic() < until, f"only {ledger.acknowledged} writes by the deadline"
        assert any(t.is_alive() for t in threads), f"clients stopped early: {ledger.failures}"
        time.sleep(0.02)  # watching the clients' progress, not waiting for readiness


@pytest.mark.postgres
@pytest.mark.skipif("postgres" not in BACKENDS, reason="ZHUNRU_TEST_BACKENDS leaves out postgres")
def test_acknowledged_writes_survive_killed_workers_and_master(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    database_url = fresh_database(request, "postgres", tmp_path)
    server = ZhunruServer(database_url, tmp_path, workers=2, threads=4)
    ledger = Ledger()
    until = time.monotonic() + DEADLINE
    kills: list[str] = []
    with running(server):
        users = {name: Client(server, name) for name in USERS}
        walkers = [Walker(seat, users, ledger, until) for seat in range(CLIENTS)]
        threads = [threading.Thread(target=w.run, name=f"walker-{w.seat}") for w in walkers]
        for thread in threads:
            thread.start()
        try:
            _wait_for(ledger, int(_expected_writes() * WORKER_KILL_AT), until, threads)
            victim = server.wait_workers(2)[0]
            server.kill_worker(victim)
            kills.append(f"worker {victim} at {ledger.acknowledged} writes")
            server.wait_workers(2, without=victim)  # the master forked a new one

            _wait_for(ledger, int(_expected_writes() * MASTER_KILL_AT), until, threads)
            kills.append(f"master at {ledger.acknowledged} writes")
            server.kill_master()
            server.start()  # same port; its old workers may still hold it for a moment
        finally:
            for thread in threads:
                thread.join(timeout=max(1.0, until - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "clients still running at the deadline"
        server.stop()

    print(  # shown with -s, and on failure: how much chaos this run actually met
        f"chaos: {'; '.join(kills)}; acknowledged {ledger.acknowledged}, "
        f"unanswered or 5xx {dict(ledger.unknown)}, already done on retry {ledger.already_done}"
    )
    assert ledger.failures == [], ledger.failures
    # Killed processes drop connections; a server that answers must not answer with an error.
    assert [k for k in ledger.unknown if not k.endswith("no answer")] == [], ledger.unknown
    assert len(kills) == 2, kills
    assert len(ledger.finished) == CLIENTS * LIFECYCLES
    _check_database(database_url, ledger)
    assert stranded_instances(database_url) == []
    audit_verify(database_url)


def _check_database(database_url: str, ledger: Ledger) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            titles = Counter(
                conn.scalars(select(Instance.title).where(Instance.title.like("混沌事项%")))
            )
            by_title = dict(
                conn.execute(
                    select(Instance.title, Instance.id).where(Instance.title.like("混沌事项%"))
                ).all()
            )
            started = Counter(
                conn.scalars(
                    select(AuditEvent.instance_id).where(AuditEvent.action == "instance_started")
                )
            )
            completed_rows = {
                row.id: row
                for row in conn.execute(
                    select(Task.id, Task.instance_id, Task.bpmn_id, Task.state).where(
                        Task.state == "completed"
                    )
                )
            }
            rows_per_step = Counter(
                (row.instance_id, row.bpmn_id) for row in completed_rows.values()
            )
            events_per_step = Counter(
                {
                    (instance_id, task): count
                    for instance_id, task, count in conn.execute(
                        select(AuditEvent.instance_id, AuditEvent.task, func.count())
                        .where(AuditEvent.action == "task_completed")
                        .group_by(AuditEvent.instance_id, AuditEvent.task)
                    )
                }
            )
            statuses = dict(conn.execute(select(Instance.id, Instance.status)).all())
            register: dict[int, list[int]] = defaultdict(list)
            for instance_id, org_id in conn.execute(
                select(Matter.instance_id, Matter.township_org_id)
            ):
                register[instance_id].append(org_id)
    finally:
        engine.dispose()

    # Filings: every acknowledged one exactly once; a retried one at most once.
    for title, instance_id in ledger.filed.items():
        assert titles[title] == 1 and by_title[title] == instance_id, title
        assert started[instance_id] == 1, (title, started[instance_id])
    assert max(titles.values()) == 1, "a filing stored twice"
    assert set(titles) <= set(ledger.filed) | set(ledger.unknown_filings), "a filing from nowhere"
    assert all(count == 1 for count in started.values()), "an instance started twice"

    # Steps: every acknowledged completion is stored, and no step of any matter ran twice.
    for instance_id, task_id, step, _user in ledger.completed:
        assert task_id in completed_rows, (instance_id, task_id, step)
        assert completed_rows[task_id].instance_id == instance_id
    assert rows_per_step == events_per_step, "trail and inbox disagree on completed steps"
    for instance_id, townships in ledger.finished:
        assert statuses[instance_id] == "in_force", instance_id
        assert len(register[instance_id]) == len(townships), instance_id
        assert rows_per_step[(instance_id, "legal_review")] == 1
        assert rows_per_step[(instance_id, "review")] == 1
        assert rows_per_step[(instance_id, "approve")] == 1
        assert rows_per_step[(instance_id, "confirm_entry")] == len(townships)
