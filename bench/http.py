"""HTTP: the same lifecycles through gunicorn workers on PostgreSQL, from concurrent clients."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import APPLICATION, PASSWORD, SECRET, STEPS, USERS, latency_summary

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive connection, JSON in and out."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None


def _serve(url: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ZHUNRU_DATABASE_URL": url,
        "ZHUNRU_SECRET_KEY": SECRET,
        "ZHUNRU_LOG_LEVEL": "WARNING",  # no log line per request
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:api.gunicorn_conf",  # as the README runs it: its hooks, its JSON logs
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = Client(port).call("GET", "/api/v1/health")
            if status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not come up")


def _tokens(port: int) -> dict[str, str]:
    client = Client(port)
    tokens = {}
    for username in USERS:
        status, body = client.call(
            "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
        )
        assert status == 200, body
        tokens[username] = body["access_token"]
    return tokens


def _lifecycle(client: Client, tokens: dict[str, str], completes: list[float]) -> int:
    """File and take one matter to in force; the errors met (the lifecycle stops at one)."""
    status, detail = client.call(
        "POST", "/api/v1/processes/matter_admission/instances", APPLICATION, tokens["nongye"]
    )
    if status != 201:
        return 1
    for username, bpmn_id, form in STEPS:
        task = next(
            t
            for t in detail["open_tasks"]
            if t["bpmn_id"] == bpmn_id and t["township"] in (None, username)
        )
        began = time.perf_counter()
        status, detail = client.call(
            "POST", f"/api/v1/tasks/{task['id']}/complete", form, tokens[username]
        )
        completes.append(time.perf_counter() - began)
        if status != 200:
            return 1
    return 0


def _worker(port: int, tokens: dict[str, str], stop: float, out: dict[str, list[float]]) -> None:
    client = Client(port)
    completes: list[float] = []
    errors = 0
    while time.monotonic() < stop:
        errors += _lifecycle(client, tokens, completes)
    out.setdefault("completes", []).extend(completes)
    out.setdefault("errors", []).append(errors)


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, as /proc lists them now."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
    return found


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user and system) the processes have used so far (one that ended is lost:
    an autovacuum worker's, say)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(groups: dict[str, tuple[int, bool]]) -> dict[str, float]:
    """CPU seconds so far of each group: a process alone (`False`), or with its descendants
    (`True`), listed afresh: gunicorn's threads open database sessions as they first need
    them, during the run."""
    return {name: _cpu_s(_tree(pid) if whole else [pid]) for name, (pid, whole) in groups.items()}


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def memory(url: str, commands: int) -> dict[str, Any]:
    """One gunicorn worker's resident memory after 100 commands and after `commands`: what a
    long-running worker keeps (caches, kept workflows) must level off, not grow with work."""
    port = _free_port()
    server = _serve(url, port, 1, 2)
    try:
        [worker] = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split() or [
            ""
        ]
        tokens = _tokens(port)
        client = Client(port)
        done, completes, readings = 0, [], {}
        per_lifecycle = 1 + len(STEPS)
        for mark in (100, commands):
            while done < mark:
                _lifecycle(client, tokens, completes)
                done += per_lifecycle
            readings[mark] = _rss_kb(int(worker))
    finally:
        server.terminate()
        server.wait(timeout=30)
    first, last = readings[100], readings[commands]
    return {
        "commands": done,
        "rss_after_100_mb": round(first / 1024, 1),
        f"rss_after_{commands}_mb": round(last / 1024, 1),
        "ratio": round(last / first, 2),
    }


def run(
    url: str, clients: int, seconds: float, workers: int, threads: int, database_pid: int
) -> dict[str, Any]:
    """Throughput and latency of task completions, and where the CPU went: the clients (this
    process), gunicorn's processes and PostgreSQL's (`database_pid`, the postmaster)."""
    port = _free_port()
    server = _serve(url, port, workers, threads)
    try:
        tokens = _tokens(port)
        # Warm every worker's caches (parsed diagram, names) before measuring.
        _worker(port, tokens, time.monotonic() + 2, {})
        out: dict[str, list[float]] = {}
        # The clients are this process alone: gunicorn is one of its children.
        groups = {
            "clients": (os.getpid(), False),
            "gunicorn": (server.pid, True),
            "postgresql": (database_pid, True),
        }
        cpu_before = cpu_seconds(groups)
        stop = time.monotonic() + seconds
        began = time.perf_counter()
        pool = [
            threading.Thread(target=_worker, args=(port, tokens, stop, out)) for _ in range(clients)
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - began
        cpu_after = cpu_seconds(groups)
    finally:
        server.terminate()
        server.wait(timeout=30)
    completes = out.get("completes", [])
    # Requests other than completions (filings) ran too: CPU is shared out per completion.
    steps = max(len(completes), 1)
    cpu_ms = {
        name: round((cpu_after[name] - cpu_before[name]) * 1000 / steps, 2) for name in groups
    }
    used = sum(cpu_after.values()) - sum(cpu_before.values())
    return {
        "clients": clients,
        "gunicorn": f"{workers} workers × {threads} threads (gthread)",
        "seconds": round(elapsed, 1),
        "steps_per_s": round(len(completes) / elapsed, 1),
        "errors": sum(out.get("errors", [])),
        **latency_summary(completes),
        "cpu_ms_per_step": {**cpu_ms, "all": round(sum(cpu_ms.values()), 2)},
        "cpu_busy": round(used / (elapsed * (os.cpu_count() or 1)), 2),
    }
