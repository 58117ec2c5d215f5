"""The lists behind the burden picture's numbers: for the townships a reader may see and one
year, every meeting they must attend, inspection approved on them, need they raised and form
they fill — each a table under Chinese headers, for the report's Excel workbook."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.burden.models_burden import (
    InspectionItem,
    InspectionVisit,
    ReportForm,
    ReportFormParty,
    RequiredMeeting,
    TownshipNeed,
)
from engine.burden.services import inspections, meetings, needs, report_forms
from engine.models import Instance
from engine.services.directory import OrgRef
from engine.tables import Sheet
from engine.workflow.workdays import local_date, written_date

MEETINGS = Sheet(
    "会议",
    {
        "township": "乡镇（街道）",
        "held_on": "会议日期",
        "name": "会议名称",
        "organiser": "召集单位",
        "mode": "参会方式",
        "minutes": "时长（分钟）",
    },
    (),
)
INSPECTIONS = Sheet(
    "督查检查考核",
    {
        "township": "乡镇（街道）",
        "department": "部门",
        "kind": "类别",
        "name": "名称",
        "method": "方式",
        "times": "批准次数",
        "visits": "已通知的检查",
        "out_of_plan": "计划外",
    },
    (),
)
NEEDS = Sheet(
    "吹哨",
    {
        "township": "乡镇（街道）",
        "name": "需求事项",
        "raised_on": "吹哨日期",
        "status": "办理情况",
        "lead": "牵头部门",
        "due_on": "办理时限",
        "late": "超时",
        "rating": "乡镇评价",
    },
    (),
)
FORMS = Sheet(
    "报表",
    {
        "township": "乡镇（街道）",
        "form": "报表",
        "owner": "要求填报的部门",
        "frequency": "频次",
        "fields": "字段数",
    },
    (),
)
NEED_STATUSES = {
    "pending": "办理中",
    "resolved": "已解决办结",
    "returned": "乡镇自行办理",
    "referred": "已报请市级协调",
    "closed": "督办后办结",
}


def sheets(
    session: Session,
    names: dict[int, OrgRef],
    township_ids: list[int],
    year: int,
    timezone: str,
    now: datetime,
) -> list[tuple[Sheet, list[dict[str, Any]]]]:
    """The four tables for these townships and this year (`names`: every organisation named)."""

    def name(org_id: int | None) -> str:
        return names[org_id].name if org_id in names else ""

    first, last = date(year, 1, 1), date(year, 12, 31)
    meeting_rows = [
        {
            "township": name(m.township_org_id),
            "held_on": written_date(m.held_on),
            "name": m.name,
            "organiser": name(m.organiser_org_id),
            "mode": meetings.MODES.get(m.mode, m.mode),
            "minutes": m.minutes,
        }
        for m in session.scalars(
            select(RequiredMeeting)
            .where(
                RequiredMeeting.township_org_id.in_(township_ids),
                RequiredMeeting.held_on >= first,
                RequiredMeeting.held_on <= last,
            )
            .order_by(RequiredMeeting.township_org_id, RequiredMeeting.held_on)
        )
    ]
    items = session.scalars(
        select(InspectionItem)
        .where(InspectionItem.township_org_id.in_(township_ids), InspectionItem.year == year)
        .order_by(InspectionItem.township_org_id, InspectionItem.id)
    ).all()
    visits: dict[int, int] = {}
    for item_id in session.scalars(
        select(InspectionVisit.item_id).where(InspectionVisit.item_id.in_([i.id for i in items]))
    ):
        visits[item_id] = visits.get(item_id, 0) + 1
    inspection_rows = [
        {
            "township": name(i.township_org_id),
            "department": name(i.department_org_id),
            "kind": inspections.KINDS.get(i.kind, i.kind),
            "name": i.name,
            "method": inspections.METHODS.get(i.method, i.method),
            "times": i.times,
            "visits": visits.get(i.id, 0),
            "out_of_plan": "是" if i.out_of_plan else "否",
        }
        for i in items
    ]
    zone = ZoneInfo(timezone)
    today = local_date(now, timezone)
    raised = session.execute(
        select(Instance, TownshipNeed)
        .outerjoin(TownshipNeed, TownshipNeed.instance_id == Instance.id)
        .where(
            Instance.process_id == needs.PROCESS_ID,
            Instance.applicant_org_id.in_(township_ids),
            Instance.created_at >= datetime(year, 1, 1, tzinfo=zone),
            Instance.created_at < datetime(year + 1, 1, 1, tzinfo=zone),
        )
        .order_by(Instance.applicant_org_id, Instance.id)
    ).all()
    need_rows = [
        {
            "township": name(instance.applicant_org_id),
            "name": needs.need_name(instance),
            "raised_on": written_date(local_date(instance.created_at, timezone)),
            "status": NEED_STATUSES.get(instance.status, instance.status),
            "lead": name(need.lead_org_id) if need else "",
            "due_on": written_date(need.due_on) if need and need.due_on else "",
            "late": "是"
            if need
            and (
                need.answered_late
                or (need.answered_at is None and need.due_on is not None and need.due_on < today)
            )
            else "否",
            "rating": needs.RATINGS.get(need.rating or "", "") if need else "",
        }
        for instance, need in raised
    ]
    form_rows = [
        {
            "township": name(org_id),
            "form": form.name,
            "owner": name(form.owner_org_id),
            "frequency": report_forms.FREQUENCIES.get(form.frequency, form.frequency),
            "fields": len(form.fields or []),
        }
        for org_id, form in session.execute(
            select(ReportFormParty.org_id, ReportForm)
            .join(ReportForm, ReportForm.id == ReportFormParty.form_id)
            .where(ReportFormParty.part == "township", ReportFormParty.org_id.in_(township_ids))
            .order_by(ReportFormParty.org_id, ReportForm.id)
        )
    ]
    return [
        (MEETINGS, meeting_rows),
        (INSPECTIONS, inspection_rows),
        (NEEDS, need_rows),
        (FORMS, form_rows),
    ]


def organisations(session: Session, township_ids: list[int], year: int) -> set[int]:
    """Every organisation the tables name beside the townships (organisers, departments)."""
    found: set[int] = set(township_ids)
    found |= set(
        session.scalars(
            select(RequiredMeeting.organiser_org_id).where(
                RequiredMeeting.township_org_id.in_(township_ids)
            )
        )
    )
    found |= set(
        session.scalars(
            select(InspectionItem.department_org_id).where(
                InspectionItem.township_org_id.in_(township_ids), InspectionItem.year == year
            )
        )
    )
    found |= {
        org
        for org in session.scalars(
            select(TownshipNeed.lead_org_id).where(TownshipNeed.township_org_id.in_(township_ids))
        )
        if org is not None
    }
    found |= set(session.scalars(select(ReportForm.owner_org_id)))
    return found
