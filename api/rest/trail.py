"""Auditors' API: verify the trail, search it, export it with proofs, read or sign checkpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, fields

from api.auth import context, current_actor
from api.schemas import TrailEntrySchema
from engine.trail.services import trail, trail_export, trail_search
from engine.workflow import fields as f

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="审计：核验、检索、导出")

MAX_ID = 2**31 - 1
_FILE = {"type": "string", "format": "binary"}
# fmt=jsonl (the default) or fmt=csv
_EXPORTED = {
    "description": "OK",
    "content": {"application/x-ndjson": {"schema": _FILE}, "text/csv": {"schema": _FILE}},
}


class VerifyQuerySchema(f.Schema):
    checkpoint = f.List(
        f.String(multiline=True, validate=f.length(4096, 1)),
        load_default=list,
        validate=f.length(20),
        metadata={"description": "signed checkpoints an auditor kept (note text), repeatable"},
    )


class ProblemSchema(ma.Schema):
    kind = fields.String()
    message = fields.String()
    instance_id = fields.Integer(allow_none=True)
    seq = fields.Integer(allow_none=True)
    event_id = fields.Integer(allow_none=True)
    checkpoint_id = fields.Integer(allow_none=True)
    first_event_id = fields.Integer(allow_none=True)
    last_event_id = fields.Integer(allow_none=True)


class VerifyReportSchema(ma.Schema):
    ok = fields.Boolean()
    events = fields.Integer()
    chains = fields.Integer()
    checkpoints = fields.Integer()
    latest_checkpoint_size = fields.Integer(allow_none=True)
    events_since_checkpoint = fields.Integer()
    held_checkpoints = fields.Integer()
    problem_count = fields.Integer()
    problems = fields.List(fields.Nested(ProblemSchema))
    warnings = fields.List(fields.String())
    seconds = fields.Float()


class EventQuerySchema(f.Schema):
    actor = f.String(validate=f.length(64), metadata={"description": "username"})
    organization = f.String(validate=f.length(64), metadata={"description": "organisation code"})
    action = f.String(validate=f.length(60))
    instance_id = f.Integer(strict=False, validate=f.between(1, MAX_ID))
    date_from = f.Date(metadata={"description": "first day, county time (inclusive)"})
    date_to = f.Date(metadata={"description": "last day, county time (inclusive)"})
    page = f.Integer(strict=False, load_default=1, validate=f.between(1, 100_000))
    per_page = f.Integer(strict=False, load_default=50, validate=f.between(1, 100))


class ExportFormatSchema(f.Schema):
    fmt = f.String(
        data_key="format",
        load_default="jsonl",
        validate=f.one_of(list(trail_export.FORMATS)),
    )


class EventExportQuerySchema(EventQuerySchema, ExportFormatSchema):
    pass


class TrailEventSchema(TrailEntrySchema):
    """A trail entry found across instances: which event, of which chain, linked to what."""

    id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    prev_hash = fields.String()


class EventPageSchema(ma.Schema):
    items = fields.List(fields.Nested(TrailEventSchema))
    total = fields.Integer(
        metadata={"description": "matches, counted up to 10,000 (or to page × per_page if further)"}
    )
    total_exact = fields.Boolean()
    page = fields.Integer()
    per_page = fields.Integer()


class CheckpointSchema(ma.Schema):
    id = fields.Integer()
    size = fields.Integer()
    root = fields.String(metadata={"description": "RFC 6962 root, hex"})
    note = fields.String(metadata={"description": "C2SP signed note"})
    created_at = fields.DateTime()


def _download(export: trail_export.Export) -> Response:
    return Response(
        export.content,
        content_type=export.media_type,  # already names its charset
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


def _query(args: dict[str, Any]) -> trail_search.EventQuery:
    return trail_search.EventQuery(**{k: v for k, v in args.items() if k != "fmt"})


@blp.route("/audit/verify")
class Verify(MethodView):
    @blp.arguments(VerifyQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, VerifyReportSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Verify every chain, every stored checkpoint and any checkpoints you kept."""
        return trail.verify(context(), current_actor(), query["checkpoint"])


@blp.route("/audit/events")
class Events(MethodView):
    @blp.arguments(EventQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, EventPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Search events across matters by actor, organisation, action and dates."""
        return trail_search.search(context(), current_actor(), _query(query))


@blp.route("/audit/events/export")
class EventsExport(MethodView):
    @blp.arguments(EventExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses={"200": _EXPORTED})
    def get(self, query: dict[str, Any]) -> Any:
        """Export a search's events with the checkpoint and inclusion proofs."""
        export = trail_export.export_search(context(), current_actor(), _query(query), query["fmt"])
        return _download(export)


@blp.route("/audit/checkpoints")
class Checkpoints(MethodView):
    @blp.doc(responses={"200": {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    def get(self) -> Any:
        """The latest checkpoint, as its signed note (keep it: it is your evidence)."""
        latest = trail.latest_checkpoint(context(), current_actor())
        return Response(latest.note, mimetype="text/plain")

    @blp.response(201, CheckpointSchema)
    def post(self) -> Any:
        """Sign a checkpoint over every event now (auditor or platform admin)."""
        return trail.create_checkpoint(context(), current_actor())


@blp.route("/instances/<id:instance_id>/trail/export")
class TrailExport(MethodView):
    @blp.arguments(ExportFormatSchema, location="query", unknown=RAISE)
    @blp.doc(responses={"200": _EXPORTED})
    def get(self, query: dict[str, Any], instance_id: int) -> Any:
        """Export a matter's trail as JSON Lines or CSV, with checkpoint and proofs."""
        export = trail_export.export_instance(context(), current_actor(), instance_id, query["fmt"])
        return _download(export)
