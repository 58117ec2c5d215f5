"""The admission forms as the service built them in marshmallow until they became the package's
JSON Schema files (engine/workflow/forms.py before bpmn/matter_admission/): the reference the parity
test (test_admission_form_parity) holds the package forms to. Frozen: not used by the service."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from engine.workflow import fields as f
from engine.workflow.formkit import Form

REJECTION_REASONS = {
    "no_basis": "无法律或政策依据",
    "duplicates_list_item": "与清单内事项重复",
    "no_resources": "未随事下放经费、人员或权限",
    "negative_list": "属于负面清单事项",
    "other": "其他",
}
DECISIONS = {"pass": "通过", "return": "退回修改", "reject": "不予准入"}
TERM_TYPES = {"short": "短期（临时性）", "long": "长期"}
LEGAL_OPINIONS = {"lawful": "合法", "needs_change": "需修改", "unlawful": "不合法"}
REVISE_ACTIONS = {"resubmit": "修改后重新提交", "withdraw": "撤回申请"}
OBJECTION_DECISIONS = {
    "township_exits": "该乡镇退出",
    "matter_exits": "事项整体退出",
    "keep": "维持准入",
}
REEVALUATION_DECISIONS = {"continue": "继续准入", "exit": "退出"}


class ResourcesSchema(f.Schema):
    # Bounds a county budget line and a county workforce can reach, and every database can store.
    funding_yuan = f.Integer(load_default=0, validate=f.between(0, 100_000_000_000))
    staff = f.Integer(load_default=0, validate=f.between(0, 100_000))
    powers = f.text(2000)


class ApplicationSchema(f.Schema):
    """申请: the written application for admitting a matter to townships."""

    name = f.text(200, required=True)
    content = f.text(5000, required=True)
    basis = f.text(2000, required=True)
    reason = f.text(2000)
    term_type = f.String(required=True, validate=f.one_of(list(TERM_TYPES), TERM_TYPES))
    start_date = f.Date(required=True)
    end_date = f.Date(load_default=None, allow_none=True)
    townships = f.List(
        f.String(validate=f.length(64, 1)),
        required=True,
        validate=f.length(50, 1),
    )
    resources = f.Nested(ResourcesSchema, load_default=lambda: ResourcesSchema().load({}))
    # Required by the pre-check when funding, staff or powers are missing (费随事转).
    resources_justification = f.text(2000)
    assessment = f.text(2000)

    @validates_schema
    def _term(self, data: dict[str, Any], **_: Any) -> None:
        end = data.get("end_date")
        if data.get("term_type") == "short" and end is None:
            raise ValidationError("短期事项须填写结束日期", "end_date")
        if end is not None and data.get("start_date") and end <= data["start_date"]:
            raise ValidationError("结束日期须晚于开始日期", "end_date")
        townships = data.get("townships") or []
        if len(set(townships)) != len(townships):
            raise ValidationError("乡镇不能重复", "townships")


def _comment_required(data: dict[str, Any], key: str, values: set[str], label: str) -> None:
    if data.get(key) in values and not data.get("comment", "").strip():
        raise ValidationError(f"{label}时须填写意见", "comment")


class LegalReviewSchema(f.Schema):
    """合法性审查: the justice bureau's legality opinion."""

    opinion = f.String(required=True, validate=f.one_of(list(LEGAL_OPINIONS), LEGAL_OPINIONS))
    comment = f.text(5000)

    @validates_schema
    def _comment(self, data: dict[str, Any], **_: Any) -> None:
        _comment_required(data, "opinion", {"needs_change", "unlawful"}, "认为需修改或不合法")


class DecisionSchema(f.Schema):
    """审核 / 审批: pass, return for revision, or reject with reason codes."""

    decision = f.String(required=True, validate=f.one_of(list(DECISIONS), DECISIONS))
    reasons = f.List(
        f.String(validate=f.one_of(list(REJECTION_REASONS), REJECTION_REASONS)),
        load_default=list,
    )
    comment = f.text(5000)

    @validates_schema
    def _grounds(self, data: dict[str, Any], **_: Any) -> None:
        _comment_required(data, "decision", {"return", "reject"}, "退回或不予准入")
        reasons = data.get("reasons") or []
        if data.get("decision") == "reject" and not reasons:
            raise ValidationError("不予准入时须选择至少一项理由", "reasons")
        if data.get("decision") == "pass" and reasons:
            raise ValidationError("通过时不应选择不予准入理由", "reasons")
        if len(set(reasons)) != len(reasons):
            raise ValidationError("理由不能重复", "reasons")


class ReviseSchema(f.Schema):
    """修改或撤回: the applicant answers a return."""

    action = f.String(required=True, validate=f.one_of(list(REVISE_ACTIONS), REVISE_ACTIONS))
    application = f.Nested(ApplicationSchema, load_default=None, allow_none=True)
    comment = f.text(5000)

    @validates_schema
    def _application(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("action") == "resubmit" and data.get("application") is None:
            raise ValidationError("重新提交时须附修改后的申请", "application")
        if data.get("action") == "withdraw" and data.get("application") is not None:
            raise ValidationError("撤回申请时不能再附修改后的申请", "application")


class ConfirmEntrySchema(f.Schema):
    """确认进入: a township confirms the matter and its resources arrived."""

    confirmed = f.Boolean(required=True)
    resources_received = f.Boolean(required=True)
    comment = f.text(5000)

    @validates_schema
    def _confirmed(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("confirmed") is False:
            raise ValidationError("须确认事项已进入；如有异议，请在进入后提出异议", "confirmed")
        if data.get("resources_received") is False and not data.get("comment", "").strip():
            raise ValidationError("资源未到位时须说明情况", "comment")


class ObjectionDecisionSchema(f.Schema):
    """处理乡镇异议: the gatekeeper decides on a township's objection."""

    decision = f.String(
        required=True, validate=f.one_of(list(OBJECTION_DECISIONS), OBJECTION_DECISIONS)
    )
    comment = f.text(5000, required=True)


class ReevaluationSchema(f.Schema):
    """年度评估: the gatekeeper decides whether a long-term matter stays with the townships."""

    decision = f.String(
        required=True, validate=f.one_of(list(REEVALUATION_DECISIONS), REEVALUATION_DECISIONS)
    )
    comment = f.text(5000, required=True)


FORMS: dict[str, Form] = {
    "start_apply": Form(ApplicationSchema),
    "legal_review": Form(LegalReviewSchema),
    "review": Form(DecisionSchema),
    "approve": Form(DecisionSchema),
    "revise": Form(ReviseSchema),
    "confirm_entry": Form(ConfirmEntrySchema),
    "decide_objection": Form(ObjectionDecisionSchema),
    "reevaluate": Form(ReevaluationSchema),
}
