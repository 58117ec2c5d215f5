"""Auditors' search across matters: events by actor, organisation, action and date range."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.errors import InvalidInput
from engine.models import AuditEvent, Instance, Organization, User
from engine.services.directory import OrgRef
from engine.trail.services.trail import require_auditor
from engine.workflow.context import Context
from engine.workflow.counties import instance_in, org_in
from engine.workflow.services.views import Page, counted

MAX_PER_PAGE = 100
COUNT_CAP = 10_000


@dataclass(frozen=True)
class EventQuery:
    actor: str | None = None
    organization: str | None = None
    action: str | None = None
    instance_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class TrailEvent:
    id: int
    instance_id: int | None
    seq: int
    at: datetime
    actor_id: int | None
    actor: str | None
    actor_org_id: int | None
    organization: OrgRef | None
    role: str | None
    action: str
    task: str | None
    payload: dict[str, Any]
    payload_json: str
    prev_hash: str
    hash: str
    actor_name: str | None = None  # how the person is named to others


def search(ctx: Context, actor: Actor, query: EventQuery) -> Page:
    """Events across instances by actor, organisation, action, date range; newest first."""
    require_auditor(actor)
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    page = max(1, query.page)
    with ctx.db.read() as session:
        statement = filtered(session, ctx, query, actor)
        if statement is None:
            return Page([], 0, page, per_page)
        total, exact = counted(session, statement, AuditEvent.id, page, per_page, COUNT_CAP)
        rows = session.scalars(
            statement.order_by(AuditEvent.id.desc()).limit(per_page).offset((page - 1) * per_page)
        ).all()
        items = events_of(session, ctx, list(rows))
    return Page(items, total, page, per_page, exact)


def filtered(session: Session, ctx: Context, query: EventQuery, actor: Actor) -> Any:
    """The search as a SELECT of AuditEvent, within the auditor's county (events by its
    people, and those on its instances); None when a named actor or organisation is
    unknown."""
    _check_dates(query)
    on_county = (
        select(Instance.id)
        .where(Instance.id == AuditEvent.instance_id, instance_in(actor.county_id))
        .exists()
    )
    statement = select(AuditEvent).where(
        or_(org_in(AuditEvent.actor_org_id, actor.county_id), on_county)
    )
    if query.actor:
        user_id = session.scalar(select(User.id).where(User.username == query.actor))
        if user_id is None:
            return None
        statement = statement.where(AuditEvent.actor_id == user_id)
    if query.organization:
        org_id = session.scalar(
            select(Organization.id).where(Organization.code == query.organization)
        )
        if org_id is None:
            return None
        statement = statement.where(AuditEvent.actor_org_id == org_id)
    if query.action:
        statement = statement.where(AuditEvent.action == query.action)
    if query.instance_id is not None:
        statement = statement.where(AuditEvent.instance_id == query.instance_id)
    zone = ZoneInfo(ctx.settings.timezone)
    if query.date_from is not None:
        statement = statement.where(AuditEvent.at >= _local_midnight(query.date_from, zone))
    if query.date_to is not None:
        end = _local_midnight(query.date_to + timedelta(days=1), zone)
        statement = statement.where(AuditEvent.at < end)
    return statement


def _check_dates(query: EventQuery) -> None:
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise InvalidInput("筛选条件有误", {"date_to": ["结束日期不能早于开始日期"]})


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Dates are the county's days: a day starts at local midnight."""
    return datetime.combine(day, datetime.min.time(), zone)


def _payload(payload_json: str) -> dict[str, Any]:
    """The stored payload; text that is no longer JSON is shown as it is (verification flags it)."""
    try:
        value = json.loads(payload_json)
    except ValueError:
        return {"_unreadable": payload_json}
    return value if isinstance(value, dict) else {"_value": value}


def events_of(session: Session, ctx: Context, rows: list[AuditEvent]) -> list[TrailEvent]:
    orgs = ctx.names.orgs(session, [e.actor_org_id for e in rows])
    users = ctx.names.users(session, [e.actor_id for e in rows])
    return [
        TrailEvent(
            id=e.id,
            instance_id=e.instance_id,
            seq=e.seq,
            at=e.at,
            actor_id=e.actor_id,
            actor=users[e.actor_id].username if e.actor_id in users else None,
            actor_org_id=e.actor_org_id,
            organization=orgs.get(e.actor_org_id) if e.actor_org_id else None,
            role=e.role,
            action=e.action,
            task=e.task,
            payload=_payload(e.payload_json),
            payload_json=e.payload_json,
            prev_hash=e.prev_hash,
            hash=e.hash,
            actor_name=users[e.actor_id].name if e.actor_id in users else None,
        )
        for e in rows
    ]
