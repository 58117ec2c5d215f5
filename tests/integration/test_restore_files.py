"""A database backup holds no files: after a restore, the summary counts the documents and
attachments the database names and those the file store lacks, so an operator knows the
files must come back from the store's own backup."""

from __future__ import annotations

from engine.services import attachments, backup
from engine.services.context import Context
from engine.workflow.services import instances
from tests import files
from tests.factories import application
from tests.integration.test_admission_services import actor


def test_the_summary_names_files_the_store_lacks(ctx: Context) -> None:
    nongye = actor(ctx, "nongye")
    before = backup.summarize(ctx)
    unique = files.photo(30)  # random bytes: no other test stores these
    upload = attachments.upload(ctx, nongye, "现场照片.jpg", unique)
    instances.start(ctx, "matter_admission", application(attachments=[upload.id]), nongye)
    held = backup.summarize(ctx)
    assert (held.files, held.missing_files) == (before.files + 1, before.missing_files)
    ctx.blobs._path(upload.sha256).unlink()  # the store was not restored with the database
    lost = backup.summarize(ctx)
    assert (lost.files, lost.missing_files) == (held.files, held.missing_files + 1)
