"""Fixtures: a demo county on real SQLite and real PostgreSQL, a context, a live HTTP server."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from api import create_app
from config import Settings
from devtools import pgserver
from engine.demo import load_demo
from engine.services.context import Context, build_context, create_schema, register_processes
from engine.workflow.clock import ManualClock
from engine.workflow.runtime import EngineFailure

DEMO_PASSWORD = "demo-pass-for-tests"
SECRET = "test-secret-" + "x" * 40
BACKENDS = [b for b in os.environ.get("ZHUNRU_TEST_BACKENDS", "sqlite,postgres").split(",") if b]
_counter = itertools.count()


# Files the tests store (issued documents, attachments), under their hashes: shared is harmless.
BLOBS = Path(tempfile.gettempdir()) / "zhunru-test-blobs"


def make_settings(database_url: str) -> Settings:
    # The test servers speak plain http on 127.0.0.1: local development, no Secure cookie.
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        demo_password=DEMO_PASSWORD,
        cookie_secure=False,
        blob_dir=BLOBS,
        # Every reuse of a kept workflow is checked against the state a restore would give.
        workflow_cache_check=True,
    )


def _build_demo(url: str) -> None:
    ctx = build_context(make_settings(url))
    create_schema(ctx)
    load_demo(ctx, DEMO_PASSWORD)
    ctx.db.dispose()


@pytest.fixture(scope="session", autouse=True)
def domains_registered() -> None:
    """What the composition root registers (process kinds, named form checks, operations):
    parsing a shipped package needs its checks, whichever test happens to run first."""
    register_processes()


@pytest.fixture(scope="session")
def postgres() -> Iterator[pgserver.PostgresServer]:
    server = pgserver.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.db"
    _build_demo(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: pgserver.PostgresServer) -> str:
    admin = create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE zhunru_template"))
    admin.dispose()
    _build_demo(postgres.url("zhunru_template"))
    return "zhunru_template"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database holding the demo county, on each backend in turn."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "zhunru.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres")
    template = request.getfixturevalue("postgres_template")
    name = f"zhunru_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()
    return server.url(name)


@pytest.fixture
def clock() -> ManualClock:
    # Start at the real time: SpiffWorkflow itself compares timers with the wall clock, so the
    # injected clock may only run ahead of it (tests move it forward, never back).
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def ctx(database_url: str, clock: ManualClock) -> Iterator[Context]:
    context = build_context(make_settings(database_url), clock=clock)
    yield context
    context.db.dispose()


class ApiClient:
    """A real HTTP client signed in as one demo user."""

    def __init__(self, base_url: str, username: str | None = None) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.username = username
        if username:
            response = self.http.post(
                f"{base_url}/api/v1/auth/token",
                json={"username": username, "password": DEMO_PASSWORD},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base_url + path, timeout=30, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.patch(self.base_url + path, timeout=30, **kwargs)

    def sign_in(self, username: str, password: str) -> requests.Response:
        """Sign in as someone else (e.g. with a password an administrator issued)."""
        response = self.http.post(
            f"{self.base_url}/api/v1/auth/token",
            json={"username": username, "password": password},
            timeout=10,
        )
        if response.status_code == 200:
            self.username = username
            self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return response


@contextmanager
def serve(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve a WSGI app over real HTTP on 127.0.0.1, threaded like production; yields its URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def server(ctx: Context) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1, threaded like production."""
    with serve(create_app(context=ctx)) as url:
        yield url


@pytest.fixture
def login(server: str):
    def _login(username: str | None = None) -> ApiClient:
        return ApiClient(server, username)

    return _login


# An engine failure in a test reads, in the run's last lines, as the incident's cause (the
# step and the exception inside SpiffWorkflow), not only as "incident N was opened".
_ENGINE_FAILURES = pytest.StashKey[list[str]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    failure = call.excinfo.value if call.excinfo is not None else None
    while failure is not None and not isinstance(failure, EngineFailure):
        failure = failure.__cause__ or failure.__context__
    if failure is not None:
        found = item.config.stash.setdefault(_ENGINE_FAILURES, [])
        found.append(f"{item.nodeid} ({call.when}): step {failure.step}: {failure.cause}")
        outcome.get_result().sections.append(("engine failure", found[-1]))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    found = config.stash.get(_ENGINE_FAILURES, [])
    if found:
        terminalreporter.write_sep("=", "engine failures")
        for line in found:
            terminalreporter.write_line(line)
