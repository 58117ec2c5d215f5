"""基层吹哨、部门报到: a township's own needs pass the gate the other way (bpmn/township_need).

A township raises a need it cannot meet itself; the county's social-work department
(县委社会工作部) grades it by the duty lists: the township's own to handle, the city's to
coordinate, or the county's — then it names the lead department, any supporting ones and a
limit in working days (`needs.route`). The lead department is told and answers (报到) within
the limit, else the step is escalated; the township rates the answer (`needs.rated`), and an
unsatisfied rating goes back to the social-work department, which sends it back to the lead
department or closes it. Departments read the needs routed to them, the social-work department
every need; the counts feed the burden picture and the townships' say over departments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.authz import Actor, InstanceScope
from engine.burden.models_burden import NeedDepartment, TownshipNeed
from engine.burden.services.gates import named_departments
from engine.models import Instance, Organization
from engine.services.notices import tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.processes import (
    GENERIC,
    Start,
    add_search_scope,
    register,
)
from engine.workflow.schema_forms import register_check
from engine.workflow.services.commands import Loaded
from engine.workflow.services.timers import orgs_with_role
from engine.workflow.specs import Diagram
from engine.workflow.workdays import local_date, written_date

PROCESS_ID = "township_need"
ROLE = "social_work"
GRADE_STEP = "need_grade"
GRADES = {"township": "乡镇自行办理", "county": "县级部门办理", "city": "报请市级协调"}
RATINGS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
OUTCOMES = {"solved": "已解决", "partly": "部分解决", "cannot": "暂不能解决"}
STATUSES = frozenset({"resolved", "returned", "referred", "closed"})
TITLE_PREFIX = "吹哨："  # the package's x-title


# --- raising and grading ----------------------------------------------------------------------


def start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """As any package's start; the need is the raising township's (its steps go to it), and a
    department it suggests must be one of the county's departments."""
    started = GENERIC.start(session, ctx, diagram, form, body, actor)
    hint = started.trail["form"].get("department_hint")
    if hint:
        named_departments(session, actor.county_id, [hint], "department_hint")
    township = session.get(Organization, actor.org_id)
    assert township is not None
    data = {**started.data, "township": township.code, "townships": [township.code]}
    return replace(started, data=data, townships=[township])


def step_data(
    session: Session,
    ctx: Context,
    loaded: Loaded,
    step: str,
    values: dict[str, Any],
    before: dict[str, Any],
) -> dict[str, Any]:
    """Grading names real departments: the lead one and the supporting ones (refused with the
    field named before anything is stored)."""
    if step == GRADE_STEP and values.get("grade") == "county":
        county = loaded.instance.county_id
        named_departments(session, county, [values.get("lead") or ""], "lead")
        named_departments(session, county, list(values.get("supporting") or []), "supporting")
    return {}


def lead_not_supporting(values: dict[str, Any], context: Any) -> dict[str, list[str]]:
    """The lead department does not also support itself."""
    if values.get("lead") and values.get("lead") in (values.get("supporting") or []):
        return {"supporting": ["牵头部门不必再列为配合部门"]}
    return {}


# --- the operations the diagram names ---------------------------------------------------------


def route(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """派单: the need goes to its lead department (its answering step is the lead's) and the
    supporting ones, each told, with the last working day to answer."""
    days = parameters.get("days")
    if not isinstance(days, int) or days < 1:
        raise OperationFailed(f"办理时限无效：{days}")
    supporting = parameters.get("supporting") or []
    if not isinstance(supporting, list):
        raise OperationFailed("supporting 应为部门代码的列表")
    instance = loaded.instance
    county = instance.county_id
    [lead] = named_departments(session, county, [text(parameters, "lead")], "lead")
    helpers = named_departments(session, county, [str(code) for code in supporting], "supporting")
    due = ctx.calendar.add_working_days(local_date(now, ctx.settings.timezone), days)
    session.add(
        TownshipNeed(
            instance_id=instance.id,
            township_org_id=instance.applicant_org_id,
            grade="county",
            lead_org_id=lead.id,
            routed_at=now,
            due_on=due,
        )
    )
    session.add(NeedDepartment(instance_id=instance.id, org_id=lead.id, part="lead"))
    for helper in helpers:
        session.add(NeedDepartment(instance_id=instance.id, org_id=helper.id, part="support"))
    session.flush()
    township = ctx.names.orgs(session, [instance.applicant_org_id])[instance.applicant_org_id]
    others = f"，{'、'.join(h.name for h in helpers)}配合" if helpers else ""
    said = f"{township.name}吹哨：“{need_name(instance)}”"
    tell(
        session,
        [lead.id],
        instance.id,
        "need_routed",
        f"{said}，由你单位牵头办理{others}，请于{written_date(due)}前反馈办理结果。",
        now,
    )
    if helpers:
        tell(
            session,
            [h.id for h in helpers],
            instance.id,
            "need_routed",
            f"{said}，由{lead.name}牵头办理，请你单位配合。",
            now,
        )
    tell(
        session,
        [instance.applicant_org_id],
        instance.id,
        "need_routed",
        f"你单位吹哨的“{need_name(instance)}”已派单：{lead.name}牵头{others}，"
        f"{written_date(due)}前反馈。",
        now,
    )
    routed = {"lead": lead.code, "supporting": [h.code for h in helpers], "due": due.isoformat()}
    return [Entry("need_routed", None, routed)]


def answered(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """报到: the lead department's answer, in time or late, told to the township."""
    need = _need(session, loaded)
    outcome = text(parameters, "outcome")
    if outcome not in OUTCOMES:
        raise OperationFailed(f"办理结果无效：{outcome}")
    late = need.due_on is not None and local_date(now, ctx.settings.timezone) > need.due_on
    need.answered_at, need.times_answered = now, need.times_answered + 1
    need.answered_late = need.answered_late or late
    need.rating = None
    session.flush()
    lead = ctx.names.orgs(session, [need.lead_org_id])[need.lead_org_id or -1]
    message = (
        f"{lead.name}反馈“{need_name(loaded.instance)}”：{OUTCOMES[outcome]}。"
        f"{text(parameters, 'answer')[:300]}（请评价办理结果）"
    )
    tell(session, [need.township_org_id], loaded.instance.id, "need_answered", message, now)
    return [Entry("need_answered", None, {"outcome": outcome, "late": late})]


def rated(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """The township's rating of the answer; an unsatisfied one is told to the lead department
    and the social-work department, which supervises it."""
    need = _need(session, loaded)
    rating = text(parameters, "rating")
    if rating not in RATINGS:
        raise OperationFailed(f"评价无效：{rating}")
    need.rating, need.rated_at = rating, now
    session.flush()
    if rating == "unsatisfied":
        township = ctx.names.orgs(session, [need.township_org_id])[need.township_org_id]
        message = (
            f"{township.name}对“{need_name(loaded.instance)}”的办理结果不满意："
            f"{text(parameters, 'comment')[:300]}"
        )
        told = [need.lead_org_id or -1, *orgs_with_role(session, ROLE, loaded.instance.county_id)]
        tell(session, told, loaded.instance.id, "need_unsatisfied", message, now)
    return [Entry("need_rated", None, {"rating": rating})]


def reopened(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """督办 sent it back: the lead department answers again within a new limit counted from
    today (as its step's timer is), and is told so."""
    need = _need(session, loaded)
    days = parameters.get("days")
    if not isinstance(days, int) or days < 1:
        raise OperationFailed(f"办理时限无效：{days}")
    need.due_on = ctx.calendar.add_working_days(local_date(now, ctx.settings.timezone), days)
    need.answered_at, need.rating = None, None
    session.flush()
    message = (
        f"“{need_name(loaded.instance)}”乡镇评价不满意，经督办责成你单位重新办理，"
        f"请于{written_date(need.due_on)}前反馈。督办意见：{text(parameters, 'comment')[:300]}"
    )
    tell(session, [need.lead_org_id or -1], loaded.instance.id, "need_reopened", message, now)
    return [Entry("need_reopened", None, {"due": need.due_on.isoformat()})]


def _need(session: Session, loaded: Loaded) -> TownshipNeed:
    need = session.scalar(
        select(TownshipNeed).where(TownshipNeed.instance_id == loaded.instance.id)
    )
    if need is None:
        raise OperationFailed("该需求尚未派单")
    return need


def need_name(instance: Instance) -> str:
    """What the township asked for (its title without the package's 吹哨： prefix)."""
    return instance.title.removeprefix(TITLE_PREFIX)


# --- who reads a need, whose step is whose ----------------------------------------------------


def read_scope(session: Session, instance: Instance, actor: Actor) -> list[int] | None:
    """As any package's, and also the social-work department and the departments the need was
    routed to."""
    townships = GENERIC.read_scope(session, instance, actor)
    if townships is not None:
        return townships
    routed = session.scalar(
        select(func.count())
        .select_from(NeedDepartment)
        .where(NeedDepartment.instance_id == instance.id, NeedDepartment.org_id == actor.org_id)
    )
    if actor.has(ROLE) or routed:
        return [instance.applicant_org_id]
    return None


def search_scope(session: Session, scope: InstanceScope) -> list[Any]:
    """In the instance search: every need for the social-work department; those routed to a
    department for it."""
    found: list[Any] = []
    if ROLE in scope.roles:
        found.append(Instance.process_id == PROCESS_ID)
    if scope.applicant_org_id is not None:
        routed = select(NeedDepartment.instance_id).where(
            NeedDepartment.org_id == scope.applicant_org_id
        )
        found.append(Instance.id.in_(routed))
    return found


def owners(session: Session, instance: Instance) -> Mapping[str, int]:
    """The answering step (lane_applicant) is the lead department's, not the township's."""
    lead = session.scalar(
        select(TownshipNeed.lead_org_id).where(TownshipNeed.instance_id == instance.id)
    )
    return {"applicant": lead} if lead is not None else {}


# --- counts for the burden picture ------------------------------------------------------------


@dataclass(frozen=True)
class NeedCounts:
    """Needs raised in a year: per township those raised, answered, late and rated
    unsatisfied; per department those it led, answered, late and rated unsatisfied."""

    raised: dict[int, int]
    township_answered: dict[int, int]
    township_late: dict[int, int]
    township_unsatisfied: dict[int, int]
    led: dict[int, int]
    answered: dict[int, int]
    late: dict[int, int]
    unsatisfied: dict[int, int]


def counts(
    session: Session,
    township_ids: list[int],
    department_ids: list[int],
    year: int,
    timezone: str,
    now: datetime,
) -> NeedCounts:
    """For the burden picture: needs raised in `year` (the county's `timezone`); late means
    answered after its last day, or still unanswered past it (`now`)."""
    zone = ZoneInfo(timezone)
    first, last = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    in_year = (
        Instance.process_id == PROCESS_ID,
        Instance.created_at >= first,
        Instance.created_at < last,
    )
    raised: dict[int, int] = {}
    if township_ids:
        raised = dict(
            session.execute(
                select(Instance.applicant_org_id, func.count())
                .where(*in_year, Instance.applicant_org_id.in_(township_ids))
                .group_by(Instance.applicant_org_id)
            ).all()
        )
    today = local_date(now, timezone)
    is_late = or_(
        TownshipNeed.answered_late.is_(True),
        (TownshipNeed.answered_at.is_(None)) & (TownshipNeed.due_on < today),
    )
    rows = session.execute(
        select(
            TownshipNeed.township_org_id,
            TownshipNeed.lead_org_id,
            TownshipNeed.answered_at.is_not(None),
            is_late,
            TownshipNeed.rating == "unsatisfied",
        )
        .join(Instance, Instance.id == TownshipNeed.instance_id)
        .where(*in_year)
    ).all()
    tallies: dict[str, dict[int, int]] = {
        key: {} for key in ("t_answered", "t_late", "t_bad", "led", "answered", "late", "bad")
    }

    def add(key: str, org: int | None) -> None:
        if org is not None:
            tallies[key][org] = tallies[key].get(org, 0) + 1

    for township, lead, done, late, bad in rows:
        for key, flag in (("t_answered", done), ("t_late", late), ("t_bad", bad)):
            if flag and township in township_ids:
                add(key, township)
        if lead in department_ids:
            add("led", lead)
            for key, flag in (("answered", done), ("late", late), ("bad", bad)):
                if flag:
                    add(key, lead)
    return NeedCounts(
        raised,
        tallies["t_answered"],
        tallies["t_late"],
        tallies["t_bad"],
        tallies["led"],
        tallies["answered"],
        tallies["late"],
        tallies["bad"],
    )


NEEDS = replace(
    GENERIC,
    start=start,
    step_data=step_data,
    read_scope=read_scope,
    owners=owners,
    end_statuses=STATUSES,
)


def register_processes() -> None:
    """The needs gate's kind, check, operations and search scope (once is enough)."""
    register(PROCESS_ID, NEEDS)
    register_check("lead_not_supporting", lead_not_supporting)
    add_search_scope(search_scope)
    register_operation(
        "needs.route",
        route,
        label="派单至牵头和配合部门并告知",
        parameters=("lead", "supporting", "days"),
    )
    register_operation(
        "needs.answered",
        answered,
        label="记录部门办理结果并告知乡镇",
        parameters=("outcome", "answer"),
    )
    register_operation(
        "needs.reopened",
        reopened,
        label="责成牵头部门重新办理并告知",
        parameters=("days",),
        optional=("comment",),
    )
    register_operation(
        "needs.rated",
        rated,
        label="记录乡镇对办理结果的评价",
        parameters=("rating",),
        optional=("comment",),
    )
