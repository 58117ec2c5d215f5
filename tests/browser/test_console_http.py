"""The console's sign-in, session and CSRF rules, over plain HTTP (no browser needed)."""

from __future__ import annotations

import re

import requests

from tests.conftest import DEMO_PASSWORD


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _signed_in(console: str, username: str) -> requests.Session:
    http = requests.Session()
    token = _token(http.get(f"{console}/login", timeout=10).text)
    response = http.post(
        f"{console}/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
        timeout=10,
    )
    assert response.status_code == 200 and "退出登录" in response.text
    return http


def test_pages_ask_for_sign_in_and_wrong_passwords_are_told_in_chinese(console: str) -> None:
    http = requests.Session()
    response = http.get(f"{console}/inbox", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/inbox")

    token = _token(http.get(f"{console}/login", timeout=10).text)
    response = http.post(
        f"{console}/login",
        data={"username": "nongye", "password": "wrong-password", "csrf_token": token},
        timeout=10,
    )
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


def test_a_post_without_the_csrf_token_changes_nothing(console: str) -> None:
    http = _signed_in(console, "nongye")
    response = http.post(f"{console}/matters/new", data={"name": "无令牌提交"}, timeout=10)
    assert response.status_code == 400
    assert "页面已过期或来源不明" in response.text
    assert "无令牌提交" not in http.get(f"{console}/matters", timeout=10).text
    response = http.post(f"{console}/logout", timeout=10)
    assert response.status_code == 400
    assert "退出登录" in http.get(f"{console}/inbox", timeout=10).text  # still signed in


def test_sessions_end_at_logout_and_redirects_stay_on_the_site(console: str) -> None:
    http = requests.Session()
    token = _token(http.get(f"{console}/login", timeout=10).text)
    response = http.post(
        f"{console}/login?next=//evil.example/",
        data={"username": "sifa", "password": DEMO_PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    page = http.get(f"{console}/inbox", timeout=10).text
    response = http.post(f"{console}/logout", data={"csrf_token": _token(page)}, timeout=10)
    assert "您已安全退出" in response.text
    assert http.get(f"{console}/inbox", allow_redirects=False, timeout=10).status_code == 302


def test_the_api_keeps_its_json_errors_beside_the_console(console: str) -> None:
    response = requests.get(f"{console}/api/v1/no-such-thing", timeout=10)
    assert response.status_code == 404
    assert response.json()["code"] == 404
    response = requests.get(f"{console}/no-such-page", timeout=10)
    assert response.status_code == 404
    assert "页面或事项不存在" in response.text
    # Bearer-token API calls need no CSRF token.
    token = requests.post(
        f"{console}/api/v1/auth/token",
        json={"username": "nongye", "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert token.status_code == 200, token.text


def test_a_secondment_is_started_from_the_console_picking_the_township_by_name(
    console: str,
) -> None:
    """The secondment package's start page: its township field is a choice of the county's
    townships by name (never a code to type); a bad date is told beside its field."""
    http = _signed_in(console, "nongye")
    page = http.get(f"{console}/processes/secondment_admission/start", timeout=10)
    assert page.status_code == 200 and "借调申请" in page.text
    picker = re.search(r'<select[^>]*name="township".*?</select>', page.text, re.S)
    assert picker, "the township is picked from a list"
    assert ">西山镇<" in picker.group(0) and 'value="xishan"' in picker.group(0)
    form = {
        "csrf_token": _token(page.text),
        "person_name": "张三",
        "position": "西山镇农业服务中心科员",
        "township": "xishan",
        "reason": "高标准农田建设督导",
        "work": "参与全县高标准农田建设督导",
        "start_date": "2027-03-01",
        "end_date": "2027-02-01",
        "basis": "县农业农村局〔2027〕5号",
        "township_agreed": "true",
    }
    refused = http.post(f"{console}/processes/secondment_admission/start", data=form, timeout=10)
    assert refused.status_code == 422 and "结束日期须晚于开始日期" in refused.text
    form |= {"csrf_token": _token(refused.text), "end_date": "2027-06-30"}
    started = http.post(f"{console}/processes/secondment_admission/start", data=form, timeout=10)
    assert started.status_code == 200 and "借调：张三（西山镇农业服务中心科员）" in started.text
