"""Auditors' pages: search the trail, verify it, download the latest signed checkpoint."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, request

from api.console.labels import ACTION_LABELS
from api.console.web import bp, context, me, render
from engine.errors import Conflict, InvalidInput, NotFound
from engine.trail.services import trail
from engine.trail.services.trail_search import EventQuery
from engine.trail.services.trail_search import search as search_events
from engine.workflow.fields import char_problem

PER_PAGE = 50
FILTERS = ("actor", "organization", "action", "instance_id", "date_from", "date_to")


@bp.route("/audit/trail")
def trail_search() -> tuple[str, int]:
    """留痕查询: events across matters by who, which organisation, what and when."""
    raw = {name: request.args.get(name, "").strip() for name in FILTERS}
    page = max(1, request.args.get("page", 1, type=int) or 1)
    errors: dict[str, list[str]] = {}
    query = _query(raw, page, errors)
    found = None
    if query is not None:
        try:
            found = search_events(context(), me(), query)
        except InvalidInput as exc:
            errors.update(exc.errors)
    return render(
        "trail/audit.html",
        200 if not errors else 422,
        raw=raw,
        found=found,
        errors=errors,
        actions=ACTION_LABELS,
        page=page,
    )


def _query(raw: dict[str, str], page: int, errors: dict[str, list[str]]) -> Any:
    """The search as the use case takes it; a date or number that does not parse is a field
    error, like the API's query schema would report it."""
    values: dict[str, Any] = {k: raw[k] or None for k in ("actor", "organization", "action")}
    for name, value in values.items():
        if value and (problem := char_problem(value)):
            errors[name] = [problem]
    if raw["instance_id"]:
        try:
            values["instance_id"] = int(raw["instance_id"])
        except ValueError:
            errors["instance_id"] = ["应为整数"]
    for name in ("date_from", "date_to"):
        if raw[name]:
            try:
                values[name] = date.fromisoformat(raw[name])
            except ValueError:
                errors[name] = ["日期格式应为 YYYY-MM-DD"]
    if errors:
        return None
    return EventQuery(**values, page=page, per_page=PER_PAGE)


@bp.route("/audit/verify")
def trail_verify() -> tuple[str, int]:
    """核验: every chain and checkpoint checked now; the result as a page."""
    report = trail.verify(context(), me())
    latest = None
    try:
        latest = trail.latest_checkpoint(context(), me())
    except (NotFound, Conflict):
        latest = None
    return render("trail/verify.html", report=report, latest=latest)


@bp.route("/audit/checkpoint.txt")
def checkpoint_download() -> Response:
    """The latest signed checkpoint as a text file: the auditor keeps it as evidence."""
    latest = trail.latest_checkpoint(context(), me())
    return Response(
        latest.note,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="checkpoint-{latest.size}.txt"'},
    )
