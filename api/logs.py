"""JSON logs, one object per line, each carrying the id of the request it belongs to.

Every request gets an id: the caller's `X-Request-ID` when it is well formed (a load balancer's
or another service's), else a fresh one. It is set in a context variable for the request's
thread, so every record logged while serving it — ours, the engine's, Flask's — carries it;
it goes back in the `X-Request-ID` header and in error bodies (`api/errors.py`). One line per
request (`zhunru.http`) replaces gunicorn's access log: it knows the route and the id.

Logging is configured by the entry points (`zhunru serve`, `zhunru worker`,
`api/gunicorn_conf.py`), never by `create_app`.
"""

from __future__ import annotations

import logging
import logging.config
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, g, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
# What we accept from outside: ids that load balancers and tracing tools make (UUIDs, hex,
# base64ish), nothing that could break a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/@-]{7,127}")

_request_id: ContextVar[str | None] = ContextVar("zhunru_request_id", default=None)
http_log = logging.getLogger("zhunru.http")


def request_id() -> str | None:
    """The id of the request being served in this thread, if any."""
    return _request_id.get()


def new_request_id(incoming: str | None) -> str:
    if incoming and WELL_FORMED.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class Formatter(JsonFormatter):
    """python-json-logger's formatter: time, level, logger, message, request_id, extras."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(process)d %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        current = _request_id.get()
        if current is not None:
            log_data.setdefault("request_id", current)


def install(app: Flask) -> None:
    """Give each request its id first (before any other hook can fail) and log it when done."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_end)


def _begin() -> None:
    rid = new_request_id(request.headers.get(HEADER))
    g.request_id = rid
    g.request_id_token = _request_id.set(rid)
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    rid = g.get("request_id")
    if rid is None:  # a hook before ours failed; still answer with an id
        _begin()
        rid = g.request_id
    response.headers[HEADER] = rid
    seconds = time.perf_counter() - g.request_started
    rule = request.url_rule.rule if request.url_rule is not None else None
    http_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,  # never the query: searches name people
            "route": rule,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "remote_addr": request.remote_addr,
        },
    )
    return response


def _end(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        _request_id.reset(token)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig: JSON lines to stderr for everything, gunicorn's error log included;
    gunicorn's access log is dropped in favour of `zhunru.http`'s line."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": Formatter}},
        "handlers": {"json": handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(level))
