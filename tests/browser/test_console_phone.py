"""Where township staff work: a 390 px phone. Lists become one card per row and nothing runs
off the page; the offices that judge an application see the target townships' burden beside
the decision (issue 14). Screenshots at 1440 px and 390 px."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWPORT, screenshot
from tests.browser.walk import admitted_via_api, open_task
from tests.factories import LAWFUL, application

PHONE = {"width": 390, "height": 844}


def fits_the_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_gatekeeper_sees_each_townships_burden_beside_the_decision(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    admitted_via_api(api, townships=["chengguan"])
    filed = api("jiaoyu").post(
        "/api/v1/processes/matter_admission/instances",
        json=application(name="校园周边安全巡查", townships=["chengguan", "nanhu"]),
    )
    assert filed.status_code == 201, filed.text
    sifa = api("sifa")
    task = next(
        t for t in sifa.get("/api/v1/tasks").json() if t["instance_id"] == filed.json()["id"]
    )
    sifa.post(f"/api/v1/tasks/{task['id']}/complete", json=LAWFUL)

    page = sign_in("bianban")
    open_task(page, "审核", title="校园周边安全巡查", claim=True)
    burden = page.locator("section.burden")
    expect(burden).to_contain_text("涉及乡镇的现有负担")
    rows = burden.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("城关镇")
    expect(rows.nth(0).locator('[data-label="在册事项"]')).to_have_text("1")
    expect(rows.nth(1)).to_contain_text("南湖街道")
    expect(rows.nth(1).locator('[data-label="在册事项"]')).to_have_text("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
    screenshot(page, "60-review-with-township-burden")
    fits_the_phone(page)
    screenshot(page, "61-review-with-township-burden-phone")


def test_lists_become_cards_on_a_phone(sign_in: Callable[[str], Page], api: Any) -> None:
    admitted_via_api(api, townships=["chengguan", "donghe"])
    api("nongye").post("/api/v1/processes/matter_admission/instances", json=application())
    for username, path, shot in (
        ("sifa", "/inbox", "62-inbox"),
        ("bianban", "/matters", "63-matter-list"),
        ("chengguan", "/register", "64-register"),
        ("jiwei", "/audit/trail?action=task_completed", "65-trail-search"),
    ):
        page = sign_in(username)
        page.goto(path)
        table = page.locator("table.data.stack").first
        expect(table.locator("tbody tr").first).to_be_visible()
        screenshot(page, f"{shot}-1440")
        fits_the_phone(page)
        expect(table.locator("thead")).to_be_hidden()  # each cell says what it is instead
        first = table.locator("tbody td").first
        label = first.get_attribute("data-label")
        assert label, f"{path}: a cell without its label"
        screenshot(page, f"{shot}-390")
