"""基层吹哨、部门报到 in the console (issue 16), in Debian's chromium: 城关镇 raises a need and
suggests a department; 县委社会工作部 grades it and routes it to 县农业农村局 with 县民政局
supporting and a limit in working days; the lead department answers; 城关镇 rates the answer
— every department named by its name, never a code — and the pages work on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.walk import open_task, submit_task

NAME = "柳河村桥梁护栏损毁"


def test_a_township_blows_the_whistle_and_a_department_reports(
    sign_in: Callable[[str], Page],
) -> None:
    chengguan = sign_in("chengguan")
    chengguan.get_by_role("link", name="发起办理").click()
    chengguan.get_by_role("link", name=re.compile("基层吹哨")).click()
    chengguan.get_by_label("需求事项").fill(NAME)
    chengguan.get_by_label("具体情况").fill("护栏被货车撞毁约20米，村民通行有坠河风险")
    chengguan.get_by_label("地点").fill("城关镇柳河村村口桥")
    chengguan.get_by_label("类别").select_option(label="安全隐患")
    chengguan.get_by_label("建议办理部门").select_option(label="县农业农村局")
    chengguan.get_by_label("紧急", exact=True).check()
    chengguan.get_by_role("button", name=re.compile("提交")).click()
    expect(chengguan.locator(".flash-success")).to_contain_text("分级派单")
    expect(chengguan.locator("main")).to_contain_text("县农业农村局")  # the hint, by name
    # The township raised it: it is not an applicant of anything.
    facts = chengguan.locator("dl.facts.inline")
    expect(facts).to_contain_text("发起单位城关镇")
    expect(facts).not_to_contain_text("申请单位")

    shegong = sign_in("shegong")
    open_task(shegong, "分级派单", title=NAME)
    shegong.get_by_label("县级部门办理").check()
    shegong.get_by_label("牵头部门").select_option(label="县农业农村局")
    shegong.locator('[data-field="supporting"]').get_by_label("县民政局").check()
    shegong.get_by_label("办理时限（工作日）").fill("5")
    submit_task(shegong, "分级派单")

    nongye = sign_in("nongye")
    open_task(nongye, "报到办理", title=NAME)
    expect(nongye.locator("main")).to_contain_text("县民政局")  # the grading, by names
    nongye.get_by_label("已解决").check()
    nongye.get_by_label("办理情况").fill("已安排公路养护站修复护栏")
    submit_task(nongye, "报到办理")

    open_task(chengguan, "评价办理结果", title=NAME)
    expect(chengguan.locator("main")).to_contain_text("已安排公路养护站修复护栏")
    chengguan.get_by_label("满意", exact=True).check()
    submit_task(chengguan, "评价办理结果")
    expect(chengguan.locator("h1")).to_contain_text("已解决办结")
    expect(chengguan.locator("main")).not_to_contain_text("nongye")
    chengguan.set_viewport_size({"width": 390, "height": 844})
    chengguan.reload()
    width = chengguan.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(chengguan, "99-township-need-phone")
