"""Operations over real HTTP: /metrics (in process, and summed across gunicorn workers), request
ids in headers, error bodies and every JSON log line of a request."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from api import create_app, logs
from config import Settings, SettingsError
from engine.models import Instance
from engine.services.context import Context, build_context
from tests.conftest import SECRET, ApiClient, make_settings, serve
from tests.factories import LAWFUL, application

ROOT = Path(__file__).resolve().parents[2]
START_ROUTE = "/api/v1/processes/<string:process_id>/instances"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(base_url: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    response = requests.get(f"{base_url}/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.text)


def test_metrics_count_requests_and_commands_and_show_timer_lag(
    server: str, login, ctx: Context, clock
) -> None:
    before = scrape(server)
    nongye, sifa = login("nongye"), login("sifa")
    started = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    assert started.status_code == 201, started.text
    denied = nongye.post("/api/v1/processes/matter_admission/instances", json={"name": ""})
    assert denied.status_code == 422
    task = [t for t in sifa.get("/api/v1/tasks").json() if t["bpmn_id"] == "legal_review"][0]
    assert sifa.post(f"/api/v1/tasks/{task['id']}/complete", json=LAWFUL).status_code == 200

    after = scrape(server)
    started_ok = dict(route=START_ROUTE, method="POST", status="2xx")
    count = "zhunru_http_request_duration_seconds_count"
    assert value(after, count, **started_ok) == value(before, count, **started_ok) + 1
    assert value(after, "zhunru_http_request_duration_seconds_sum", **started_ok) > 0
    commands = "zhunru_commands_total"
    for kind, result in [("start", "ok"), ("start", "invalid"), ("complete", "ok")]:
        assert value(after, commands, kind=kind, outcome=result) == (
            value(before, commands, kind=kind, outcome=result) + 1
        ), (kind, result)
    assert value(after, commands, kind="Token", outcome="ok") == 0, "signing in is no command"
    assert all("nongye" not in str(key) and "org" not in str(key) for key in after), (
        "no label names a user or an organisation"
    )

    # The review deadline is armed; run the clock past it without a worker to fire it.
    assert value(after, "zhunru_timer_lag_seconds") == 0
    assert value(after, "zhunru_database_up") == 1
    assert ("zhunru_incidents_open", ()) in after
    clock.advance(timedelta(days=60))
    with ctx.db.read() as session:
        oldest = session.scalar(select(func.min(Instance.next_timer_at)))
    lag = value(scrape(server), "zhunru_timer_lag_seconds")
    assert lag == pytest.approx((clock.now() - oldest).total_seconds()) and lag > 0


def test_metrics_token_when_configured(database_url: str, clock) -> None:
    settings = make_settings(database_url).with_overrides(metrics_token="scrape-" + "t" * 32)
    context = build_context(settings, clock=clock)
    try:
        with serve(create_app(context=context)) as url:
            assert requests.get(f"{url}/metrics", timeout=10).status_code == 401
            wrong = {"Authorization": "Bearer nope"}
            assert requests.get(f"{url}/metrics", headers=wrong, timeout=10).status_code == 401
            scraped = scrape(url, headers={"Authorization": f"Bearer {settings.metrics_token}"})
            assert value(scraped, "zhunru_database_up") == 1
    finally:
        context.db.dispose()


def test_metrics_answer_when_the_database_does_not(tmp_path: Path, clock) -> None:
    unreachable = tmp_path / "a-directory-not-a-database"
    unreachable.mkdir()
    context = build_context(make_settings(f"sqlite:///{unreachable}"), clock=clock)
    try:
        with serve(create_app(context=context)) as url:
            scraped = scrape(url)
    finally:
        context.db.dispose()
    assert value(scraped, "zhunru_database_up") == 0
    assert ("zhunru_timer_lag_seconds", ()) not in scraped, "no made-up value"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing our JSON lines into a buffer, at INFO, for one test."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.Formatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines_of(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


def test_request_id_in_header_error_body_and_every_log_line(ctx: Context, json_log) -> None:
    app = create_app(context=ctx)

    def boom() -> str:
        logging.getLogger("zhunru.test").info("about to fail", extra={"step": 1})
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/_boom", "boom", boom)
    with serve(app) as url:
        nongye = ApiClient(url, "nongye")
        given = "req-7f3c2a9e-lb"
        missing = nongye.get("/api/v1/instances/999999", headers={"X-Request-ID": given})
        assert missing.status_code == 404
        assert missing.headers["X-Request-ID"] == given
        assert missing.json()["request_id"] == given

        for bad in ("short", "has space inside it", "x" * 200, "<script>alert(1)</script>"):
            answered = nongye.get("/api/v1/health", headers={"X-Request-ID": bad})
            assert answered.headers["X-Request-ID"] != bad
            assert logs.WELL_FORMED.fullmatch(answered.headers["X-Request-ID"])

        failed = requests.get(f"{url}/api/v1/_boom", timeout=10)
        assert failed.status_code == 500
        rid = failed.headers["X-Request-ID"]
        assert failed.json()["request_id"] == rid
        assert nongye.get("/api/v1/health").headers["X-Request-ID"] != rid

    lines = lines_of(json_log)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    of_boom = [line for line in lines if line.get("request_id") == rid]
    loggers = [line["logger"] for line in of_boom]
    assert loggers[0] == "zhunru.test" and loggers[-1] == "zhunru.http"
    assert set(loggers[1:-1]) == {"api"}, "the error handlers' lines"
    assert of_boom[0]["step"] == 1
    assert "RuntimeError: boom" in of_boom[1]["exc_info"]
    assert of_boom[-1]["route"] == "/api/v1/_boom" and of_boom[-1]["status"] == 500
    of_missing = [line for line in lines if line.get("request_id") == given]
    assert [(line["logger"], line["status"]) for line in of_missing] == [("zhunru.http", 404)]
    assert not [
        line for line in lines if line["logger"] == "zhunru.http" and "request_id" not in line
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_workers_share_their_counts_and_log_json(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """`zhunru serve --workers 2`: whichever worker answers a scrape reports every request."""
    database = tmp_path / "zhunru.db"
    database.write_bytes(sqlite_template.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHUNRU_", "PROMETHEUS_"))}
    env.update(ZHUNRU_DATABASE_URL=f"sqlite:///{database}", ZHUNRU_SECRET_KEY=SECRET)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log_path.read_text()
            with suppress(requests.RequestException):
                if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        sent: set[str] = set()
        while len(_pids_serving(log_path, sent)) < 2:  # until both workers have answered
            assert len(sent) < 600, "one worker took every connection"
            for _ in range(10):  # new connections each: the workers compete to accept them
                answered = requests.post(f"{url}/api/v1/tasks/1/claim", timeout=10)
                assert answered.status_code == 401
                sent.add(answered.headers["X-Request-ID"])
        counted = [
            value(scrape(url), "zhunru_commands_total", kind="claim", outcome="unauthenticated")
            for _ in range(6)
        ]
        assert counted == [float(len(sent))] * 6
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    lines = lines_of(io.StringIO(log_path.read_text()))
    assert any(line["logger"] == "gunicorn.error" for line in lines), "gunicorn logs JSON too"


def _pids_serving(log_path: Path, request_ids: set[str]) -> set[int]:
    text = log_path.read_text()
    lines = lines_of(io.StringIO(text[: text.rfind("\n") + 1]))  # whole lines only
    return {line["pid"] for line in lines if line.get("request_id") in request_ids}


def test_operations_settings() -> None:
    settings = Settings.from_env({"ZHUNRU_METRICS_TOKEN": "t" * 40, "ZHUNRU_LOG_LEVEL": "debug"})
    assert settings.metrics_token == "t" * 40 and settings.log_level == "DEBUG"
    assert Settings.from_env({}).log_level == "INFO" and Settings.from_env({}).metrics_token == ""
    with pytest.raises(SettingsError, match="ZHUNRU_LOG_LEVEL"):
        Settings.from_env({"ZHUNRU_LOG_LEVEL": "loud"})
