"""Browser fixtures: the app over real HTTP on SQLite, Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from api import create_app
from engine.services.context import Context, build_context
from engine.workflow.clock import ManualClock
from tests.conftest import DEMO_PASSWORD, ApiClient, make_settings, serve

CHROMIUM = os.environ.get("ZHUNRU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
VIEWPORT = {"width": 1366, "height": 900}  # a laptop screen

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    # A missing browser is a failure, never a skip: CI must not pass without these tests.
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"chromium not found at {CHROMIUM}: run `bash scripts/system-deps.sh browser`",
            pytrace=False,
        )
    browser = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def console_ctx(sqlite_template: Path, tmp_path: Path) -> Iterator[Context]:
    """The demo county on SQLite only: the browser tests keep CI time bounded."""
    path = tmp_path / "zhunru.db"
    shutil.copy(sqlite_template, path)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    context = build_context(make_settings(f"sqlite:///{path}"), clock=clock)
    yield context
    context.db.dispose()


@pytest.fixture
def console(console_ctx: Context) -> Iterator[str]:
    """The whole app (API and console) served over real HTTP on 127.0.0.1."""
    with serve(create_app(context=console_ctx)) as url:
        yield url


@pytest.fixture
def api(console: str) -> Callable[[str], ApiClient]:
    """Set-up through the REST API, for tests about something else than filing a matter."""
    return lambda username: ApiClient(console, username)


@pytest.fixture
def sign_in(browser: Browser, console: str) -> Iterator[Callable[[str], Page]]:
    """A fresh browser context (own cookies) per user, signed in through the login form."""
    contexts = []

    def _sign_in(username: str) -> Page:
        context = browser.new_context(base_url=console, viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出登录")).to_be_visible()
        return page

    yield _sign_in
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page picture under test-artifacts/console/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
