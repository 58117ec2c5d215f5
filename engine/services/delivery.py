"""Notices beyond the console: e-mail to each person, and a signed JSON webhook for the county.

A command writes its notices (`notices.tell`) in its own transaction and never waits for any
other channel. The worker then, in its own transactions:

1. **dispatches** each new notice once: one `notice_delivery` row per e-mail address that should
   read it (the person for a personal notice; else the active people acting for the office,
   as the console shows it to them) and one for the webhook — the outbox;
2. **sends** what is due: claims a batch (a lease, so a worker that dies mid-send leaves it to
   the next), sends outside any transaction, then marks each sent, or due again after a pause
   that doubles (1, 2, 4 … minutes, at most 6 hours), or failed after the last attempt.

Nothing here can roll back the command that caused a notice, and a channel that is down only
delays its own rows. A receiver may see a delivery twice (a worker died after sending and
before marking it): the webhook carries the delivery's id to tell, an e-mail its Message-ID.
The webhook body is signed: `X-Zhunru-Signature: sha256=<hex>` is HMAC-SHA256 under the shared
secret of `<X-Zhunru-Timestamp>.<body>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from engine.models import NoticeDelivery, Notification, Organization, User
from engine.services.notices import ORG_NOTICE_ROLES
from engine.workflow.context import Context

log = logging.getLogger("zhunru.delivery")

DISPATCH_BATCH = 200
SEND_BATCH = 50
LEASE = timedelta(minutes=5)
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=6)
# A notice older than this when first dispatched (the worker was down for days) is not sent.
STALE = timedelta(days=1)
TIMEOUT_SECONDS = 10.0
SUBJECT_CHARS = 40


def enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host or settings.webhook_url)


def dispatch(ctx: Context, now: datetime | None = None) -> int:
    """Queue each notice not yet dispatched for the channels turned on; how many rows queued."""
    settings = ctx.settings
    if not enabled(settings):
        return 0
    now = now or ctx.clock.now()
    queued = 0
    with ctx.db.write() as session:
        notes = session.scalars(
            select(Notification)
            .where(Notification.dispatched_at.is_(None))
            .order_by(Notification.id)
            .limit(DISPATCH_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for note in notes:
            note.dispatched_at = now
            if note.created_at < now - STALE:
                continue
            targets = []
            if settings.smtp_host:
                targets += [("email", address) for address in _addresses(session, note)]
            if settings.webhook_url:
                targets.append(("webhook", settings.webhook_url))
            session.add_all(
                NoticeDelivery(
                    notification_id=note.id,
                    channel=channel,
                    target=target,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    last_error="",
                    created_at=now,
                    sent_at=None,
                )
                for channel, target in targets
            )
            queued += len(targets)
    return queued


def _addresses(session: Session, note: Notification) -> list[str]:
    """Who reads the notice in the console, by e-mail: the person, or the office's people."""
    query = select(User.email, User.roles).where(
        User.org_id == note.org_id, User.active.is_(True), User.email != ""
    )
    if note.user_id is not None:
        return [email for email, _ in session.execute(query.where(User.id == note.user_id))]
    rows = session.execute(query.order_by(User.id))
    return list(dict.fromkeys(email for email, roles in rows if set(roles) & ORG_NOTICE_ROLES))


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery with what it carries."""

    id: int
    channel: str
    target: str
    attempts: int
    notification_id: int
    kind: str
    message: str
    instance_id: int | None
    organization_code: str
    organization_name: str
    created_at: datetime


Sender = Callable[[Settings, Outgoing, datetime], None]


def send_due(ctx: Context, now: datetime | None = None) -> int:
    """Send what is due; how many were sent. Failures are kept for a later attempt."""
    if not enabled(ctx.settings):
        return 0
    now = now or ctx.clock.now()
    claimed = _claim(ctx, now)
    results: dict[int, str] = {}
    for item in claimed:
        try:
            SENDERS[item.channel](ctx.settings, item, now)
            results[item.id] = ""
        except Exception as exc:  # any failure of the channel: keep the row for a retry
            results[item.id] = f"{type(exc).__name__}: {exc}"[:2000] or "error"
            log.warning("notice delivery %s by %s failed: %s", item.id, item.channel, exc)
    if claimed:
        _settle(ctx, claimed, results, ctx.clock.now())
    return sum(1 for error in results.values() if not error)


def _claim(ctx: Context, now: datetime) -> list[Outgoing]:
    with ctx.db.write() as session:
        rows = session.execute(
            select(NoticeDelivery, Notification, Organization)
            .join(Notification, Notification.id == NoticeDelivery.notification_id)
            .join(Organization, Organization.id == Notification.org_id)
            .where(NoticeDelivery.state == "pending", NoticeDelivery.next_attempt_at <= now)
            .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
            .limit(SEND_BATCH)
            .with_for_update(of=NoticeDelivery, skip_locked=True)
        ).all()
        claimed = []
        for delivery, note, org in rows:
            delivery.attempts += 1
            delivery.next_attempt_at = now + LEASE
            claimed.append(
                Outgoing(
                    delivery.id,
                    delivery.channel,
                    delivery.target,
                    delivery.attempts,
                    note.id,
                    note.kind,
                    note.message,
                    note.instance_id,
                    org.code,
                    org.name,
                    note.created_at,
                )
            )
        return claimed


def _settle(ctx: Context, claimed: list[Outgoing], results: dict[int, str], now: datetime) -> None:
    most = ctx.settings.delivery_max_attempts
    with ctx.db.write() as session:
        for item in claimed:
            delivery = session.get(NoticeDelivery, item.id)
            if delivery is None:
                continue  # the notice was deleted meanwhile
            error = results[item.id]
            if not error:
                delivery.state, delivery.sent_at, delivery.last_error = "sent", now, ""
                continue
            delivery.last_error = error
            if delivery.attempts >= most:
                delivery.state = "failed"
            else:
                pause = min(FIRST_PAUSE * 2 ** (delivery.attempts - 1), LONGEST_PAUSE)
                delivery.next_attempt_at = now + pause


def link(settings: Settings, item: Outgoing) -> str:
    if not settings.public_url or item.instance_id is None:
        return ""
    return f"{settings.public_url}/matters/{item.instance_id}"


def send_email(settings: Settings, item: Outgoing, now: datetime) -> None:
    first_line = item.message.splitlines()[0] if item.message else ""
    subject = first_line[:SUBJECT_CHARS] + ("…" if len(first_line) > SUBJECT_CHARS else "")
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = item.target
    mail["Subject"] = f"【准入通知】{subject}"
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(f"notice-{item.id}", settings.smtp_from.rsplit("@", 1)[-1])
    body = f"{item.organization_name}：\n\n{item.message}\n"
    if url := link(settings, item):
        body += f"\n查看事项：{url}\n"
    body += "\n（本邮件由准入系统自动发送，请勿直接回复。）\n"
    mail.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(mail)


def webhook_body(settings: Settings, item: Outgoing) -> bytes:
    payload = {
        "delivery_id": item.id,
        "notification_id": item.notification_id,
        "kind": item.kind,
        "message": item.message,
        "instance_id": item.instance_id,
        "url": link(settings, item) or None,
        "organization": {"code": item.organization_code, "name": item.organization_name},
        "created_at": item.created_at.isoformat(),
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What X-Zhunru-Signature carries: HMAC-SHA256 of `<timestamp>.<body>` under the secret."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send_webhook(settings: Settings, item: Outgoing, now: datetime) -> None:
    body = webhook_body(settings, item)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Zhunru-Delivery": str(item.id),
        "X-Zhunru-Timestamp": timestamp,
        "X-Zhunru-Signature": signature(settings.webhook_secret, timestamp, body),
    }
    response = requests.post(
        item.target, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
    )
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {response.status_code}")


SENDERS: dict[str, Sender] = {"email": send_email, "webhook": send_webhook}


def failed(session: Session, _now: datetime) -> float:
    """Deliveries given up after their last attempt (a gauge: a channel needs looking at)."""
    query = select(func.count()).select_from(NoticeDelivery)
    return float(session.scalar(query.where(NoticeDelivery.state == "failed")) or 0)
