"""Accountability cases as domain facts: statuses, findings, labels, and what a finding means.

Pure: no database. The use cases are in engine/accountability/services/cases.py; see
docs/accountability.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The procedures an accountability case spawns.
CASE_PROCESSES = frozenset({"fault_tolerance", "clearance"})

SUBJECT_KINDS = {"person": "个人", "unit": "单位"}
SOURCES = {"report": "信访举报", "inspection": "巡视巡察、审计等发现", "other": "其他"}
RESPONSIBILITY_LEVELS = {
    "principal": "主体责任",
    "supervisory": "监督责任",
    "leadership": "领导责任",
}
LEADERSHIP_KINDS = {"overall": "全面领导责任", "main": "主要领导责任", "important": "重要领导责任"}
CASE_STATUSES = {
    "open": "问责调查中",
    "proven": "问题属实，待作出问责决定",
    "decided": "已作出问责决定",
    "untrue": "经核查失实",
    "not_proven": "查无实据",
}
FINDINGS = {
    "proven": "问题属实",
    "untrue": "反映失实",
    "partly_untrue": "部分失实",
    "not_proven": "查无实据但不能排除",
}
# What a concluded verification makes of the case.
STATUS_OF_FINDING = {
    "proven": "proven",
    "untrue": "untrue",
    "partly_untrue": "untrue",
    "not_proven": "not_proven",
}

# 问责决定: how the case is concluded once the report is proven (the 问责 forms of the
# 问责条例 and the county's practice), recorded with the decision's document number and date.
DECISION_OUTCOMES = {
    "exempted": "免予问责",
    "criticism": "通报批评",
    "self_examination": "责令书面检查",
    "admonition": "诫勉",
    "organizational": "组织调整或组织处理",
    "disciplinary": "党纪政务处分",
}
# A report verified untrue (or not proven) is a verification record, not an accountability
# case: nobody was held to account, so it carries no responsibility level when shown.
UNTRUE_STATUSES = frozenset({"untrue", "not_proven"})


def record_kind(status: str) -> str:
    """What a case record is called: 问责案件, or 核查记录 once the report proved untrue."""
    return "反映问题核查记录" if status in UNTRUE_STATUSES else "问责案件"


# When clearance is not left to the person's application (湖北): a report verified untrue that
# affected one of these must be followed by the handling organ's proposal within a time limit.
CLEARANCE_TRIGGERS = {
    "selection": "影响选拔任用",
    "election": "影响换届选举",
    "transfer": "影响调整交流",
    "awards": "影响评先评优",
    "rights": "影响正当权益或正常工作生活",
    "repeated_reports": "已了结问题被反复举报",
}
UNTRUE_FINDINGS = ("untrue", "partly_untrue")

# Statuses in which the case is under way: a fault-tolerance application may still be made
# (after accountability starts and before the decision).
BEFORE_DECISION = frozenset({"open", "proven"})


def facts(case: Any) -> dict[str, Any]:
    """What the procedures' forms and diagrams may know of a case (seeded as `case`)."""
    return {
        "id": case.id,
        "case_no": case.case_no,
        "subject_kind": case.subject_kind,
        "subject_name": case.subject_name,
        "responsibility_level": case.responsibility_level,
        "status": case.status,
        "finding": case.finding,
        "concluded": case.concluded_at is not None,
        "harm": bool(case.harm),
        "tolerance_outcome": case.tolerance_outcome,
        "cleared": case.cleared_at is not None,
    }


def label(table: Mapping[str, str], code: str | None) -> str:
    return table.get(code or "", code or "")
