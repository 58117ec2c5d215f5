"""GET /instances, GET /instances/{id}, its trail, and the withdraw and objection actions."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.body import json_body
from api.rest import form_ref
from api.schemas import (
    InstanceDetailSchema,
    InstancePageSchema,
    InstanceQuerySchema,
    TrailEntrySchema,
)
from engine.accountability.forms_accountability import APPEAL_FORM
from engine.accountability.services import procedures
from engine.workflow.forms import ReasonSchema
from engine.workflow.services import instances

blp = Blueprint("instances", __name__, url_prefix="/api/v1", description="事项（流程实例）")

_REASON_BODY = {
    "required": True,
    "content": {"application/json": {"schema": form_ref(ReasonSchema)}},
}


@blp.route("/instances")
class Instances(MethodView):
    @blp.arguments(InstanceQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, InstancePageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Search the instances the caller may see, newest first."""
        actor = current_actor()
        return instances.search(context(), actor, instances.InstanceFilter(**query))


@blp.route("/instances/<id:instance_id>")
class InstanceResource(MethodView):
    @blp.response(200, InstanceDetailSchema)
    def get(self, instance_id: int) -> Any:
        """One instance: status, form data so far, open tasks, actions open to the caller."""
        return instances.get(context(), instance_id, current_actor())


@blp.route("/instances/<id:instance_id>/trail")
class Trail(MethodView):
    @blp.response(200, TrailEntrySchema(many=True))
    def get(self, instance_id: int) -> Any:
        """The trail: every step with who, which organisation, role and when."""
        return instances.trail(context(), instance_id, current_actor())


@blp.route("/instances/<id:instance_id>/withdraw")
class Withdraw(MethodView):
    @blp.doc(requestBody=_REASON_BODY)
    @blp.response(200, InstanceDetailSchema)
    def post(self, instance_id: int) -> Any:
        """Exit by withdrawal (applicant department, matter in force)."""
        return instances.withdraw(context(), instance_id, json_body(), current_actor())


@blp.route("/instances/<id:instance_id>/objections")
class Objections(MethodView):
    @blp.doc(requestBody=_REASON_BODY)
    @blp.response(200, InstanceDetailSchema)
    def post(self, instance_id: int) -> Any:
        """A township objects to a matter in force; the gatekeeper decides on exit."""
        return instances.object_to(context(), instance_id, json_body(), current_actor())


@blp.route("/instances/<id:instance_id>/appeals")
class Appeals(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": form_ref(APPEAL_FORM.schema)}},
        }
    )
    @blp.response(200, InstanceDetailSchema)
    def post(self, instance_id: int) -> Any:
        """申诉: the person or unit concerned appeals a fault-tolerance decision in the window."""
        return procedures.appeal(context(), instance_id, json_body(), current_actor())
