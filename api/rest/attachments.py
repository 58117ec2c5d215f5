"""Attachments (附件): upload, attach to a live instance, list, download as uploaded; and the
export of an instance's whole file (卷宗) with them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import context, current_actor
from api.rest import FILE_UPLOAD, download, uploaded_file
from api.rest.documents import stored_file_response
from api.schemas_documents import AttachmentSchema
from engine.services import attachments, file_export

blp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="附件")


@blp.route("/attachments")
class Uploads(MethodView):
    @blp.response(200, AttachmentSchema(many=True))
    def get(self) -> Any:
        """The caller's uploads not yet submitted with any step."""
        return attachments.pending(context(), current_actor())

    @blp.doc(requestBody=FILE_UPLOAD)
    @blp.response(201, AttachmentSchema)
    def post(self) -> Any:
        """Upload a file (PDF, OFD, Word, Excel, presentation or image, judged by its content,
        within the size limit); name its id in `attachments` when starting an instance or
        completing a task, and it goes with that step, its SHA-256 on the trail."""
        return attachments.upload(context(), current_actor(), *uploaded_file())


@blp.route("/instances/<id:instance_id>/attachments")
class InstanceAttachments(MethodView):
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, instance_id: int) -> Any:
        """The files attached to the instance, oldest first."""
        return attachments.attachments_of(context(), current_actor(), instance_id)

    @blp.doc(requestBody=FILE_UPLOAD)
    @blp.response(201, AttachmentSchema)
    def post(self, instance_id: int) -> Any:
        """Add a file to a live matter or case on its own (补充材料): by its applicant or by
        whoever may take one of its open steps; its SHA-256 goes on the trail."""
        return attachments.add(context(), current_actor(), instance_id, *uploaded_file())


@blp.route("/attachments/<id:attachment_id>/file")
class AttachmentFile(MethodView):
    @blp.doc(responses={"200": {"description": "附件原文件", "content": {"*/*": {}}}})
    def get(self, attachment_id: int) -> Any:
        """The file as uploaded; its SHA-256 in the ETag and X-Content-SHA256."""
        found = attachments.attachment_file(context(), current_actor(), attachment_id)
        return stored_file_response(found.data, found.filename, found.media_type, found.sha256)


@blp.route("/instances/<id:instance_id>/export")
class InstanceFileExport(MethodView):
    @blp.doc(responses={"200": {"description": "卷宗（ZIP）", "content": {"application/zip": {}}}})
    def get(self, instance_id: int) -> Any:
        """The matter's or case's whole file as one ZIP (auditors): documents as issued,
        attachments as uploaded, the trail with the checkpoint and inclusion proofs, and a
        manifest; tools/verify_export.py checks it offline."""
        exported = file_export.export_file(context(), current_actor(), instance_id)
        return download(exported.content, exported.filename, "application/zip")
