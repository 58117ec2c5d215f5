"""费随事转 in the console (issue 14): a township that confirmed entry without the resources
sees what it is owed and by when, records what arrived (a bad entry is refused and nothing is
kept); the department records what it sent, and only the township's receipt closes the
shortfall; on a phone as on a desk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_console_decline import approved
from tests.browser.walk import TITLE
from tests.factories import CONFIRM

SHORT = {"confirmed": True, "resources_received": False, "comment": "经费尚未拨付，人员未到岗"}


def confirm(api: Any, username: str, matter: int, form: dict) -> None:
    client = api(username)
    task = next(t for t in client.get("/api/v1/tasks").json() if t["instance_id"] == matter)
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=form).status_code == 200


def test_a_township_records_the_resources_that_arrive(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    matter = approved(api, ["chengguan", "donghe"])
    confirm(api, "chengguan", matter, CONFIRM)
    confirm(api, "donghe", matter, SHORT)

    donghe = sign_in("donghe")
    donghe.set_viewport_size({"width": 390, "height": 844})
    donghe.goto(f"/matters/{matter}")
    shares = donghe.locator("section.resources")
    expect(shares).to_contain_text("经费 30,000 元，人员 1 名")
    expect(shares).to_contain_text("经费30000元、人员1名、下放的权限")
    expect(shares).to_contain_text("前（含当日）")
    expect(shares).not_to_contain_text("城关镇")  # a township reads its own share
    assert donghe.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(donghe, "70-township-owed-resources-phone")

    donghe.get_by_label("到位经费（元）").fill("10000")
    donghe.get_by_role("button", name="登记到位情况").click()  # no date
    expect(donghe.locator(".error-summary")).to_contain_text("未能登记")
    expect(donghe.locator("#received_on-error")).to_be_visible()
    expect(donghe.get_by_label("到位经费（元）")).to_have_value("10000")  # what was typed stays
    expect(shares).to_contain_text("经费 0 元，人员 0 名")  # nothing was kept

    donghe.get_by_label("到位日期").fill(today(donghe))
    donghe.get_by_label("说明").fill("第一批经费")
    donghe.get_by_role("button", name="登记到位情况").click()
    expect(donghe.locator(".flash")).to_contain_text("已登记")
    expect(shares).to_contain_text("经费20000元、人员1名、下放的权限")
    expect(donghe.locator(".timeline")).to_contain_text("登记资源到位")

    nongye = sign_in("nongye")
    nongye.goto(f"/matters/{matter}")
    table = nongye.locator("section.resources")
    expect(table).to_contain_text("城关镇")
    expect(table).to_contain_text("无（已全部到位）")
    # The department records what it sent; it counts once the township confirms receipt.
    nongye.get_by_label("拨付到的乡镇（街道）").select_option(label="东河乡")
    nongye.get_by_label("拨付日期").fill(today(nongye))
    nongye.get_by_label("拨付经费（元）").fill("20000")
    nongye.get_by_label("派出人员（名）").fill("1")
    nongye.get_by_role("button", name="登记拨付情况").click()
    expect(nongye.locator(".flash")).to_contain_text("已登记")
    expect(table).to_contain_text("申请单位登记已拨付：经费 20,000 元，人员 1 名")
    expect(table).to_contain_text("经费20000元、人员1名、下放的权限")  # still owed
    screenshot(nongye, "71-department-records-what-it-sent")
    nongye.goto("/notifications")
    expect(nongye.locator(".notices")).to_contain_text("尚缺经费20000元")

    donghe.goto("/notifications")
    expect(donghe.locator(".notices")).to_contain_text("县农业农村局登记：已于")
    donghe.goto(f"/matters/{matter}")
    donghe.get_by_label("到位日期").fill(today(donghe))
    donghe.get_by_label("到位经费（元）").fill("20000")
    donghe.get_by_label("到位人员（名）").fill("1")
    donghe.get_by_label("下放的权限已到位").check()
    donghe.get_by_role("button", name="登记到位情况").click()
    expect(shares).to_contain_text("无（已全部到位）")
    expect(donghe.get_by_role("button", name="登记到位情况")).to_have_count(0)  # nothing owed

    nongye.goto("/register")
    expect(nongye.locator("main")).to_contain_text("30,000 / 30,000")
    expect(nongye.locator("main")).to_contain_text(TITLE)


def today(page: Page) -> str:
    """The county's today, as the date input takes it."""
    return page.evaluate(
        "new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Shanghai'}).format(new Date())"
    )
