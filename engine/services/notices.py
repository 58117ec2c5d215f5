"""Notices to people and offices: what reaches whom, and what each person has read.

Every domain writes notices (`Notification`: a matter's townships told it exited, a cadre told
their case's outcome, an office told a step is late); this is where they are read. A notice to
an organisation is read by those who act for it; a personal one by that person only. Each
person keeps their own read marks, so one clerk reading a notice leaves it unread for the next.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.authz import CASE_READERS, COUNTY_WIDE_READERS, TASK_ROLES, Actor
from engine.errors import NotFound
from engine.models import Notification, NotificationRead, Organization
from engine.workflow.context import Context

# A notice to an organisation (no user_id) is read by those who act for it: the roles that
# take its tasks or read matters and cases on its behalf. A cadre merely belongs to a township
# (their notices name them), and the platform operator reads no matters.
PERSONAL_ROLES = frozenset({"cadre"})
ORG_NOTICE_ROLES = (TASK_ROLES | COUNTY_WIDE_READERS | CASE_READERS) - PERSONAL_ROLES


def tell(
    session: Session,
    org_ids: Iterable[int],
    instance_id: int | None,
    kind: str,
    message: str,
    now: datetime,
    user_id: int | None = None,
) -> None:
    """One notice to each organisation (to one person of it when `user_id` is given), in the
    caller's transaction."""
    session.add_all(
        Notification(
            org_id=org_id,
            user_id=user_id,
            instance_id=instance_id,
            kind=kind[:40],
            message=message,
            created_at=now,
        )
        for org_id in dict.fromkeys(org_ids)
    )


def org_codes(session: Session, org_ids: Iterable[int]) -> list[str]:
    """The codes of the organisations told, sorted, as the trail records them."""
    ids = set(org_ids)
    if not ids:
        return []
    return sorted(session.scalars(select(Organization.code).where(Organization.id.in_(ids))))


@dataclass(frozen=True)
class NotificationInfo:
    id: int
    instance_id: int | None
    kind: str
    message: str
    created_at: datetime
    read: bool = False


def _addressed_to(actor: Actor) -> ColumnElement[bool]:
    mine = Notification.user_id == actor.user_id
    if actor.roles & ORG_NOTICE_ROLES:
        mine = or_(Notification.user_id.is_(None), mine)
    return and_(Notification.org_id == actor.org_id, mine)


def _read_by(actor: Actor) -> ColumnElement[bool]:
    return exists().where(
        NotificationRead.notification_id == Notification.id,
        NotificationRead.user_id == actor.user_id,
    )


def notifications(
    ctx: Context, actor: Actor, unread: bool = False, limit: int = 100
) -> list[NotificationInfo]:
    """Notices to the caller personally and, when they act for it, to their organisation;
    newest first; only those they have not read when `unread`."""
    read = _read_by(actor)
    query = select(Notification, read.label("read")).where(_addressed_to(actor))
    if unread:
        query = query.where(~read)
    with ctx.db.read() as session:
        rows = session.execute(query.order_by(Notification.id.desc()).limit(limit)).all()
        return [
            NotificationInfo(n.id, n.instance_id, n.kind, n.message, n.created_at, bool(was_read))
            for n, was_read in rows
        ]


def unread_count(ctx: Context, actor: Actor) -> int:
    with ctx.db.read() as session:
        query = select(func.count()).select_from(Notification)
        return session.scalar(query.where(_addressed_to(actor), ~_read_by(actor))) or 0


def mark_read(ctx: Context, actor: Actor, ids: Collection[int] | None = None) -> int:
    """Mark the caller's notices read: those named (each must be theirs), or all of them;
    how many were unread."""
    with ctx.db.write() as session:
        query = select(Notification.id).where(_addressed_to(actor), ~_read_by(actor))
        if ids is not None:
            wanted = set(ids)
            mine = set(
                session.scalars(
                    select(Notification.id).where(_addressed_to(actor), Notification.id.in_(wanted))
                )
            )
            if wanted - mine:
                raise NotFound("通知不存在")
            query = query.where(Notification.id.in_(wanted))
        return _insert_reads(session, actor, list(session.scalars(query)), ctx.clock.now())


def _insert_reads(session: Session, actor: Actor, ids: list[int], now: datetime) -> int:
    if ids:
        session.execute(
            insert(NotificationRead),
            [{"notification_id": i, "user_id": actor.user_id, "read_at": now} for i in ids],
        )
    return len(ids)
