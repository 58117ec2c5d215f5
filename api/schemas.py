"""Request and response schemas of the REST API (they also make the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from engine.workflow import fields as f
from engine.workflow.services.instances import STATUSES


class TokenRequestSchema(f.Schema):
    username = f.text(64, required=True)
    password = f.String(required=True, validate=f.length(256, 1))


class TokenSchema(ma.Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    username = fields.String()
    organization = fields.String()
    roles = fields.List(fields.String())
    must_change_password = fields.Boolean(
        metadata={"description": "管理员设置的密码：须先 POST /me/password 修改后才能办理业务"}
    )


class MeSchema(ma.Schema):
    user_id = fields.Integer()
    username = fields.String()
    org_code = fields.String()
    org_name = fields.String()
    roles = fields.Method("_roles")
    display_name = fields.String()
    must_change_password = fields.Boolean(attribute="password_change_due")

    def _roles(self, actor: object) -> list[str]:
        return sorted(getattr(actor, "roles", []))


class ProcessSchema(ma.Schema):
    process_id = fields.String()
    name = fields.String()
    version = fields.Integer()
    sha256 = fields.String()
    deployed_at = fields.DateTime()
    current = fields.Boolean(metadata={"description": "新申请使用的版本（每个流程至多一个）"})
    state = fields.String(
        metadata={"description": "draft 草稿（未启用）、active 使用中、retired 已停用"}
    )
    deployed_by = fields.String(allow_none=True)
    activated_at = fields.DateTime(allow_none=True)
    activated_by = fields.String(allow_none=True)
    files = fields.List(fields.String(), metadata={"description": "程序包中的表单文件"})


class DiffQuerySchema(f.Schema):
    against = f.Integer(strict=False, required=True, validate=f.between(1, 2**31 - 1))


class StepSchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()


class ChangedStepSchema(ma.Schema):
    step = fields.Nested(StepSchema)
    attributes = fields.List(fields.String())


class StepFormSchema(ma.Schema):
    step = fields.Nested(StepSchema)
    start = fields.Boolean(metadata={"description": "申请（开始事件）的表单"})
    json_schema = fields.Dict(metadata={"description": "表单的 JSON Schema（2020-12）"})
    ui_schema = fields.Dict(allow_none=True, metadata={"description": "界面定义（uiSchema）"})


class VersionDiffSchema(ma.Schema):
    added = fields.List(fields.Nested(StepSchema))
    removed = fields.List(fields.Nested(StepSchema))
    changed = fields.List(fields.Nested(ChangedStepSchema))
    forms_changed = fields.List(fields.Nested(StepSchema))
    identical = fields.Boolean()


class OrgRefSchema(ma.Schema):
    code = fields.String()
    name = fields.String()


class TaskSchema(ma.Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    instance_title = fields.String()
    bpmn_id = fields.String(metadata={"description": "diagram element id, e.g. review"})
    name = fields.String()
    role = fields.String()
    organization = fields.Nested(OrgRefSchema, allow_none=True)
    township = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    state = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(
        allow_none=True, metadata={"description": "the instant the step falls late (UTC)"}
    )
    due_date = fields.Date(
        allow_none=True,
        metadata={"description": "the last local day the step is in time, inclusive"},
    )
    overdue = fields.Boolean(metadata={"description": "past its deadline and escalated"})
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class InstanceSummarySchema(ma.Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "按类别、年度编号，如 准〔2026〕3号"})
    process_id = fields.String()
    title = fields.String()
    status = fields.String(
        metadata={"description": f"{'、'.join(STATUSES)}，或流程的结束事件所定的状态"}
    )
    applicant = fields.Nested(OrgRefSchema)
    townships = fields.List(fields.Nested(OrgRefSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class TimerSchema(ma.Schema):
    step = fields.String(metadata={"description": "diagram element id of the timer"})
    name = fields.String()
    due_at = fields.DateTime(metadata={"description": "the instant it fires (UTC)"})
    due_date = fields.Date(metadata={"description": "the last local day before it fires"})


class InstanceDetailSchema(InstanceSummarySchema):
    data = fields.Dict(metadata={"description": "form data so far (application, decisions)"})
    open_tasks = fields.List(fields.Nested(TaskSchema))
    actions = fields.List(
        fields.String(), metadata={"description": "instance actions open to the caller now"}
    )
    ended_at = fields.DateTime(allow_none=True)
    case_id = fields.Integer(
        allow_none=True, metadata={"description": "the accountability case of a procedure"}
    )
    timers = fields.List(
        fields.Nested(TimerSchema),
        metadata={"description": "deadlines, windows and terms it waits on, soonest first"},
    )


class InstancePageSchema(ma.Schema):
    items = fields.List(fields.Nested(InstanceSummarySchema))
    total = fields.Integer(
        metadata={"description": "matches, counted up to 1,000 (or to page × per_page if further)"}
    )
    total_exact = fields.Boolean(metadata={"description": "false when total stopped at the cap"})
    page = fields.Integer()
    per_page = fields.Integer()


class InstanceQuerySchema(f.Schema):
    process_id = f.String(validate=f.length(100))
    status = f.String(validate=f.length(40), metadata={"description": "状态（见实例的 status）"})
    township = f.String(validate=f.length(64))
    applicant = f.String(validate=f.length(64))
    page = f.Integer(strict=False, load_default=1, validate=f.between(1, 100_000))
    per_page = f.Integer(
        strict=False,
        load_default=20,
        validate=ma.validate.Range(min=1, max=100, error="应在 1 到 100 之间"),
    )


class TrailEntrySchema(ma.Schema):
    seq = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    organization = fields.Nested(OrgRefSchema, allow_none=True)
    role = fields.String(allow_none=True)
    action = fields.String()
    task = fields.String(allow_none=True)
    payload = fields.Dict()
    hash = fields.String()


class RegisterEntrySchema(ma.Schema):
    instance_id = fields.Integer()
    township = fields.Nested(OrgRefSchema)
    name = fields.String()
    term_type = fields.String()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    funding_yuan = fields.Integer(
        metadata={"description": "承诺该乡镇的经费（元，事项合计的份额）"}
    )
    staff = fields.Integer(metadata={"description": "承诺该乡镇的人员（名）"})
    funding_received_yuan = fields.Integer()
    staff_received = fields.Integer()
    powers = fields.String()
    powers_received = fields.Boolean()
    resources_received = fields.Boolean(metadata={"description": "承诺的资源是否已全部到位"})
    shortfall_due = fields.Date(
        allow_none=True, metadata={"description": "资源未到位时，补齐的最后一日（含当日）"}
    )
    status = fields.String()
    entered_at = fields.DateTime()
    exited_at = fields.DateTime(allow_none=True)
    exit_reason = fields.String(allow_none=True)


class NotificationSchema(ma.Schema):
    id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    kind = fields.String()
    message = fields.String()
    created_at = fields.DateTime()
    read = fields.Boolean(metadata={"description": "the caller has read it"})


class NotificationQuerySchema(f.Schema):
    unread = f.String(
        validate=f.one_of(["true", "false"]),
        metadata={"description": "true: only the notices the caller has not read"},
    )


class MarkReadSchema(f.Schema):
    ids = f.List(
        f.Integer(validate=f.between(1, 2**31 - 1)),
        validate=f.length(500, 1),
        metadata={"description": "the notices to mark read; absent: all of the caller's"},
    )


class MarkedSchema(ma.Schema):
    marked = fields.Integer(metadata={"description": "how many were unread"})


class RegisterQuerySchema(f.Schema):
    township = f.String(validate=f.length(64))
    status = f.String(validate=f.one_of(["in_force", "exited"]))


class RegisterExportQuerySchema(RegisterQuerySchema):
    format = f.String(load_default="pdf", validate=f.one_of(["pdf", "xlsx", "csv"]))


class InboxQuerySchema(f.Schema):
    page = f.Integer(strict=False, load_default=1, validate=f.between(1, 100_000))
    per_page = f.Integer(strict=False, load_default=50, validate=f.between(1, 100))


class DeliveryBodySchema(f.Schema):
    """费随事转: what the applicant sent to a township (`township` names it), or what reached
    the township (a township records its own): at least some funding, staff or the powers."""

    township = f.String(validate=f.length(64), metadata={"description": "申请单位登记拨付时必填"})
    received_on = f.Date(required=True, metadata={"description": "拨付或到位日期"})
    funding_yuan = f.Integer(load_default=0, validate=f.between(0, 100_000_000_000))
    staff = f.Integer(load_default=0, validate=f.between(0, 100_000))
    powers_in_place = f.Boolean(load_default=False, metadata={"description": "下放的权限已到位"})
    note = f.text(2000, multiline=True)


class DeliverySchema(ma.Schema):
    kind = fields.String(
        metadata={"description": "sent（申请单位登记拨付）或 received（乡镇登记到位）"}
    )
    received_on = fields.Date()
    funding_yuan = fields.Integer()
    staff = fields.Integer()
    powers_in_place = fields.Boolean()
    note = fields.String()
    recorded_at = fields.DateTime()


class TownshipResourcesSchema(ma.Schema):
    township = fields.Nested(OrgRefSchema)
    status = fields.String()
    funding_yuan = fields.Integer(metadata={"description": "承诺该乡镇的经费（元）"})
    staff = fields.Integer()
    powers = fields.String()
    funding_source = fields.String()
    funding_paid_by = fields.Date(allow_none=True)
    funding_sent_yuan = fields.Integer(metadata={"description": "申请单位登记已拨付的经费"})
    staff_sent = fields.Integer()
    funding_received_yuan = fields.Integer()
    staff_received = fields.Integer()
    powers_received = fields.Boolean()
    resources_received = fields.Boolean()
    owed = fields.List(fields.String(), metadata={"description": "尚未到位的资源"})
    shortfall_due = fields.Date(allow_none=True)
    shortfall_overdue = fields.Boolean()
    shortfall_escalated_at = fields.DateTime(allow_none=True)
    deliveries = fields.List(fields.Nested(DeliverySchema))
