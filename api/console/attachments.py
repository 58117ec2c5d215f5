"""附件 in the console: files chosen in a filing or task form go with that step; a matter's
page lists its files and takes a supplement; downloads are the bytes as uploaded."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from api.console.web import bp, context, me
from api.rest import download
from api.rest.documents import stored_file_response
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.services import attachments, file_export
from engine.services.file_kinds import ACCEPTED

FIELD = "attachment_files"  # the file input of a filing or task form
# What the file picker offers first; the content decides, whatever the name says.
PICKER = ".pdf,.ofd,.doc,.docx,.wps,.xls,.xlsx,.et,.ppt,.pptx,.dps,.odt,.ods,.odp,"
PICKER += ".png,.jpg,.jpeg,.gif,.tif,.tiff,.bmp,.webp"
bp.add_app_template_global(PICKER, "attachment_picker")
bp.add_app_template_global(FIELD, "attachment_field")


@bp.app_template_global("upload_hint")
def upload_hint(many: bool = True) -> str:
    limit = context().settings.attachment_max_mb
    if many:
        return f"可选多个文件，合计不超过 {limit} MB；可为{ACCEPTED}。"
    return f"文件不超过 {limit} MB；可为{ACCEPTED}。"


def with_uploads(body: Any) -> Any:
    """The form's body with the files chosen in it uploaded and named in `attachments`;
    a file that cannot be taken stops the step, naming the file and why."""
    chosen = [f for f in request.files.getlist(FIELD) if f.filename]
    if not chosen or not isinstance(body, dict):
        return body
    ids = []
    for upload in chosen:
        try:
            ids.append(attachments.upload(context(), me(), upload.filename, upload.read()).id)
        except InvalidInput as exc:
            why = "；".join(str(m) for messages in exc.errors.values() for m in messages)
            raise InvalidInput(
                "附件未能接收", {"attachments": [f"附件“{upload.filename}”未能接收：{why}"]}
            ) from exc
    return {**body, "attachments": ids}


@bp.route("/matters/<id:instance_id>/attachments", methods=["POST"])
def attachment_add(instance_id: int) -> Response:
    """补充附件: a file added to a live matter or case on its own, its hash on the trail."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要上传的文件。", "error")
    else:
        try:
            added = attachments.add(context(), me(), instance_id, upload.filename, upload.read())
        except (InvalidInput, Conflict, Forbidden) as exc:
            why = "；".join(str(m) for messages in exc.errors.values() for m in messages)
            flash(f"未能添加附件：{why or exc.message}", "error")
        else:
            flash(f"已添加附件“{added.name}”。", "success")
    return redirect(url_for("console.matter_page", instance_id=instance_id) + "#attachments-title")


@bp.route("/attachments/<id:attachment_id>")
def attachment_download(attachment_id: int) -> Response:
    found = attachments.attachment_file(context(), me(), attachment_id)
    return stored_file_response(found.data, found.filename, found.media_type, found.sha256)


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@bp.route("/matters/<id:instance_id>/export.zip")
def file_export_download(instance_id: int) -> Response:
    """导出卷宗 (auditors): documents, attachments and the trail with its proofs, one ZIP."""
    exported = file_export.export_file(context(), me(), instance_id)
    return download(exported.content, exported.filename, "application/zip")
