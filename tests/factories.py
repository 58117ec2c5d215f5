"""Small factories for test data and for walking the admission process."""

from __future__ import annotations

from typing import Any


def application(**overrides: Any) -> dict[str, Any]:
    """A complete, valid application for a short-term matter to two townships."""
    values: dict[str, Any] = {
        "name": "高标准农田建设项目日常巡查",
        "content": "每月对辖区内高标准农田建设项目开展一次巡查并报送台账",
        "basis": "《农田建设项目管理办法》（农业农村部令2019年第4号）",
        "reason": "项目点多面广，需乡镇协助日常巡查",
        "term_type": "short",
        "start_date": "2026-12-01",
        "end_date": "2027-06-30",
        "townships": ["chengguan", "donghe"],
        "resources": {"funding_yuan": 60000, "staff": 2, "powers": "项目现场巡查、问题督促整改"},
        "assessment": "按季度报送巡查台账，不单独考核乡镇",
    }
    values.update(overrides)
    return values


PASS = {"decision": "pass"}
# The county's approval records how it was decided: the meeting, its date and minutes number.
MEETING = {
    "meeting": "standing_committee",
    "meeting_date": "2024-12-30",
    "minutes_no": "县委常委会会议纪要〔2024〕31号",
}
APPROVE = {"decision": "pass", **MEETING}
LAWFUL = {"opinion": "lawful"}
CONFIRM = {"confirmed": True, "resources_received": True}


def returned(comment: str = "请补充经费测算依据") -> dict[str, Any]:
    return {"decision": "return", "comment": comment}


def rejected(reasons: list[str] | None = None) -> dict[str, Any]:
    return {"decision": "reject", "reasons": reasons or ["no_basis"], "comment": "缺少依据"}
