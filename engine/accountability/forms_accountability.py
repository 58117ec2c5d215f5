"""Forms of the accountability procedures (fault_tolerance, clearance): see docs/accountability.md.

One schema per step, as for admission. What a form cannot know by itself is cross-checked in its
`check(values, context)`, which the service runs with the context the contract names: `case` (the
case facts: status, finding, concluded, harm, subject_kind), `data` (the task's workflow data so
far), `rules` (the county's ToleranceRules) and `today` (local date, ISO). A check that needs a
context key the service must always pass raises LookupError when it is missing: that is a bug in
the caller, not a mistake in the form.

Task ids are global across diagrams (TASK_FORMS is one dict), hence the ft_ / cl_ prefixes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, validates_schema

from engine.workflow import fields as f
from engine.workflow.formkit import Form

if TYPE_CHECKING:
    from config.tolerance import ToleranceRules

# --- labels (code → Chinese) of every enumeration, for the console ---------------------------

# 三个区分开来: each code names the side a tolerated failure falls on.
DISTINCTIONS = {
    "inexperience": "因缺乏经验、先行先试出现的失误（区别于明知故犯）",
    "exploration": "上级尚无明确限制的探索性试验中的失误（区别于明令禁止后我行我素）",
    "unintentional": "为推动发展的无意过失（区别于为谋取私利的违纪违法）",
}
OUTCOMES = {"exempt": "免责", "reduced": "减责", "lighter": "从轻", "not_granted": "不予容错"}
ACCEPT_DECISIONS = {"accept": "受理", "refuse": "不予受理"}
APPEAL_DECISIONS = {"upheld": "维持原认定", "changed": "变更认定"}
SUPERVISE_DECISIONS = {"closed": "整改到位，结束督促", "continue": "整改未到位，继续整改"}
CLEARANCE_ORIGINS = {"application": "本人书面申请", "proposal": "承办部门提议"}
CLEARANCE_METHODS = {
    "written": "书面澄清",
    "in_person": "当面澄清",
    "meeting": "会议澄清",
    "circular": "通报澄清",
}
ELIGIBILITY_DECISIONS = {"eligible": "符合澄清条件", "ineligible": "不符合澄清条件"}
INELIGIBLE_GROUNDS = {
    "not_untrue": "核查结论不是失实",
    "not_proven": "查无实据但不能排除",
    "not_concluded": "问题尚未了结",
    "no_harm": "未造成不良影响",
}
APPROVAL_DECISIONS = {"approve": "批准澄清", "refuse": "不予批准"}
REFERRAL_TARGETS = {"police": "公安机关", "discipline": "纪检监察机关"}
# The case's verification result, as the checks name it in their messages.
FINDINGS = {
    "": "尚无核查结论",
    "proven": "问题属实",
    "untrue": "失实",
    "partly_untrue": "部分失实",
    "not_proven": "查无实据但不能排除",
}
UNTRUE_FINDINGS = ("untrue", "partly_untrue")

LABELS: dict[str, dict[str, str]] = {
    "distinctions": DISTINCTIONS,
    "outcomes": OUTCOMES,
    "accept_decisions": ACCEPT_DECISIONS,
    "appeal_decisions": APPEAL_DECISIONS,
    "supervise_decisions": SUPERVISE_DECISIONS,
    "clearance_origins": CLEARANCE_ORIGINS,
    "clearance_methods": CLEARANCE_METHODS,
    "eligibility_decisions": ELIGIBILITY_DECISIONS,
    "ineligible_grounds": INELIGIBLE_GROUNDS,
    "approval_decisions": APPROVAL_DECISIONS,
    "referral_targets": REFERRAL_TARGETS,
    "findings": FINDINGS,
}

# A county's rule codes are identifiers of at most 60 characters (config/tolerance.py).
CODE_LENGTH = 60
MAX_CASE_ID = 2**31 - 1

Problems = dict[str, list[str]]


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


def _need(context: Mapping[str, Any], key: str) -> Any:
    value = context.get(key)
    if value is None:
        raise LookupError(f"accountability form check needs context[{key!r}]")
    return value


def _rules(context: Mapping[str, Any]) -> ToleranceRules:
    return _need(context, "rules")  # type: ignore[no-any-return]


def _today(context: Mapping[str, Any]) -> date:
    return date.fromisoformat(str(_need(context, "today")))


def _earlier(context: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An earlier step's values from the task's workflow data."""
    earlier = _need(context, "data").get(key)
    if earlier is None:
        raise LookupError(f"accountability form check needs data[{key!r}] of an earlier step")
    return earlier  # type: ignore[no-any-return]


def _unknown_codes(
    problems: Problems, field: str, codes: Iterable[str], known: Mapping[str, str], what: str
) -> None:
    for code in codes:
        if code not in known:
            _add(problems, field, f"不是本县规定的{what}：{code}")


def _quoted(labels: Iterable[str]) -> str:
    return "、".join(f"“{label}”" for label in labels)


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


def _closed_case(case: Mapping[str, Any]) -> str:
    if case.get("status") == "decided":
        return "问责决定已作出，不能再申请容错"
    return "案件已办结，不能再申请容错"


def _check_tolerance_application(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    problems: Problems = {}
    # The service also refuses a closed case; an empty case (the id names no case the caller
    # may read) is left to the service to report.
    case = context.get("case")
    if case and case.get("status") != "open":
        _add(problems, "case_id", _closed_case(case))
    labels = _rules(context).circumstance_labels()
    _unknown_codes(problems, "circumstances", values["circumstances"], labels, "容错情形")
    return problems


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


def _check_tolerance_decision(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    problems: Problems = {}
    rules = _rules(context)
    circumstances = rules.circumstance_labels()
    exclusions = rules.exclusion_labels()
    _unknown_codes(problems, "circumstances", values["circumstances"], circumstances, "容错情形")
    _unknown_codes(problems, "exclusions", values["exclusions"], exclusions, "不予容错情形")
    outcome = values["outcome"]
    found = [exclusions[code] for code in values["exclusions"] if code in exclusions]
    if found and outcome != "not_granted":
        _add(problems, "outcome", f"存在不予容错情形{_quoted(found)}，只能认定为不予容错")
    exempting = {rule.code for rule in rules.circumstances if rule.effect == "exempt"}
    if outcome == "exempt" and not exempting & set(values["circumstances"]):
        _add(problems, "outcome", "认定免责须至少符合一项可予免责的容错情形")
    deadline = values.get("rectification_deadline")
    if (
        values["rectification_required"]
        and deadline
        and date.fromisoformat(deadline) <= _today(context)
    ):
        _add(problems, "rectification_deadline", "整改期限须晚于今天")
    return problems


class AppealSchema(f.Schema):
    """申诉: the body of the applicant's appeal (message `ft_appeal`), within the appeal window."""

    reason = f.text(5000, required=True)


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


def _check_appeal_decision(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    if values["decision"] != "changed":
        return {}
    first = _earlier(context, "ft_decision")["outcome"]
    if values["outcome"] == first:
        return {"outcome": [f"变更后的认定结果与原认定（{OUTCOMES.get(first, first)}）相同"]}
    return {}


class RectifySchema(f.Schema):
    """限期整改: the person or unit reports the rectification."""

    report = f.text(10000, required=True)
    completed_on = _optional_date()


def _check_rectification(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    done = values.get("completed_on")
    if done and date.fromisoformat(done) > _today(context):
        return {"completed_on": ["完成日期不能晚于今天"]}
    return {}


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


def _check_filing(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    if date.fromisoformat(values["filed_on"]) > _today(context):
        return {"filed_on": ["报备日期不能晚于今天"]}
    return {}


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


def _unmet_conditions(case: Mapping[str, Any]) -> list[str]:
    """Why the case does not qualify for clearance, one message per failing fact."""
    unmet = []
    finding = case.get("finding") or ""
    if finding not in UNTRUE_FINDINGS:
        unmet.append(f"核查结论为“{FINDINGS.get(finding, finding)}”，不符合澄清条件")
    if not case.get("concluded"):
        unmet.append("问题尚未了结，不符合澄清条件")
    if not case.get("harm"):
        unmet.append("未对本人工作、生活或名誉造成不良影响，不符合澄清条件")
    return unmet


def _ground_contradiction(ground: str, case: Mapping[str, Any]) -> str | None:
    """A message when the case record contradicts an ineligibility ground, else None."""
    finding = case.get("finding") or ""
    finding_label = FINDINGS.get(finding, finding)
    label = INELIGIBLE_GROUNDS[ground]
    if ground == "not_untrue" and finding in UNTRUE_FINDINGS:
        return f"案件核查结论为“{finding_label}”，不能以“{label}”为由"
    if ground == "not_proven" and finding != "not_proven":
        return f"案件核查结论为“{finding_label}”，不能以“{label}”为由"
    if ground == "not_concluded" and case.get("concluded"):
        return f"问题已了结，不能以“{label}”为由"
    if ground == "no_harm" and case.get("harm"):
        return f"案件记录已造成不良影响，不能以“{label}”为由"
    return None


def _check_eligibility(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    case = _need(context, "case")
    if values["decision"] == "eligible":
        unmet = _unmet_conditions(case)
        return {"decision": unmet} if unmet else {}
    contradictions = [
        message
        for message in (_ground_contradiction(g, case) for g in values["grounds"])
        if message
    ]
    return {"grounds": contradictions} if contradictions else {}


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


def _check_approval(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    if values["decision"] != "approve":
        return {}
    false_points = set(_earlier(context, "cl_eligibility")["false_points"])
    outside = [point for point in values["scope"] if point not in false_points]
    if outside:
        return {"scope": [f"澄清范围只能是核实为失实的问题：{point}" for point in outside]}
    return {}


OCCASION_NEEDED = {
    "in_person": "当面澄清须写明时间、地点和在场人员",
    "meeting": "会议澄清须写明会议名称、地点和参会人员",
    "circular": "通报澄清须写明通报文号和通报范围",
}


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


def _check_carry_out(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    problems: Problems = {}
    approval = _earlier(context, "cl_approval")
    approved = approval.get("method")
    if values["method"] != approved:
        shown = CLEARANCE_METHODS.get(approved or "", approved)
        _add(problems, "method", f"须按批准的方式澄清：{shown}")
    scope = set(approval.get("scope") or [])
    for point in values["points_cleared"]:
        if point not in scope:
            _add(problems, "points_cleared", f"超出批准的澄清范围：{point}")
    if date.fromisoformat(values["carried_out_on"]) > _today(context):
        _add(problems, "carried_out_on", "澄清日期不能晚于今天")
    return problems


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

# The body of the applicant's appeal: the service sends it as the `ft_appeal` message's payload,
# under `appeal` (not `ft_appeal`, which is where the appeal decision goes).
APPEAL_FORM = Form(AppealSchema, _under("appeal"))
