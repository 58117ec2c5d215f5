"""Notices read and unread, per person: two people of one office each keep their own marks
(issue 14), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import NotFound
from engine.services import notices
from engine.services.context import Context
from engine.workflow.services import instances
from engine.workflow.services.timers import fire_due
from tests.factories import LAWFUL, PASS, application
from tests.integration.test_admission_services import actor, take


def test_each_person_of_an_office_keeps_their_own_unread_notices(ctx: Context, clock) -> None:
    instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    clock.advance(timedelta(days=40))  # the approval runs over: its supervisor is told
    assert fire_due(ctx).timers == 1
    jiwei, shenli = actor(ctx, "jiwei"), actor(ctx, "jiwei_shenli")  # one office, two people
    [late] = notices.notifications(ctx, jiwei, unread=True)
    assert late.kind == "step_overdue" and not late.read
    assert [n.id for n in notices.notifications(ctx, shenli, unread=True)] == [late.id]

    assert notices.mark_read(ctx, jiwei, [late.id]) == 1
    assert notices.notifications(ctx, jiwei, unread=True) == []
    assert notices.notifications(ctx, jiwei)[0].read
    assert notices.unread_count(ctx, jiwei) == 0
    assert notices.unread_count(ctx, shenli) == 1  # still unread for the colleague
    assert notices.mark_read(ctx, shenli) == 1 and notices.mark_read(ctx, shenli) == 0

    # A notice of another office is not theirs to mark: refused, nothing marked.
    with pytest.raises(NotFound):
        notices.mark_read(ctx, actor(ctx, "nongye"), [late.id])
