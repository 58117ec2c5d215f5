"""The accountability procedures' (fault_tolerance, clearance) codes and their labels, the rules
their forms cannot check alone, and the appeal's body: see docs/accountability.md.

The forms themselves are the packages' JSON Schema files (bpmn/fault_tolerance/*.json,
bpmn/clearance/*.json). What a form cannot know by itself is a named check registered here
(`register_checks`) and listed in the form's `x-checks`; the service runs it with the context
the accountability process kind builds (`procedures.form_context`): `case` (the case facts:
status, finding, concluded, harm, subject_kind), `data` (the task's workflow data so far),
`rules` (the county's ToleranceRules) and `today` (local date, ISO). A check that needs a
context key the service must always pass raises LookupError when it is missing: that is a bug
in the caller, not a mistake in the form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from engine.accountability.cases import BEFORE_DECISION, UNTRUE_FINDINGS
from engine.workflow import fields as f
from engine.workflow.formkit import Check, Form
from engine.workflow.schema_forms import register_check

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

Problems = dict[str, list[str]]


# --- what the checks consult --------------------------------------------------------------------


def _add(problems: Problems, field: str, message: str) -> None:
    problems.setdefault(field, []).append(message)


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


def _closed_case(case: Mapping[str, Any]) -> str:
    if case.get("status") == "decided":
        return "问责决定已作出，不能再申请容错"
    return "案件已办结，不能再申请容错"


def _check_tolerance_application(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    problems: Problems = {}
    # The service also refuses a closed case; an empty case (the id names no case the caller
    # may read) is left to the service to report.
    case = context.get("case")
    if case and case.get("status") not in BEFORE_DECISION:
        _add(problems, "case_id", _closed_case(case))
    labels = _rules(context).circumstance_labels()
    _unknown_codes(problems, "circumstances", values["circumstances"], labels, "容错情形")
    return problems


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


def _check_appeal_decision(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    if values["decision"] != "changed":
        return {}
    first = _earlier(context, "ft_decision")["outcome"]
    if values["outcome"] == first:
        return {"outcome": [f"变更后的认定结果与原认定（{OUTCOMES.get(first, first)}）相同"]}
    return {}


def _check_rectification(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    done = values.get("completed_on")
    if done and date.fromisoformat(done) > _today(context):
        return {"completed_on": ["完成日期不能晚于今天"]}
    return {}


def _check_filing(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    if date.fromisoformat(values["filed_on"]) > _today(context):
        return {"filed_on": ["报备日期不能晚于今天"]}
    return {}


# --- 澄清正名 (clearance) ----------------------------------------------------------------------


def unmet_clearance_conditions(case: Mapping[str, Any]) -> list[str]:
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
        unmet = unmet_clearance_conditions(case)
        return {"decision": unmet} if unmet else {}
    contradictions = [
        message
        for message in (_ground_contradiction(g, case) for g in values["grounds"])
        if message
    ]
    return {"grounds": contradictions} if contradictions else {}


def _check_approval(values: dict[str, Any], context: Mapping[str, Any]) -> Problems:
    if values["decision"] != "approve":
        return {}
    false_points = set(_earlier(context, "cl_eligibility")["false_points"])
    outside = [point for point in values["scope"] if point not in false_points]
    if outside:
        return {"scope": [f"澄清范围只能是核实为失实的问题：{point}" for point in outside]}
    return {}


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


# --- registration -----------------------------------------------------------------------------

# The checks the packages' forms name in x-checks, by name.
CHECKS: dict[str, Check] = {
    "tolerance_application": _check_tolerance_application,
    "tolerance_decision": _check_tolerance_decision,
    "appeal_changes_outcome": _check_appeal_decision,
    "rectified_by_today": _check_rectification,
    "filed_by_today": _check_filing,
    "clearance_conditions": _check_eligibility,
    "approved_scope_is_false_points": _check_approval,
    "clearance_as_approved": _check_carry_out,
}


def register_checks() -> None:
    """Offer the accountability checks to the packages' forms."""
    for name, check in CHECKS.items():
        register_check(name, check)


class AppealSchema(f.Schema):
    """申诉: the body of the applicant's appeal (message `ft_appeal`), within the appeal window."""

    reason = f.text(5000, required=True)


def _under(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Store the values under the contract's data key."""
    return lambda values: {key: values}


# The body of the applicant's appeal (a REST body, not a step's form): the service sends it as
# the `ft_appeal` message's payload, under `appeal` (not `ft_appeal`, which is where the appeal
# decision goes).
APPEAL_FORM = Form(AppealSchema, _under("appeal"))
