"""GET/POST /processes, versions and their activation, and POST /processes/{process_id}/instances
(apply)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import context, current_actor
from api.body import json_body
from api.resources import form_ref
from api.schemas import InstanceDetailSchema, ProcessSchema
from engine.forms import START_FORMS
from engine.services import deployments, procedures

blp = Blueprint("processes", __name__, url_prefix="/api/v1", description="流程（BPMN 流程图）")

DIAGRAM_MEDIA_TYPE = "application/xml"


def _diagram_body() -> bytes:
    """The uploaded diagram; any other declared content type is a 415 in the error shape."""
    if request.mimetype != DIAGRAM_MEDIA_TYPE:
        abort(
            415,
            message="流程图须以 application/xml 格式上传",
            errors={
                "content_type": [
                    f"请求的 Content-Type 为 {request.mimetype or '（未声明）'}，"
                    f"应为 {DIAGRAM_MEDIA_TYPE}"
                ]
            },
        )
    return request.get_data()


@blp.route("/processes")
class Processes(MethodView):
    @blp.response(200, ProcessSchema(many=True))
    def get(self) -> Any:
        """List deployed processes (the current version of each)."""
        current_actor()
        return deployments.list_processes(context())

    @blp.doc(
        requestBody={
            "required": True,
            "content": {DIAGRAM_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    )
    @blp.response(201, ProcessSchema)
    @blp.alt_response(415, description="请求体不是 application/xml")
    def post(self) -> Any:
        """Deploy a BPMN diagram (admin) and make it current. The same XML deployed twice is
        stored once; deploying the XML of an earlier version makes that version current again.
        Only `Content-Type: application/xml` is accepted."""
        actor = current_actor()
        return deployments.deploy_uploaded(context(), _diagram_body(), actor)


@blp.route("/processes/<string:process_id>/versions")
class ProcessVersions(MethodView):
    @blp.response(200, ProcessSchema(many=True))
    def get(self, process_id: str) -> Any:
        """Every deployed version of a process, newest first; `current` marks the one new
        applications start on."""
        current_actor()
        return deployments.list_versions(context(), process_id)


@blp.route("/processes/<string:process_id>/versions/<id:version>/activate")
class ActivateVersion(MethodView):
    @blp.response(200, ProcessSchema)
    def post(self, process_id: str, version: int) -> Any:
        """Make a version current (admin): new applications start on it, running ones keep
        theirs. Rolls a bad deployment back; the version is vetted again first, and the
        change is recorded on the administrative trail."""
        return deployments.activate(context(), process_id, version, current_actor())


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
