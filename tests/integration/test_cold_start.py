"""A freshly started server takes a burst of first requests that each need a parsed diagram.

lxml's XSD validator built concurrently by gunicorn threads failed ("not a built-in type"), and
the worker where that happened failed every later parse. So: a fresh `zhunru serve` with two
workers of eight threads, and as soon as it answers /health, sixteen concurrent first requests —
filings (the diagram is parsed on a process's first filing) and deployments of new diagram
versions (parsed on upload) — repeated with a restart each round. Not one may fail.

The race itself is rare: on this machine kind (lxml 6.1.3, libxml2 2.14.6) it did not show even
on the code before the fix (10 rounds here, and 160 fresh processes of 16 threads building the
validator at once). So this guards the kind — a fresh process under a burst of first requests
— rather than reproducing that one failure on demand.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from engine.workflow.packages import Package
from tests.factories import application
from tests.packages import shipped, zipped
from tests.servers import BACKEND_PARAMS, Client, ZhunruServer, fresh_database, running

ROUNDS = 10
BURST = 16
APPLICANTS = ("nongye", "jiaoyu", "minzheng")
TOWNSHIPS = ("chengguan", "donghe", "xishan", "nanhu", "beiling")
PACKAGES = {p: shipped(p) for p in ("matter_admission", "fault_tolerance", "clearance")}


def variant(process: str, label: str) -> tuple[bytes, dict[str, str]]:
    """The same package as a new version (a comment changes its diagram's sha256, so it is
    parsed anew), as uploaded: a zip when it has forms, else the bare diagram."""
    package = PACKAGES[process]
    head, _, rest = package.xml.partition(b"?>")
    xml = head + b"?>\n<!-- " + label.encode() + b" -->" + rest
    if package.files:
        return zipped(Package(xml, package.files)), {"Content-Type": "application/zip"}
    return xml, {"Content-Type": "application/xml"}


def first_requests(users: dict[str, Client], round_: int, rng: random.Random) -> list[str]:
    """BURST requests released together; each one's outcome ("ok" or its status)."""
    barrier = threading.Barrier(BURST, timeout=30)

    def one(seat: int) -> str:
        if seat < len(PACKAGES):  # a new version of a diagram, parsed on upload
            upload, headers = variant(list(PACKAGES)[seat], f"cold start round {round_}")
            barrier.wait()
            response = (
                users["admin"].session().post("/api/v1/processes", data=upload, headers=headers)
            )
        else:  # a filing: a process parses the diagram on its first one
            body = application(
                name=f"冷启动第{round_}轮第{seat}号事项", townships=[townships[seat]]
            )
            barrier.wait()
            response = (
                users[APPLICANTS[seat % len(APPLICANTS)]]
                .session()
                .post("/api/v1/processes/matter_admission/instances", json=body)
            )
        return "ok" if response.status_code == 201 else f"{response.status_code} {response.text}"

    townships = [rng.choice(TOWNSHIPS) for _ in range(BURST)]
    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(one, range(BURST)))


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_sixteen_first_requests_to_a_fresh_server_all_succeed(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    database_url = fresh_database(request, backend, tmp_path)
    server = ZhunruServer(database_url, tmp_path, workers=2, threads=8)
    rng = random.Random(7)
    outcomes: Counter[str] = Counter()
    with running(server):
        users = {u: Client(server, u, keepalive=False) for u in (*APPLICANTS, "admin")}
        for round_ in range(1, ROUNDS + 1):
            # How the last one ended does not matter here (nothing was in flight): kill it.
            server.restart(graceful=False)  # nothing below has run in these processes yet
            try:
                results = first_requests(users, round_, rng)
            except requests.RequestException as exc:
                pytest.fail(f"round {round_}: {exc!r}\n{server.log_tail()}")
            outcomes.update(results)
            assert results == ["ok"] * BURST, f"round {round_}: {results}\n{server.log_tail()}"
            log = server.log_path.read_text(errors="replace")
            assert "Traceback" not in log, server.log_tail()
    assert outcomes == Counter({"ok": ROUNDS * BURST})


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_concurrent_deployments_of_one_process_all_succeed(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    """Five new versions of one diagram, one of them twice, uploaded at once: each is stored
    once with its own version number; the repeated upload answers with the same one."""
    database_url = fresh_database(request, backend, tmp_path)
    server = ZhunruServer(database_url, tmp_path, workers=2, threads=8)
    with running(server):
        admin = Client(server, "admin", keepalive=False)
        for round_ in range(1, 4):
            xmls = [variant("matter_admission", f"race {round_}-{n}") for n in (0, 1, 2, 3, 4)]
            xmls.append(xmls[0])  # the same upload twice
            barrier = threading.Barrier(len(xmls), timeout=30)

            def deploy(
                upload: tuple[bytes, dict[str, str]], barrier: threading.Barrier = barrier
            ) -> tuple[int, dict]:
                session = admin.session()
                barrier.wait()
                response = session.post("/api/v1/processes", data=upload[0], headers=upload[1])
                return response.status_code, response.json()

            with ThreadPoolExecutor(len(xmls)) as pool:
                results = list(pool.map(deploy, xmls))
            assert [status for status, _ in results] == [201] * len(xmls), results
            versions = [body["version"] for _, body in results]
            assert versions[0] == versions[-1], "the same XML is one deployment"
            assert len(set(versions)) == len(xmls) - 1, versions
