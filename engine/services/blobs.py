"""Files kept under their SHA-256 (content-addressed): issued documents and attachments, on
disk (the default) or in an S3-compatible object store.

The same bytes are stored once, whoever stores them; a file is written beside its place and
renamed into it, so a reader never sees half a file, and read back only if its hash still
agrees. Rows that name a file are written in the same command after the file is in place: a
rolled-back command leaves at most an unreferenced file, never a row without its file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from minio import Minio
from minio.error import S3Error

from config import Settings
from engine.errors import NotFound

_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobCorrupted(RuntimeError):
    """A stored file no longer has the hash it was stored under."""


class DiskBlobs:
    """Files under `root/ab/cdef…` (the first two hex digits fan the directory out)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        if not _SHA256.fullmatch(digest):
            raise NotFound("文件不存在")
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store `data`; return its SHA-256 (hex)."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            os.utime(path)  # fresh again: `discard` leaves a file stored again alone
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def discard(self, digest: str, untouched_since: float) -> bool:
        """Remove the file under `digest` if it was last stored before `untouched_since` (a
        POSIX time); the caller has made sure no row names it. True if removed."""
        path = self._path(digest)
        try:
            if path.stat().st_mtime >= untouched_since:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`, checked against it."""
        try:
            data = self._path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("文件不存在") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobCorrupted(f"stored file {digest} no longer has its hash")
        return data


class S3Blobs:
    """The same, as objects `ab/cdef…` in a bucket of an S3-compatible store (MinIO, a cloud's
    object storage), through the MinIO client. Storing again rewrites the object, so its
    last-modified time is fresh, as `DiskBlobs.put` refreshes a file's."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    @staticmethod
    def _key(digest: str) -> str:
        if not _SHA256.fullmatch(digest):
            raise NotFound("文件不存在")
        return f"{digest[:2]}/{digest[2:]}"

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.client.put_object(self.bucket, self._key(digest), io.BytesIO(data), len(data))
        return digest

    def exists(self, digest: str) -> bool:
        try:
            self.client.stat_object(self.bucket, self._key(digest))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise
        return True

    def get(self, digest: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, self._key(digest))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound("文件不存在") from exc
            raise
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobCorrupted(f"stored object {digest} no longer has its hash")
        return data

    def discard(self, digest: str, untouched_since: float) -> bool:
        try:
            found = self.client.stat_object(self.bucket, self._key(digest))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise
        if found.last_modified is None or found.last_modified.timestamp() >= untouched_since:
            return False
        self.client.remove_object(self.bucket, self._key(digest))
        return True


def make_blobs(settings: Settings) -> DiskBlobs | S3Blobs:
    """The store the settings name (nothing is contacted until a file is stored or read)."""
    if settings.blob_store != "s3":
        return DiskBlobs(settings.blob_dir)
    endpoint = urlsplit(settings.s3_endpoint)
    client = Minio(
        endpoint.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=endpoint.scheme == "https",
        region=settings.s3_region or None,
    )
    return S3Blobs(client, settings.s3_bucket)
