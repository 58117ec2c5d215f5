"""Schemas of the burden gates: the townships' meeting calendar, the inspections planned on
them and the visits announced."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from api.schemas import OrgRefSchema
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


class VisitSchema(ma.Schema):
    id = fields.Integer()
    held_on = fields.Date()
    note = fields.String()


class InspectionSchema(ma.Schema):
    id = fields.Integer(metadata={"description": "一个乡镇在一项已批准检查中的位置"})
    instance_id = fields.Integer(metadata={"description": "督查检查考核报备的流程实例"})
    year = fields.Integer()
    kind = fields.String(
        metadata={"description": "supervision 督查；inspection 检查；assessment 考核"}
    )
    name = fields.String()
    method = fields.String(
        metadata={"description": "on_site 实地检查；materials 查阅已有资料；online 线上核查"}
    )
    times = fields.Integer(metadata={"description": "批准的本年度对该乡镇的次数"})
    left = fields.Integer(metadata={"description": "尚可安排的次数"})
    months = fields.List(fields.Integer(), metadata={"description": "计划月份"})
    out_of_plan = fields.Boolean(metadata={"description": "计划外检查（单独报批）"})
    township = fields.String()
    township_name = fields.String()
    department = fields.String(metadata={"description": "开展检查的部门"})
    visits = fields.List(fields.Nested(VisitSchema), metadata={"description": "已通知的每次检查"})


class InspectionQuerySchema(f.Schema):
    year = f.Integer(
        strict=False, validate=f.between(2000, 2100), metadata={"description": "年度，默认今年"}
    )
    township = f.String(validate=f.length(64))


class VisitRequestSchema(f.Schema):
    held_on = f.Date(required=True, metadata={"description": "检查日期（晚于今天，在批准年度内）"})
    note = f.String(load_default="", validate=f.length(500))


class DepartmentScoreSchema(ma.Schema):
    department = fields.Nested(OrgRefSchema)
    raters = fields.Integer(metadata={"description": "评价该部门的乡镇数"})
    means = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "各项平均分（无评价、或本部门查看而评价乡镇不足 3 个时为空）"},
    )
    poor = fields.Integer(
        allow_none=True, metadata={"description": "总体评价为“差”的乡镇数（不显示时为空）"}
    )
    needs_led = fields.Integer(metadata={"description": "本年牵头办理的乡镇吹哨"})
    needs_late = fields.Integer()
    needs_unsatisfied = fields.Integer()
    matters_rated = fields.Integer(metadata={"description": "本年乡镇逐项评价的准入事项数"})
    matters_overall = fields.Float(
        allow_none=True, metadata={"description": "事项总体评价平均分（不显示时为空）"}
    )
    matters_poor = fields.Integer(
        allow_none=True, metadata={"description": "事项总体评价为“差”的次数（不显示时为空）"}
    )
    hidden = fields.Boolean(metadata={"description": "评价乡镇不足 3 个，不向本部门显示"})


class MatterRatingBodySchema(f.Schema):
    overall = f.String(required=True, validate=f.length(20), metadata={"description": "总体评价"})
    resources = f.String(
        required=True, validate=f.length(20), metadata={"description": "资源随事下放"}
    )
    comment = f.String(load_default="", validate=f.length(2000), multiline=True)


class MatterRatingSchema(ma.Schema):
    instance_id = fields.Integer()
    overall = fields.String(metadata={"description": "总体评价（评价表的选项代码）"})
    overall_title = fields.String()
    resources = fields.String(metadata={"description": "资源随事下放（评价表的选项代码）"})
    resources_title = fields.String()
    comment = fields.String()
    rated_at = fields.DateTime()


class RatingSummarySchema(ma.Schema):
    year = fields.Integer()
    dimensions = fields.Dict(keys=fields.String(), values=fields.String())
    departments = fields.List(fields.Nested(DepartmentScoreSchema))


class RatingQuerySchema(f.Schema):
    year = f.Integer(strict=False, validate=f.between(2000, 2100))
    format = f.String(
        load_default="json",
        validate=f.one_of(["json", "csv", "xlsx"]),
        metadata={"description": "json、csv 或 xlsx"},
    )


class ReportFormSchema(ma.Schema):
    id = fields.Integer(metadata={"description": "报表编号"})
    instance_id = fields.Integer(metadata={"description": "报表准入的流程实例"})
    name = fields.String()
    owner = fields.String(metadata={"description": "要求填报的部门"})
    frequency = fields.String(metadata={"description": "once、monthly、quarterly 或 yearly"})
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")
    townships = fields.List(fields.String(), metadata={"description": "填报的乡镇"})
    readers = fields.List(fields.String(), metadata={"description": "共享读取的部门"})
    filled = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "期次 → 已填报的乡镇"},
    )


class SubmissionSchema(ma.Schema):
    id = fields.Integer()
    form_id = fields.Integer()
    township = fields.String()
    period = fields.String()
    values = fields.Dict(keys=fields.String(), values=fields.String())
    submitted_at = fields.DateTime()


class SubmissionBodySchema(f.Schema):
    period = f.String(
        required=True,
        validate=f.length(10),
        metadata={"description": "期次：2026-12（每月）、2026Q4（每季度）、2026（每年）、once"},
    )
    values = fields.Dict(required=True, metadata={"description": "字段 → 填报内容"})


class SubmissionQuerySchema(f.Schema):
    period = f.String(validate=f.length(10))
