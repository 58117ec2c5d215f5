"""GET/POST /processes, versions and their activation, and POST /processes/{process_id}/instances
(apply)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import context, current_actor
from api.body import json_body
from api.rest import FORM_BODY
from api.schemas import (
    DiffQuerySchema,
    InstanceDetailSchema,
    ProcessSchema,
    StepFormSchema,
    VersionDiffSchema,
)
from engine.accountability.services import procedures
from engine.workflow.packages import ZIP_MEDIA_TYPE, Package, read_zip
from engine.workflow.services import deployments

blp = Blueprint("processes", __name__, url_prefix="/api/v1", description="流程（BPMN 流程图）")

DIAGRAM_MEDIA_TYPE = "application/xml"
UPLOAD_TYPES = (ZIP_MEDIA_TYPE, DIAGRAM_MEDIA_TYPE)


def _package_body() -> Package:
    """The uploaded package (zip) or bare diagram (XML); any other declared content type is a
    415 in the error shape."""
    if request.mimetype == ZIP_MEDIA_TYPE:
        return read_zip(request.get_data())
    if request.mimetype != DIAGRAM_MEDIA_TYPE:
        abort(
            415,
            message="流程须以 application/zip（程序包）或 application/xml（流程图）格式上传",
            errors={
                "content_type": [
                    f"请求的 Content-Type 为 {request.mimetype or '（未声明）'}，"
                    f"应为 {' 或 '.join(UPLOAD_TYPES)}"
                ]
            },
        )
    return Package(request.get_data())


@blp.route("/processes")
class Processes(MethodView):
    @blp.response(200, ProcessSchema(many=True))
    def get(self) -> Any:
        """List processes (the active version of each)."""
        current_actor()
        return deployments.list_processes(context())

    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in UPLOAD_TYPES
            },
        }
    )
    @blp.response(201, ProcessSchema)
    @blp.alt_response(415, description="请求体不是 application/zip 或 application/xml")
    def post(self) -> Any:
        """Deploy a procedure package (admin) as a draft version. A package is a zip of one
        BPMN diagram and the JSON Schema forms its steps name (`application/zip`); a diagram
        naming no files may be sent bare (`application/xml`). Nothing changes for users until
        the version is activated. The same package deployed twice is stored once: the stored
        version is returned as it is."""
        actor = current_actor()
        return deployments.deploy_uploaded(context(), _package_body(), actor)


@blp.route("/processes/<string:process_id>/versions")
class ProcessVersions(MethodView):
    @blp.response(200, ProcessSchema(many=True))
    def get(self, process_id: str) -> Any:
        """Every version of a process, newest first, with its state (draft / active / retired),
        who deployed and activated it, and when."""
        current_actor()
        return deployments.list_versions(context(), process_id)


@blp.route("/processes/<string:process_id>/versions/<id:version>/diff")
class VersionDiff(MethodView):
    @blp.arguments(DiffQuerySchema, location="query")
    @blp.response(200, VersionDiffSchema)
    def get(self, query: dict[str, int], process_id: str, version: int) -> Any:
        """What changed in a version against another (`against`): steps added, removed and
        changed, and forms changed."""
        current_actor()
        return deployments.diff(context(), process_id, version, query["against"])


@blp.route("/processes/<string:process_id>/versions/<id:version>/forms")
class VersionForms(MethodView):
    @blp.response(200, StepFormSchema(many=True))
    def get(self, process_id: str, version: int) -> Any:
        """The forms of a version's steps as JSON Schema (the start form first), for clients
        that draw and check them before submitting; the server validates against the same."""
        current_actor()
        return deployments.forms_of(context(), process_id, version)


@blp.route("/processes/<string:process_id>/versions/<id:version>/activate")
class ActivateVersion(MethodView):
    @blp.response(200, ProcessSchema)
    def post(self, process_id: str, version: int) -> Any:
        """Activate a version (admin): new instances start on it, running ones keep theirs.
        Puts a draft into use, or rolls back to an earlier version; the version is vetted
        again first, and the change is recorded on the administrative trail."""
        return deployments.activate(context(), process_id, version, current_actor())


@blp.route("/processes/<string:process_id>/instances")
class ProcessInstances(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "description": "the start form of the process's current version",
            "content": {"application/json": {"schema": FORM_BODY}},
        }
    )
    @blp.response(201, InstanceDetailSchema)
    def post(self, process_id: str) -> Any:
        """Apply (申请): start an instance with the process's start form — an admission
        application, or a fault-tolerance or clearance request on an accountability case."""
        actor = current_actor()
        return procedures.start_process(context(), process_id, json_body(), actor)
