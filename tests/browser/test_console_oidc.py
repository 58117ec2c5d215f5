"""Signing in to the console through the county's identity provider, in a real browser: the
button on the sign-in page, the provider's own form (tests/oidc/provider.mjs), and back."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from config import Settings
from tests.browser.conftest import VIEWPORT, screenshot
from tests.oidc_provider import Provider, console_with_provider


@pytest.fixture
def console_oidc(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, Provider]]:
    """The demo county on SQLite, its console signing in through a provider of its own."""
    path = tmp_path / "zhunru.db"
    shutil.copy(sqlite_template, path)
    with console_with_provider(f"sqlite:///{path}") as served:
        yield served


def test_the_button_signs_a_person_in_through_the_provider(
    browser: Browser, console_oidc: tuple[str, Provider]
) -> None:
    url, provider = console_oidc
    context = browser.new_context(base_url=url, viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(15_000)
    refused: list[str] = []
    try:
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or "Refused to" in message.text:
                refused.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.goto("/login?next=/register")
        screenshot(page, "oidc-login")
        page.get_by_role("link", name=Settings().oidc_label).click()

        # The provider's own pages: any login, any password; then consent.
        page.wait_for_url(f"{provider.issuer}/**")
        page.locator("input[name=login]").fill("chengguan_zhou")
        page.locator("input[name=password]").fill("anything")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()

        page.wait_for_url(f"{url}/register")
        expect(page.get_by_role("button", name="退出登录")).to_be_visible()
        expect(page.locator("body")).to_contain_text("周丽")
        expect(page.locator("h1")).to_contain_text("台账")
        page.goto("/inbox")
        expect(page).to_have_url(f"{url}/inbox")
        screenshot(page, "oidc-signed-in")
        assert refused == []
    finally:
        context.close()
