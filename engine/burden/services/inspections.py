"""督查检查考核: inspections, checks and assessments of townships pass the gate
(bpmn/inspection_admission).

A county department files each inspection it means to run on townships in a year — what it
checks, on what basis, which townships, how many times each, in which months, by what method —
in its annual plan or, later, outside it with a reason. The county's supervising office
(县委县政府督查室) approves it, approves it with fewer visits, merges it into another or
refuses it. Approved, the `inspections.plan` operation puts it in each township's plan for the
year and tells them; the department then announces each visit ahead, within the approved
number, and the township sees it coming. A filing that would inspect, assess or rank
townships on a matter already admitted to them is refused when filed (郑州二七区: the
assessment is the one recorded at admission).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.burden.models_burden import InspectionItem, InspectionVisit
from engine.burden.services.gates import county_office, named_townships, scoped, typed_text
from engine.duty_lists.catalog import ASSESSMENT_WORDS, Thresholds, normalize, similarity
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Instance, Matter, Organization
from engine.services.notices import tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.processes import GENERIC, Start, register
from engine.workflow.schema_forms import register_check
from engine.workflow.services import commands
from engine.workflow.services.commands import Loaded
from engine.workflow.specs import Diagram
from engine.workflow.workdays import local_date, written_date

PROCESS_ID = "inspection_admission"
KINDS = {"supervision": "督查", "inspection": "检查", "assessment": "考核"}
METHODS = {"on_site": "实地检查", "materials": "查阅已有资料", "online": "线上核查"}
NOTE_MAX = 500
# Statuses of a filing that is not run: refused, or merged into another inspection.
NOT_RUN = ("refused", "merged")


@dataclass(frozen=True)
class Visit:
    id: int
    held_on: date
    note: str


@dataclass(frozen=True)
class InspectionInfo:
    """One township's place in an approved inspection, with the visits announced so far."""

    id: int
    instance_id: int
    year: int
    kind: str
    name: str
    method: str
    times: int
    months: list[int]
    out_of_plan: bool
    township: str
    township_name: str
    department: str
    visits: list[Visit]

    @property
    def left(self) -> int:
        return max(self.times - len(self.visits), 0)


# --- filing ---------------------------------------------------------------------------------


def start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """As any package's start, but a filing on a matter already admitted to one of its
    townships is refused, naming the matter (nothing is stored)."""
    started = GENERIC.start(session, ctx, diagram, form, body, actor)
    values = started.trail["form"]
    found = admitted_matters(session, ctx, values, [t.id for t in started.townships])
    if found:
        kind = KINDS.get(str(values.get("kind")), "检查")
        raise InvalidInput(
            f"事项准入后，不得就该事项对乡镇另行{kind}",
            {
                "name": [
                    f"事项“{name}”已准入{'、'.join(places)}（编号 {number}），准入后不得就该事项"
                    f"对乡镇另行{kind}、考核或排名；考核方式以准入时记录的为准"
                    for number, name, places in found
                ]
            },
        )
    return started


def admitted_matters(
    session: Session, ctx: Context, values: dict[str, Any], township_ids: list[int]
) -> list[tuple[int, str, list[str]]]:
    """(instance id, name, township names) of matters in force on these townships that the
    inspection's name or content is about."""
    if not township_ids:
        return []
    thresholds = Thresholds.from_settings(ctx.settings)
    name = str(values.get("name") or "")
    for word in ASSESSMENT_WORDS:  # "安全生产检查" is about 安全生产
        name = name.replace(word, "")
    name, content = normalize(name), normalize(str(values.get("content") or ""))
    rows = session.execute(
        select(Matter.instance_id, Matter.name, Organization.name)
        .join(Organization, Organization.id == Matter.township_org_id)
        .where(Matter.status == "in_force", Matter.township_org_id.in_(township_ids))
        .order_by(Matter.instance_id, Organization.code)
    ).all()
    found: dict[int, tuple[str, list[str]]] = {}
    for instance_id, matter, township in rows:
        subject = normalize(matter)
        score = max(
            similarity(name, subject, thresholds.min_chars),
            similarity(subject, content, thresholds.min_chars) if subject in content else 0,
        )
        if score >= thresholds.duplicate:
            found.setdefault(instance_id, (matter, []))[1].append(township)
    return [(number, matter, places) for number, (matter, places) in found.items()]


def year_not_past(values: dict[str, Any], context: Any) -> dict[str, list[str]]:
    """An inspection is filed for this year or a later one."""
    year, today = values.get("year"), str(context.get("today", ""))
    if isinstance(year, int) and today[:4].isdigit() and year < int(today[:4]):
        return {"year": [f"不能报备往年的检查：年度应不早于 {today[:4]} 年"]}
    return {}


def times_reduced(values: dict[str, Any], context: Any) -> dict[str, list[str]]:
    """Fewer visits means fewer than the department asked for."""
    asked = ((context.get("data") or {}).get("application") or {}).get("times")
    times = values.get("times")
    if values.get("decision") == "limit" and isinstance(times, int) and isinstance(asked, int):
        if times >= asked:
            return {"times": [f"压减后的次数应少于报备的 {asked} 次"]}
    return {}


# --- approved: in each township's plan ------------------------------------------------------


def plan(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """In each named township's plan for the year, told to each."""
    year, times = parameters.get("year"), parameters.get("times")
    if not isinstance(year, int) or not isinstance(times, int) or times < 1:
        raise OperationFailed(f"年度或次数无效：{year}、{times}")
    kind, method = text(parameters, "kind"), text(parameters, "method")
    if kind not in KINDS or method not in METHODS:
        raise OperationFailed(f"类别或方式无效：{kind}、{method}")
    months = parameters.get("months") or []
    if not isinstance(months, list) or not all(isinstance(m, int) and 1 <= m <= 12 for m in months):
        raise OperationFailed(f"计划月份无效：{months}")
    townships = named_townships(session, loaded.instance.county_id, parameters)
    name = text(parameters, "name")[:200]
    out_of_plan = parameters.get("out_of_plan") is True
    for township in townships:
        session.add(
            InspectionItem(
                instance_id=loaded.instance.id,
                township_org_id=township.id,
                department_org_id=loaded.instance.applicant_org_id,
                year=year,
                kind=kind,
                name=name,
                method=method,
                times=times,
                months=",".join(str(m) for m in sorted(months)),
                out_of_plan=out_of_plan,
                approved_at=now,
            )
        )
    session.flush()
    department = ctx.names.orgs(session, [loaded.instance.applicant_org_id])
    when = f"，计划{'、'.join(f'{m}月' for m in sorted(months))}" if months else ""
    message = (
        f"{department[loaded.instance.applicant_org_id].name}的{KINDS[kind]}“{name}”已列入"
        f"{year}年度计划：每个乡镇每年不超过 {times} 次{when}，方式为{METHODS[method]}。"
        "每次检查前会另行通知。"
    )
    tell(session, [t.id for t in townships], loaded.instance.id, "inspection_planned", message, now)
    planned = {"townships": sorted(t.code for t in townships), "year": year, "times": times}
    return [Entry("inspection_planned", None, {**planned, "out_of_plan": out_of_plan})]


# --- reading the plans, announcing visits ---------------------------------------------------


def plans(
    ctx: Context, actor: Actor, year: int | None = None, township: str | None = None
) -> list[InspectionInfo]:
    """The approved inspections of a year: a township those on it, a department its own, the
    county offices every township's (optionally one township's)."""
    year = year or ctx.calendar.local(ctx.clock.now()).year
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度有误", {"year": ["应为年份，如 2027"]})
    query = select(InspectionItem).where(InspectionItem.year == year)
    with ctx.db.read() as session:
        query = scoped(
            session,
            query,
            actor,
            InspectionItem.township_org_id,
            InspectionItem.department_org_id,
            township,
        )
        rows = session.scalars(query.order_by(InspectionItem.id)).all()
        return _infos(session, ctx, list(rows))


def announce_visit(
    ctx: Context, actor: Actor, item_id: int, held_on: Any, note: Any = ""
) -> InspectionInfo:
    """The department announces a visit to the township ahead of its day, within the number
    approved for the year; the township is told."""
    if not isinstance(held_on, date):
        raise InvalidInput("填写有误", {"held_on": ["应为日期"]})
    note = typed_text(note, "note", NOTE_MAX, False, "")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.scalar(
            select(InspectionItem).where(InspectionItem.id == item_id).with_for_update()
        )
        if row is None or not _sees(session, actor, row):
            raise NotFound("检查不存在")
        if row.department_org_id != actor.org_id or not actor.has("applicant"):
            raise Forbidden("只有开展检查的部门可以通知检查日期")
        instance = session.scalar(
            select(Instance).where(Instance.id == row.instance_id).with_for_update()
        )
        assert instance is not None
        today = local_date(now, ctx.settings.timezone)
        if held_on <= today:
            raise InvalidInput("检查须提前通知", {"held_on": ["检查日期应晚于今天"]})
        if held_on.year != row.year:
            raise InvalidInput("日期有误", {"held_on": [f"应在批准的 {row.year} 年度内"]})
        months = [int(m) for m in row.months.split(",") if m]
        if months and held_on.month not in months:
            planned = "、".join(f"{m}月" for m in months)
            raise InvalidInput("日期有误", {"held_on": [f"应在计划的月份内：{planned}"]})
        done = session.scalar(
            select(func.count())
            .select_from(InspectionVisit)
            .where(InspectionVisit.item_id == row.id)
        )
        township = ctx.names.orgs(session, [row.township_org_id])[row.township_org_id]
        if (done or 0) >= row.times:
            raise Conflict(
                f"本年度对{township.name}的“{row.name}”已安排 {done} 次，"
                f"达到批准的 {row.times} 次；再检查须另行报备"
            )
        visit = InspectionVisit(
            item_id=row.id, held_on=held_on, note=note, announced_by=actor.user_id, announced_at=now
        )
        session.add(visit)
        session.flush()
        said = f"。说明：{note}" if note else ""
        message = (
            f"{actor.org_name}将于{written_date(held_on)}对本乡镇开展{KINDS[row.kind]}“{row.name}”"
            f"（{METHODS[row.method]}，本年度第 {(done or 0) + 1} 次，共批准 {row.times} 次）{said}"
        )
        tell(session, [row.township_org_id], instance.id, "inspection_visit", message, now)
        entry = Entry(
            "inspection_visit_announced",
            None,
            {"item_id": row.id, "township": township.code, "held_on": held_on.isoformat()}
            | ({"note": note} if note else {}),
        )
        commands.record(session, instance, actor, "applicant", [entry], now)
        return _infos(session, ctx, [row])[0]


def _sees(session: Session, actor: Actor, row: InspectionItem) -> bool:
    """Whether the plans show `actor` this row (as `gates.scoped` reads them)."""
    if actor.has("township"):
        return row.township_org_id == actor.org_id
    return row.department_org_id == actor.org_id or county_office(
        session, actor, row.department_org_id
    )


@dataclass(frozen=True)
class InspectionCounts:
    """A year's inspections: per township, the visits approved and those announced; per
    department, its filings planned (and of them outside the annual plan) and not run."""

    times: dict[int, int]
    visits: dict[int, int]
    planned: dict[int, int]
    out_of_plan: dict[int, int]
    not_run: dict[int, int]


def counts(
    session: Session, township_ids: list[int], department_ids: list[int], year: int, timezone: str
) -> InspectionCounts:
    """For the burden picture (published to the burden report); filings not run are counted
    in the year (in `timezone`, the county's) they were filed."""
    times: dict[int, int] = {}
    visits: dict[int, int] = {}
    if township_ids:
        in_year = InspectionItem.township_org_id.in_(township_ids), InspectionItem.year == year
        times = {
            org: int(n or 0)
            for org, n in session.execute(
                select(InspectionItem.township_org_id, func.sum(InspectionItem.times))
                .where(*in_year)
                .group_by(InspectionItem.township_org_id)
            )
        }
        visits = dict(
            session.execute(
                select(InspectionItem.township_org_id, func.count())
                .join(InspectionVisit, InspectionVisit.item_id == InspectionItem.id)
                .where(*in_year)
                .group_by(InspectionItem.township_org_id)
            ).all()
        )
    planned: dict[int, int] = {}
    out_of_plan: dict[int, int] = {}
    not_run: dict[int, int] = {}
    if department_ids:
        items = InspectionItem.department_org_id.in_(department_ids), InspectionItem.year == year
        distinct = func.count(func.distinct(InspectionItem.instance_id))
        for org, extra, n in session.execute(
            select(InspectionItem.department_org_id, InspectionItem.out_of_plan, distinct)
            .where(*items)
            .group_by(InspectionItem.department_org_id, InspectionItem.out_of_plan)
        ):
            planned[org] = planned.get(org, 0) + n
            if extra:
                out_of_plan[org] = n
        zone = ZoneInfo(timezone)
        first, last = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
        not_run = dict(
            session.execute(
                select(Instance.applicant_org_id, func.count())
                .where(
                    Instance.process_id == PROCESS_ID,
                    Instance.applicant_org_id.in_(department_ids),
                    Instance.status.in_(NOT_RUN),
                    Instance.created_at >= first,
                    Instance.created_at < last,
                )
                .group_by(Instance.applicant_org_id)
            ).all()
        )
    return InspectionCounts(times, visits, planned, out_of_plan, not_run)


def _infos(session: Session, ctx: Context, rows: list[InspectionItem]) -> list[InspectionInfo]:
    orgs = ctx.names.orgs(
        session, [r.township_org_id for r in rows] + [r.department_org_id for r in rows]
    )
    visits: dict[int, list[Visit]] = {r.id: [] for r in rows}
    if rows:
        for v in session.scalars(
            select(InspectionVisit)
            .where(InspectionVisit.item_id.in_(list(visits)))
            .order_by(InspectionVisit.held_on, InspectionVisit.id)
        ):
            visits[v.item_id].append(Visit(v.id, v.held_on, v.note))
    return [
        InspectionInfo(
            id=r.id,
            instance_id=r.instance_id,
            year=r.year,
            kind=r.kind,
            name=r.name,
            method=r.method,
            times=r.times,
            months=[int(m) for m in r.months.split(",") if m],
            out_of_plan=r.out_of_plan,
            township=orgs[r.township_org_id].code,
            township_name=orgs[r.township_org_id].name,
            department=orgs[r.department_org_id].name,
            visits=visits[r.id],
        )
        for r in rows
    ]


INSPECTIONS = replace(GENERIC, start=start, end_statuses=frozenset({"planned", *NOT_RUN}))


def register_processes() -> None:
    """The inspection gate's kind (its statuses and start), checks and operation."""
    register(PROCESS_ID, INSPECTIONS)
    register_check("year_not_past", year_not_past)
    register_check("times_reduced", times_reduced)
    register_operation(
        "inspections.plan",
        plan,
        label="列入乡镇年度检查计划并通知乡镇",
        parameters=("townships", "year", "kind", "name", "method", "times", "months"),
        optional=("out_of_plan",),
    )
