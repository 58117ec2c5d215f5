"""The console's forms go through the same text fields: a control character is shown beside
its field and nothing is stored; a text area's CRLF is stored as LF (issue 12)."""

from __future__ import annotations

import re

import requests

from tests.conftest import DEMO_PASSWORD
from tests.factories import application


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _signed_in(server: str, username: str) -> requests.Session:
    http = requests.Session()
    token = _csrf(http.get(f"{server}/login", timeout=10).text)
    response = http.post(
        f"{server}/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
        timeout=30,
    )
    assert response.status_code == 200 and "退出登录" in response.text, response.text
    return http


def _apply_form(**overrides: str) -> dict[str, str | list[str]]:
    values = application()
    form: dict[str, str | list[str]] = {
        key: str(values[key])
        for key in ("name", "content", "basis", "reason", "term_type", "start_date", "end_date")
    }
    form["townships"] = ["chengguan"]
    form["resources.funding_yuan"] = "60000"
    form["resources.staff"] = "2"
    form["resources.powers"] = "项目现场巡查"
    form.update(overrides)
    return form


def test_console_forms_refuse_control_characters_beside_the_field(server: str, login) -> None:
    http = _signed_in(server, "nongye")
    token = _csrf(http.get(f"{server}/matters/new", timeout=10).text)
    name = "巡查\x01台账"
    response = http.post(
        f"{server}/matters/new", data={**_apply_form(name=name), "csrf_token": token}, timeout=30
    )
    assert response.status_code == 422, response.text[:500]
    assert "不能包含控制字符（U+0001）" in response.text
    assert login("jiwei").get("/api/v1/instances").json()["total"] == 0


def test_a_text_areas_line_breaks_are_stored_as_line_feeds(server: str, login) -> None:
    http = _signed_in(server, "nongye")
    token = _csrf(http.get(f"{server}/matters/new", timeout=10).text)
    content = "每月巡查一次：\r\n\t一、核对台账\r\n二、报送"
    response = http.post(
        f"{server}/matters/new",
        data={**_apply_form(content=content), "csrf_token": token},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    matters = login("jiwei").get("/api/v1/instances").json()["items"]
    assert len(matters) == 1
    detail = login("jiwei").get(f"/api/v1/instances/{matters[0]['id']}").json()
    assert detail["data"]["application"]["content"] == "每月巡查一次：\n\t一、核对台账\n二、报送"


def test_console_filters_refuse_control_characters_instead_of_failing(server: str) -> None:
    # PostgreSQL cannot even compare text holding NUL: unchecked, these pages answered 500.
    http = _signed_in(server, "jiwei")
    for path in ("/matters", "/register", "/audit/trail"):
        assert http.get(f"{server}{path}", params={"township": ""}, timeout=30).status_code == 200
    for path, name in (
        ("/matters", "township"),
        ("/matters", "applicant"),
        ("/register", "township"),
        ("/audit/trail", "actor"),
        ("/audit/trail", "organization"),
    ):
        for bad, shown in (("a\x00", "空字符"), ("a\x01", "U+0001")):
            response = http.get(f"{server}{path}", params={name: bad}, timeout=30)
            assert response.status_code == 422, (path, name, response.status_code)
            assert shown in response.text, (path, name)


def test_signing_in_with_a_control_character_is_refused_not_an_error(server: str) -> None:
    # No account can be named so (usernames follow the text rule); PostgreSQL cannot even
    # look such a name up, which answered 500 on the console's sign-in page.
    http = requests.Session()
    token = _csrf(http.get(f"{server}/login", timeout=10).text)
    for username, password in (("nongye\x00", DEMO_PASSWORD), ("nongye\x01", DEMO_PASSWORD)):
        response = http.post(
            f"{server}/login",
            data={"username": username, "password": password, "csrf_token": token},
            timeout=30,
        )
        assert response.status_code == 401, response.text[:300]
        assert "用户名或密码错误" in response.text
