"""A real OpenID Connect provider for the tests (tests/oidc/provider.mjs on Node.js, panva's
oidc-provider), started on a free 127.0.0.1 port and stopped by its process id; and the
console served over HTTP with OIDC sign-in pointed at it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from api import create_app
from engine.services.context import Context, build_context
from engine.workflow.clock import ManualClock
from tests.conftest import make_settings, serve
from tests.servers import free_port

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "zhunru-console"
CLIENT_SECRET = "test-oidc-secret-" + "y" * 32
READY_TIMEOUT = 20.0
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass(frozen=True)
class Provider:
    issuer: str


def _require_node() -> str:
    # Missing tools are a failure, never a skip: CI must not pass without these tests.
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "the test OIDC provider needs node and tests/oidc/node_modules: "
            "run `bash scripts/system-deps.sh oidc`",
            pytrace=False,
        )
    return node


@contextmanager
def oidc_provider(port: int, redirect_uri: str) -> Iterator[Provider]:
    """The provider on 127.0.0.1:`port`, its one client sent back to `redirect_uri`."""
    env = {
        **os.environ,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": redirect_uri,
    }
    process = subprocess.Popen(
        [_require_node(), str(PROVIDER_DIR / "provider.mjs"), str(port)],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, issuer)
        yield Provider(issuer)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_ready(process: subprocess.Popen[str], issuer: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the OIDC provider exited ({process.returncode}): {errors}")
        try:
            discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if discovery.status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the OIDC provider did not answer at {issuer}")


def oidc_context(
    database_url: str, issuer: str, clock: ManualClock | None = None, **overrides: object
) -> Context:
    """A context on the database whose console signs in through `issuer`."""
    oidc = {"oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET, **overrides}
    settings = make_settings(database_url).with_overrides(oidc_issuer=issuer, **oidc).checked()
    return build_context(settings, clock=clock)


@contextmanager
def console_with_provider(
    database_url: str, clock: ManualClock | None = None, **overrides: object
) -> Iterator[tuple[str, Provider]]:
    """The whole app over HTTP, its console signing in through a provider of its own. The
    provider's port is chosen first (the app must know its issuer), the provider started
    once the app's address, and so its redirect URI, is known."""
    port = free_port()
    ctx = oidc_context(database_url, f"http://127.0.0.1:{port}", clock, **overrides)
    try:
        with serve(create_app(context=ctx)) as url:
            with oidc_provider(port, f"{url}/oidc/callback") as provider:
                yield url, provider
    finally:
        ctx.db.dispose()


def submit_provider_form(
    http: requests.Session, page: requests.Response, **fields: str
) -> requests.Response:
    """Fill and send the provider's form on `page` (its login or its consent), following
    redirects wherever they lead."""
    found = FORM_ACTION.search(page.text)
    assert found, page.text
    action = requests.compat.urljoin(page.url, found.group(1))
    return http.post(action, data=fields, timeout=30)
