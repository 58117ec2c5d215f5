"""Files kept under their SHA-256 (content-addressed): issued documents and attachments.

The same bytes are stored once, whoever stores them; a file is written beside its place and
renamed into it, so a reader never sees half a file, and read back only if its hash still
agrees. Rows that name a file are written in the same command after the file is in place: a
rolled-back command leaves at most an unreferenced file, never a row without its file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

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

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`, checked against it."""
        try:
            data = self._path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("文件不存在") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobCorrupted(f"stored file {digest} no longer has its hash")
        return data
