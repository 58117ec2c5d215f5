"""Steps a person takes in the console, shared by the browser tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.conftest import ApiClient
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application

TITLE = "高标准农田建设项目日常巡查"


def fill_application(page: Page, title: str = TITLE) -> None:
    page.get_by_label("事项名称").fill(title)
    page.get_by_label("事项内容").fill("每月对辖区内高标准农田建设项目开展一次巡查并报送台账")
    page.get_by_label("设立依据").fill("《农田建设项目管理办法》（农业农村部令2019年第4号）")
    page.get_by_label("理由", exact=True).fill("项目点多面广，需乡镇协助日常巡查")
    page.get_by_label("短期（临时性）").check()
    page.get_by_label("开始日期").fill("2026-12-01")
    page.get_by_label("结束日期").fill("2027-06-30")
    page.get_by_label("城关镇").check()
    page.get_by_label("东河乡").check()
    page.get_by_label("经费合计（元）").fill("60000")
    page.get_by_label("人员合计（名）").fill("2")
    page.get_by_label("下放的权限").fill("项目现场巡查、问题督促整改")
    page.get_by_label("考核方式").fill("按季度报送巡查台账，不单独考核乡镇")


def open_task(page: Page, step: str, title: str = TITLE, claim: bool = False) -> None:
    """From my inbox, open (or claim and open) this matter's task."""
    page.get_by_role("link", name="我的待办").click()
    row = page.locator("tr", has_text=title).filter(has_text=step)
    expect(row).to_have_count(1)
    if claim:
        row.get_by_role("button", name="认领").click()
        expect(page.locator(".flash-success")).to_contain_text("已认领")
    else:
        row.get_by_role("link", name=re.compile("^办理")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(step)


def submit_task(page: Page, step: str) -> None:
    page.get_by_role("button", name="提交办理结果").click()
    expect(page.locator(".flash-success")).to_contain_text(f"“{step}”已办理完成")


def current_steps(page: Page) -> list[str]:
    return page.locator(".bpmn-diagram [data-element-id].bpmn-current").evaluate_all(
        "nodes => nodes.map(n => n.dataset.elementId)"
    )


def error_of(page: Page, field: str) -> Locator:
    """The inline error shown beside one field (dotted name, as the form posts it)."""
    return page.locator(f'[data-field="{field}"] .field-error').first


def confirm_entry(page: Page, title: str = TITLE) -> None:
    open_task(page, "确认进入", title)
    page.locator('fieldset[data-field="confirmed"]').get_by_label("确认进入", exact=True).check()
    page.locator('fieldset[data-field="resources_received"]').get_by_label("是").check()
    submit_task(page, "确认进入")


def admitted_via_api(api: Any, **overrides: Any) -> int:
    """A matter taken to in force through the REST API, for tests about what comes after."""
    users: dict[str, ApiClient] = {}

    def as_user(name: str) -> ApiClient:
        return users.setdefault(name, api(name))

    started = as_user("nongye").post(
        "/api/v1/processes/matter_admission/instances", json=application(**overrides)
    )
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    steps = [("sifa", LAWFUL), ("bianban", PASS), ("xianwei", APPROVE)]
    steps += [(t, CONFIRM) for t in overrides.get("townships", application()["townships"])]
    for username, form in steps:
        client = as_user(username)
        inbox = client.get("/api/v1/tasks").json()
        task = next(t for t in inbox if t["instance_id"] == instance_id)
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
        assert done.status_code == 200, done.text
    return instance_id
