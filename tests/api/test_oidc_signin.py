"""Console sign-in through a real OpenID Connect provider over real HTTP: the whole
authorization code flow (state, nonce, PKCE) against tests/oidc/provider.mjs, and every refusal
a person may meet on the way back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from api import create_app
from config import Settings, SettingsError
from engine.workflow.clock import ManualClock
from tests.conftest import DEMO_PASSWORD, ApiClient, serve
from tests.oidc_provider import (
    Provider,
    console_with_provider,
    oidc_context,
    submit_provider_form,
)
from tests.servers import free_port

LABEL = Settings().oidc_label  # 统一身份认证登录
ERROR = re.compile(r'id="login-error"><h2>([^<]*)</h2>')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def console(database_url: str, clock: ManualClock) -> Iterator[tuple[str, Provider]]:
    with console_with_provider(database_url, clock) as served:
        yield served


def _through_provider(
    http: requests.Session, url: str, login: str, next_page: str = ""
) -> requests.Response:
    """Click the console's button, sign in at the provider as `login` (any password), consent,
    and follow the way back to wherever it leads."""
    start = http.get(f"{url}/oidc/login" + (f"?next={next_page}" if next_page else ""), timeout=30)
    assert start.status_code == 200, start.text
    consent = submit_provider_form(
        http, start, prompt="login", login=login, password="whatever-the-provider-checks"
    )
    return submit_provider_form(http, consent, prompt="consent")


def _signed_in(http: requests.Session, url: str) -> bool:
    page = http.get(f"{url}/notifications", allow_redirects=False, timeout=30)
    return page.status_code == 200


def _error(page: requests.Response) -> str:
    found = ERROR.search(page.text)
    assert found, page.text
    message = found.group(1)
    assert not re.search(r"[A-Za-z]{3,}", message), message  # Chinese, never the provider's words
    return message


def test_a_person_signs_in_through_the_provider_and_works(
    console: tuple[str, Provider],
) -> None:
    url, provider = console
    http = requests.Session()
    login_page = http.get(f"{url}/login?next=/notifications", timeout=30)
    assert LABEL in login_page.text
    assert 'href="/oidc/login?next=/notifications"' in login_page.text

    # The way out asks for a code, with state, nonce and PKCE (S256).
    out = http.get(f"{url}/oidc/login?next=/notifications", allow_redirects=False, timeout=30)
    assert out.status_code == 302
    authorize = urlsplit(out.headers["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == provider.issuer
    query = parse_qs(authorize.query)
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) == {"openid", "profile"}
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0] and query["code_challenge"][0]

    landed = _through_provider(http, url, "nongye_liu", next_page="/notifications")
    assert landed.status_code == 200
    assert landed.url == f"{url}/notifications"
    assert "刘洋" in landed.text  # the header names the person
    inbox = http.get(f"{url}/inbox", allow_redirects=False, timeout=30)
    assert inbox.status_code == 200, inbox.headers.get("Location")

    # The provider's answer is good once: replayed, it finds no sign-in waiting for it.
    callback = next(r for r in landed.history if urlsplit(r.url).path == "/oidc/callback")
    replay = requests.get(callback.url, timeout=30)
    assert replay.status_code == 401
    assert "已过期或来源不明" in _error(replay)


def test_the_username_may_come_from_userinfo(database_url: str, clock: ManualClock) -> None:
    """A county may name another claim: preferred_username is only at userinfo here (the
    default, `sub`, is in the ID token and the provider's to keep stable and unique)."""
    claim = {"oidc_username_claim": "preferred_username"}
    with console_with_provider(database_url, clock, **claim) as (url, _):
        http = requests.Session()
        landed = _through_provider(http, url, "bianban_sun")
        assert landed.status_code == 200 and "孙婷" in landed.text
        assert _signed_in(http, url)


def test_a_login_with_no_account_here_is_refused(console: tuple[str, Provider]) -> None:
    url, _ = console
    http = requests.Session()
    refused = _through_provider(http, url, "stranger")
    assert refused.status_code == 401
    assert urlsplit(refused.url).path == "/oidc/callback"
    assert _error(refused) == "您的统一身份认证账号未在本平台开通，请联系本单位管理员。"
    assert "stranger" not in refused.text  # a sign-in name is never shown
    assert not _signed_in(http, url)


def test_a_deactivated_person_is_refused(console: tuple[str, Provider]) -> None:
    url, _ = console
    admin = ApiClient(url, "admin")
    assert admin.patch("/api/v1/users/beiling", json={"active": False}).status_code == 200
    http = requests.Session()
    refused = _through_provider(http, url, "beiling")
    assert refused.status_code == 401
    assert "已停用" in _error(refused)
    assert not _signed_in(http, url)


def test_an_issued_password_does_not_hold_up_someone_who_signed_in_elsewhere(
    console: tuple[str, Provider],
) -> None:
    """They used no password here: they go to their work, not to the change-password form."""
    url, _ = console
    admin = ApiClient(url, "admin")
    reset = admin.post("/api/v1/users/donghe/password-reset")
    assert reset.status_code == 200
    http = requests.Session()
    landed = _through_provider(http, url, "donghe")
    assert landed.status_code == 200
    assert urlsplit(landed.url).path == "/inbox"
    assert _signed_in(http, url)

    # Whoever uses the issued password on the sign-in form must still replace it first.
    form = requests.Session()
    token = CSRF.search(form.get(f"{url}/login", timeout=30).text)
    assert token
    signed_in = form.post(
        f"{url}/login",
        data={
            "csrf_token": token.group(1),
            "username": "donghe",
            "password": reset.json()["temporary_password"],
        },
        timeout=30,
    )
    assert urlsplit(signed_in.url).path == "/account/password"
    assert (
        form.get(f"{url}/inbox", allow_redirects=False, timeout=30)
        .headers["Location"]
        .endswith("/account/password")
    )


def test_a_forged_or_missing_state_signs_nobody_in(console: tuple[str, Provider]) -> None:
    url, _ = console
    http = requests.Session()
    out = http.get(f"{url}/oidc/login", allow_redirects=False, timeout=30)
    state = parse_qs(urlsplit(out.headers["Location"]).query)["state"][0]
    for query in (f"code=made-up&state={state}x", "code=made-up", "state=&code="):
        forged = http.get(f"{url}/oidc/callback?{query}", timeout=30)
        assert forged.status_code == 401, query
        assert "已过期或来源不明" in _error(forged)
        assert not _signed_in(http, url)
    # The provider's refusal (the person cancelled) says so in Chinese.
    http = requests.Session()
    out = http.get(f"{url}/oidc/login", allow_redirects=False, timeout=30)
    state = parse_qs(urlsplit(out.headers["Location"]).query)["state"][0]
    cancelled = http.get(
        f"{url}/oidc/callback?error=access_denied&error_description=End-User+aborted&state={state}",
        timeout=30,
    )
    assert cancelled.status_code == 401
    assert _error(cancelled) == "您已在统一身份认证平台取消登录。"
    assert not _signed_in(http, url)


def test_refused_answers_count_against_the_address(database_url: str) -> None:
    """The provider's refused answers count with wrong passwords: held back, then 429."""
    ctx = oidc_context(
        database_url, f"http://127.0.0.1:{free_port()}", login_address_limit="2 per 15 minutes"
    )
    try:
        with serve(create_app(context=ctx)) as url:
            answers = [
                requests.get(f"{url}/oidc/callback?code=x&state=y", timeout=30) for _ in range(3)
            ]
            assert [a.status_code for a in answers] == [401, 401, 429]
            assert "失败次数过多" in _error(answers[-1])
            assert int(answers[-1].headers["Retry-After"]) > 0
            # One count: the password form is held back too, even with the right password.
            http = requests.Session()
            token = CSRF.search(http.get(f"{url}/login", timeout=30).text)
            assert token
            form = http.post(
                f"{url}/login",
                data={
                    "csrf_token": token.group(1),
                    "username": "nongye",
                    "password": DEMO_PASSWORD,
                },
                timeout=30,
            )
            assert form.status_code == 429
    finally:
        ctx.db.dispose()


def test_an_unreachable_provider_is_a_clear_502(database_url: str) -> None:
    ctx = oidc_context(database_url, f"http://127.0.0.1:{free_port()}")  # nothing listens
    try:
        with serve(create_app(context=ctx)) as url:
            page = requests.get(f"{url}/oidc/login?next=/inbox", timeout=30)
            assert page.status_code == 502
            assert "统一身份认证平台暂时无法访问" in _error(page)
            assert LABEL in page.text  # the password form and the button are still there
    finally:
        ctx.db.dispose()


def test_without_a_provider_the_console_offers_none(server: str) -> None:
    page = requests.get(f"{server}/login", timeout=30)
    assert page.status_code == 200
    assert LABEL not in page.text and "/oidc/" not in page.text
    assert requests.get(f"{server}/oidc/login", timeout=30).status_code == 404
    assert requests.get(f"{server}/oidc/callback?code=x&state=y", timeout=30).status_code == 404


def test_oidc_settings_are_read_and_checked() -> None:
    env = {
        "ZHUNRU_OIDC_ISSUER": "https://id.example.gov.cn/realms/county",
        "ZHUNRU_OIDC_CLIENT_ID": "zhunru",
        "ZHUNRU_OIDC_CLIENT_SECRET": "s3cret",
    }
    settings = Settings.from_env(env)
    assert settings.oidc_issuer == env["ZHUNRU_OIDC_ISSUER"]
    assert settings.oidc_username_claim == "sub"
    assert settings.oidc_label == "统一身份认证登录"
    custom = Settings.from_env(
        {**env, "ZHUNRU_OIDC_USERNAME_CLAIM": "uid", "ZHUNRU_OIDC_LABEL": "政务服务网登录"}
    )
    assert (custom.oidc_username_claim, custom.oidc_label) == ("uid", "政务服务网登录")
    assert Settings.from_env({}).oidc_issuer == ""  # off

    for change, variable in (
        ({"ZHUNRU_OIDC_CLIENT_ID": ""}, "ZHUNRU_OIDC_CLIENT_ID"),
        ({"ZHUNRU_OIDC_CLIENT_SECRET": ""}, "ZHUNRU_OIDC_CLIENT_SECRET"),
        ({"ZHUNRU_OIDC_ISSUER": "ldap://id.example.gov.cn"}, "ZHUNRU_OIDC_ISSUER"),
        ({"ZHUNRU_OIDC_ISSUER": "id.example.gov.cn"}, "ZHUNRU_OIDC_ISSUER"),
    ):
        with pytest.raises(SettingsError, match=variable):
            Settings.from_env({**env, **change})


def test_an_answer_the_provider_will_not_redeem_signs_nobody_in(
    database_url: str, clock: ManualClock
) -> None:
    """The token endpoint refuses the console (here: a wrong client secret): 401, in Chinese."""
    with console_with_provider(
        database_url, clock, oidc_client_secret="not-the-secret-the-provider-knows"
    ) as (url, _):
        http = requests.Session()
        refused = _through_provider(http, url, "nongye")
        assert refused.status_code == 401
        assert _error(refused) == "统一身份认证未能完成，请重试；如问题持续，请联系本单位管理员。"
        assert not _signed_in(http, url)
