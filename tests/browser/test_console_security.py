"""The console's content security policy leaves every page working in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.walk import admitted_via_api


def test_no_page_breaks_the_content_security_policy(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    matter = admitted_via_api(api)
    refused: list[str] = []

    def watch(page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or "Refused to" in message.text:
                refused.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        return page

    page = watch(sign_in("nongye"))
    for path in ("/", "/matters", "/matters/new", f"/matters/{matter}", "/register", "/dashboard"):
        page.goto(path)
        expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    # The diagram's own <style> (allowed by its hash) still colours the steps.
    done = page.locator('figure.diagram [data-element-id="start_apply"] .bpmn-node').first
    page.goto(f"/matters/{matter}")
    expect(done).to_have_css("fill", "rgb(227, 244, 232)")
    # The script from /console-static runs: after a refused form it focuses the list of errors.
    page.goto("/matters/new")
    page.get_by_label("事项名称").fill("检查脚本")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert refused == []
