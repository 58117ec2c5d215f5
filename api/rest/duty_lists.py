"""Duty lists (/catalog), the pre-check of an application, and the burden report."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.body import json_body
from api.rest import FILE_UPLOAD, FORM_BODY, download, json_request, uploaded_file
from api.rest.burden import XLSX
from api.schemas_duty_lists import (
    BurdenQuerySchema,
    BurdenReportSchema,
    CatalogItemSchema,
    CatalogPageSchema,
    ExportQuerySchema,
    ImportResultSchema,
    ItemQuerySchema,
    PrecheckQuerySchema,
    PreCheckSchema,
)
from engine.admission.services import burden
from engine.duty_lists.catalog_files import FORMATS
from engine.duty_lists.catalog_forms import ItemEditSchema, ItemSchema, RetireSchema
from engine.duty_lists.services import catalog, catalog_io, precheck

blp = Blueprint(
    "catalog", __name__, url_prefix="/api/v1", description="职责清单、申请预检与负担报告"
)


_FILE = {"type": "string", "format": "binary"}
_CSV = {"text/csv": {"schema": _FILE}}
_XLSX = {FORMATS["xlsx"]: {"schema": _FILE}}


def _download(data: bytes, filename: str, content_type: str) -> Response:
    return Response(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/catalog/items")
class Items(MethodView):
    @blp.arguments(ItemQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CatalogPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """A township's effective duty list (template + additions − removals), searched, paged."""
        return catalog.list_items(context(), current_actor(), catalog.ItemFilter(**query))

    @blp.doc(requestBody=json_request(ItemSchema))
    @blp.response(201, CatalogItemSchema)
    def post(self) -> Any:
        """Add an item to the county template, or (scope) to one township's list."""
        actor = current_actor()
        return catalog.create_item(context(), actor, json_body())


@blp.route("/catalog/items/<id:item_id>")
class Item(MethodView):
    @blp.doc(requestBody=json_request(ItemEditSchema))
    @blp.response(200, CatalogItemSchema)
    def patch(self, item_id: int) -> Any:
        """Edit an item's content (admin, gatekeeper)."""
        actor = current_actor()
        return catalog.edit_item(context(), actor, item_id, json_body())


@blp.route("/catalog/items/<id:item_id>/retire")
class Retire(MethodView):
    @blp.doc(requestBody=json_request(RetireSchema))
    @blp.response(200, CatalogItemSchema)
    def post(self, item_id: int) -> Any:
        """Retire an item everywhere, or (township) take a template item off one township."""
        actor = current_actor()
        return catalog.retire_item(context(), actor, item_id, json_body())


@blp.route("/catalog/export")
class Export(MethodView):
    @blp.arguments(ExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses={"200": {"description": "OK", "content": {**_CSV, **_XLSX}}})
    def get(self, query: dict[str, Any]) -> Any:
        """Export lists as CSV or XLSX (a township's effective list, or every list)."""
        exported = catalog_io.export_items(
            context(), current_actor(), query["format"], query.get("township")
        )
        return _download(exported.data, exported.filename, exported.content_type)


@blp.route("/catalog/import")
class Import(MethodView):
    @blp.doc(requestBody=FILE_UPLOAD)
    @blp.response(200, ImportResultSchema)
    def post(self) -> Any:
        """Import a CSV or XLSX file: every row is stored, or (any bad row) none."""
        actor = current_actor()
        return catalog_io.import_items(context(), actor, *uploaded_file())


@blp.route("/catalog/precheck")
class Precheck(MethodView):
    @blp.arguments(PrecheckQuerySchema, location="query", unknown=RAISE)
    @blp.doc(requestBody=json_request(FORM_BODY))  # the admission start form
    @blp.response(200, PreCheckSchema)
    def post(self, query: dict[str, Any]) -> Any:
        """Pre-check an application before filing: duty lists, negative lists, duplicates."""
        actor = current_actor()
        return precheck.check_application(context(), actor, json_body(), query.get("instance_id"))


@blp.route("/reports/burden")
class Burden(MethodView):
    @blp.arguments(BurdenQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, BurdenReportSchema)
    @blp.doc(  # format=json (the default) or format=csv
        responses={
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": BurdenReportSchema}, **_CSV, **_XLSX},
            }
        }
    )
    def get(self, query: dict[str, Any]) -> Any:
        """The burden report per township and per department (JSON or CSV), or an Excel
        workbook with the lists behind the townships' numbers (meetings, inspections, needs,
        forms); the other gates counted over `year`."""
        fmt = query["format"]
        found = burden.report(
            context(),
            current_actor(),
            year=query.get("year"),
            details=fmt == "xlsx",
            county=query.get("county"),
        )
        day = found.generated_at.date().isoformat()
        if fmt == "csv":
            return _download(burden.to_csv(found), f"burden-{day}.csv", "text/csv; charset=utf-8")
        if fmt == "xlsx":
            return download(burden.to_xlsx(found), f"乡镇负担-{found.period_start:%Y}年.xlsx", XLSX)
        return found
