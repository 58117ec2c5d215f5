"""Notices by e-mail and a signed webhook (issue 14), against a real SMTP server (aiosmtpd) and a
real HTTP receiver on 127.0.0.1: the command that writes a notice never waits for them; a
channel that is down is retried with growing pauses and given up after the last attempt; each
notice reaches the people who read it in the console, once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from engine.models import NoticeDelivery, Notification, User
from engine.services import delivery, gauges
from engine.services.context import Context, build_context
from engine.worker import Worker
from engine.workflow.services import instances
from tests.factories import application
from tests.integration.test_admission_services import actor, take
from tests.servers import free_port

SECRET = "webhook-secret-for-tests-0123456789abcdef"
RETURNED = {"opinion": "needs_change", "comment": "经费来源须写明"}


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


class Receiver:
    """A webhook receiver answering with the statuses it is given, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.calls = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/zhunru"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver([500, 503])
    yield running
    running.close()


def with_channels(ctx: Context, **settings: Any) -> Context:
    return build_context(ctx.settings.with_overrides(**settings), clock=ctx.clock)


def returned_application(ctx: Context) -> int:
    """The department's application comes back from 司法局: a notice to 县农业农村局."""
    matter = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye")).id
    take(ctx, "sifa", RETURNED)
    return matter


def deliveries(ctx: Context) -> list[SimpleNamespace]:
    """The outbox as it stands, read in a transaction of its own."""
    columns = [c.key for c in NoticeDelivery.__table__.columns]
    with ctx.db.read() as session:
        rows = session.scalars(select(NoticeDelivery).order_by(NoticeDelivery.id))
        return [SimpleNamespace(**{c: getattr(row, c) for c in columns}) for row in rows]


def test_email_waits_for_a_server_that_is_down_and_arrives_once_it_is_up(
    ctx: Context, clock
) -> None:
    port = free_port()  # nothing listens here yet
    mail = with_channels(
        ctx, smtp_host="127.0.0.1", smtp_port=port, smtp_from="zhunru@county.example"
    )
    matter = returned_application(mail)  # the command does not wait for the mail server
    assert delivery.dispatch(mail) == 1  # one person of the department has an address
    assert delivery.send_due(mail) == 0
    [waiting] = deliveries(mail)
    assert (waiting.state, waiting.attempts, waiting.target) == (
        "pending",
        1,
        "nongye@zhunru.example",
    )
    assert "Connection" in waiting.last_error or "refused" in waiting.last_error.lower()
    assert delivery.send_due(mail) == 0  # not due again before its pause

    with SmtpServer(port) as server:
        clock.advance(timedelta(minutes=1, seconds=1))
        assert delivery.send_due(mail) == 1
        [message] = server.inbox.messages
    assert message["To"] == "nongye@zhunru.example"
    assert message["From"] == "zhunru@county.example"
    assert "已退回修改" in message["Subject"] and message["Subject"].startswith("【准入通知】")
    body = message.get_content()
    assert body.startswith("县农业农村局：") and "已退回修改" in body
    [sent] = deliveries(mail)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 2, "")
    assert delivery.send_due(mail) == 0 and delivery.dispatch(mail) == 0  # once
    assert matter


def test_office_notices_reach_its_people_personal_ones_only_the_person(ctx: Context) -> None:
    mail = with_channels(ctx, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_from="z@c.example")
    with mail.db.write() as session:
        office = session.scalar(select(User).where(User.username == "nongye"))
        assert office is not None
        for username, active, email in (
            ("nongye2", True, "kezhang@zhunru.example"),
            ("nongye3", False, "left@zhunru.example"),  # moved on: inactive
        ):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash="x",
                    org_id=office.org_id,
                    roles=["applicant"],
                    active=active,
                    email=email,
                )
            )
        session.add(
            Notification(
                org_id=office.org_id,
                user_id=office.id,
                instance_id=None,
                kind="personal",
                message="只给经办人本人",
                created_at=mail.clock.now(),
            )
        )
    returned_application(mail)
    delivery.dispatch(mail)
    targets = sorted((d.notification_id, d.target) for d in deliveries(mail))
    personal = [t for n, t in targets if n == min(n for n, _ in targets)]
    assert personal == ["nongye@zhunru.example"]
    office_copies = sorted(t for n, t in targets if n != min(n for n, _ in targets))
    assert office_copies == ["kezhang@zhunru.example", "nongye@zhunru.example"]  # not the inactive


def test_signed_webhook_is_retried_with_growing_pauses(ctx: Context, clock, receiver) -> None:
    hook = with_channels(
        ctx, webhook_url=receiver.url, webhook_secret=SECRET, public_url="https://zr.example"
    )
    matter = returned_application(hook)
    worker = Worker(hook, poll_seconds=0.01)
    worker.deliver()  # queued and tried at once: 500
    [first] = deliveries(hook)
    assert (first.state, first.attempts, first.last_error) == (
        "pending",
        1,
        "RuntimeError: HTTP 500",
    )
    clock.advance(timedelta(seconds=61))
    worker.deliver()  # 503; the next pause is two minutes
    clock.advance(timedelta(seconds=61))
    worker.deliver()
    assert deliveries(hook)[0].attempts == 2  # still pausing
    clock.advance(timedelta(seconds=60))
    worker.deliver()  # 200
    [sent] = deliveries(hook)
    assert (sent.state, sent.attempts) == ("sent", 3)

    headers, body = receiver.calls[-1]
    assert len(receiver.calls) == 3 and receiver.calls[0][1] == body  # the same delivery
    expected = hmac.new(
        SECRET.encode(), headers["X-Zhunru-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Zhunru-Signature"] == f"sha256={expected}"
    assert headers["X-Zhunru-Delivery"] == str(sent.id)
    payload = json.loads(body)
    assert payload["kind"] == "application_returned" and payload["instance_id"] == matter
    assert payload["url"] == f"https://zr.example/matters/{matter}"
    assert payload["organization"] == {"code": "nongye", "name": "县农业农村局"}


def test_a_channel_that_stays_down_is_given_up_and_counted(ctx: Context, clock) -> None:
    dead = with_channels(
        ctx,
        webhook_url=f"http://127.0.0.1:{free_port()}/",
        webhook_secret=SECRET,
        delivery_max_attempts=2,
    )
    returned_application(dead)
    delivery.dispatch(dead)
    delivery.send_due(dead)
    clock.advance(timedelta(minutes=2))
    delivery.send_due(dead)
    [given_up] = deliveries(dead)
    assert (given_up.state, given_up.attempts) == ("failed", 2)
    clock.advance(timedelta(days=1))
    assert delivery.send_due(dead) == 0  # never again
    readings = dict((g.name, value) for g, value in gauges.read_all(dead))
    assert readings["zhunru_notice_deliveries_failed"] == 1.0


def test_history_is_not_sent_when_a_channel_is_turned_on(ctx: Context, clock) -> None:
    returned_application(ctx)  # written while no channel is on: nothing queued
    assert delivery.dispatch(ctx) == 0
    clock.advance(timedelta(days=2))
    mail = with_channels(ctx, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_from="z@c.example")
    assert delivery.dispatch(mail) == 0  # the old notice is marked, not mailed
    with mail.db.read() as session:
        assert (
            session.scalar(select(Notification.id).where(Notification.dispatched_at.is_(None)))
            is None
        )
    with mail.db.write() as session:  # a person without an address gets no e-mail
        session.execute(update(User).where(User.username == "nongye").values(email=""))
    returned_application(mail)
    assert delivery.dispatch(mail) == 0 and deliveries(mail) == []
