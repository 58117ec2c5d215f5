"""Documents issued on instances (文书): list, issue, download the PDF as issued."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import context, current_actor
from api.schemas_documents import DocumentSchema, InstanceDocumentsSchema, IssueSchema
from engine.services import documents

blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="文书")


@blp.route("/instances/<id:instance_id>/documents")
class InstanceDocuments(MethodView):
    @blp.response(200, InstanceDocumentsSchema)
    def get(self, instance_id: int) -> Any:
        """The documents issued on the instance, and those the caller may issue now."""
        return documents.documents_of(context(), instance_id, current_actor())

    @blp.arguments(IssueSchema)
    @blp.response(201, DocumentSchema)
    def post(self, body: dict[str, Any], instance_id: int) -> Any:
        """Issue a document: its 文号 is taken, the PDF rendered and its SHA-256 put on the
        trail. Each kind is issued once per instance (409 after)."""
        return documents.issue(context(), instance_id, body["kind"], current_actor())


@blp.route("/documents/<id:document_id>/pdf")
class DocumentPdf(MethodView):
    @blp.doc(responses={"200": {"description": "PDF", "content": {"application/pdf": {}}}})
    def get(self, document_id: int) -> Any:
        """The PDF as issued; its SHA-256 (as on the trail) in the ETag and X-Content-SHA256."""
        found = documents.document_file(context(), document_id, current_actor())
        return pdf_response(found)


def pdf_response(found: documents.DocumentFile) -> Response:
    return stored_file_response(found.data, found.filename, "application/pdf", found.sha256)


def stored_file_response(data: bytes, filename: str, media_type: str, sha256: str) -> Response:
    """A kept file as a download, its SHA-256 (as on the trail) in ETag and X-Content-SHA256."""
    return Response(
        data,
        content_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "ETag": f'"{sha256}"',
            "X-Content-SHA256": sha256,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
