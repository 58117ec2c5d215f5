"""Steps a person takes in the console on accountability cases (问责案件), for the browser tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from engine.accountability.forms_accountability import DISTINCTIONS
from tests import accountability_factories as af
from tests.browser.walk import open_task, submit_task

FT_TITLE = "容错纠错申请：张明"
FALSE_POINTS = af.FALSE_POINTS


def yesterday() -> str:
    """A date already past in the county whatever the machine's zone (the checks refuse
    future dates against the county's local today)."""
    return (date.today() - timedelta(days=1)).isoformat()


def choose(page: Page, field: str, label: str, exact: bool = True) -> None:
    """Tick one option (radio or checkbox) of the field named `field`."""
    page.locator(f'fieldset[data-field="{field}"]').get_by_label(label, exact=exact).check()


def open_my_case(page: Page) -> None:
    """From the navigation to the one case the signed-in person may read."""
    page.get_by_role("navigation").get_by_role("link", name="问责案件").click()
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()
    expect(page.locator(".breadcrumbs")).to_contain_text("问责案件")


def apply_for_fault_tolerance(page: Page) -> None:
    """On the person's case page: the written application, sent."""
    page.get_by_role("link", name="申请容错纠错").click()
    fill_tolerance_application(page)
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".flash-success")).to_contain_text("当前环节：受理")


def fill_tolerance_application(page: Page) -> None:
    application = af.ft_application()
    page.get_by_label("失误错误的基本事实").fill(application["facts"])
    page.get_by_label("申请容错的理由和依据").fill(application["grounds"])
    choose(page, "distinctions", DISTINCTIONS["inexperience"])
    choose(page, "distinctions", DISTINCTIONS["exploration"])
    choose(page, "circumstances", "推进改革中因缺乏经验、先行先试出现失误", exact=False)
    choose(page, "circumstances", "主动挽回损失、消除不良影响", exact=False)
    choose(page, "no_private_gain", "是")


def apply_for_clearance(page: Page) -> None:
    page.get_by_role("link", name="申请澄清正名").click()
    application = af.cl_application()
    page.get_by_label("基本情况").fill(application["basic_facts"])
    page.get_by_label("不实反映的内容").fill(application["false_report"])
    page.get_by_label("澄清请求").fill(application["clearance_requested"])
    choose(page, "preferred_method", "会议澄清")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".flash-success")).to_contain_text("当前环节：核查澄清条件")


def accept_and_verify(jiwei: Page, title: str = FT_TITLE) -> None:
    """受理 and 核实 by the discipline organ."""
    open_task(jiwei, "受理", title)
    choose(jiwei, "decision", "受理")
    submit_task(jiwei, "受理")
    open_task(jiwei, "核实", title)
    verification = af.ft_verification()
    jiwei.get_by_label("核实情况").fill(verification["findings"])
    jiwei.get_by_label("会同核实的部门").fill("\n".join(verification["departments_consulted"]))
    choose(jiwei, "suggestion", "减责")
    submit_task(jiwei, "核实")


def own_case_id(api: Any, username: str) -> int:
    cases = api(username).get("/api/v1/cases").json()
    assert cases["total"] == 1, cases
    return int(cases["items"][0]["id"])


def started_via_api(api: Any, username: str, process_id: str, form: dict[str, Any]) -> int:
    started = api(username).post(f"/api/v1/processes/{process_id}/instances", json=form)
    assert started.status_code == 201, started.text
    return int(started.json()["id"])


def step_done_via_api(api: Any, username: str, instance_id: int, form: dict[str, Any]) -> None:
    client = api(username)
    task = next(t for t in client.get("/api/v1/tasks").json() if t["instance_id"] == instance_id)
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
    assert done.status_code == 200, done.text
