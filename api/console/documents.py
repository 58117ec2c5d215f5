"""文书 in the console: issue a matter's or case procedure's document, download it as issued."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from api.console.web import bp, context, me
from api.rest.documents import pdf_response
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.services import documents


@bp.route("/matters/<id:instance_id>/documents", methods=["POST"])
def document_issue(instance_id: int) -> Response:
    """出具: the document's 文号 is taken and its PDF kept as issued, with its hash on the trail."""
    try:
        issued = documents.issue(context(), instance_id, request.form.get("kind", ""), me())
    except (InvalidInput, Conflict, Forbidden) as exc:
        flash(f"未能出具：{exc.message}", "error")
    else:
        number = f"（{issued.number}）" if issued.number else ""
        flash(f"已出具“{issued.title}”{number}，可下载打印。", "success")
    return redirect(url_for("console.matter_page", instance_id=instance_id) + "#documents-title")


@bp.route("/documents/<id:document_id>.pdf")
def document_download(document_id: int) -> Response:
    """The PDF as issued (the same bytes whose SHA-256 is on the trail)."""
    return pdf_response(documents.document_file(context(), document_id, me()))
