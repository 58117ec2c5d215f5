"""考核评价权: townships rate the county departments (bpmn/department_rating), and the county's
assessment office reads the result beside what the needs gate recorded of each department.

Once a year each township rates each department that pushes work down or owes it answers, on
the package's dimensions; a rating is final once given and counted once (a second for the same
year and department is refused). The points of each choice are the package's (`x-points` on
the form's choices), so a county changes its scale without a release. Who rated how stays with
the assessing offices: a department reads only its own summary, and only when at least
`MIN_RATERS` townships rated it, so no single township's rating can be read back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.authz import COUNTY_WIDE_READERS, Actor, InstanceScope
from engine.burden.models_burden import DepartmentRating
from engine.burden.services import matter_ratings, needs
from engine.burden.services.gates import named_departments
from engine.burden.services.rating_scale import DIMENSIONS, PROCESS_ID, scale
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import Instance, Organization
from engine.services.directory import OrgRef
from engine.tables import Sheet, write
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.processes import GENERIC, Start, add_search_scope, register
from engine.workflow.schema_forms import register_check
from engine.workflow.services.commands import Loaded
from engine.workflow.specs import Diagram

# The office that assesses departments reads every rating (with the county-wide readers).
ASSESSOR = "organization"
MIN_RATERS = 3
FORMATS = ("json", "csv", "xlsx")


# --- rating -----------------------------------------------------------------------------------


def start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """As any package's start; the department must be one in use, and not rated yet by this
    township for that year."""
    started = GENERIC.start(session, ctx, diagram, form, body, actor)
    values = started.trail["form"]
    department = _department(session, actor.county_id, str(values.get("department") or ""))
    if _rated(session, int(values["year"]), actor.org_id, department.id):
        raise Conflict(
            f"本单位已评价过{department.name}的{values['year']}年度工作，评价提交后不能修改"
        )
    return replace(started, title=f"{values['year']}年度部门评价：{department.name}")


def year_this_or_last(values: dict[str, Any], context: Any) -> dict[str, list[str]]:
    """A year's rating is given during it or in the year after."""
    year, today = values.get("year"), str(context.get("today", ""))
    if (
        isinstance(year, int)
        and today[:4].isdigit()
        and year
        not in (
            int(today[:4]),
            int(today[:4]) - 1,
        )
    ):
        return {"year": [f"只能评价 {int(today[:4]) - 1} 年度或 {today[:4]} 年度"]}
    return {}


def record(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """记入: the rating as given, once for its year, township and department."""
    year = parameters.get("year")
    if not isinstance(year, int):
        raise OperationFailed(f"评价年度无效：{year}")
    department = _department(session, loaded.instance.county_id, text(parameters, "department"))
    scores = {name: text(parameters, name) for name in DIMENSIONS}
    row = DepartmentRating(
        instance_id=loaded.instance.id,
        year=year,
        township_org_id=loaded.instance.applicant_org_id,
        department_org_id=department.id,
        comment=text(parameters, "comment")[:2000],
        rated_at=now,
        **scores,
    )
    try:
        with session.begin_nested():  # the same rating sent twice at once: one of them wins
            session.add(row)
    except IntegrityError as exc:
        raise Conflict(f"本单位已评价过{department.name}的{year}年度工作") from exc
    return [Entry("department_rated", None, {"year": year, "department": department.code})]


def _department(session: Session, county_id: int | None, code: str) -> Organization:
    return named_departments(session, county_id, [code], "department")[0]


def _rated(session: Session, year: int, township_id: int, department_id: int) -> bool:
    return (
        session.scalar(
            select(DepartmentRating.id).where(
                DepartmentRating.year == year,
                DepartmentRating.township_org_id == township_id,
                DepartmentRating.department_org_id == department_id,
            )
        )
        is not None
    )


# --- who reads a rating -----------------------------------------------------------------------


def read_scope(session: Session, instance: Instance, actor: Actor) -> list[int] | None:
    """The township that gave it and the county-wide readers, as any package's; and the office
    that assesses departments. Never the department rated."""
    townships = GENERIC.read_scope(session, instance, actor)
    if townships is not None:
        return townships
    return [] if actor.has(ASSESSOR) else None


def search_scope(session: Session, scope: InstanceScope) -> list[Any]:
    return [Instance.process_id == PROCESS_ID] if ASSESSOR in scope.roles else []


# --- the summary the assessing offices read ---------------------------------------------------


@dataclass
class DepartmentScore:
    """One department's year: how many townships rated it, the mean points of each dimension
    (None when nobody rated it, or when a department reads its own and too few did), the
    number of 差 overall, and the needs it led (from the needs gate)."""

    department: OrgRef
    raters: int = 0
    means: dict[str, float | None] = field(default_factory=dict)
    poor: int | None = 0  # None when hidden
    needs_led: int = 0
    needs_late: int = 0
    needs_unsatisfied: int = 0
    # Its admitted matters the townships carrying them rated this year (per matter): how many,
    # the mean overall points, how many 差 (None when hidden, as above).
    matters_rated: int = 0
    matters_overall: float | None = None
    matters_poor: int | None = 0
    hidden: bool = False  # too few raters for the department itself to read


@dataclass(frozen=True)
class RatingSummary:
    year: int
    dimensions: dict[str, str]  # code → title, in the form's order
    departments: list[DepartmentScore]


def summary(ctx: Context, actor: Actor, year: int | None = None) -> RatingSummary:
    """The assessing offices (county-wide readers, the organisation department) read every
    department's of their county; a department its own, above `MIN_RATERS`; townships none
    (they gave them)."""
    now = ctx.clock.now()
    year = year or ctx.calendar.local(now).year
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度有误", {"year": ["应为年份，如 2026"]})
    everything = bool(actor.roles & COUNTY_WIDE_READERS) or actor.has(ASSESSOR)
    if not everything and not actor.has("applicant"):
        raise Forbidden("部门考核评价结果只供考核部门和被评价部门查看")
    with ctx.db.read() as session:
        titles, points = _scale(session, ctx)
        query = select(Organization.id).where(
            Organization.level == "department", Organization.county_id == actor.county_id
        )
        if not everything:
            query = query.where(Organization.id == actor.org_id)
        ids = list(session.scalars(query.order_by(Organization.id)))
        orgs = ctx.names.orgs(session, ids)
        rows = {i: DepartmentScore(orgs[i]) for i in ids}
        given = session.scalars(
            select(DepartmentRating).where(
                DepartmentRating.year == year, DepartmentRating.department_org_id.in_(ids)
            )
        ).all()
        sums: dict[int, dict[str, list[int]]] = {i: {d: [] for d in titles} for i in ids}
        for r in given:
            row = rows[r.department_org_id]
            row.raters += 1
            row.poor += r.overall == "poor"
            for name in titles:
                value = points.get(name, {}).get(getattr(r, name))
                if value is not None:
                    sums[r.department_org_id][name].append(value)
        led = needs.counts(session, [], ids, year, ctx.settings.timezone, now)
        by_matter = matter_ratings.scores(session, ctx, ids, year)
    for org_id, row in rows.items():
        row.means = {
            name: round(sum(v) / len(v), 1) if v else None for name, v in sums[org_id].items()
        }
        row.needs_led = led.led.get(org_id, 0)
        row.needs_late = led.late.get(org_id, 0)
        row.needs_unsatisfied = led.unsatisfied.get(org_id, 0)
        row.matters_rated = by_matter.rated.get(org_id, 0)
        row.matters_overall = by_matter.overall.get(org_id)
        row.matters_poor = by_matter.poor.get(org_id, 0)
        if not everything and row.raters < MIN_RATERS:
            row.hidden, row.poor = True, None
            row.means = dict.fromkeys(row.means)
        if not everything and by_matter.raters.get(org_id, 0) < MIN_RATERS:
            row.matters_overall, row.matters_poor = None, None
    ordered = sorted(rows.values(), key=_rank)
    return RatingSummary(year, titles, ordered)


def _rank(row: DepartmentScore) -> tuple[float, str]:
    overall = row.means.get("overall")
    return (-(overall if overall is not None else -1.0), row.department.code)


def _scale(session: Session, ctx: Context) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """The active form's dimensions (their titles) and each choice's points."""
    found = scale(session, ctx)
    titles = {name: title for name, (title, _) in found.items()}
    points = {name: {c.code: c.points for c in choices} for name, (_, choices) in found.items()}
    return titles, points


def summary_file(
    ctx: Context, actor: Actor, fmt: str, year: int | None = None
) -> tuple[str, bytes]:
    """The summary as a CSV or Excel table the assessment office files: (name, bytes)."""
    if fmt not in FORMATS[1:]:
        raise InvalidInput("导出格式有误", {"format": ["应为 csv 或 xlsx"]})
    found = summary(ctx, actor, year)
    columns = {"department": "部门", "raters": "评价乡镇数"}
    columns |= {name: f"{title}（平均分）" for name, title in found.dimensions.items()}
    columns |= {
        "poor": "总体评价为差",
        "needs_led": "牵头办理吹哨",
        "needs_late": "其中超时",
        "needs_unsatisfied": "其中乡镇不满意",
        "matters_rated": "乡镇评价的准入事项",
        "matters_overall": "事项总体评价（平均分）",
        "matters_poor": "事项评价为差",
    }
    sheet = Sheet(title=f"{found.year}年度部门考核评价", columns=columns, required=())
    rows = [
        {
            "department": row.department.name,
            "raters": row.raters,
            **{name: "" if value is None else f"{value:.1f}" for name, value in row.means.items()},
            "poor": "" if row.poor is None else row.poor,
            "needs_led": row.needs_led,
            "needs_late": row.needs_late,
            "needs_unsatisfied": row.needs_unsatisfied,
            "matters_rated": row.matters_rated,
            "matters_overall": "" if row.matters_overall is None else f"{row.matters_overall:.1f}",
            "matters_poor": "" if row.matters_poor is None else row.matters_poor,
        }
        for row in found.departments
    ]
    return f"{found.year}年度部门考核评价.{fmt}", write(sheet, fmt, rows)


RATINGS = replace(
    GENERIC,
    start=start,
    read_scope=read_scope,
    end_statuses=frozenset({"recorded"}),
)


def register_processes() -> None:
    register(PROCESS_ID, RATINGS)
    register_check("year_this_or_last", year_this_or_last)
    add_search_scope(search_scope)
    register_operation(
        "ratings.record",
        record,
        label="记入部门年度考核",
        parameters=("year", "department", *DIMENSIONS),
        optional=("comment",),
    )
