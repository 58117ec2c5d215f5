"""会议 in the console (issue 16), in Debian's chromium: 县农业农村局 files a meeting that needs
two townships; 县委县政府 approves it in person; 城关镇 finds it on its calendar and asks to
attend by video; the organiser agrees; the calendar says so — and the page works on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from tests.api.test_meetings_api import next_month_day
from tests.browser.conftest import screenshot
from tests.browser.walk import open_task, submit_task

NAME = "全县秋冬季森林防火工作部署会"


def test_a_meeting_goes_on_the_calendars_and_a_township_attends_by_video(
    sign_in: Callable[[str], Page], browser: Browser, console: str
) -> None:
    day = next_month_day(None, 12)
    nongye = sign_in("nongye")
    nongye.get_by_role("link", name="发起办理").click()
    # A department is offered the application once, beside the other gates.
    expect(nongye.get_by_role("link", name="事项准入申请")).to_have_count(1)
    nongye.get_by_role("link", name=re.compile("会议报备")).click()
    nongye.get_by_label("会议名称").fill(NAME)
    nongye.get_by_label("会议日期").fill(day.isoformat())
    nongye.get_by_label("开始时间").fill("09:30")
    nongye.get_by_label("会议时长（小时）").fill("1.5")
    nongye.get_by_label("会议地点").fill("县政府三楼会议室")
    nongye.get_by_label("城关镇").check()
    nongye.get_by_label("东河乡").check()
    nongye.get_by_label("参会人员要求").fill("分管副镇长1名")
    nongye.get_by_label("须乡镇参加的理由").fill("部署防火责任，须当面领任务")
    nongye.get_by_role("button", name=re.compile("提交")).click()
    expect(nongye.locator(".flash-success")).to_contain_text("审核会议")
    expect(nongye.locator("h1")).to_contain_text(f"会议：{NAME}")

    xianwei = sign_in("xianwei")
    open_task(xianwei, "审核会议", title=NAME)
    xianwei.get_by_label("同意，现场召开").check()
    submit_task(xianwei, "审核会议")
    expect(xianwei.locator("h1")).to_contain_text("已同意召开")

    chengguan = sign_in("chengguan")
    chengguan.get_by_role("link", name="会议日历").click()
    chengguan.get_by_label("自").fill((day - timedelta(days=1)).isoformat())
    chengguan.get_by_role("button", name="查看").click()
    item = chengguan.locator(".meeting-list > li", has_text=NAME)
    expect(item).to_contain_text("09:30")
    expect(item).to_contain_text("现场参会")
    expect(item).to_contain_text("分管副镇长1名")
    expect(chengguan.get_by_role("heading", level=2).first).to_contain_text(
        f"{day.year}年{day.month}月{day.day}日"
    )
    item.get_by_label("申请视频参会的理由").fill("当天镇里有防汛值守，分管领导不能离岗")
    item.get_by_role("button", name="申请视频参会").click()
    expect(chengguan.locator(".flash-success")).to_contain_text("已申请视频参会")

    nongye.get_by_role("link", name="会议日历").click()
    nongye.get_by_label("自").fill((day - timedelta(days=1)).isoformat())
    nongye.get_by_role("button", name="查看").click()
    asked = nongye.locator(".meeting-list > li", has_text="防汛值守")
    asked.get_by_role("button", name="同意城关镇视频参会").click()
    expect(nongye.locator(".flash-success")).to_contain_text("已同意视频参会")

    chengguan.reload()
    expect(chengguan.locator(".meeting-list > li", has_text=NAME)).to_contain_text("视频参会")
    expect(chengguan.locator(".meeting-list > li", has_text=NAME)).to_contain_text("已同意")
    chengguan.set_viewport_size({"width": 390, "height": 844})
    chengguan.reload()
    width = chengguan.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(chengguan, "97-meeting-calendar-phone")
