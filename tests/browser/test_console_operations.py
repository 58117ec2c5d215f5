"""运行维护 in a real browser: the administrator sees an incident and a stranded matter in
Chinese, releases the matter and closes the incident; nobody else has the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from engine.services.context import Context, build_context
from engine.workflow import specs
from tests.api.test_incidents_api import broken_condition, deploy
from tests.browser.conftest import screenshot
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application


def test_administrator_releases_a_stranded_matter_and_closes_an_incident(
    sign_in: Callable[[str], Page], api, console_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A matter confirmed after a restart under the old wiring: stranded.
    nongye = api("nongye")
    nongye.post(
        "/api/v1/processes/matter_admission/instances", json=application(townships=["xishan"])
    )
    for user, form in (("sifa", LAWFUL), ("bianban", PASS), ("xianwei", APPROVE)):
        client = api(user)
        [task] = client.get("/api/v1/tasks").json()
        assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=form).ok
    monkeypatch.setattr(specs, "_wire_loops", lambda spec: None)
    old = build_context(console_ctx.settings, clock=console_ctx.clock)
    from engine.workflow.services import tasks  # noqa: PLC0415
    from tests.integration.test_admission_services import actor  # noqa: PLC0415

    xishan = actor(old, "xishan")
    [confirm] = tasks.inbox(old, xishan)
    tasks.complete(old, confirm.id, CONFIRM, xishan)
    old.db.dispose()
    monkeypatch.undo()
    # And a county diagram that fails at the review.
    admin = api("admin")
    deploy(admin, broken_condition())
    nongye.post("/api/v1/processes/matter_admission/instances", json=application(name="防汛值守"))
    sifa = api("sifa")
    [task] = sifa.get("/api/v1/tasks").json()
    assert sifa.post(f"/api/v1/tasks/{task['id']}/complete", json=LAWFUL).ok
    bianban = api("bianban")
    [task] = bianban.get("/api/v1/tasks").json()
    failed = bianban.post(f"/api/v1/tasks/{task['id']}/complete", json=PASS)
    assert failed.status_code == 409

    page = sign_in("admin")
    expect(page.get_by_role("heading", name="运行维护", level=1)).to_be_visible()
    incident_row = page.locator("tr[data-incident-id]")
    expect(incident_row).to_contain_text("防汛值守")
    expect(incident_row).to_contain_text("办理时出错")
    stranded_row = page.locator("tr[data-instance-id]")
    expect(stranded_row).to_contain_text("并行办理的环节已办完")
    screenshot(page, "40-operations")
    page.set_viewport_size({"width": 390, "height": 844})  # a township clerk's phone
    screenshot(page, "41-operations-phone")
    page.set_viewport_size({"width": 1440, "height": 900})

    stranded_row.get_by_role("button", name="恢复流转").click()
    expect(page.locator(".flash-success")).to_contain_text("已恢复流转")
    expect(page.get_by_text("暂无滞留事项。")).to_be_visible()
    page.locator("tr[data-incident-id]").get_by_role("button", name="处理完毕").click()
    expect(page.get_by_text("暂无未处理的故障。")).to_be_visible()

    township = sign_in("xishan")
    expect(township.get_by_role("link", name="运行维护")).to_have_count(0)
    township.goto(page.url)
    expect(township.locator("h1")).not_to_have_text("运行维护")
