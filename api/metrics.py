"""Prometheus metrics at GET /metrics (prometheus-client).

Measured in each API process:
  zhunru_http_request_duration_seconds{route, method, status}  histogram; route is the URL rule
      (`/api/v1/tasks/<id:task_id>/complete`), never the URL, and status the class (`2xx`)
  zhunru_commands_total{kind, outcome}  state-changing requests: `complete`, `start`, … and
      `ok`, `invalid`, `forbidden`, `not_found`, `conflict`, `unauthenticated`, `error`
Read from the database at scrape time (`engine/services/gauges.py`):
  zhunru_timer_lag_seconds and whatever else the engine declares there, plus
  zhunru_database_up (0 when those could not be read).

No label carries an organisation, a user or an id: what /metrics shows is county-wide.

Several gunicorn workers: prometheus-client's multiprocess mode. Each worker writes its
counts to files in PROMETHEUS_MULTIPROC_DIR and a scrape, whichever worker answers, sums them.
prometheus-client decides between the two modes when it is first imported, so this module is
imported by `create_app`, after `zhunru serve` (or `api/gunicorn_conf.py`) has set the
directory; `Metrics` refuses to start if the decision went the other way.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from engine.services import gauges
from engine.services.context import Context

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# State-changing endpoints, REST and console alike, by what they do. A POST to an endpoint not
# named here counts under its endpoint name; the ones that change nothing are left out.
COMMAND_KINDS = {
    "processes.Processes": "deploy",
    "processes.ProcessInstances": "start",
    "console.apply": "start",
    "console.start_procedure": "start",
    "instances.Withdraw": "withdraw",
    "instances.Objections": "object",
    "instances.Appeals": "appeal",
    "tasks.Claim": "claim",
    "console.claim": "claim",
    "tasks.Complete": "complete",
    "console.task_form": "complete",
    "cases.Cases": "open_case",
    "console.open_case": "open_case",
    "cases.Findings": "finding",
    "console.case_finding": "finding",
    "catalog.Items": "catalog_add",
    "catalog.Item": "catalog_change",
    "catalog.Retire": "catalog_retire",
    "catalog.Import": "catalog_import",
    "audit.Checkpoints": "checkpoint",
}
NOT_COMMANDS = {"auth.Token", "console.login", "console.logout", "catalog.Precheck"}
OUTCOMES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "invalid",
    415: "invalid",
    422: "invalid",
}


def command_kind(endpoint: str | None, view_args: dict[str, object] | None) -> str | None:
    if endpoint is None or endpoint in NOT_COMMANDS:
        return None
    if endpoint == "console.matter_action" and view_args:
        return str(view_args.get("action"))  # withdraw | object | appeal
    return COMMAND_KINDS.get(endpoint, endpoint)


def outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status >= 500:
        return "error"
    return OUTCOMES.get(status, "rejected")


class DatabaseGauges(Collector):
    """The engine's gauges, read when scraped (the same answer from every process)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("zhunru_database_up", "1 when the database gauges could be read.")
        try:
            readings = gauges.read_all(self.ctx)
            up.add_metric([], 1.0)
        except SQLAlchemyError:
            current_app.logger.warning("metrics: database gauges unavailable", exc_info=True)
            readings = []
            up.add_metric([], 0.0)
        yield up
        for gauge, reading in readings:
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=gauge.labels)
            if isinstance(reading, int | float):
                family.add_metric([], float(reading))
            else:
                for label_values, value in reading.items():
                    family.add_metric(list(label_values), float(value))
            yield family


class Metrics:
    """This process's metrics and how to expose them with the database's."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        if self.multiprocess_dir and values.ValueClass is values.MutexValue:
            raise RuntimeError(
                f"{MULTIPROC_ENV} was set after prometheus_client was imported: "
                "set it before the server starts (zhunru serve does)"
            )
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "zhunru_http_request_duration_seconds",
            "Time to answer an HTTP request, by URL rule, method and status class.",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.commands = Counter(
            "zhunru_commands",
            "State-changing requests by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self.latency.labels(route, method, f"{status // 100}xx").observe(seconds)

    def count_command(self, kind: str, status: int) -> None:
        self.commands.labels(kind, outcome(status)).inc()

    def exposition(self) -> bytes:
        scrape = CollectorRegistry()
        if self.multiprocess_dir:
            MultiProcessCollector(scrape, path=self.multiprocess_dir)
        else:
            scrape.register(self.registry)
        scrape.register(DatabaseGauges(self.ctx))
        return generate_latest(scrape)


def install(app: Flask, ctx: Context) -> None:
    """Count every request (after the request id hook, which times it) and serve /metrics."""
    metrics = Metrics(ctx)
    app.extensions["zhunru.metrics"] = metrics
    token = ctx.settings.metrics_token

    def record(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:
            return response
        rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        metrics.observe(rule, request.method, response.status_code, time.perf_counter() - started)
        if request.method not in SAFE_METHODS:
            kind = command_kind(request.endpoint, request.view_args)
            if kind is not None:
                metrics.count_command(kind, response.status_code)
        return response

    def scrape() -> Response:
        if token and not _bearer_matches(token):
            return Response(
                "metrics token required\n",
                401,
                {"WWW-Authenticate": 'Bearer realm="metrics"'},
                mimetype="text/plain",
            )
        return Response(metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.after_request(record)
    app.add_url_rule("/metrics", "metrics", scrape, methods=["GET"])


def _bearer_matches(token: str) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    )
