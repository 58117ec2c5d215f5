"""Schemas of the administrators' operations API: stranded instances, incidents, interventions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from engine.workflow import fields as f


class StrandedInstanceSchema(ma.Schema):
    instance_id = fields.Integer()
    process_id = fields.String()
    title = fields.String()
    status = fields.String()
    reason = fields.String(metadata={"description": "unmerged | no_way_on"})
    reason_text = fields.String()
    updated_at = fields.DateTime()
    releasable = fields.Boolean()


class ReleasedSchema(ma.Schema):
    instance_id = fields.Integer()
    status = fields.String()


class IncidentSchema(ma.Schema):
    id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    instance_title = fields.String(allow_none=True)
    process_id = fields.String()
    kind = fields.String(metadata={"description": "command | timer"})
    action = fields.String()
    step = fields.String(allow_none=True)
    cause = fields.String()
    attempts = fields.Integer()
    opened_at = fields.DateTime()
    last_failed_at = fields.DateTime()
    retry_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)


class IncidentQuerySchema(f.Schema):
    include_resolved = fields.Boolean(load_default=False)


class ControlledInstanceSchema(ma.Schema):
    id = fields.Integer()
    process_id = fields.String()
    title = fields.String()
    status = fields.String()
    suspended_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
