"""Words a county uses: the pages people read name people and organisations, never a sign-in
name, an organisation code or a diagram's element id (issue 14)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from engine.demo import DEMO_ORGS, DEMO_PEOPLE
from tests.browser.walk import admitted_via_api

USERNAMES = sorted({row[0] for row in (*DEMO_ORGS, *DEMO_PEOPLE)})
SIGN_IN_NAME = re.compile(r"(?<![A-Za-z_])(" + "|".join(USERNAMES) + r")(?![A-Za-z_])")
ELEMENT_ID = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # confirm_entry, end_rejected_review …


def words_on(page: Page) -> str:
    return page.locator("body").inner_text()


def assert_county_words(page: Page, where: str) -> None:
    text = words_on(page)
    assert "系统出错了" not in text, f"{where}: the page failed"
    assert not SIGN_IN_NAME.search(text), f"{where}: {SIGN_IN_NAME.search(text)}"
    assert not ELEMENT_ID.search(text), f"{where}: {ELEMENT_ID.search(text)}"


def test_matter_pages_trail_and_header_name_people_not_accounts(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    matter = admitted_via_api(api)
    for username in ("nongye", "bianban", "donghe", "jiwei"):
        page = sign_in(username)
        assert_county_words(page, f"{username} home")
        page.goto(f"/matters/{matter}")
        expect(page.locator(".timeline")).to_contain_text("县司法局经办人")
        assert_county_words(page, f"{username} matter page")
        page.goto("/notifications")
        if username in ("nongye", "donghe"):  # told the matter came in, and was entered
            expect(page.locator(".notice-unread").first).to_contain_text("未读")
        assert_county_words(page, f"{username} notifications")
    page = sign_in("jiwei")
    page.goto(f"/audit/trail?instance_id={matter}")
    expect(page.locator("table.data")).to_contain_text("东河乡经办人")
    assert_county_words(page, "audit search")
    header = sign_in("zhangming").locator("header")
    expect(header).to_contain_text("城关镇 · 张明（城关镇副镇长）")
