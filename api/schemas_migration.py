"""Schemas of instance migration between versions of a process (administrators)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from engine.workflow import fields as f

_VERSION = {"validate": f.between(1, 2**31 - 1), "metadata": {"description": "流程版本号"}}


class MigrationQuerySchema(f.Schema):
    to_version = f.Integer(strict=False, required=True, **_VERSION)


class MigrationRequestSchema(f.Schema):
    to_version = f.Integer(required=True, **_VERSION)


class BatchMigrationRequestSchema(f.Schema):
    from_version = f.Integer(required=True, **_VERSION)
    to_version = f.Integer(required=True, **_VERSION)


_STEPS = {"metadata": {"description": "新版本中的步骤编号"}}


class MigrationCheckSchema(ma.Schema):
    instance_id = fields.Integer()
    process_id = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    can = fields.Boolean(metadata={"description": "现在能否迁移"})
    reasons = fields.List(fields.String(), metadata={"description": "不能迁移的原因"})
    changed = fields.List(fields.String(), **_STEPS)
    added = fields.List(fields.String(), **_STEPS)
    removed = fields.List(fields.String(), metadata={"description": "旧版本中被删除的步骤编号"})


class OpenStepSchema(ma.Schema):
    bpmn_id = fields.String()
    name = fields.String()


class MigratedSchema(ma.Schema):
    id = fields.Integer()
    process_id = fields.String()
    title = fields.String()
    status = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    open_steps = fields.List(fields.Nested(OpenStepSchema))


class MigrationReportSchema(ma.Schema):
    process_id = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    moved = fields.List(fields.Integer(), metadata={"description": "已迁移的事项编号"})
    refused = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "不能迁移的事项编号 → 原因"},
    )
