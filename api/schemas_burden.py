"""Schemas of the burden gates: the townships' meeting calendar."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from engine.workflow import fields as f


class MeetingSchema(ma.Schema):
    id = fields.Integer()
    instance_id = fields.Integer(metadata={"description": "会议报备的流程实例"})
    name = fields.String()
    township = fields.String(metadata={"description": "须参会的乡镇编码"})
    township_name = fields.String()
    organiser = fields.String(metadata={"description": "召集单位"})
    held_on = fields.Date()
    starts_at = fields.String(metadata={"description": "开始时间（当地时间，如 09:30）"})
    minutes = fields.Integer(metadata={"description": "时长（分钟）"})
    location = fields.String()
    attendees = fields.String(metadata={"description": "参会人员要求"})
    mode = fields.String(metadata={"description": "in_person 现场参会；video 视频参会"})
    video_request = fields.String(
        allow_none=True, metadata={"description": "乡镇申请视频参会的理由"}
    )
    video_answer = fields.String(allow_none=True, metadata={"description": "granted 或 refused"})


class MeetingQuerySchema(f.Schema):
    start = f.Date(metadata={"description": "自（含），默认今天"})
    end = f.Date(metadata={"description": "至（含），默认开始后 90 天"})
    township = f.String(validate=f.length(64))


class VideoRequestSchema(f.Schema):
    reason = f.String(required=True, validate=f.length(500))


class VideoAnswerSchema(f.Schema):
    grant = f.Boolean(required=True, metadata={"description": "是否同意视频参会"})
    reason = f.String(load_default="", validate=f.length(500))
