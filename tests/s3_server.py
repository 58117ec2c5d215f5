"""An S3-compatible server for the tests (tests/s3/server.js on Node.js, s3rver: a real HTTP
server speaking the S3 protocol, objects in a directory), on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import free_port

SERVER_DIR = Path(__file__).resolve().parent / "s3"
BUCKET = "zhunru-files"
KEY = "S3RVER"  # s3rver's one account: access key and secret are both this


@contextmanager
def s3_server(directory: Path) -> Iterator[str]:
    """The server's endpoint URL while it runs; stopped after."""
    node = shutil.which("node")
    if node is None or not (SERVER_DIR / "node_modules" / "s3rver").is_dir():
        # A missing tool is a failure, never a skip: CI must not pass without these tests.
        pytest.fail(
            "the test S3 server needs node and tests/s3/node_modules: "
            "run `bash scripts/system-deps.sh s3`",
            pytrace=False,
        )
    port = free_port()
    process = subprocess.Popen(
        [node, str(SERVER_DIR / "server.js"), str(port), str(directory), BUCKET],
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready" once it listens (or EOF if it died)
        if line.strip() != "ready":
            errors = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the S3 server did not start: {line!r} {errors}")
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
