"""The console's cookie and response headers, over real HTTP; the settings that govern them."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
import requests

from api import create_app
from config import Settings
from engine.services.context import build_context
from engine.workflow.clock import ManualClock
from engine.workflow.diagram_svg import STYLE
from tests.conftest import DEMO_PASSWORD, make_settings, serve


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _sign_in(server: str, username: str = "bianban") -> requests.Response:
    http = requests.Session()
    token = _csrf(http.get(f"{server}/login", timeout=10).text)
    return http.post(
        f"{server}/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


@pytest.fixture
def production_server(database_url: str, clock: ManualClock) -> Iterator[str]:
    """The app with the settings' own default for the cookie (as outside local development)."""
    settings = make_settings(database_url).with_overrides(cookie_secure=Settings().cookie_secure)
    context = build_context(settings, clock=clock)
    with serve(create_app(context=context)) as url:
        yield url
    context.db.dispose()


def test_the_session_cookie_is_secure_httponly_and_lax_by_default(production_server: str) -> None:
    # The sign-in form's CSRF token already opens the session.
    cookie = requests.get(f"{production_server}/login", timeout=10).headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes
    assert "SameSite=Lax" in cookie
    # A client on plain http (requests, like browsers off localhost) does not send it back.
    assert _sign_in(production_server).status_code == 400


def test_local_development_turns_the_secure_cookie_off(server: str) -> None:
    cookie = _sign_in(server).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "secure" not in {part.strip().lower() for part in cookie.split(";")}


def test_settings_read_the_sign_in_and_cookie_variables() -> None:
    defaults = Settings.from_env({})
    assert defaults.cookie_secure is True
    assert defaults.ratelimit_storage_uri == "memory://"
    assert (defaults.login_max_failures, defaults.login_lockout_minutes) == (5, 15)
    assert defaults.trusted_proxy_hops == 0
    read = Settings.from_env(
        {
            "ZHUNRU_COOKIE_SECURE": "0",
            "ZHUNRU_RATELIMIT_STORAGE_URI": "redis://cache.internal:6379",
            "ZHUNRU_LOGIN_ADDRESS_LIMIT": "10 per minute",
            "ZHUNRU_LOGIN_MAX_FAILURES": "3",
            "ZHUNRU_LOGIN_FAILURE_WINDOW_MINUTES": "30",
            "ZHUNRU_LOGIN_LOCKOUT_MINUTES": "60",
            "ZHUNRU_TRUSTED_PROXY_HOPS": "1",
        }
    )
    assert read.cookie_secure is False
    assert read.ratelimit_storage_uri == "redis://cache.internal:6379"
    assert read.login_address_limit == "10 per minute"
    assert (read.login_max_failures, read.login_failure_window_minutes) == (3, 30)
    assert (read.login_lockout_minutes, read.trusted_proxy_hops) == (60, 1)


def _policy(response: requests.Response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in header.split(";") if d.strip()}


def test_console_responses_carry_the_security_headers(server: str) -> None:
    signed_in = requests.Session()
    token = _csrf(signed_in.get(f"{server}/login", timeout=10).text)
    signed_in.post(
        f"{server}/login",
        data={"username": "bianban", "password": DEMO_PASSWORD, "csrf_token": token},
        timeout=30,
    )
    responses = [
        requests.get(f"{server}/login", timeout=10),
        requests.get(f"{server}/inbox", allow_redirects=False, timeout=10),
        requests.get(f"{server}/console-static/console.js", timeout=10),
        requests.get(f"{server}/no-such-page", timeout=10),
        signed_in.get(f"{server}/inbox", timeout=10),
        signed_in.get(f"{server}/dashboard", timeout=10),
    ]
    style_hash = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    for response in responses:
        headers = response.headers
        assert headers["X-Frame-Options"] == "DENY", response.url
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        policy = _policy(response)
        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"  # no inline script, no eval
        assert policy["style-src"] == f"'self' 'sha256-{style_hash}'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["form-action"] == "'self'"


def test_console_pages_have_no_inline_script_or_style_attribute(server: str) -> None:
    http = requests.Session()
    token = _csrf(http.get(f"{server}/login", timeout=10).text)
    http.post(
        f"{server}/login",
        data={"username": "nongye", "password": DEMO_PASSWORD, "csrf_token": token},
        timeout=30,
    )
    for path in ("/login", "/inbox", "/matters", "/matters/new", "/register", "/dashboard"):
        html = http.get(server + path, timeout=30).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=|\son[a-z]+=|javascript:", html), path


def test_the_api_gets_the_plain_headers_but_no_page_policy(server: str) -> None:
    response = requests.get(f"{server}/api/v1/health", timeout=10)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    # The Swagger UI under the API prefix loads its script from a CDN: no console policy there.
    assert "Content-Security-Policy" not in response.headers
    assert (
        "Content-Security-Policy" not in requests.get(f"{server}/api/v1/docs", timeout=10).headers
    )
