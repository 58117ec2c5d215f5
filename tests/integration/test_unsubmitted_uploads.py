"""Uploads nobody submitted are forgotten after a week by the worker's job (issue 15): the row
and, when nothing else names the same bytes, the file; what was submitted, and what another
row still names, stays."""

from __future__ import annotations

from datetime import timedelta

from engine.services import attachments
from engine.services.context import Context
from engine.workflow import jobs
from engine.workflow.clock import ManualClock
from engine.workflow.services import instances
from tests import files
from tests.factories import application
from tests.integration.test_admission_services import actor


def test_a_week_old_unsubmitted_upload_is_forgotten_with_its_file(
    ctx: Context, clock: ManualClock
) -> None:
    nongye = actor(ctx, "nongye")
    shared, alone = files.pdf(2), files.photo(40)  # random: no other test has these bytes
    submitted = attachments.upload(ctx, nongye, "依据.pdf", shared)
    instances.start(ctx, "matter_admission", application(attachments=[submitted.id]), nongye)
    same_bytes = attachments.upload(ctx, nongye, "依据（重复）.pdf", shared)
    given_up = attachments.upload(ctx, nongye, "照片.png", alone)
    clock.advance(timedelta(days=6))
    recent = attachments.upload(ctx, nongye, "纪要.pdf", files.pdf(3))

    job = jobs.registered()["attachments.discard_unsubmitted"]
    assert job(ctx) == 0  # nothing is a week old yet
    clock.advance(timedelta(days=2))
    assert job(ctx) == 2
    assert job(ctx) == 0

    assert [a.id for a in attachments.pending(ctx, nongye)] == [recent.id]
    assert not ctx.blobs._path(given_up.sha256).exists()
    # The same bytes are still the submitted file's: kept, and still read as uploaded.
    assert ctx.blobs.get(same_bytes.sha256) == shared
    assert attachments.attachment_file(ctx, nongye, submitted.id).data == shared
