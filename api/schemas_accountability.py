"""Response and query schemas of accountability cases (/api/v1/cases)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from api.schemas import OrgRefSchema
from engine.accountability.cases import CASE_STATUSES
from engine.workflow import fields as f


class ProcedureRefSchema(ma.Schema):
    instance_id = fields.Integer()
    process_id = fields.String()
    title = fields.String()
    status = fields.String()
    created_at = fields.DateTime()


class CaseEventSchema(ma.Schema):
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    payload = fields.Dict()


class CaseInfoSchema(ma.Schema):
    id = fields.Integer()
    case_no = fields.String()
    subject_kind = fields.String(metadata={"enum": ["person", "unit"]})
    subject_name = fields.String()
    subject_username = fields.String(allow_none=True)
    subject_org = fields.Nested(OrgRefSchema)
    subject_position = fields.String()
    matter_reported = fields.String()
    source = fields.String()
    responsibility_level = fields.String()
    leadership_kind = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(CASE_STATUSES)})
    finding = fields.String()
    finding_note = fields.String()
    harm = fields.Boolean()
    concluded_at = fields.DateTime(allow_none=True)
    handling_org = fields.Nested(OrgRefSchema)
    opened_at = fields.DateTime()
    tolerance_outcome = fields.String(allow_none=True)
    cleared_at = fields.DateTime(allow_none=True)
    clearance_method = fields.String(allow_none=True)
    verified_by = fields.Nested(
        OrgRefSchema, allow_none=True, metadata={"description": "核实机关（由其澄清）"}
    )
    clearance_triggers = fields.List(fields.String(), metadata={"description": "应当澄清的情形"})
    clearance_proposal_due = fields.Date(
        allow_none=True, metadata={"description": "应当澄清的，承办机关提议的最后一日"}
    )
    decision_outcome = fields.String(allow_none=True, metadata={"description": "问责决定的结果"})
    decision_no = fields.String(metadata={"description": "问责决定文号"})
    decided_on = fields.Date(allow_none=True)


class CaseDetailSchema(CaseInfoSchema):
    procedures = fields.List(fields.Nested(ProcedureRefSchema))
    events = fields.List(fields.Nested(CaseEventSchema))
    actions = fields.List(
        fields.String(),
        metadata={"description": "finding, fault_tolerance, clearance, clearance_proposal"},
    )


class CasePageSchema(ma.Schema):
    items = fields.List(fields.Nested(CaseInfoSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CaseQuerySchema(f.Schema):
    status = f.String(validate=f.one_of(list(CASE_STATUSES), CASE_STATUSES))
    page = f.Integer(strict=False, load_default=1, validate=f.between(1, 100_000))
    per_page = f.Integer(strict=False, load_default=20, validate=f.between(1, 100))
