"""What the console shows of an accountability case's procedures beyond their forms: the
county's rules to pick from, the clearance conditions as the case record has them, the results
so far, and what a step wrote on the case. Pure: from what the use cases returned."""

from __future__ import annotations

from typing import Any

from config.tolerance import ToleranceRules
from engine.accountability import forms_accountability as fa
from engine.accountability.services.cases import CaseDetail
from engine.services.directory import OrgRef
from engine.workflow.services.views import InstanceDetail

EFFECTS = {"exempt": "（可免责）", "reduced": "（可减责、从轻）"}
Rows = list[tuple[str, str]]


def tolerance_choices(rules: ToleranceRules) -> dict[str, list[tuple[str, str]]]:
    """The county's circumstances (with what they allow) and exclusions, to pick from."""
    return {
        "circumstances": [
            (r.code, r.label + EFFECTS.get(r.effect, "")) for r in rules.circumstances
        ],
        "exclusions": [(r.code, r.label) for r in rules.exclusions],
    }


def clearance_conditions(case: CaseDetail | None) -> list[tuple[str, str, bool]] | None:
    """澄清条件 as the case record has them: (condition, what the record says, met)."""
    if case is None:
        return None
    finding = fa.FINDINGS.get(case.finding, case.finding)
    concluded = case.concluded_at is not None
    return [
        ("核查结论为失实或部分失实", finding, case.finding in fa.UNTRUE_FINDINGS),
        ("问题已了结", "已了结" if concluded else "尚未了结", concluded),
        ("造成不良影响", "是" if case.harm else "否", case.harm),
    ]


def told_names(orgs: list[OrgRef], case: CaseDetail) -> dict[str, str]:
    """Names for the organisation codes a case update says it told: the subject's own code
    stands for the person concerned (told alone, not their organisation) or the unit."""
    names = {org.code: org.name for org in orgs}
    subject = case.subject_org
    if case.subject_kind == "person":
        names[subject.code] = f"当事人{case.subject_name}"
    else:
        names[subject.code] = f"{subject.name}（被问责单位）"
    return names


def case_update(payload: dict[str, Any], orgs: dict[str, str]) -> str:
    """What a step wrote on its case record, and whom it told in writing."""
    parts = []
    if payload.get("tolerance_outcome"):
        parts.append(f"容错认定结果：{fa.OUTCOMES.get(payload['tolerance_outcome'], '')}")
    if payload.get("tolerance") == "refused":
        parts.append("容错申请不予受理")
    if payload.get("appeal") == "upheld":
        parts.append("申诉复核维持原认定")
    if payload.get("clearance") == "refused":
        parts.append("澄清正名申请不予办理")
    if payload.get("cleared"):
        parts.append(f"已澄清正名（{fa.CLEARANCE_METHODS.get(payload.get('method') or '', '')}）")
    told = [orgs.get(code, code) for code in payload.get("told") or []]
    if told:
        parts.append("已书面通知：" + "、".join(told))
    return "；".join(parts)


def results(detail: InstanceDetail) -> Rows:
    """办理结果 of a case procedure so far, in a few rows (the decisions below have it all)."""
    if detail.process_id == "fault_tolerance":
        return _tolerance_results(detail.data)
    if detail.process_id == "clearance":
        return _clearance_results(detail.data)
    return []


def _tolerance_results(data: dict[str, Any]) -> Rows:
    rows = []
    accept = data.get("ft_accept") or {}
    if accept.get("decision") == "refuse":
        rows.append(("受理意见", f"不予受理。{accept.get('explanation', '')}"))
    decision = data.get("ft_decision")
    if decision:
        text = fa.OUTCOMES.get(decision["outcome"], decision["outcome"])
        if decision.get("rectification_required"):
            text += f"，须于 {decision.get('rectification_deadline')} 前完成整改"
        rows.append(("容错认定", text))
    if data.get("appeal"):
        rows.append(("申诉", data["appeal"].get("reason", "")))
    appeal = data.get("ft_appeal")
    if appeal:
        outcome = fa.OUTCOMES.get(appeal.get("outcome") or "", "")
        changed = appeal.get("decision") == "changed"
        rows.append(("申诉复核", f"变更认定为{outcome}" if changed else "维持原认定"))
    filing = data.get("ft_filing")
    if filing:
        rows.append(("报备", f"{filing['filed_with']}，{filing['filed_on']}"))
    return rows


def _clearance_results(data: dict[str, Any]) -> Rows:
    rows = []
    eligibility = data.get("cl_eligibility") or {}
    if eligibility.get("decision") == "ineligible":
        grounds = "、".join(fa.INELIGIBLE_GROUNDS.get(g, g) for g in eligibility["grounds"])
        rows.append(("澄清条件", f"不符合澄清条件（{grounds}）"))
        rows.append(("告知申请人", eligibility.get("explanation", "")))
    elif eligibility.get("decision") == "eligible":
        rows.append(("核实为失实的问题", "；".join(eligibility.get("false_points") or [])))
    approval = data.get("cl_approval") or {}
    if approval.get("decision") == "refuse":
        rows.append(("审批", f"不予批准。{approval.get('explanation', '')}"))
    elif approval.get("decision") == "approve":
        rows.append(("审批", f"批准{fa.CLEARANCE_METHODS.get(approval.get('method') or '', '')}"))
    result = data.get("cl_result")
    if result:
        method = fa.CLEARANCE_METHODS.get(result["method"], result["method"])
        rows.append(("澄清正名", f"{result['carried_out_on']} {method}"))
        rows.append(("已澄清的问题", "；".join(result.get("points_cleared") or [])))
    referral = data.get("cl_referral")
    if referral:
        target = fa.REFERRAL_TARGETS.get(referral["referred_to"], referral["referred_to"])
        rows.append(("移送查处", f"已移送{target}"))
    return rows
