"""考核评价权, per matter: a township rates the department behind each matter on its register.

Beside the yearly rating (bpmn/department_rating), a township that carries an admitted matter
says, once, how the department that pushed it down did on it: overall, and whether the
resources followed the matter (费随事转). The choices and their points are the yearly rating
form's dimensions of the same names, so the county's scale is one. A rating is final once
given. Like the yearly one, it is the township's and the assessing offices' to read: the
department reads only sums (ratings.summary), so it is kept off the matter's own trail, which
the department reads, and recorded on the platform trail, which auditors read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.authz import Actor, require_role
from engine.burden.models_burden import MatterRating
from engine.burden.services.gates import typed_text
from engine.burden.services.rating_scale import Choice, scale
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Matter
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.services import commands

# The yearly form's dimensions a matter is rated on.
MATTER_DIMENSIONS = ("overall", "resources")
COMMENT_MAX = 2000


@dataclass(frozen=True)
class MatterRatingInfo:
    """A township's rating of a matter, as the township reads it back."""

    instance_id: int
    overall: str
    overall_title: str
    resources: str
    resources_title: str
    comment: str
    rated_at: datetime


@dataclass(frozen=True)
class MatterRatingForm:
    """What a township may rate the matter on (the dimensions, their titles and choices), and
    its rating if it gave one."""

    dimensions: dict[str, tuple[str, list[Choice]]]
    given: MatterRatingInfo | None


def form_of(ctx: Context, actor: Actor, instance_id: int) -> MatterRatingForm | None:
    """The rating form of a matter for the township reading it (None for anyone else, or while
    the matter is not on the township's register)."""
    if not actor.has("township"):
        return None
    with ctx.db.read() as session:
        instance, townships = commands.visible_instance(session, instance_id, actor, lock=False)
        if actor.org_id not in townships or _entry(session, instance.id, actor) is None:
            return None
        dimensions = _dimensions(session, ctx)
        row = session.scalar(
            select(MatterRating).where(
                MatterRating.matter_instance_id == instance.id,
                MatterRating.township_org_id == actor.org_id,
            )
        )
        return MatterRatingForm(dimensions, _info(row, dimensions) if row else None)


def rate(ctx: Context, actor: Actor, instance_id: int, body: Any) -> MatterRatingInfo:
    """评价: the township rates the department behind a matter on its register, once."""
    require_role(actor, "township", "评价事项")
    if not isinstance(body, dict):
        raise InvalidInput("评价填写有误", {"_schema": ["应为对象"]})
    now = ctx.clock.now()
    with ctx.db.write() as session:
        instance, townships = commands.visible_instance(session, instance_id, actor, lock=True)
        if actor.org_id not in townships or _entry(session, instance.id, actor) is None:
            raise Conflict("本事项尚未进入本乡镇的准入台账，进入后才能评价")
        dimensions = _dimensions(session, ctx)
        values = _values(body, dimensions)
        row = MatterRating(
            matter_instance_id=instance.id,
            township_org_id=actor.org_id,
            department_org_id=instance.applicant_org_id,
            rated_by=actor.user_id,
            rated_at=now,
            **values,
        )
        try:
            with session.begin_nested():  # the same rating sent twice at once: one wins
                session.add(row)
        except IntegrityError as exc:
            raise Conflict("本乡镇已评价过本事项，评价提交后不能修改") from exc
        payload = {"instance_id": instance.id, **{k: values[k] for k in MATTER_DIMENSIONS}}
        audit.append(
            session,
            instance_id=None,
            actor=actor,
            role="township",
            entries=[audit.Entry("matter_rated", None, payload)],
            at=now,
        )
        session.flush()
        return _info(row, dimensions)


@dataclass(frozen=True)
class MatterScores:
    """A year's matter ratings of each department: how many, how many townships gave them,
    the mean overall points, and how many were 差 overall."""

    rated: dict[int, int]
    raters: dict[int, int]
    overall: dict[int, float]
    poor: dict[int, int]


def scores(session: Session, ctx: Context, department_ids: list[int], year: int) -> MatterScores:
    """The matter ratings given in `year` (the county's calendar year) to `department_ids`."""
    zone = ZoneInfo(ctx.settings.timezone)
    start = datetime.combine(date(year, 1, 1), time.min, zone)
    end = datetime.combine(date(year + 1, 1, 1), time.min, zone)
    points = {c.code: c.points for c in _dimensions(session, ctx)["overall"][1]}
    rows = session.execute(
        select(
            MatterRating.department_org_id, MatterRating.township_org_id, MatterRating.overall
        ).where(
            MatterRating.department_org_id.in_(department_ids),
            MatterRating.rated_at >= start,
            MatterRating.rated_at < end,
        )
    ).all()
    rated: dict[int, int] = {}
    raters: dict[int, set[int]] = {}
    sums: dict[int, list[int]] = {}
    poor: dict[int, int] = {}
    for department, township, overall in rows:
        rated[department] = rated.get(department, 0) + 1
        raters.setdefault(department, set()).add(township)
        if overall in points:
            sums.setdefault(department, []).append(points[overall])
        poor[department] = poor.get(department, 0) + (overall == "poor")
    means = {d: round(sum(v) / len(v), 1) for d, v in sums.items() if v}
    return MatterScores(rated, {d: len(t) for d, t in raters.items()}, means, poor)


def _entry(session: Session, instance_id: int, actor: Actor) -> int | None:
    """The matter's entry on the caller's register (in force or exited), if it has one."""
    return session.scalar(
        select(func.min(Matter.id)).where(
            Matter.instance_id == instance_id, Matter.township_org_id == actor.org_id
        )
    )


def _dimensions(session: Session, ctx: Context) -> dict[str, tuple[str, list[Choice]]]:
    found = scale(session, ctx)
    return {name: found[name] for name in MATTER_DIMENSIONS}


def _values(
    body: dict[str, Any], dimensions: dict[str, tuple[str, list[Choice]]]
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, (title, choices) in dimensions.items():
        codes = [c.code for c in choices]
        value = body.get(name)
        if value in (None, ""):
            errors[name] = [f"请选择{title}"]
        elif value not in codes:
            words = "、".join(f"{c.code}（{c.title}）" for c in choices)
            errors[name] = [f"应为以下之一：{words}"]
        values[name] = value
    unknown = sorted(set(body) - set(dimensions) - {"comment"})
    for name in unknown:
        errors[name] = ["不认识的字段"]
    if errors:
        raise InvalidInput("评价填写有误", errors)
    values["comment"] = typed_text(body.get("comment"), "comment", COMMENT_MAX, False, "")
    return values


def _info(row: MatterRating, dimensions: dict[str, tuple[str, list[Choice]]]) -> MatterRatingInfo:
    def title(name: str, code: str) -> str:
        return next((c.title for c in dimensions[name][1] if c.code == code), code)

    return MatterRatingInfo(
        instance_id=row.matter_instance_id,
        overall=row.overall,
        overall_title=title("overall", row.overall),
        resources=row.resources,
        resources_title=title("resources", row.resources),
        comment=row.comment,
        rated_at=row.rated_at,
    )


def own_rating(ctx: Context, actor: Actor, instance_id: int) -> MatterRatingInfo:
    """The township's own rating of a matter (404 when it gave none, or may not read it)."""
    found = form_of(ctx, actor, instance_id)
    if found is None or found.given is None:
        raise NotFound("本乡镇尚未评价本事项")
    return found.given
