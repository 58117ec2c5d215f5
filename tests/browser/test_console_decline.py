"""A township's voice at entry, in the console: it declines with a reason; 编办 decides that it
no longer carries the matter; the other township keeps it (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.walk import TITLE, error_of, open_task, submit_task
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application


def approved(api: Any, townships: list[str]) -> int:
    started = api("nongye").post(
        "/api/v1/processes/matter_admission/instances", json=application(townships=townships)
    )
    assert started.status_code == 201, started.text
    matter = started.json()["id"]
    for username, form in (("sifa", LAWFUL), ("bianban", PASS), ("xianwei", APPROVE)):
        client = api(username)
        task = next(t for t in client.get("/api/v1/tasks").json() if t["instance_id"] == matter)
        assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=form).status_code == 200
    return matter


def test_a_township_declines_and_the_gatekeeper_drops_it(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    matter = approved(api, ["chengguan", "donghe"])
    donghe = sign_in("donghe")
    open_task(donghe, "确认进入", TITLE)
    donghe.locator('fieldset[data-field="confirmed"]').get_by_label(
        "拒绝进入（须写明理由）"
    ).check()
    # Declining asks nothing about resources: that question is hidden.
    expect(donghe.locator('fieldset[data-field="resources_received"]')).to_be_hidden()
    donghe.get_by_role("button", name="提交办理结果").click()
    expect(error_of(donghe, "comment")).to_contain_text("拒绝进入须写明理由")
    expect(donghe.locator('fieldset[data-field="resources_received"]')).to_be_hidden()
    donghe.set_viewport_size({"width": 390, "height": 844})
    assert donghe.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(donghe, "66-township-declines-phone")
    donghe.get_by_label("意见或说明").fill("本乡无对应执法人员和经费，无法承担")
    submit_task(donghe, "确认进入")

    chengguan = api("chengguan")
    task = next(t for t in chengguan.get("/api/v1/tasks").json() if t["instance_id"] == matter)
    chengguan.post(f"/api/v1/tasks/{task['id']}/complete", json=CONFIRM)

    bianban = sign_in("bianban")
    open_task(bianban, "处理乡镇拒绝进入", TITLE, claim=True)
    expect(bianban.locator(".decisions")).to_contain_text("本乡无对应执法人员和经费")
    bianban.get_by_label("该乡镇不再承担").check()
    bianban.get_by_label("理由").fill("该乡镇确无相应职能")
    screenshot(bianban, "67-gatekeeper-decides-a-decline")
    submit_task(bianban, "处理乡镇拒绝进入")
    expect(bianban.locator("h1 .status")).to_have_text("已准入（在册）")

    donghe.goto("/notifications")
    expect(donghe.locator(".notices")).to_contain_text("不再由本乡镇承担")
    donghe.goto("/register")
    expect(donghe.locator("main")).not_to_contain_text(TITLE)
