"""报表 in the console (issue 16), in Debian's chromium: 县民政局's form is in the catalogue;
县农业农村局 asks for nearly the same numbers and 县委编办 sees which fields repeat it beside
the review and merges the request into it; 城关镇 fills the shared form once and both
departments read the same filling — and the pages work on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.api.test_report_forms_api import approved
from tests.browser.conftest import screenshot
from tests.browser.walk import open_task, submit_task

NAME = "脱贫人口和低保对象监测表"


def test_a_repeated_form_is_merged_and_filled_once(
    sign_in: Callable[[str], Page], api: Callable[[str], Any]
) -> None:
    form = approved(api)
    nongye = sign_in("nongye")
    nongye.get_by_role("link", name="发起办理").click()
    nongye.get_by_role("link", name=re.compile("报表准入")).click()
    nongye.get_by_label("报表名称").fill(NAME)
    nongye.get_by_label("用途").fill("防返贫动态监测")
    nongye.get_by_label("填报字段").fill("农村低保户数\n防返贫监测户数")
    nongye.get_by_label("每季度").check()
    nongye.get_by_label("城关镇").check()
    nongye.get_by_label("依据").fill("防止返贫动态监测和帮扶机制")
    nongye.get_by_role("button", name=re.compile("提交")).click()
    expect(nongye.locator(".flash-success")).to_contain_text("审核报表")

    bianban = sign_in("bianban")
    open_task(bianban, "审核报表", title=NAME)
    expect(bianban.locator(".precheck")).to_contain_text(f"报表编号 {form['id']}")
    expect(bianban.locator(".precheck")).to_contain_text("农村低保户数")
    bianban.get_by_label("并入已有报表共享").check()
    bianban.get_by_label("并入的报表编号").fill(str(form["id"]))
    submit_task(bianban, "审核报表")
    expect(bianban.locator("h1")).to_contain_text("已并入")

    chengguan = sign_in("chengguan")
    chengguan.get_by_role("link", name="报表目录").click()
    chengguan.get_by_role("link", name="农村低保和特困人员情况统计表").click()
    for attempt in range(2):  # the same period twice: the second is refused
        chengguan.get_by_label("期次").select_option(index=0)  # the current quarter
        for label, value in (
            ("农村低保户数", "126"),
            ("农村低保人数", "231"),
            ("特困供养人员数", "18"),
            ("防返贫监测户数", "9"),
        ):
            chengguan.get_by_label(label, exact=True).fill(value)
        chengguan.get_by_role("button", name="提交填报").click()
        if attempt == 0:
            expect(chengguan.locator(".flash-success")).to_contain_text("季度")
    expect(chengguan.locator('[data-field="period"] .field-error')).to_contain_text("每期只填一次")

    nongye.get_by_role("link", name="报表目录").click()
    nongye.get_by_role("link", name="农村低保和特困人员情况统计表").click()
    row = nongye.locator("tbody tr", has_text="城关镇")
    expect(row).to_contain_text("126")
    expect(row).to_contain_text("9")
    chengguan.set_viewport_size({"width": 390, "height": 844})
    chengguan.get_by_role("link", name="报表目录").click()
    width = chengguan.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(chengguan, "101-report-forms-phone")
