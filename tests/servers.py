"""Real `zhunru serve` processes for process-level tests, and what they leave in the database.

A `ZhunruServer` runs the CLI's gunicorn (`python -m api.cli serve`, the `zhunru serve` entry
point) in its own session on 127.0.0.1, waits for `/api/v1/health` before anyone uses it, and can
be stopped gracefully, restarted, or have its master or a worker SIGKILLed. Every process it
starts is in the process group it created, and `kill` ends that group, by its id, whatever
happened before.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, exists, select, text

from engine.admission.services.register import END_STATUSES
from engine.models import Instance, Task
from tests.conftest import BACKENDS, DEMO_PASSWORD, SECRET

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 30.0

# sqlite always; postgres marked, so `-m "not postgres"` leaves it out.
BACKEND_PARAMS = [
    pytest.param(b, id=b, marks=[pytest.mark.postgres] if b == "postgres" else [])
    for b in ("sqlite", "postgres")
    if b in BACKENDS
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A new database holding the demo county (copied from the session's template)."""
    if backend == "sqlite":
        path = tmp_path / "zhunru.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres")
    template = request.getfixturevalue("postgres_template")
    name = f"zhunru_proc_{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()
    return server.url(name)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a server or CLI process: ours, none of the caller's ZHUNRU_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHUNRU_")}
    env.update(
        ZHUNRU_DATABASE_URL=database_url,
        ZHUNRU_SECRET_KEY=SECRET,
        ZHUNRU_DEMO_PASSWORD=DEMO_PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    return env


class ServerDied(AssertionError):
    pass


class ZhunruServer:
    """One `zhunru serve` (gunicorn master and its workers) on 127.0.0.1."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        workers: int = 1,
        threads: int = 4,
        port: int | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.workers = workers
        self.threads = threads
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._groups: list[int] = []  # every process group we created, for the final kill

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"serve-{self.port}-{self.starts}.log"

    def start(self, *, wait: bool = True) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                ],
                cwd=ROOT,
                env=server_env(self.database_url),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: master and workers
            )
        self._groups.append(self.proc.pid)
        if wait:
            self.wait_ready()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll /api/v1/health until it answers 200 (no sleeps standing in for readiness)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerDied(f"server exited {self.proc.returncode}:\n{self.log_tail()}")
            with suppress(requests.RequestException):
                if requests.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ServerDied(f"server not ready in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.02)  # poll interval, not a readiness guess

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        pid = self.proc.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def wait_workers(
        self, count: int, timeout: float = READY_TIMEOUT, without: int | None = None
    ) -> list[int]:
        """Poll until the master has `count` workers (none of them `without`)."""
        deadline = time.monotonic() + timeout
        while len(pids := [p for p in self.worker_pids() if p != without]) < count:
            if time.monotonic() > deadline:
                raise ServerDied(f"{len(pids)} of {count} workers:\n{self.log_tail()}")
            time.sleep(0.02)
        return pids

    def stop(self, timeout: float = 20, graceful: bool = True) -> None:
        """Graceful stop (SIGTERM to the master), then the group's leftovers are killed;
        `graceful=False` kills at once (SIGKILL to the group)."""
        if graceful and self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def restart(self, graceful: bool = True) -> None:
        self.stop(graceful=graceful)
        self.start()

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker of this server (the master forks a new one)."""
        assert pid in self.worker_pids(), f"{pid} is not a worker of this server"
        os.kill(pid, signal.SIGKILL)

    def kill_master(self) -> None:
        """SIGKILL the master alone: its workers are orphaned and must notice by themselves."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL every process group this server created (master, workers, orphans)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for group in self._groups:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self._groups.clear()


@contextmanager
def running(server: ZhunruServer) -> Iterator[ZhunruServer]:
    """Start the server; whatever happens, nothing it started outlives the block."""
    try:
        server.start()
        yield server
    finally:
        server.kill()


class Client:
    """A demo user over real HTTP to whatever port the server listens on now."""

    def __init__(
        self,
        server: ZhunruServer,
        username: str,
        timeout: float = 30,
        keepalive: bool = True,
        token: str | None = None,
    ) -> None:
        self.server = server
        self.username = username
        self.timeout = timeout
        self.keepalive = keepalive
        self.http = requests.Session()
        if not keepalive:  # a graceful stop waits out idle keep-alive connections (2 s)
            self.http.headers["Connection"] = "close"
        if token is None:
            response = self.http.post(
                f"{server.url}/api/v1/auth/token",
                json={"username": username, "password": DEMO_PASSWORD},
                timeout=timeout,
            )
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
        self.token = token
        self.http.headers["Authorization"] = f"Bearer {token}"

    def session(self) -> Client:
        """The same user on a session of its own (one per thread), without signing in again."""
        return Client(self.server, self.username, self.timeout, self.keepalive, self.token)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.server.url + path, timeout=self.timeout, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.server.url + path, timeout=self.timeout, **kwargs)


def stranded_instances(database_url: str) -> list[tuple[int, str]]:
    """Instances that can never move again: not ended, not in a final status, no open inbox
    task, no timer armed. Nobody can act on them and nothing will wake them."""
    engine = create_engine(database_url)
    try:
        open_task = exists().where(Task.instance_id == Instance.id, Task.state == "open")
        with engine.connect() as conn:
            rows = conn.execute(
                select(Instance.id, Instance.status).where(
                    Instance.status.not_in(END_STATUSES),
                    Instance.ended_at.is_(None),
                    Instance.next_timer_at.is_(None),
                    ~open_task,
                )
            ).all()
        return [(row.id, row.status) for row in rows]
    finally:
        engine.dispose()


def audit_verify(database_url: str) -> dict[str, Any]:
    """`zhunru audit verify --json` as an operator runs it; returns its report (exit 0 = ok)."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "verify", "--json"],
        cwd=ROOT,
        env=server_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (
        f"audit verify failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    report = json.loads(done.stdout)
    assert report["ok"] and report["problem_count"] == 0, report
    return report
