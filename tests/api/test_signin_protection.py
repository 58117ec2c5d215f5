"""Sign-in protection over real HTTP: account lockout, per-address limits, forged token subjects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from api import create_app
from config import Settings, SettingsError
from engine.services.context import Context, build_context
from engine.workflow.clock import ManualClock
from tests.conftest import DEMO_PASSWORD, SECRET, make_settings, serve

TOKEN = "/api/v1/auth/token"
LOCKED = "登录失败次数过多"


def _sign_in(server: str, username: str, password: str) -> requests.Response:
    return requests.post(
        server + TOKEN, json={"username": username, "password": password}, timeout=30
    )


def _assert_locked(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert retry_after > 0
    payload = response.json()
    assert {"code", "status", "message", "errors"} <= set(payload)
    assert payload["code"] == 429
    assert LOCKED in payload["message"] or "过于频繁" in payload["message"]
    assert "access_token" not in payload
    return payload


def _answer(response: requests.Response) -> dict[str, Any]:
    """The body without what differs per request anyway (the request id)."""
    return {k: v for k, v in response.json().items() if k != "request_id"}


def _fail(server: str, username: str, times: int) -> list[requests.Response]:
    return [_sign_in(server, username, "wrong-password") for _ in range(times)]


# -- per account -----------------------------------------------------------------------------


def test_repeated_wrong_passwords_lock_the_account_until_the_lock_expires(
    server: str, clock: ManualClock
) -> None:
    settings = Settings()
    failures = _fail(server, "nongye", settings.login_max_failures)
    assert [r.status_code for r in failures[:-1]] == [401] * (settings.login_max_failures - 1)
    _assert_locked(failures[-1])

    # The right password is refused too while the lock holds, and says for how long.
    locked = _sign_in(server, "nongye", DEMO_PASSWORD)
    payload = _assert_locked(locked)
    assert f"{settings.login_lockout_minutes}分钟" in payload["message"]
    assert int(locked.headers["Retry-After"]) == settings.login_lockout_minutes * 60

    clock.advance(timedelta(minutes=settings.login_lockout_minutes - 1))
    _assert_locked(_sign_in(server, "nongye", DEMO_PASSWORD))
    clock.advance(timedelta(minutes=1))
    assert _sign_in(server, "nongye", DEMO_PASSWORD).status_code == 200
    # Other accounts were never affected.
    assert _sign_in(server, "jiaoyu", DEMO_PASSWORD).status_code == 200


def test_a_successful_sign_in_resets_the_count(server: str) -> None:
    below = Settings().login_max_failures - 1
    for _ in range(3):
        assert [r.status_code for r in _fail(server, "jiaoyu", below)] == [401] * below
        assert _sign_in(server, "jiaoyu", DEMO_PASSWORD).status_code == 200


def test_failures_older_than_the_window_are_forgotten(server: str, clock: ManualClock) -> None:
    settings = Settings()
    below = settings.login_max_failures - 1
    assert [r.status_code for r in _fail(server, "minzheng", below)] == [401] * below
    clock.advance(timedelta(minutes=settings.login_failure_window_minutes, seconds=1))
    assert [r.status_code for r in _fail(server, "minzheng", below)] == [401] * below
    assert _sign_in(server, "minzheng", DEMO_PASSWORD).status_code == 200


def test_the_lock_does_not_reveal_whether_the_account_exists(server: str) -> None:
    tries = Settings().login_max_failures
    known = _fail(server, "sifa", tries + 1)
    unknown = _fail(server, "no-such-user", tries + 1)
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert [_answer(r) for r in known] == [_answer(r) for r in unknown]
    assert known[-1].headers["Retry-After"] == unknown[-1].headers["Retry-After"]


@pytest.fixture
def second_server(database_url: str, clock: ManualClock) -> Iterator[str]:
    """Another process's worth of app (own context, engine and limiter) on the same database."""
    other = build_context(make_settings(database_url), clock=clock)
    with serve(create_app(context=other)) as url:
        yield url
    other.db.dispose()


def test_the_lock_holds_across_server_processes(server: str, second_server: str) -> None:
    tries = Settings().login_max_failures
    for i in range(tries - 1):
        assert _sign_in((server, second_server)[i % 2], "bianban", "wrong").status_code == 401
    _assert_locked(_sign_in(second_server, "bianban", "wrong"))
    _assert_locked(_sign_in(server, "bianban", DEMO_PASSWORD))
    _assert_locked(_sign_in(second_server, "bianban", DEMO_PASSWORD))


# -- per client address ----------------------------------------------------------------------


@pytest.fixture
def strict_ctx(database_url: str, clock: ManualClock) -> Iterator[Context]:
    settings = make_settings(database_url).with_overrides(
        login_address_limit="3 per 15 minutes", login_max_failures=100
    )
    context = build_context(settings, clock=clock)
    yield context
    context.db.dispose()


@pytest.fixture
def strict_server(strict_ctx: Context) -> Iterator[str]:
    with serve(create_app(context=strict_ctx)) as url:
        yield url


def test_one_address_trying_many_accounts_is_slowed_down(strict_server: str) -> None:
    for username in ("nongye", "jiaoyu", "no-such-user"):
        assert _sign_in(strict_server, username, "wrong").status_code == 401
    # The address is now held back, even with a right password for a fourth account.
    response = _sign_in(strict_server, "minzheng", DEMO_PASSWORD)
    payload = _assert_locked(response)
    assert "网络地址" in payload["message"]
    assert int(response.headers["Retry-After"]) <= 15 * 60


def test_successful_sign_ins_do_not_count_against_the_address(strict_server: str) -> None:
    for _ in range(6):
        assert _sign_in(strict_server, "nongye", DEMO_PASSWORD).status_code == 200


def test_the_address_behind_trusted_proxies_is_the_forwarded_one(
    database_url: str, clock: ManualClock
) -> None:
    settings = make_settings(database_url).with_overrides(
        login_address_limit="2 per 15 minutes", trusted_proxy_hops=1
    )
    context = build_context(settings, clock=clock)
    try:
        with serve(create_app(context=context)) as url:

            def attempt(client: str, password: str = "wrong") -> int:
                return requests.post(
                    url + TOKEN,
                    json={"username": "nongye", "password": password},
                    headers={"X-Forwarded-For": f"203.0.113.9, {client}"},
                    timeout=30,
                ).status_code

            assert [attempt("10.0.0.1"), attempt("10.0.0.1")] == [401, 401]
            assert attempt("10.0.0.1", DEMO_PASSWORD) == 429
            # Another client behind the same proxy is not held back for the first one.
            assert attempt("10.0.0.2", DEMO_PASSWORD) == 200
    finally:
        context.db.dispose()


# -- the console's sign-in page --------------------------------------------------------------


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _console_sign_in(http: requests.Session, server: str, username: str, password: str):
    token = _csrf(http.get(f"{server}/login", timeout=10).text)
    return http.post(
        f"{server}/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def test_the_console_sign_in_locks_the_account_too(server: str, clock: ManualClock) -> None:
    settings = Settings()
    http = requests.Session()
    for _ in range(settings.login_max_failures - 1):
        assert _console_sign_in(http, server, "xianwei", "wrong").status_code == 401
    response = _console_sign_in(http, server, "xianwei", DEMO_PASSWORD)
    assert response.status_code == 200 or response.status_code == 302
    http = requests.Session()
    for _ in range(settings.login_max_failures):
        last = _console_sign_in(http, server, "xianwei", "wrong")
    assert last.status_code == 429
    response = _console_sign_in(http, server, "xianwei", DEMO_PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(settings.login_lockout_minutes * 60)
    assert LOCKED in response.text and f"{settings.login_lockout_minutes}分钟" in response.text
    assert 'id="username"' in response.text  # the sign-in form again, not an error page
    assert http.get(f"{server}/inbox", allow_redirects=False, timeout=10).status_code == 302
    # The API refuses the same account: one lock for both doors.
    _assert_locked(_sign_in(server, "xianwei", DEMO_PASSWORD))

    clock.advance(timedelta(minutes=settings.login_lockout_minutes))
    assert _console_sign_in(http, server, "xianwei", DEMO_PASSWORD).status_code == 302


def test_the_console_sign_in_holds_back_a_guessing_address(strict_server: str) -> None:
    http = requests.Session()
    for username in ("nongye", "jiaoyu", "sifa"):
        assert _console_sign_in(http, strict_server, username, "wrong").status_code == 401
    response = _console_sign_in(http, strict_server, "bianban", DEMO_PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "网络地址" in response.text and 'id="username"' in response.text


# -- forged token subjects -------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["abc", "0", "-1", "1.5", " 1", "+1", "", str(2**31), str(2**63), str(2**64), 7, None],
    ids=repr,
)
def test_a_token_whose_subject_is_no_valid_id_is_401(server: str, subject: object) -> None:
    now = datetime.now().timestamp()
    claims = {"sub": subject, "iss": "zhunru", "iat": int(now), "exp": int(now) + 600}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = requests.get(
        server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 401, response.text
    assert response.json()["code"] == 401


def test_a_signed_token_for_an_id_nobody_has_is_401(server: str) -> None:
    now = datetime.now().timestamp()
    claims = {"sub": str(2**31 - 1), "iss": "zhunru", "iat": int(now), "exp": int(now) + 600}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = requests.get(
        server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 401


def test_simultaneous_wrong_passwords_all_count_and_none_fails(server: str) -> None:
    tries = Settings().login_max_failures * 2
    with ThreadPoolExecutor(max_workers=tries) as pool:
        statuses = sorted(
            r.status_code for r in pool.map(lambda _: _fail(server, "jiwei", 1)[0], range(tries))
        )
    assert set(statuses) <= {401, 429}, statuses
    assert 429 in statuses
    _assert_locked(_sign_in(server, "jiwei", DEMO_PASSWORD))


def test_a_malformed_address_limit_stops_the_app_at_start(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'none.db'}").with_overrides(
        login_address_limit="thirty a minute"
    )
    with pytest.raises(SettingsError, match="ZHUNRU_LOGIN_ADDRESS_LIMIT"):
        create_app(settings)
