"""The burden report: what each township carries, and what each department files and gets."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.authz import COUNTY_WIDE_READERS, Actor, instance_scope
from engine.burden.services import details as gate_details
from engine.burden.services import inspections, meetings, needs, ratings, report_forms
from engine.errors import InvalidInput
from engine.models import AuditEvent, Instance, InstanceTownship, Matter, Organization, Task, User
from engine.services.directory import OrgRef
from engine.tables import Sheet, write_workbook
from engine.workflow.context import Context
from engine.workflow.counties import city_counties
from engine.workflow.fields import char_problem

# 借调准入: a township's people lent to a department stand on its register while they are
# away; the report counts them apart from the matters it carries (bpmn/secondment_admission).
SECONDMENT = "secondment_admission"
# Villages' signboards, mechanisms, certificates (bpmn/listing_admission): counted on the lists.
LISTING = "listing_admission"
# The other burden gates' procedures: counted by their own rows, never as applications.
GATES = (
    meetings.PROCESS_ID,
    inspections.PROCESS_ID,
    needs.PROCESS_ID,
    report_forms.PROCESS_ID,
    ratings.PROCESS_ID,
    LISTING,
)
# Decisions that judge an application; "return" at review goes back to the applicant.
DECISION_STEPS = ("review", "approve")
# Rejection reasons by code, as the shipped decision form (bpmn/matter_admission/decision.json)
# titles them; the report counts codes any version recorded (an unknown one is shown as is).
REJECTION_REASONS = {
    "no_basis": "无法律或政策依据",
    "duplicates_list_item": "与清单内事项重复",
    "no_resources": "未随事下放经费、人员或权限",
    "negative_list": "属于负面清单事项",
    "other": "其他",
}


@dataclass
class DepartmentCount:
    department: OrgRef
    matters: int


@dataclass
class TownshipBurden:
    township: OrgRef
    # The county it belongs to (a city office reads every county's townships).
    county: OrgRef | None = None
    matters_in_force: int = 0
    by_department: list[DepartmentCount] = field(default_factory=list)
    funding_promised_yuan: int = 0
    funding_received_yuan: int = 0
    staff_promised: int = 0
    staff_received: int = 0
    matters_resources_received: int = 0
    matters_resources_missing: int = 0
    # 费随事转: entries still owed resources, and those past their last day.
    open_shortfalls: int = 0
    overdue_shortfalls: int = 0
    pending_applications: int = 0
    overdue_steps: int = 0
    # County meetings it must attend this year (approved through the meeting gate).
    meetings_in_person: int = 0
    meetings_video: int = 0
    # Inspections approved on it this year (visits allowed, summed over them), and the visits
    # departments announced.
    inspection_times: int = 0
    inspection_visits: int = 0
    # Needs it raised this year (吹哨): answered, answered late or still late, rated unsatisfied.
    needs_raised: int = 0
    needs_answered: int = 0
    needs_late: int = 0
    needs_unsatisfied: int = 0
    # Report forms in the catalogue it fills, and their fields (一表通: each once a period).
    report_forms: int = 0
    report_fields: int = 0
    # Its people seconded to county departments now (借调, approved and not yet back).
    seconded_out: int = 0


@dataclass
class DepartmentBurden:
    department: OrgRef
    county: OrgRef | None = None
    filed: int = 0
    pending: int = 0
    admitted: int = 0
    in_force: int = 0
    exited: int = 0
    returned: int = 0
    rejected: int = 0
    withdrawn: int = 0
    rejection_reasons: dict[str, int] = field(default_factory=dict)
    # 郑州二七区: filings that read as a separate assessment, inspection or ranking of townships
    # on a matter already admitted (the pre-check's flag).
    separate_assessments: int = 0
    # Meetings it called this year that townships must attend.
    meetings_called: int = 0
    # Its inspections of townships planned for this year (of them, outside the annual plan),
    # and those filed this year the county did not let run (refused or merged).
    inspections_planned: int = 0
    inspections_out_of_plan: int = 0
    inspections_not_run: int = 0
    # Townships' needs it led this year (报到): answered, late, rated unsatisfied.
    needs_led: int = 0
    needs_answered: int = 0
    needs_late: int = 0
    needs_unsatisfied: int = 0
    # Report forms it owns in the catalogue (approved through the report-form gate).
    report_forms: int = 0
    # Townships' people it holds on secondment now.
    secondments_held: int = 0


@dataclass(frozen=True)
class BurdenReport:
    generated_at: datetime
    townships: list[TownshipBurden]
    departments: list[DepartmentBurden]
    # The period the other gates are counted over: a calendar year.
    period_start: date | None = None
    period_end: date | None = None
    # The lists behind the townships' numbers (meetings, inspections, needs, forms).
    details: list[tuple[Sheet, list[dict[str, Any]]]] = field(default_factory=list)


def report(
    ctx: Context,
    actor: Actor,
    year: int | None = None,
    details: bool = False,
    county: str | None = None,
) -> BurdenReport:
    """Scoped like every read: a township its own row, an applicant its own department,
    county offices and auditors their county's every row, a city's offices every county's of
    the city (or the one `county` names) — admins, who read no matters, nothing. The other
    gates are counted over `year` (this year by default; matters as they stand now); with
    `details`, the lists behind the townships' numbers come too."""
    scope = instance_scope(actor)
    now = ctx.clock.now()
    this_year = ctx.calendar.local(now).year
    if year is not None and not 2000 <= year <= this_year + 1:
        raise InvalidInput("年度有误", {"year": [f"应为 2000 至 {this_year + 1} 年之间的年份"]})
    with ctx.db.read() as session:
        counties = _counties(session, actor, county)
        township_ids = _township_ids(session, counties, scope.township_org_id)
        department_ids = _department_ids(session, counties, scope.applicant_org_id)
        orgs = ctx.names.orgs(session, township_ids + department_ids)
        townships = _townships(session, ctx, township_ids, orgs, now)
        departments = _departments(session, department_ids, orgs)
        _name_counties(
            session,
            ctx,
            list(zip(township_ids, townships, strict=True)),
            list(zip(department_ids, departments, strict=True)),
        )
        start, end = date(year or this_year, 1, 1), date(year or this_year, 12, 31)
        _add_gates(session, ctx, townships, departments, start, end)
        lists: list[tuple[Sheet, list[dict[str, Any]]]] = []
        if details:
            names = ctx.names.orgs(
                session, sorted(gate_details.organisations(session, township_ids, start.year))
            )
            zone = ctx.settings.timezone
            lists = gate_details.sheets(session, names, township_ids, start.year, zone, now)
    return BurdenReport(now, townships, departments, start, end, lists)


def _add_gates(
    session: Session,
    ctx: Context,
    townships: list[TownshipBurden],
    departments: list[DepartmentBurden],
    start: date,
    end: date,
) -> None:
    """The meetings' and inspections' counts beside the matters' (what the burden domain
    publishes)."""
    ids = {row.township.code: row for row in townships}
    org_ids = dict(
        session.execute(
            select(Organization.code, Organization.id).where(
                Organization.code.in_(list(ids) + [d.department.code for d in departments])
            )
        ).all()
    )
    township_ids = [org_ids[code] for code in ids if code in org_ids]
    department_ids = [
        org_ids[d.department.code] for d in departments if d.department.code in org_ids
    ]
    found = meetings.counts(session, township_ids, department_ids, start, end)
    zone = ctx.settings.timezone
    checks = inspections.counts(session, township_ids, department_ids, start.year, zone)
    forms, fields, owned = report_forms.counts(session, township_ids, department_ids)
    raised = needs.counts(session, township_ids, department_ids, start.year, zone, ctx.clock.now())
    for code, row in ids.items():
        org = org_ids.get(code, -1)
        row.meetings_in_person = found.in_person.get(org, 0)
        row.meetings_video = found.video.get(org, 0)
        row.inspection_times = checks.times.get(org, 0)
        row.inspection_visits = checks.visits.get(org, 0)
        row.needs_raised = raised.raised.get(org, 0)
        row.needs_answered = raised.township_answered.get(org, 0)
        row.needs_late = raised.township_late.get(org, 0)
        row.needs_unsatisfied = raised.township_unsatisfied.get(org, 0)
        row.report_forms = forms.get(org, 0)
        row.report_fields = fields.get(org, 0)
    for d in departments:
        org = org_ids.get(d.department.code, -1)
        d.meetings_called = found.called.get(org, 0)
        d.inspections_planned = checks.planned.get(org, 0)
        d.inspections_out_of_plan = checks.out_of_plan.get(org, 0)
        d.inspections_not_run = checks.not_run.get(org, 0)
        d.needs_led = raised.led.get(org, 0)
        d.needs_answered = raised.answered.get(org, 0)
        d.needs_late = raised.late.get(org, 0)
        d.needs_unsatisfied = raised.unsatisfied.get(org, 0)
        d.report_forms = owned.get(org, 0)


def of_townships(ctx: Context, actor: Actor, codes: list[str]) -> list[TownshipBurden]:
    """The current burden of the townships an application is addressed to, for the offices
    that judge it (county-wide readers): matters in force, pending applications, resources
    promised and received, late steps, and this year's meetings, inspections, needs and forms.
    Others read none here."""
    if not actor.roles & COUNTY_WIDE_READERS or not codes:
        return []
    with ctx.db.read() as session:
        ids = list(
            session.scalars(
                select(Organization.id).where(
                    Organization.code.in_(codes),
                    Organization.level == "township",
                    Organization.county_id == actor.county_id,
                )
            )
        )
        orgs = ctx.names.orgs(session, ids)
        now = ctx.clock.now()
        rows = _townships(session, ctx, ids, orgs, now)
        year = ctx.calendar.local(now).year
        _add_gates(session, ctx, rows, [], date(year, 1, 1), date(year, 12, 31))
    order = {code: i for i, code in enumerate(codes)}
    return sorted(rows, key=lambda row: order.get(row.township.code, len(order)))


# Who reads every township's and department's row of the county (or, at a city, of each of
# its counties): the county-wide readers, and the social-work department, which coordinates
# the townships' needs.
WHOLE_PICTURE = COUNTY_WIDE_READERS | {"social_work"}


def _counties(session: Session, actor: Actor, code: str | None) -> list[int]:
    """The counties whose every row the caller reads: none for a township or a department
    (they read their own), the caller's for a county office, each of the city's (or the one
    `code` names) for a city office."""
    if code is not None and (problem := char_problem(code)):
        raise InvalidInput("筛选条件有误", {"county": [problem]})
    if not actor.roles & WHOLE_PICTURE:
        return []
    if actor.county_id is not None:
        counties = [actor.county_id]
    elif actor.city_id is not None:
        counties = list(session.scalars(city_counties(actor.city_id)))
    else:
        return []
    if code:
        named = session.scalar(select(Organization.id).where(Organization.code == code))
        if named not in counties:
            raise InvalidInput("筛选条件有误", {"county": [f"不是本市所辖的县（市、区）：{code}"]})
        counties = [named]
    return counties


def _township_ids(session: Session, counties: list[int], own: int | None) -> list[int]:
    if not counties:
        return [own] if own is not None else []
    query = select(Organization.id).where(
        Organization.level == "township", Organization.county_id.in_(counties)
    )
    return list(session.scalars(query.order_by(Organization.county_id, Organization.code)))


def _department_ids(session: Session, counties: list[int], own: int | None) -> list[int]:
    if not counties:
        return [own] if own is not None else []
    filed = set(
        session.scalars(
            select(Instance.applicant_org_id)
            .where(
                Instance.case_id.is_(None),
                Instance.process_id.not_in(GATES),
                Instance.county_id.in_(counties),
            )
            .distinct()
        )
    )
    users = session.execute(
        select(User.org_id, User.roles)
        .join(Organization, Organization.id == User.org_id)
        .where(Organization.county_id.in_(counties))
    )
    applicants = {org_id for org_id, roles in users if "applicant" in (roles or [])}
    county_of = dict(
        session.execute(
            select(Organization.id, Organization.county_id).where(
                Organization.id.in_(filed | applicants)
            )
        ).all()
    )
    return sorted(filed | applicants, key=lambda org_id: (county_of[org_id], org_id))


def _name_counties(
    session: Session,
    ctx: Context,
    townships: list[tuple[int, TownshipBurden]],
    departments: list[tuple[int, DepartmentBurden]],
) -> None:
    """Each row's county, by name (a city office's report spans several)."""
    ids = [org_id for org_id, _ in townships + departments]
    county_of = dict(
        session.execute(
            select(Organization.id, Organization.county_id).where(Organization.id.in_(ids))
        ).all()
    )
    names = ctx.names.orgs(session, sorted({c for c in county_of.values() if c is not None}))
    for org_id, row in townships + departments:
        county = county_of.get(org_id)
        row.county = names[county] if county is not None else None


def _townships(
    session: Session, ctx: Context, ids: list[int], orgs: dict[int, OrgRef], now: datetime
) -> list[TownshipBurden]:
    rows = {org_id: TownshipBurden(orgs[org_id]) for org_id in ids}
    if not ids:
        return []
    received = Matter.resources_received.is_(True)
    owed = Matter.resources_received.is_(False) & Matter.shortfall_due.is_not(None)
    today = ctx.calendar.local(now).date()
    matters = (
        select(
            Matter.township_org_id,
            Instance.applicant_org_id,
            func.count(),
            func.sum(Matter.funding_yuan),
            func.sum(Matter.funding_received_yuan),
            func.sum(Matter.staff),
            func.sum(Matter.staff_received),
            func.sum(case((received, 1), else_=0)),
            func.sum(case((owed, 1), else_=0)),
            func.sum(case((owed & (Matter.shortfall_due < today), 1), else_=0)),
        )
        .join(Instance, Instance.id == Matter.instance_id)
        .where(
            Matter.status == "in_force",
            Matter.township_org_id.in_(ids),
            Instance.process_id != SECONDMENT,  # people lent, not duties: counted apart
        )
        .group_by(Matter.township_org_id, Instance.applicant_org_id)
    )
    by_department: dict[int, Counter[int]] = {org_id: Counter() for org_id in ids}
    for township, dept, count, *sums in session.execute(matters):
        funding, funding_in, staff, staff_in, n_in, n_owed, n_late = (int(v or 0) for v in sums)
        row = rows[township]
        row.matters_in_force += count
        row.funding_promised_yuan += funding
        row.funding_received_yuan += funding_in
        row.staff_promised += staff
        row.staff_received += staff_in
        row.matters_resources_received += n_in
        row.matters_resources_missing += count - n_in
        row.open_shortfalls += n_owed
        row.overdue_shortfalls += n_late
        by_department[township][dept] += count
    names = ctx.names.orgs(session, [d for c in by_department.values() for d in c])
    for township, counts in by_department.items():
        rows[township].by_department = [
            DepartmentCount(names[d], n) for d, n in sorted(counts.items(), key=_by_count(names))
        ]
    for township, count in _secondments(session, Matter.township_org_id, ids):
        rows[township].seconded_out = count
    for township, count in _per_township(session, ids, Instance.status == "pending"):
        rows[township].pending_applications = count
    overdue = Task.state == "open", Task.due_at.is_not(None), Task.due_at < now
    for township, count in _per_township(session, ids, *overdue, with_tasks=True):
        rows[township].overdue_steps = count
    return [rows[org_id] for org_id in ids]


def _secondments(session: Session, column: Any, ids: list[int]) -> list[tuple[int, int]]:
    """(organisation, people away now) of the secondments in force, by township or by the
    department holding them."""
    query = (
        select(column, func.count())
        .select_from(Matter)
        .join(Instance, Instance.id == Matter.instance_id)
        .where(Matter.status == "in_force", Instance.process_id == SECONDMENT, column.in_(ids))
        .group_by(column)
    )
    return [(org, n) for org, n in session.execute(query)]


def _by_count(names: dict[int, OrgRef]) -> Callable[[tuple[int, int]], tuple[int, str]]:
    return lambda pair: (-pair[1], names[pair[0]].code)


def _per_township(
    session: Session, ids: list[int], *conditions: Any, with_tasks: bool = False
) -> list[tuple[int, int]]:
    """(township, count) of instances addressed to it (or of their tasks) meeting conditions."""
    query = select(InstanceTownship.org_id, func.count()).join(
        Instance, Instance.id == InstanceTownship.instance_id
    )
    if with_tasks:
        query = query.join(Task, Task.instance_id == Instance.id)
    query = query.where(
        InstanceTownship.org_id.in_(ids), Instance.process_id.not_in(GATES), *conditions
    )
    return [(org, n) for org, n in session.execute(query.group_by(InstanceTownship.org_id))]


def _departments(
    session: Session, ids: list[int], orgs: dict[int, OrgRef]
) -> list[DepartmentBurden]:
    rows = {org_id: DepartmentBurden(orgs[org_id]) for org_id in ids}
    if not ids:
        return []
    statuses = session.execute(
        select(Instance.applicant_org_id, Instance.status, func.count())
        .where(
            Instance.applicant_org_id.in_(ids),
            Instance.case_id.is_(None),
            Instance.process_id.not_in(GATES),  # counted by their own rows
        )
        .group_by(Instance.applicant_org_id, Instance.status)
    )
    for org_id, status, count in statuses:
        row = rows[org_id]
        row.filed += count
        if status in ("pending", "in_force", "exited", "rejected", "withdrawn"):
            setattr(row, status, getattr(row, status) + count)
    reasons: dict[int, Counter[str]] = {org_id: Counter() for org_id in ids}
    decisions = session.execute(
        select(Instance.applicant_org_id, AuditEvent.task, AuditEvent.payload_json)
        .join(Instance, Instance.id == AuditEvent.instance_id)
        .where(
            Instance.applicant_org_id.in_(ids),
            AuditEvent.action == "task_completed",
            AuditEvent.task.in_(DECISION_STEPS),
        )
    )
    for org_id, task, payload in decisions:
        form = json.loads(payload).get("form", {})
        if form.get("decision") == "return" and task == "review":
            rows[org_id].returned += 1
        if form.get("decision") == "reject":
            reasons[org_id].update(form.get("reasons") or [])
    filings = session.execute(
        select(Instance.applicant_org_id, AuditEvent.payload_json)
        .join(Instance, Instance.id == AuditEvent.instance_id)
        .where(
            Instance.applicant_org_id.in_(ids),
            Instance.case_id.is_(None),
            AuditEvent.action == "instance_started",
        )
    )
    for org_id, payload in filings:
        found = (json.loads(payload).get("precheck") or {}).get("findings") or []
        if any(f.get("kind") == "assessment_of_admitted" for f in found):
            rows[org_id].separate_assessments += 1
    held = dict(_secondments(session, Instance.applicant_org_id, ids))
    for org_id, row in rows.items():
        row.secondments_held = held.get(org_id, 0)
        row.admitted = row.in_force + row.exited
        row.rejection_reasons = dict(sorted(reasons[org_id].items()))
    return [rows[org_id] for org_id in ids]


TOWNSHIP_HEADER = (
    "乡镇代码 乡镇 所属县（市、区） 在用准入事项 按部门 "
    "承诺经费（元） 到位经费（元） 承诺人员 到位人员 "
    "资源已到位事项 资源未到位事项 资源待补齐 逾期未补齐 待审批申请 超期环节 "
    "本年须现场参加的县级会议 本年须视频参加的县级会议 本年批准的检查次数 本年已通知的检查 "
    "本年吹哨 已反馈 超时 不满意 须填报的报表 报表字段 借调在外人员"
).split()
DEPARTMENT_HEADER = (
    "部门代码 部门 所属县（市、区） "
    "申请 办理中 准入 在用 已退出 退回修改 不予准入 已撤回 不予准入理由 "
    "准入后另行考核检查 本年召集乡镇参加的会议 本年列入计划的检查 其中计划外 "
    "本年报备未获同意或并入的检查 本年牵头办理的吹哨 已反馈 超时 不满意 要求乡镇填报的报表 "
    "借调乡镇人员"
).split()


def _county_name(county: OrgRef | None) -> str:
    return county.name if county is not None else ""


def _township_rows(burden: BurdenReport) -> list[list[Any]]:
    rows = []
    for t in burden.townships:
        by_dept = "；".join(f"{d.department.name} {d.matters}" for d in t.by_department)
        rows.append(
            [t.township.code, t.township.name, _county_name(t.county)]
            + [t.matters_in_force, by_dept]
            + [t.funding_promised_yuan, t.funding_received_yuan, t.staff_promised]
            + [t.staff_received, t.matters_resources_received, t.matters_resources_missing]
            + [t.open_shortfalls, t.overdue_shortfalls]
            + [t.pending_applications, t.overdue_steps]
            + [t.meetings_in_person, t.meetings_video]
            + [t.inspection_times, t.inspection_visits]
            + [t.needs_raised, t.needs_answered, t.needs_late, t.needs_unsatisfied]
            + [t.report_forms, t.report_fields, t.seconded_out]
        )
    return rows


def _department_rows(burden: BurdenReport) -> list[list[Any]]:
    rows = []
    for d in burden.departments:
        reasons = "；".join(
            f"{REJECTION_REASONS.get(code, code)} {n}" for code, n in d.rejection_reasons.items()
        )
        rows.append(
            [d.department.code, d.department.name, _county_name(d.county)]
            + [d.filed, d.pending, d.admitted, d.in_force]
            + [d.exited, d.returned, d.rejected, d.withdrawn, reasons, d.separate_assessments]
            + [d.meetings_called, d.inspections_planned, d.inspections_out_of_plan]
            + [d.inspections_not_run]
            + [d.needs_led, d.needs_answered, d.needs_late, d.needs_unsatisfied]
            + [d.report_forms, d.secondments_held]
        )
    return rows


def to_csv(burden: BurdenReport) -> bytes:
    """Two tables in one CSV (townships, a blank line, departments), UTF-8 with BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TOWNSHIP_HEADER)
    writer.writerows(_township_rows(burden))
    writer.writerow([])
    writer.writerow(DEPARTMENT_HEADER)
    writer.writerows(_department_rows(burden))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(burden: BurdenReport) -> bytes:
    """The report as one Excel workbook: the townships' and departments' numbers, then the
    lists behind the townships' (a report made with `details`), each on its own sheet."""

    def table(title: str, header: list[str], rows: list[list[Any]]) -> tuple[Sheet, Any]:
        keys = [f"c{i}" for i in range(len(header))]
        sheet = Sheet(title, dict(zip(keys, header, strict=True)), ())
        return sheet, [dict(zip(keys, row, strict=True)) for row in rows]

    return write_workbook(
        [
            table("乡镇", TOWNSHIP_HEADER, _township_rows(burden)),
            table("部门", DEPARTMENT_HEADER, _department_rows(burden)),
            *burden.details,
        ]
    )
