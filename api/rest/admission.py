"""GET /register (admitted matters) and /register/export (PDF, Excel, CSV); GET and POST
/instances/{id}/resources (费随事转: what each township was promised and what arrived)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.rest import download
from api.schemas import (
    DeliveryBodySchema,
    RegisterEntrySchema,
    RegisterExportQuerySchema,
    RegisterQuerySchema,
    TownshipResourcesSchema,
)
from engine.admission.services import matters, register_files, resources

blp = Blueprint(
    "townships", __name__, url_prefix="/api/v1", description="乡镇准入事项台账与费随事转"
)


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, RegisterEntrySchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The register of admitted matters (a township sees its own)."""
        return matters.register(context(), current_actor(), **query)


@blp.route("/register/export")
class RegisterExport(MethodView):
    @blp.arguments(RegisterExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(
        responses={
            "200": {
                "description": "台账文件",
                "content": {
                    "application/pdf": {},
                    "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                },
            }
        }
    )
    def get(self, query: dict[str, Any]) -> Any:
        """The register as a printable PDF (landscape, the county's layout if it has one), or
        an Excel or CSV table: the same rows as GET /register."""
        found = register_files.register_file(
            context(), current_actor(), query.pop("format"), **query
        )
        return download(found.data, found.filename, found.media_type)


@blp.route("/instances/<id:instance_id>/resources")
class Resources(MethodView):
    @blp.response(200, TownshipResourcesSchema(many=True))
    def get(self, instance_id: int) -> Any:
        """Each township's resources for the matter: its share of the promise, what arrived
        and when, what is still owed and by when (a township reads its own)."""
        return resources.of_instance(context(), current_actor(), instance_id)

    @blp.arguments(DeliveryBodySchema, unknown=RAISE)
    @blp.response(201, TownshipResourcesSchema)
    def post(self, body: dict[str, Any], instance_id: int) -> Any:
        """费随事转: the applicant records resources it sent to a township (`township`), the
        township what reached it; only what the township received counts, and the shortfall
        closes when all of the promise is in. Each side is told of the other's record."""
        return resources.deliver(context(), current_actor(), instance_id, body)
