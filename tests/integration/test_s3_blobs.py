"""Documents and attachments in an S3-compatible object store (ZHUNRU_BLOB_STORE=s3), against
a real S3 server started by the tests: stored under their SHA-256, read back checked, a
tampered object refused, forgotten uploads removed — and a filing with an attachment and its
export end to end on it."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from config import SettingsError
from engine.errors import NotFound
from engine.services import attachments, file_export
from engine.services.blobs import BlobCorrupted, S3Blobs
from engine.services.context import Context, build_context
from engine.workflow import jobs
from engine.workflow.clock import ManualClock
from engine.workflow.services import instances
from tests import files
from tests.factories import application
from tests.integration.test_admission_services import actor
from tests.s3_server import BUCKET, KEY, s3_server


@pytest.fixture
def s3_ctx(ctx: Context, clock: ManualClock, tmp_path: Path) -> Iterator[Context]:
    with s3_server(tmp_path / "s3") as endpoint:
        settings = ctx.settings.with_overrides(
            blob_store="s3",
            s3_endpoint=endpoint,
            s3_bucket=BUCKET,
            s3_access_key=KEY,
            s3_secret_key=KEY,
            s3_region="us-east-1",
        ).checked()
        context = build_context(settings, clock=clock)
        yield context
        context.db.dispose()


def test_files_are_kept_checked_and_forgotten_in_the_object_store(
    s3_ctx: Context, clock: ManualClock
) -> None:
    blobs = s3_ctx.blobs
    assert isinstance(blobs, S3Blobs)
    data = files.pdf(2)
    digest = blobs.put(data)
    assert digest == hashlib.sha256(data).hexdigest() and blobs.get(digest) == data
    assert blobs.put(data) == digest  # the same bytes, the same object
    with pytest.raises(NotFound):
        blobs.get("0" * 64)
    # Someone with access to the bucket swaps the bytes: read back, they are refused.
    blobs.client.put_object(BUCKET, f"{digest[:2]}/{digest[2:]}", io.BytesIO(b"x"), 1)
    with pytest.raises(BlobCorrupted):
        blobs.get(digest)

    nongye = actor(s3_ctx, "nongye")
    kept = attachments.upload(s3_ctx, nongye, "依据.pdf", files.pdf(3))
    given_up = attachments.upload(s3_ctx, nongye, "照片.jpg", files.photo(60))
    instances.start(s3_ctx, "matter_admission", application(attachments=[kept.id]), nongye)
    clock.advance(timedelta(days=8))
    assert jobs.registered()["attachments.discard_unsubmitted"](s3_ctx) == 1
    assert attachments.attachment_file(s3_ctx, nongye, kept.id).data == blobs.get(kept.sha256)
    with pytest.raises(NotFound):
        blobs.get(given_up.sha256)


def test_a_matters_whole_file_comes_from_the_object_store(s3_ctx: Context) -> None:
    nongye = actor(s3_ctx, "nongye")
    basis = files.pdf(4)
    upload = attachments.upload(s3_ctx, nongye, "政策依据.pdf", basis)
    matter = instances.start(
        s3_ctx, "matter_admission", application(attachments=[upload.id]), nongye
    ).id
    exported = file_export.export_file(s3_ctx, actor(s3_ctx, "jiwei"), matter)
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert archive.read(f"attachments/{upload.id}-政策依据.pdf") == basis


def test_an_object_store_without_its_settings_is_refused(ctx: Context) -> None:
    for missing in ("s3_endpoint", "s3_bucket", "s3_access_key", "s3_secret_key"):
        complete = {
            "s3_endpoint": "https://oss.example.gov.cn",
            "s3_bucket": "zhunru",
            "s3_access_key": "k",
            "s3_secret_key": "s",
        }
        with pytest.raises(SettingsError, match="ZHUNRU_S3_"):
            ctx.settings.with_overrides(blob_store="s3", **{**complete, missing: ""}).checked()
    with pytest.raises(SettingsError, match="disk or s3"):
        ctx.settings.with_overrides(blob_store="ftp").checked()
