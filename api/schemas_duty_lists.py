"""Request and response schemas of the duty-list, pre-check and burden-report endpoints."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from api.schemas import OrgRefSchema
from engine.duty_lists.catalog import LIST_LABELS
from engine.workflow import fields as f

FILE_FORMATS = ["csv", "xlsx"]


class ItemQuerySchema(f.Schema):
    township = f.String(validate=f.length(64))
    list_type = f.String(validate=f.one_of(list(LIST_LABELS), LIST_LABELS))
    q = f.String(validate=f.length(200))
    status = f.String(load_default="active", validate=f.one_of(["active", "retired", "all"]))
    page = f.Integer(strict=False, load_default=1, validate=f.between(1, 100_000))
    per_page = f.Integer(strict=False, load_default=50, validate=f.between(1, 200))


class ExportQuerySchema(f.Schema):
    format = f.String(load_default="csv", validate=f.one_of(FILE_FORMATS))
    township = f.String(validate=f.length(64))


class PrecheckQuerySchema(f.Schema):
    instance_id = f.Integer(
        strict=False, metadata={"description": "own pending application this one revises"}
    )


class BurdenQuerySchema(f.Schema):
    format = f.String(load_default="json", validate=f.one_of(["json", "csv", "xlsx"]))
    year = f.Integer(
        strict=False,
        validate=f.between(2000, 2100),
        metadata={"description": "会议、督查检查、吹哨等按此年度统计（默认今年）"},
    )
    county = f.String(
        validate=f.length(64),
        metadata={"description": "市级单位：只看所辖的这一个县（市、区）（单位编码）"},
    )


class CatalogItemSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    scope = fields.Nested(
        OrgRefSchema, metadata={"description": "the county (template) or a township"}
    )
    template = fields.Boolean(metadata={"description": "true: on the county template"})
    level = fields.String(metadata={"enum": ["township", "village"]})
    list_type = fields.String(metadata={"enum": list(LIST_LABELS)})
    list_label = fields.String()
    category = fields.String()
    name = fields.String()
    description = fields.String()
    responsible_body = fields.String()
    cooperating_department = fields.String()
    basis = fields.String()
    status = fields.String(metadata={"enum": ["active", "retired"]})
    effective_from = fields.Date(allow_none=True)
    effective_to = fields.Date(allow_none=True)
    updated_at = fields.DateTime()
    version = fields.Integer()


class CatalogPageSchema(ma.Schema):
    items = fields.List(fields.Nested(CatalogItemSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ImportResultSchema(ma.Schema):
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()


class FindingSchema(ma.Schema):
    kind = fields.String(
        metadata={
            "enum": [
                "on_duty_list",
                "taken_back",
                "negative_list",
                "negative_list_mention",
                "duplicate_matter",
                "resources_missing",
            ]
        }
    )
    severity = fields.String(metadata={"enum": ["info", "warning", "blocking"]})
    message = fields.String()
    townships = fields.List(fields.String())
    score = fields.Integer()
    item = fields.Dict(allow_none=True)
    matter = fields.Dict(allow_none=True)


class PreCheckSchema(ma.Schema):
    townships = fields.List(fields.String())
    blocking = fields.Boolean()
    needs_justification = fields.Boolean()
    missing_resources = fields.List(fields.String())
    findings = fields.List(fields.Nested(FindingSchema))
    can_submit = fields.Boolean()
    refusal = fields.String(allow_none=True)


class DepartmentCountSchema(ma.Schema):
    department = fields.Nested(OrgRefSchema)
    matters = fields.Integer()


class TownshipBurdenSchema(ma.Schema):
    township = fields.Nested(OrgRefSchema)
    county = fields.Nested(OrgRefSchema, allow_none=True, metadata={"description": "所属县"})
    matters_in_force = fields.Integer()
    by_department = fields.List(fields.Nested(DepartmentCountSchema))
    funding_promised_yuan = fields.Integer()
    funding_received_yuan = fields.Integer()
    staff_promised = fields.Integer()
    staff_received = fields.Integer()
    matters_resources_received = fields.Integer()
    matters_resources_missing = fields.Integer()
    open_shortfalls = fields.Integer(metadata={"description": "资源尚待补齐的在册事项"})
    overdue_shortfalls = fields.Integer(metadata={"description": "逾期仍未补齐资源的在册事项"})
    pending_applications = fields.Integer()
    overdue_steps = fields.Integer()
    meetings_in_person = fields.Integer(metadata={"description": "本年须现场参加的县级会议"})
    meetings_video = fields.Integer(metadata={"description": "本年须视频参加的县级会议"})
    inspection_times = fields.Integer(
        metadata={"description": "本年批准对其开展的督查检查考核次数（各项合计）"}
    )
    inspection_visits = fields.Integer(metadata={"description": "本年部门已通知的检查"})
    report_forms = fields.Integer(metadata={"description": "报表目录中须填报的报表"})
    report_fields = fields.Integer(metadata={"description": "这些报表的字段数"})
    seconded_out = fields.Integer(metadata={"description": "现被借调到县直部门的人员"})
    needs_raised = fields.Integer(metadata={"description": "本年吹哨（提出的需求）"})
    needs_answered = fields.Integer(metadata={"description": "其中部门已反馈的"})
    needs_late = fields.Integer(metadata={"description": "其中超过办理时限反馈或仍未反馈的"})
    needs_unsatisfied = fields.Integer(metadata={"description": "其中乡镇评价不满意的"})


class DepartmentBurdenSchema(ma.Schema):
    department = fields.Nested(OrgRefSchema)
    county = fields.Nested(OrgRefSchema, allow_none=True, metadata={"description": "所属县"})
    filed = fields.Integer()
    pending = fields.Integer()
    admitted = fields.Integer()
    in_force = fields.Integer()
    exited = fields.Integer()
    returned = fields.Integer()
    rejected = fields.Integer()
    withdrawn = fields.Integer()
    rejection_reasons = fields.Dict(keys=fields.String(), values=fields.Integer())
    separate_assessments = fields.Integer(
        metadata={"description": "准入后又就已准入事项对乡镇另行考核、检查或排名的申请"}
    )
    meetings_called = fields.Integer(metadata={"description": "本年召集、须乡镇参加的会议"})
    inspections_planned = fields.Integer(metadata={"description": "本年列入计划的督查检查考核"})
    inspections_out_of_plan = fields.Integer(metadata={"description": "其中计划外单独报批的"})
    inspections_not_run = fields.Integer(
        metadata={"description": "本年报备、未获同意或并入其他检查的"}
    )
    report_forms = fields.Integer(metadata={"description": "报表目录中要求乡镇填报的报表"})
    secondments_held = fields.Integer(metadata={"description": "现借调的乡镇人员"})
    needs_led = fields.Integer(metadata={"description": "本年牵头办理的乡镇吹哨"})
    needs_answered = fields.Integer(metadata={"description": "其中已反馈的"})
    needs_late = fields.Integer(metadata={"description": "其中超过办理时限反馈或仍未反馈的"})
    needs_unsatisfied = fields.Integer(metadata={"description": "其中乡镇评价不满意的"})


class BurdenReportSchema(ma.Schema):
    generated_at = fields.DateTime()
    townships = fields.List(fields.Nested(TownshipBurdenSchema))
    departments = fields.List(fields.Nested(DepartmentBurdenSchema))
    period_start = fields.Date(metadata={"description": "会议、督查检查、吹哨等的统计期间自"})
    period_end = fields.Date(metadata={"description": "统计期间至（一个日历年度）"})
