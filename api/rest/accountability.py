"""Accountability cases: GET/POST /cases, GET /cases/{id}, POST /cases/{id}/findings and
POST /cases/{id}/decision (问责决定).

Their procedures run on the process routes (/processes/fault_tolerance/instances,
/processes/clearance/instances) like admission; the appeal is POST /instances/{id}/appeals.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.body import json_body
from api.rest import form_ref
from api.schemas_accountability import CaseDetailSchema, CasePageSchema, CaseQuerySchema
from engine.accountability.case_forms import CaseDecisionSchema, CaseFindingSchema, CaseSchema
from engine.accountability.services import cases

blp = Blueprint(
    "cases", __name__, url_prefix="/api/v1", description="问责案件（容错纠错、澄清正名）"
)


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CasePageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The cases the caller may read: handling organs and auditors all, others their own."""
        return cases.list_cases(context(), current_actor(), **query)

    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": form_ref(CaseSchema)}},
        }
    )
    @blp.response(201, CaseDetailSchema)
    def post(self) -> Any:
        """Open a case (discipline organ or organisation department)."""
        return cases.open_case(context(), json_body(), current_actor())


@blp.route("/cases/<id:case_id>")
class Case(MethodView):
    @blp.response(200, CaseDetailSchema)
    def get(self, case_id: int) -> Any:
        """One case with its procedures, its record's events and the caller's actions."""
        return cases.get_case(context(), case_id, current_actor())


@blp.route("/cases/<id:case_id>/findings")
class Findings(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": form_ref(CaseFindingSchema)}},
        }
    )
    @blp.response(200, CaseDetailSchema)
    def post(self, case_id: int) -> Any:
        """Record the verification's conclusion (discipline organ); the case takes its status."""
        return cases.record_finding(context(), case_id, json_body(), current_actor())


@blp.route("/cases/<id:case_id>/decision")
class Decision(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": form_ref(CaseDecisionSchema)}},
        }
    )
    @blp.response(200, CaseDetailSchema)
    def post(self, case_id: int) -> Any:
        """Record the accountability decision (outcome, document number, date) of a case whose
        report was proven; the case concludes and the person and 组织部 are told."""
        return cases.record_decision(context(), case_id, json_body(), current_actor())
