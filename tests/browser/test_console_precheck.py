"""The applicant sees the pre-check before filing (issue 14): 预检 shows what the application
runs into — here, resources that do not follow the matter — keeps what was typed, and files
nothing; with the reason written, it may be filed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.walk import TITLE, fill_application


def filed(api: Any) -> int:
    return len(api("nongye").get("/api/v1/instances").json()["items"])


def test_the_applicant_prechecks_before_filing(sign_in: Callable[[str], Page], api: Any) -> None:
    before = filed(api)
    nongye = sign_in("nongye")
    nongye.goto("/matters/new")
    fill_application(nongye)
    for label in ("经费合计（元）", "人员合计（名）", "下放的权限"):
        nongye.get_by_label(label).fill("")
    nongye.get_by_role("button", name="预检（不提交）").click()
    check = nongye.locator("section.precheck")
    expect(check).to_contain_text("未随事下放")
    expect(check).to_contain_text("暂不能提交")
    expect(nongye.get_by_label("事项名称")).to_have_value(TITLE)  # what was typed stays
    nongye.set_viewport_size({"width": 390, "height": 844})
    assert nongye.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(nongye, "72-applicant-prechecks-phone")
    assert filed(api) == before  # nothing was filed

    nongye.get_by_label("未随事下放资源的说明").fill("由县局派员承担巡查，乡镇仅配合，不需下放经费")
    nongye.get_by_role("button", name="预检（不提交）").click()
    expect(check).to_contain_text("可以提交")
    assert filed(api) == before
    nongye.get_by_role("button", name="提交申请").click()
    expect(nongye.locator(".flash-success")).to_contain_text("申请已提交")
    assert filed(api) == before + 1
