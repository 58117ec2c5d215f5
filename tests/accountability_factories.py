"""Valid payloads for the accountability procedures' forms, and the context their checks need.

Dates default relative to the real today (a day back for "already happened", weeks ahead for
deadlines), so they pass checks against a clock near now; pass `today` for a fixed clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from config import Settings
from config.tolerance import ToleranceRules, load_tolerance_rules

FALSE_POINTS = ["收受施工方礼金", "违规安排亲属到村集体企业工作"]


@lru_cache(maxsize=1)
def tolerance_rules() -> ToleranceRules:
    """The county's rules as shipped (config/tolerance.toml)."""
    return load_tolerance_rules(Settings().tolerance_rules_file)


def _day(today: date | str | None, days: int) -> str:
    base = date.fromisoformat(today) if isinstance(today, str) else (today or date.today())
    return (base + timedelta(days=days)).isoformat()


# --- the case facts (what the service seeds as `case`) ----------------------------------------


def open_case(**overrides: Any) -> dict[str, Any]:
    """A case under way: accountability started, no decision yet."""
    values: dict[str, Any] = {
        "status": "open",
        "finding": "",
        "concluded": False,
        "harm": False,
        "subject_kind": "person",
    }
    values.update(overrides)
    return values


def untrue_case(**overrides: Any) -> dict[str, Any]:
    """A concluded case whose report was verified untrue and harmed the person: clearance due."""
    return open_case(
        **{"status": "untrue", "finding": "untrue", "concluded": True, "harm": True, **overrides}
    )


def context(
    case: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    today: date | str | None = None,
) -> dict[str, Any]:
    """What the service passes to a form's check."""
    return {
        "case": case if case is not None else open_case(),
        "data": data or {},
        "rules": tolerance_rules(),
        "today": _day(today, 0),
    }


# --- 容错纠错 -----------------------------------------------------------------------------------


def ft_application(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "case_id": 1,
        "facts": "推进农村集体产权制度改革试点中，未经公开招标先行确定合作社托管方",
        "grounds": "试点方案无明确规定，为赶农时先行先试，未谋取私利，已主动纠正",
        "distinctions": ["inexperience", "exploration"],
        "circumstances": ["reform_first_try", "losses_recovered"],
        "no_private_gain": True,
    }
    values.update(overrides)
    return values


ACCEPT = {"decision": "accept"}


def refuse_acceptance(explanation: str = "申请事项属于问责决定作出后提出，不予受理") -> dict:
    return {"decision": "refuse", "explanation": explanation}


def ft_verification(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "findings": "经向县农业农村局、县财政局核实，托管方确定程序存在瑕疵，未造成资金损失",
        "departments_consulted": ["县农业农村局", "县财政局"],
        "suggestion": "reduced",
    }
    values.update(overrides)
    return values


def ft_decision(
    outcome: str = "reduced",
    rectification: bool = False,
    today: date | str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """认定; with `rectification`, a deadline 30 days after `today`."""
    values: dict[str, Any] = {
        "outcome": outcome,
        "distinctions": ["inexperience"],
        "circumstances": ["reform_first_try", "losses_recovered"],
        "exclusions": [],
        "reasoning": "属于改革探索中因缺乏经验出现的失误，且已主动挽回损失，予以减责",
    }
    if outcome == "not_granted":
        values.update(distinctions=[], circumstances=[], reasoning="不符合容错条件")
    if rectification:
        values.update(
            rectification_required=True,
            rectification_deadline=_day(today, 30),
            rectification_items="重新履行托管方公开遴选程序，完善集体资产管理制度",
        )
    values.update(overrides)
    return values


def ft_appeal(reason: str = "认定未考虑已挽回全部损失的情节，请求免责") -> dict[str, Any]:
    """Body of the applicant's appeal (APPEAL_FORM; sent as the `ft_appeal` message)."""
    return {"reason": reason}


def appeal_upheld(reasoning: str = "原认定事实清楚，维持") -> dict[str, Any]:
    return {"decision": "upheld", "reasoning": reasoning}


def appeal_changed(outcome: str = "exempt", reasoning: str = "损失已全部挽回") -> dict[str, Any]:
    return {"decision": "changed", "outcome": outcome, "reasoning": reasoning}


def ft_rectification(today: date | str | None = None, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "report": "已重新公开遴选托管方，修订村集体资产管理办法",
        "completed_on": _day(today, -1),
    }
    values.update(overrides)
    return values


SUPERVISE_CLOSED = {"decision": "closed"}


def supervise_continue(comment: str = "管理办法尚未经村民代表会议通过") -> dict[str, Any]:
    return {"decision": "continue", "comment": comment}


def ft_filing(today: date | str | None = None, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "filed_with": "中共清河县委",
        "filed_on": _day(today, -1),
        "reference": "清纪备〔2026〕3号",
    }
    values.update(overrides)
    return values


# --- 澄清正名 -----------------------------------------------------------------------------------


def cl_application(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "case_id": 1,
        "origin": "application",
        "basic_facts": "本人任东河镇副镇长，2025年被反映收受礼金、安排亲属就业",
        "false_report": "举报称本人收受施工方礼金并违规安排亲属到村集体企业工作",
        "clearance_requested": "请在镇党委会议上说明核查结论，为本人澄清",
        "preferred_method": "meeting",
    }
    values.update(overrides)
    return values


def cl_proposal(**overrides: Any) -> dict[str, Any]:
    """The handling department proposes clearance after consulting the person."""
    return cl_application(
        **{"origin": "proposal", "person_consulted": True, "preferred_method": None, **overrides}
    )


def eligible(false_points: list[str] | None = None) -> dict[str, Any]:
    return {"decision": "eligible", "false_points": list(false_points or FALSE_POINTS)}


def ineligible(
    grounds: list[str] | None = None, explanation: str = "核查结论为查无实据，不符合澄清条件"
) -> dict[str, Any]:
    return {
        "decision": "ineligible",
        "grounds": grounds or ["not_proven"],
        "explanation": explanation,
    }


def approved(method: str = "meeting", scope: list[str] | None = None) -> dict[str, Any]:
    return {"decision": "approve", "method": method, "scope": list(scope or FALSE_POINTS)}


def approval_refused(explanation: str = "澄清可能影响正在办理的关联案件，暂不批准") -> dict:
    return {"decision": "refuse", "explanation": explanation}


OCCASIONS = {
    "written": "",
    "in_person": "2026年3月5日在县纪委监委谈话室当面澄清，镇党委书记在场",
    "meeting": "东河镇党委会议（镇会议室），镇党委委员及各村党支部书记参加",
    "circular": "清纪通〔2026〕5号，在全镇范围通报",
}


def carried_out(
    method: str = "meeting",
    points: list[str] | None = None,
    malicious: bool = False,
    today: date | str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "carried_out_on": _day(today, -1),
        "method": method,
        "written_record": "澄清正名记录：经核查，反映的问题失实，予以澄清",
        "occasion": OCCASIONS[method],
        "points_cleared": list(points or FALSE_POINTS),
        "malicious_accusation": malicious,
    }
    values.update(overrides)
    return values


def referral(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "referred_to": "police",
        "reason": "举报人捏造事实、多次实名诬告",
        "reference": "清纪移〔2026〕1号",
    }
    values.update(overrides)
    return values
