"""会议: county meetings that require townships to attend pass the gate (bpmn/meeting_admission).

A department files the meeting ahead (who must come, how many, how long, whether video would
do); the county office approves it — in person or as a video meeting — or refuses. Approved,
the `meetings.schedule` operation puts it on each township's calendar and tells them; a month
holds at most `meeting_monthly_cap` meetings a township must attend in person (the county's
limit), so approving one more in person is refused, naming the township, while a video
meeting is always possible. A township may ask to attend an in-person meeting by video; the
organiser grants or refuses; each step is on the meeting's trail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.burden.models_burden import RequiredMeeting
from engine.burden.services.gates import named_townships, scoped, typed_text
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Instance, Organization
from engine.services.notices import tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.processes import GENERIC, register
from engine.workflow.schema_forms import register_check
from engine.workflow.services import commands
from engine.workflow.services.commands import Loaded
from engine.workflow.workdays import local_date, written_date

PROCESS_ID = "meeting_admission"
MODES = {"in_person": "现场参会", "video": "视频参会"}
MAX_DAYS = 366  # the longest calendar one request reads
REASON_MAX = 500


@dataclass(frozen=True)
class MeetingInfo:
    id: int
    instance_id: int
    name: str
    township: str
    township_name: str
    organiser: str
    held_on: date
    starts_at: str
    minutes: int
    location: str
    attendees: str
    mode: str
    video_request: str | None
    video_answer: str | None


def schedule(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """On each named township's calendar, told to each; refused (nothing stored) when an
    in-person meeting would take a township past the county's monthly limit."""
    video = text(parameters, "video", "no")
    if video not in ("yes", "no"):
        raise OperationFailed(f"video 应为 yes 或 no：{video}")
    mode = "video" if video == "yes" else "in_person"
    try:
        held_on = date.fromisoformat(text(parameters, "held_on"))
        minutes = round(float(parameters.get("hours") or 0) * 60)
    except (TypeError, ValueError) as exc:
        raise OperationFailed(f"会议日期或时长无效：{exc}") from exc
    townships = named_townships(session, loaded.instance.county_id, parameters)
    if mode == "in_person":
        _within_cap(session, ctx, loaded.instance.id, townships, held_on)
    name = text(parameters, "name")[:200]
    for township in townships:
        session.add(
            RequiredMeeting(
                instance_id=loaded.instance.id,
                township_org_id=township.id,
                organiser_org_id=loaded.instance.applicant_org_id,
                name=name,
                held_on=held_on,
                starts_at=text(parameters, "starts_at")[:5],
                minutes=minutes,
                location=text(parameters, "location")[:200],
                attendees=text(parameters, "attendees")[:200],
                mode=mode,
                scheduled_at=now,
            )
        )
    session.flush()
    how = "视频会议" if mode == "video" else "现场会议"
    message = (
        f"县级会议“{name}”（{how}）定于{written_date(held_on)} {text(parameters, 'starts_at')}"
        f"召开，请{text(parameters, 'attendees')}参加；已列入本乡镇会议日历。"
    )
    tell(session, [t.id for t in townships], loaded.instance.id, "meeting_scheduled", message, now)
    scheduled = {"townships": sorted(t.code for t in townships), "held_on": held_on.isoformat()}
    return [Entry("meeting_scheduled", None, {**scheduled, "mode": mode})]


def _within_cap(
    session: Session, ctx: Context, instance_id: int, townships: list[Organization], day: date
) -> None:
    cap = ctx.settings.meeting_monthly_cap
    if cap <= 0:
        return
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    counted = dict(
        session.execute(
            select(RequiredMeeting.township_org_id, func.count())
            .where(
                RequiredMeeting.township_org_id.in_([t.id for t in townships]),
                RequiredMeeting.held_on >= first,
                RequiredMeeting.held_on < following,
                RequiredMeeting.mode == "in_person",
                RequiredMeeting.instance_id != instance_id,
            )
            .group_by(RequiredMeeting.township_org_id)
        ).all()
    )
    full = [t.name for t in townships if counted.get(t.id, 0) >= cap]
    if full:  # the reviewer's choice is what to change: shown beside the decision
        raise InvalidInput(
            f"{'、'.join(full)}{day.month}月须现场参加的县级会议已达每月 {cap} 个的上限："
            "请改为视频会议，或不予同意",
            {"decision": [f"{'、'.join(full)}本月现场会议已满 {cap} 个"]},
        )


def calendar(
    ctx: Context,
    actor: Actor,
    township: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[MeetingInfo]:
    """The meetings townships must attend, by day: a township its own, an office the ones it
    called, the county offices every township's (optionally one township's)."""
    start = start or local_date(ctx.clock.now(), ctx.settings.timezone)
    end = end or start + timedelta(days=90)
    if end < start or (end - start).days > MAX_DAYS:
        raise InvalidInput(
            "日期范围有误", {"end": [f"应不早于开始日期，且范围不超过 {MAX_DAYS} 天"]}
        )
    query = select(RequiredMeeting).where(
        RequiredMeeting.held_on >= start, RequiredMeeting.held_on <= end
    )
    with ctx.db.read() as session:
        query = scoped(
            session,
            query,
            actor,
            RequiredMeeting.township_org_id,
            RequiredMeeting.organiser_org_id,
            township,
        )
        rows = session.scalars(
            query.order_by(RequiredMeeting.held_on, RequiredMeeting.starts_at, RequiredMeeting.id)
        ).all()
        return _infos(session, ctx, list(rows))


def request_video(ctx: Context, actor: Actor, meeting_id: int, reason: Any) -> MeetingInfo:
    """申请视频参会: the township asks to attend an in-person meeting by video; the organiser
    is told and answers."""
    reason = _reason(reason)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row, instance = _locked(session, meeting_id)
        if not (actor.has("township") and row.township_org_id == actor.org_id):
            raise NotFound("会议不存在")
        if row.mode == "video":
            raise Conflict("本会议已是视频参会，无需申请")
        if row.video_request is not None and row.video_answer is None:
            raise Conflict("已申请视频参会，请等待召集单位答复")
        if row.held_on <= local_date(now, ctx.settings.timezone):
            raise Conflict("会议当天及以后不能再申请视频参会")
        _update(session, row, video_request=reason, video_requested_at=now, video_answer=None)
        when = written_date(row.held_on)
        message = f"{actor.org_name}申请以视频方式参加“{row.name}”（{when}）。理由：{reason}"
        tell(session, [row.organiser_org_id], instance.id, "meeting_video_requested", message, now)
        entry = Entry("meeting_video_requested", None, {"meeting_id": row.id, "reason": reason})
        commands.record(session, instance, actor, "township", [entry], now)
        return _infos(session, ctx, [row])[0]


def answer_video(
    ctx: Context, actor: Actor, meeting_id: int, grant: Any, comment: Any = ""
) -> MeetingInfo:
    """The organiser grants (the township attends by video) or refuses a township's request."""
    if not isinstance(grant, bool):
        raise InvalidInput("答复有误", {"grant": ["应为是或否"]})
    comment = _reason(comment, required=not grant)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row, instance = _locked(session, meeting_id)
        if row.organiser_org_id != actor.org_id or not actor.has("applicant"):
            raise NotFound("会议不存在")
        if row.video_request is None or row.video_answer is not None:
            raise Conflict("没有待答复的视频参会申请")
        answer = "granted" if grant else "refused"
        changes: dict[str, Any] = {"video_answer": answer, "video_answered_at": now}
        if grant:
            changes["mode"] = "video"
        _update(session, row, **changes)
        said = "同意以视频方式参加" if grant else f"不同意视频参会，请现场参加。说明：{comment}"
        tell(
            session,
            [row.township_org_id],
            instance.id,
            "meeting_video_answered",
            f"“{row.name}”（{written_date(row.held_on)}）：{said}",
            now,
        )
        entry = Entry(
            "meeting_video_answered",
            None,
            {"meeting_id": row.id, "answer": answer, "comment": comment},
        )
        commands.record(session, instance, actor, "applicant", [entry], now)
        return _infos(session, ctx, [row])[0]


@dataclass(frozen=True)
class MeetingCounts:
    """Meetings in a period: per township, those it must attend in person and by video; per
    organising office, those it called (one per meeting, however many townships)."""

    in_person: dict[int, int]
    video: dict[int, int]
    called: dict[int, int]


def counts(
    session: Session, township_ids: list[int], organiser_ids: list[int], start: date, end: date
) -> MeetingCounts:
    """For the burden picture (published to the burden report)."""
    in_day = (RequiredMeeting.held_on >= start, RequiredMeeting.held_on <= end)
    by_mode: dict[str, dict[int, int]] = {"in_person": {}, "video": {}}
    if township_ids:
        for township, mode, n in session.execute(
            select(RequiredMeeting.township_org_id, RequiredMeeting.mode, func.count())
            .where(RequiredMeeting.township_org_id.in_(township_ids), *in_day)
            .group_by(RequiredMeeting.township_org_id, RequiredMeeting.mode)
        ):
            by_mode.setdefault(mode, {})[township] = n
    called: dict[int, int] = {}
    if organiser_ids:
        called = dict(
            session.execute(
                select(
                    RequiredMeeting.organiser_org_id,
                    func.count(func.distinct(RequiredMeeting.instance_id)),
                )
                .where(RequiredMeeting.organiser_org_id.in_(organiser_ids), *in_day)
                .group_by(RequiredMeeting.organiser_org_id)
            ).all()
        )
    return MeetingCounts(by_mode["in_person"], by_mode["video"], called)


def held_after_today(values: dict[str, Any], context: Any) -> dict[str, list[str]]:
    """A meeting is filed ahead: its day comes after the day it is filed."""
    day = values.get("held_on")
    if isinstance(day, str) and day <= str(context.get("today", "")):
        return {"held_on": ["会议须提前报备：会议日期应晚于今天"]}
    return {}


def _reason(value: Any, required: bool = True) -> str:
    return typed_text(value, "reason", REASON_MAX, required, "请说明理由")


def _locked(session: Session, meeting_id: int) -> tuple[RequiredMeeting, Instance]:
    row = session.scalar(
        select(RequiredMeeting).where(RequiredMeeting.id == meeting_id).with_for_update()
    )
    if row is None:
        raise NotFound("会议不存在")
    instance = session.scalar(
        select(Instance).where(Instance.id == row.instance_id).with_for_update()
    )
    assert instance is not None
    return row, instance


def _update(session: Session, row: RequiredMeeting, **values: Any) -> None:
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()


def _infos(session: Session, ctx: Context, rows: list[RequiredMeeting]) -> list[MeetingInfo]:
    orgs = ctx.names.orgs(
        session, [r.township_org_id for r in rows] + [r.organiser_org_id for r in rows]
    )
    return [
        MeetingInfo(
            id=r.id,
            instance_id=r.instance_id,
            name=r.name,
            township=orgs[r.township_org_id].code,
            township_name=orgs[r.township_org_id].name,
            organiser=orgs[r.organiser_org_id].name,
            held_on=r.held_on,
            starts_at=r.starts_at,
            minutes=r.minutes,
            location=r.location,
            attendees=r.attendees,
            mode=r.mode,
            video_request=r.video_request,
            video_answer=r.video_answer,
        )
        for r in rows
    ]


MEETINGS = replace(GENERIC, end_statuses=frozenset({"scheduled", "refused"}))


def register_processes() -> None:
    """The meeting gate's kind (its statuses), check and operation (once is enough)."""
    register(PROCESS_ID, MEETINGS)
    register_check("held_after_today", held_after_today)
    register_operation(
        "meetings.schedule",
        schedule,
        label="列入乡镇会议日历并通知乡镇",
        parameters=("townships", "name", "held_on", "starts_at", "hours", "location", "attendees"),
        optional=("video",),
    )
