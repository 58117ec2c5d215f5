"""Schemas of the documents issued on instances (文书)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from engine.workflow import fields as f


class DocumentSchema(ma.Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    number = fields.String(metadata={"description": "文号（不编号的表格为空）"})
    issued_at = fields.DateTime()
    issued_by = fields.String(allow_none=True)
    issuer_org = fields.String(allow_none=True)
    sha256 = fields.String(metadata={"description": "出具时 PDF 的 SHA-256，已记入留痕"})
    size = fields.Integer()


class OfferSchema(ma.Schema):
    kind = fields.String()
    title = fields.String()


class InstanceDocumentsSchema(ma.Schema):
    issued = fields.List(fields.Nested(DocumentSchema))
    can_issue = fields.List(
        fields.Nested(OfferSchema), metadata={"description": "调用者现在可以出具的文书"}
    )


class IssueSchema(f.Schema):
    kind = f.String(required=True, validate=f.length(40, 1))
