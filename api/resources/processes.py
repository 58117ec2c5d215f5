"""GET/POST /processes and POST /processes/{process_id}/instances (apply)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import context, current_actor
from api.body import json_body
from api.resources import form_ref
from api.schemas import InstanceDetailSchema, ProcessSchema
from engine.forms import START_FORMS
from engine.services import deployments, procedures

blp = Blueprint("processes", __name__, url_prefix="/api/v1", description="流程（BPMN 流程图）")


@blp.route("/processes")
class Processes(MethodView):
    @blp.response(200, ProcessSchema(many=True))
    def get(self) -> Any:
        """List deployed processes (newest version of each)."""
        current_actor()
        return deployments.list_processes(context())

    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    )
    @blp.response(201, ProcessSchema)
    def post(self) -> Any:
        """Deploy a BPMN diagram (admin). The same XML deployed twice is stored once."""
        return deployments.deploy_uploaded(context(), request.get_data(), current_actor())


@blp.route("/processes/<string:process_id>/instances")
class ProcessInstances(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [form_ref(form.schema) for form in START_FORMS.values()]}
                }
            },
        }
    )
    @blp.response(201, InstanceDetailSchema)
    def post(self, process_id: str) -> Any:
        """Apply (申请): start an instance with the process's start form — an admission
        application, or a fault-tolerance or clearance request on an accountability case."""
        actor = current_actor()
        return procedures.start_process(context(), process_id, json_body(), actor)
