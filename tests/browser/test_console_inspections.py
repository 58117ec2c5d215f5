"""督查检查考核 in the console (issue 16), in Debian's chromium: 县农业农村局 files next
year's inspection of two townships with its planned months; 县委县政府督查室 approves it with
fewer visits; 城关镇 sees it in its plan; the department announces a visit, which 城关镇 sees
coming — and the page works on a phone. A filing on a matter already admitted is refused on
the form, naming the matter."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.api.test_inspections_api import next_year
from tests.browser.conftest import screenshot
from tests.browser.walk import admitted_via_api, open_task, submit_task

NAME = "安全生产大检查"


def fill_inspection(page: Page, name: str, townships: tuple[str, ...]) -> None:
    page.get_by_role("link", name="发起办理").click()
    page.get_by_role("link", name=re.compile("督查检查考核报备")).click()
    page.get_by_label("年度").fill(str(next_year()))
    page.get_by_label("检查", exact=True).check()
    page.get_by_label(re.compile(r"^名称")).fill(name)
    page.get_by_label("检查内容").fill("检查乡镇安全生产责任落实、隐患排查整改情况")
    page.get_by_label("依据").fill("《中华人民共和国安全生产法》第九条")
    for township in townships:
        page.get_by_label(township).check()
    page.get_by_label("每个乡镇每年次数").fill("3")
    page.get_by_label("3月", exact=True).check()
    page.get_by_label("9月", exact=True).check()
    page.get_by_label("实地检查").check()
    page.get_by_role("button", name=re.compile("提交")).click()


def test_an_inspection_is_planned_limited_and_a_visit_announced(
    sign_in: Callable[[str], Page], api
) -> None:
    nongye = sign_in("nongye")
    fill_inspection(nongye, NAME, ("城关镇", "东河乡"))
    expect(nongye.locator(".flash-success")).to_contain_text("审核督查检查考核")
    expect(nongye.locator("h1")).to_contain_text(f"督查检查考核：{NAME}")

    xianwei = sign_in("xianwei")
    open_task(xianwei, "审核督查检查考核", title=NAME)
    # Beside the decision, what the townships already carry this year.
    weighed = xianwei.locator(".burden")
    expect(weighed).to_contain_text("东河乡")
    expect(weighed).to_contain_text("本年检查次数")
    xianwei.get_by_label("同意，压减次数").check()
    xianwei.get_by_label("同意的每个乡镇每年次数").fill("2")
    submit_task(xianwei, "审核督查检查考核")
    expect(xianwei.locator("h1")).to_contain_text("已列入年度检查计划")

    chengguan = sign_in("chengguan")
    chengguan.get_by_role("link", name="督查检查").click()
    chengguan.get_by_label("年度").select_option(str(next_year()))
    chengguan.get_by_role("button", name="查看").click()
    item = chengguan.locator(".meeting-list > li", has_text=NAME)
    expect(item).to_contain_text("每年不超过 2 次")
    expect(item).to_contain_text("计划3月、9月")
    expect(chengguan.locator(".inspection-group h2")).to_have_text(["县农业农村局"])

    nongye.get_by_role("link", name="督查检查").click()
    nongye.get_by_label("年度").select_option(str(next_year()))
    nongye.get_by_role("button", name="查看").click()
    mine = nongye.locator(".meeting-list > li", has_text="城关镇")
    # A day outside the planned months is refused in the row, what was typed kept.
    mine.get_by_label("检查日期").fill(f"{next_year()}-04-12")
    mine.get_by_label("说明（可不填）").fill("查阅隐患排查台账")
    mine.get_by_role("button", name="通知城关镇").click()
    expect(mine.get_by_role("alert")).to_contain_text("应在计划的月份内")
    expect(mine.get_by_label("说明（可不填）")).to_have_value("查阅隐患排查台账")
    expect(mine.get_by_label("检查日期")).to_have_value(f"{next_year()}-04-12")
    mine.get_by_label("检查日期").fill(f"{next_year()}-03-12")
    mine.get_by_role("button", name="通知城关镇").click()
    expect(nongye.locator(".flash-success")).to_contain_text(f"{next_year()}年3月12日")

    chengguan.reload()
    item = chengguan.locator(".meeting-list > li", has_text=NAME)
    expect(item).to_contain_text(f"已通知的检查：{next_year()}年3月12日（查阅隐患排查台账）")
    expect(item).to_contain_text("尚可安排 1 次")
    chengguan.set_viewport_size({"width": 390, "height": 844})
    chengguan.reload()
    width = chengguan.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(chengguan, "98-inspection-plan-phone")


def test_an_inspection_of_an_admitted_matter_is_refused_on_the_form(
    sign_in: Callable[[str], Page], api
) -> None:
    admitted_via_api(api, name="农村人居环境整治日常巡查", townships=["chengguan"])
    nongye = sign_in("nongye")
    fill_inspection(nongye, "农村人居环境整治日常巡查考核", ("城关镇",))
    error = nongye.locator('[data-field="name"] .field-error')
    expect(error).to_contain_text("已准入城关镇")
    expect(error).to_contain_text("不得就该事项对乡镇另行检查")
