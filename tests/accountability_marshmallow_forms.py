"""The accountability procedures' forms as the service built them in marshmallow until they
became the packages' JSON Schema files (engine/accountability/forms_accountability.py before
bpmn/fault_tolerance/*.json and bpmn/clearance/*.json): the reference the parity test
(test_accountability_form_parity) holds the package forms to. Frozen: not used by the service.
The cross-checks are the service's own (one rule, one place), as they were then."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError, validates_schema

from engine.accountability.forms_accountability import (
    ACCEPT_DECISIONS,
    APPEAL_DECISIONS,
    APPROVAL_DECISIONS,
    CLEARANCE_METHODS,
    CLEARANCE_ORIGINS,
    DISTINCTIONS,
    ELIGIBILITY_DECISIONS,
    INELIGIBLE_GROUNDS,
    OUTCOMES,
    REFERRAL_TARGETS,
    SUPERVISE_DECISIONS,
    _check_appeal_decision,
    _check_approval,
    _check_carry_out,
    _check_eligibility,
    _check_filing,
    _check_rectification,
    _check_tolerance_application,
    _check_tolerance_decision,
)
from engine.workflow import fields as f
from engine.workflow.formkit import Form

CODE_LENGTH = 60
MAX_CASE_ID = 2**31 - 1

Problems = dict[str, list[str]]
OCCASION_NEEDED = {
    "in_person": "当面澄清须写明时间、地点和在场人员",
    "meeting": "会议澄清须写明会议名称、地点和参会人员",
    "circular": "通报澄清须写明通报文号和通报范围",
}


# --- field builders ---------------------------------------------------------------------------


def _choice(labels: dict[str, str], **kwargs: Any) -> f.String:
    return f.String(validate=f.one_of(list(labels), labels), **kwargs)


def _choices(labels: dict[str, str], required: bool = False) -> f.List:
    """A list of codes from `labels` (at least one when required)."""
    if required:
        return f.List(_choice(labels), required=True, validate=f.length(len(labels), 1))
    return f.List(_choice(labels), load_default=list, validate=f.length(len(labels)))


def _rule_codes(required: bool = False) -> f.List:
    """Codes of the county's rules: checked against `rules` in the form's check."""
    item = f.String(validate=f.length(CODE_LENGTH, 1))
    if required:
        return f.List(item, required=True, validate=f.length(50, 1))
    return f.List(item, load_default=list, validate=f.length(50))


def _texts(maximum_items: int, required: bool = False) -> f.List:
    item = f.String(validate=[f.length(500, 1), f.not_blank])
    if required:
        return f.List(item, required=True, validate=f.length(maximum_items, 1))
    return f.List(item, load_default=list, validate=f.length(maximum_items))


def _optional_date() -> f.Date:
    return f.Date(load_default=None, allow_none=True)


# --- helpers for schema and context checks ---------------------------------------------------


def _add(problems: Problems, field: str, message: str) -> None:
    problems.setdefault(field, []).append(message)


def _raise_if(problems: Problems) -> None:
    if problems:
        raise ValidationError(problems)


def _unique(problems: Problems, data: Mapping[str, Any], field: str, message: str) -> None:
    items = data.get(field) or []
    if len(set(items)) != len(items):
        _add(problems, field, message)


def _blank(value: Any) -> bool:
    return not (value or "").strip()


# --- 容错纠错 (fault_tolerance) ----------------------------------------------------------------


class ToleranceApplicationSchema(f.Schema):
    """申请: the person or unit concerned applies in writing for fault tolerance."""

    case_id = f.Integer(required=True, validate=f.between(1, MAX_CASE_ID))
    facts = f.text(5000, required=True)
    grounds = f.text(5000, required=True)
    distinctions = _choices(DISTINCTIONS, required=True)
    circumstances = _rule_codes(required=True)
    no_private_gain = f.Boolean(required=True)

    @validates_schema
    def _declaration(self, data: dict[str, Any], **_: Any) -> None:
        problems: Problems = {}
        _unique(problems, data, "distinctions", "“三个区分开来”情形不能重复")
        _unique(problems, data, "circumstances", "容错情形不能重复")
        if data.get("no_private_gain") is not True:
            _add(problems, "no_private_gain", "须声明未谋取私利；谋取私利的不予容错")
        _raise_if(problems)


class AcceptSchema(f.Schema):
    """受理: accept the application, or refuse it with an explanation to the applicant."""

    decision = _choice(ACCEPT_DECISIONS, required=True)
    explanation = f.text(5000)

    @validates_schema
    def _explanation(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("decision") == "refuse" and _blank(data.get("explanation")):
            raise ValidationError("不予受理时须向申请人说明理由", "explanation")


class VerifySchema(f.Schema):
    """核实: what the verification with the departments concerned found, and a suggestion."""

    findings = f.text(10000, required=True)
    departments_consulted = f.List(
        f.String(validate=[f.length(200, 1), f.not_blank]),
        required=True,
        validate=f.length(30, 1),
    )
    suggestion = _choice(OUTCOMES, required=True)

    @validates_schema
    def _departments(self, data: dict[str, Any], **_: Any) -> None:
        problems: Problems = {}
        _unique(problems, data, "departments_consulted", "核实部门不能重复")
        _raise_if(problems)


class ToleranceDecisionSchema(f.Schema):
    """认定: exempt, reduce, lighten or refuse, against the three distinctions and the county's
    circumstances and exclusions; optionally with a rectification by a deadline (限期整改)."""

    outcome = _choice(OUTCOMES, required=True)
    distinctions = _choices(DISTINCTIONS)
    circumstances = _rule_codes()
    exclusions = _rule_codes()
    reasoning = f.text(10000, required=True)
    rectification_required = f.Boolean(load_default=False)
    rectification_deadline = _optional_date()
    rectification_items = f.text(5000)

    @validates_schema
    def _grounds(self, data: dict[str, Any], **_: Any) -> None:
        problems: Problems = {}
        if data.get("outcome") != "not_granted":
            if not data.get("distinctions"):
                _add(problems, "distinctions", "予以容错时须至少选择一项“三个区分开来”情形")
            if not data.get("circumstances"):
                _add(problems, "circumstances", "予以容错时须至少选择一项容错情形")
        _unique(problems, data, "distinctions", "“三个区分开来”情形不能重复")
        _unique(problems, data, "circumstances", "容错情形不能重复")
        _unique(problems, data, "exclusions", "不予容错情形不能重复")
        if data.get("rectification_required"):
            if data.get("rectification_deadline") is None:
                _add(problems, "rectification_deadline", "要求限期整改时须填写整改期限")
            if _blank(data.get("rectification_items")):
                _add(problems, "rectification_items", "要求限期整改时须写明整改事项")
        else:
            if data.get("rectification_deadline") is not None:
                _add(problems, "rectification_deadline", "未要求限期整改时不应填写整改期限")
            if not _blank(data.get("rectification_items")):
                _add(problems, "rectification_items", "未要求限期整改时不应填写整改事项")
        _raise_if(problems)


class AppealDecisionSchema(f.Schema):
    """申诉复核: uphold the decision, or change it to another outcome; the first decision stands
    meanwhile."""

    decision = _choice(APPEAL_DECISIONS, required=True)
    outcome = _choice(OUTCOMES, load_default=None, allow_none=True)
    reasoning = f.text(10000, required=True)

    @validates_schema
    def _outcome(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("decision") == "changed" and data.get("outcome") is None:
            raise ValidationError("变更认定时须选择新的认定结果", "outcome")
        if data.get("decision") == "upheld" and data.get("outcome") is not None:
            raise ValidationError("维持原认定时不应选择新的认定结果", "outcome")


class RectifySchema(f.Schema):
    """限期整改: the person or unit reports the rectification."""

    report = f.text(10000, required=True)
    completed_on = _optional_date()


class SuperviseSchema(f.Schema):
    """督促整改: close the rectification, or send it back with what is still missing."""

    decision = _choice(SUPERVISE_DECISIONS, required=True)
    comment = f.text(5000)

    @validates_schema
    def _comment(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("decision") == "continue" and _blank(data.get("comment")):
            raise ValidationError("继续整改时须写明尚未整改到位的问题", "comment")


class FileSchema(f.Schema):
    """报备: the result is filed with the Party committee or government at the same level."""

    filed_with = f.text(200, required=True)
    filed_on = f.Date(required=True)
    reference = f.text(100)


# --- 澄清正名 (clearance) ----------------------------------------------------------------------


class ClearanceApplicationSchema(f.Schema):
    """申请或提议: the person's written application, or the handling department's proposal made
    after consulting the person."""

    case_id = f.Integer(required=True, validate=f.between(1, MAX_CASE_ID))
    origin = _choice(CLEARANCE_ORIGINS, required=True)
    basic_facts = f.text(5000, required=True)
    false_report = f.text(5000, required=True)
    clearance_requested = f.text(5000, required=True)
    preferred_method = _choice(CLEARANCE_METHODS, load_default=None, allow_none=True)
    person_consulted = f.Boolean(load_default=False)

    @validates_schema
    def _consulted(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("origin") == "proposal" and data.get("person_consulted") is not True:
            raise ValidationError("承办部门提议澄清须事先征求本人意见", "person_consulted")


class EligibilitySchema(f.Schema):
    """核查澄清条件: eligible (with the points verified false), or ineligible with grounds and an
    explanation to the applicant."""

    decision = _choice(ELIGIBILITY_DECISIONS, required=True)
    grounds = _choices(INELIGIBLE_GROUNDS)
    explanation = f.text(5000)
    false_points = _texts(50)

    @validates_schema
    def _grounds(self, data: dict[str, Any], **_: Any) -> None:
        problems: Problems = {}
        _unique(problems, data, "grounds", "理由不能重复")
        _unique(problems, data, "false_points", "失实问题不能重复")
        if data.get("decision") == "ineligible":
            if not data.get("grounds"):
                _add(problems, "grounds", "不符合澄清条件时须选择至少一项理由")
            if _blank(data.get("explanation")):
                _add(problems, "explanation", "不符合澄清条件时须向申请人说明理由")
            if data.get("false_points"):
                _add(problems, "false_points", "不符合澄清条件时不应填写失实问题")
        else:
            if data.get("grounds"):
                _add(problems, "grounds", "符合澄清条件时不应选择不符合条件的理由")
            if not data.get("false_points"):
                _add(problems, "false_points", "符合澄清条件时须列明核实为失实的问题")
        _raise_if(problems)


class ApprovalSchema(f.Schema):
    """审批澄清: approve with a method and a scope (only the points verified false), or refuse
    with an explanation to the applicant."""

    decision = _choice(APPROVAL_DECISIONS, required=True)
    method = _choice(CLEARANCE_METHODS, load_default=None, allow_none=True)
    scope = _texts(50)
    explanation = f.text(5000)

    @validates_schema
    def _approval(self, data: dict[str, Any], **_: Any) -> None:
        problems: Problems = {}
        _unique(problems, data, "scope", "澄清范围不能重复")
        if data.get("decision") == "approve":
            if data.get("method") is None:
                _add(problems, "method", "批准澄清时须选择澄清方式")
            if not data.get("scope"):
                _add(problems, "scope", "批准澄清时须列明澄清范围")
        else:
            if _blank(data.get("explanation")):
                _add(problems, "explanation", "不予批准时须向申请人说明理由")
            if data.get("method") is not None:
                _add(problems, "method", "不予批准时不应选择澄清方式")
            if data.get("scope"):
                _add(problems, "scope", "不予批准时不应填写澄清范围")
        _raise_if(problems)


class CarryOutSchema(f.Schema):
    """澄清正名: the clearance carried out by the approved method, always with a written record."""

    carried_out_on = f.Date(required=True)
    method = _choice(CLEARANCE_METHODS, required=True)
    written_record = f.text(10000, required=True)
    occasion = f.text(2000)
    points_cleared = _texts(50, required=True)
    malicious_accusation = f.Boolean(load_default=False)

    @validates_schema
    def _occasion(self, data: dict[str, Any], **_: Any) -> None:
        problems: Problems = {}
        _unique(problems, data, "points_cleared", "澄清的问题不能重复")
        needed = OCCASION_NEEDED.get(data.get("method") or "")
        if needed and _blank(data.get("occasion")):
            _add(problems, "occasion", needed)
        _raise_if(problems)


class ReferSchema(f.Schema):
    """移送查处: a malicious false accusation (诬告) is referred to the police or the discipline
    organ."""

    referred_to = _choice(REFERRAL_TARGETS, required=True)
    reason = f.text(5000, required=True)
    reference = f.text(100)


# --- registration -----------------------------------------------------------------------------


def _under(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Store the step's values under the contract's data key instead of the task id."""
    return lambda values: {key: values}


START: dict[str, Form] = {
    "fault_tolerance": Form(
        ToleranceApplicationSchema, _under("application"), _check_tolerance_application
    ),
    "clearance": Form(ClearanceApplicationSchema, _under("application")),
}

TASKS: dict[str, Form] = {
    "ft_accept": Form(AcceptSchema),
    "ft_verify": Form(VerifySchema),
    "ft_decide": Form(ToleranceDecisionSchema, _under("ft_decision"), _check_tolerance_decision),
    "ft_appeal_decide": Form(AppealDecisionSchema, _under("ft_appeal"), _check_appeal_decision),
    "ft_rectify": Form(RectifySchema, check=_check_rectification),
    "ft_supervise": Form(SuperviseSchema),
    "ft_file": Form(FileSchema, _under("ft_filing"), _check_filing),
    "cl_eligibility": Form(EligibilitySchema, check=_check_eligibility),
    "cl_approve": Form(ApprovalSchema, _under("cl_approval"), _check_approval),
    "cl_carry_out": Form(CarryOutSchema, _under("cl_result"), _check_carry_out),
    "cl_refer": Form(ReferSchema, _under("cl_referral")),
}
