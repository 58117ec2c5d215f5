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


class AttachmentSchema(ma.Schema):
    id = fields.Integer(metadata={"description": "附件编号：随步骤提交时写入 attachments"})
    instance_id = fields.Integer(allow_none=True, metadata={"description": "未提交时为空"})
    task = fields.String(allow_none=True, metadata={"description": "随哪一步提交（流程图步骤）"})
    step = fields.String(metadata={"description": "该步骤的名称；单独补充的为空"})
    name = fields.String()
    kind = fields.String(metadata={"description": "按内容判定的类型：pdf、ofd、docx、png……"})
    label = fields.String()
    size = fields.Integer()
    sha256 = fields.String(metadata={"description": "文件的 SHA-256，提交时记入留痕"})
    uploaded_at = fields.DateTime()
    uploaded_by = fields.String()
    organization = fields.String()
    attached_at = fields.DateTime(allow_none=True)
