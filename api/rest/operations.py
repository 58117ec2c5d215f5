"""Administrators' operations: stranded instances, incidents, suspend / resume / terminate."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.body import json_body
from api.rest import form_ref
from api.schemas_ops import (
    ControlledInstanceSchema,
    IncidentQuerySchema,
    IncidentSchema,
    ReleasedSchema,
    StrandedInstanceSchema,
)
from engine.workflow.forms import ReasonSchema
from engine.workflow.services import incidents, interventions, stranded, timers

blp = Blueprint("operations", __name__, url_prefix="/api/v1", description="运行维护（平台管理员）")

_REASON = {
    "required": True,
    "content": {"application/json": {"schema": form_ref(ReasonSchema)}},
}


@blp.route("/admin/stranded")
class Stranded(MethodView):
    @blp.response(200, StrandedInstanceSchema(many=True))
    def get(self) -> Any:
        """Instances that cannot move on: not ended, with nothing open, waiting or mergeable."""
        return stranded.find(context(), current_actor())


@blp.route("/admin/stranded/<id:instance_id>/release")
class Release(MethodView):
    @blp.response(200, ReleasedSchema)
    def post(self, instance_id: int) -> Any:
        """Release a stranded instance (re-run the engine on a correctly wired diagram)."""
        status = stranded.release(context(), instance_id, current_actor())
        return {"instance_id": instance_id, "status": status}


@blp.route("/admin/incidents")
class Incidents(MethodView):
    @blp.arguments(IncidentQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, IncidentSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Incidents, newest first: open ones, or all with include_resolved."""
        return incidents.listing(
            context(), current_actor(), open_only=not query["include_resolved"]
        )


@blp.route("/admin/incidents/<id:incident_id>")
class IncidentResource(MethodView):
    @blp.response(200, IncidentSchema)
    def get(self, incident_id: int) -> Any:
        """One incident with its cause."""
        return incidents.get(context(), incident_id, current_actor())


@blp.route("/admin/incidents/<id:incident_id>/retry")
class Retry(MethodView):
    @blp.response(200, IncidentSchema)
    def post(self, incident_id: int) -> Any:
        """Run a timer incident's timers now (a failure counts another attempt: 409)."""
        return timers.retry(context(), incident_id, current_actor())


@blp.route("/admin/incidents/<id:incident_id>/resolve")
class Resolve(MethodView):
    @blp.response(200, IncidentSchema)
    def post(self, incident_id: int) -> Any:
        """Close an incident whose cause is dealt with (a timer incident's timers run again)."""
        return incidents.resolve(context(), incident_id, current_actor())


@blp.route("/instances/<id:instance_id>/suspend")
class Suspend(MethodView):
    @blp.doc(requestBody=_REASON)
    @blp.response(200, ControlledInstanceSchema)
    def post(self, instance_id: int) -> Any:
        """Suspend: no command or timer runs on the instance until it is resumed."""
        return interventions.suspend(context(), instance_id, json_body(), current_actor())


@blp.route("/instances/<id:instance_id>/resume")
class Resume(MethodView):
    @blp.doc(requestBody=_REASON)
    @blp.response(200, ControlledInstanceSchema)
    def post(self, instance_id: int) -> Any:
        """Resume a suspended instance; its timers are due again from its state."""
        return interventions.resume(context(), instance_id, json_body(), current_actor())


@blp.route("/instances/<id:instance_id>/terminate")
class Terminate(MethodView):
    @blp.doc(requestBody=_REASON)
    @blp.response(200, ControlledInstanceSchema)
    def post(self, instance_id: int) -> Any:
        """Terminate: end the instance where it stands (open tasks cancelled, matters exit)."""
        return interventions.terminate(context(), instance_id, json_body(), current_actor())
