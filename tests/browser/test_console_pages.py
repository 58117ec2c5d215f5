"""Console pages in a real browser: inline errors, who sees what, the live diagram, charts."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from engine.services.context import Context
from engine.workflow.clock import ManualClock
from engine.workflow.services.timers import fire_due
from tests.browser.conftest import screenshot
from tests.browser.walk import TITLE, admitted_via_api, error_of
from tests.factories import application


def test_a_refused_application_shows_each_error_beside_its_field_and_saves_nothing(
    sign_in: Callable[[str], Page],
) -> None:
    page = sign_in("minzheng")
    page.get_by_role("link", name="新建申请").click()
    page.get_by_label("事项名称").fill("困难群众走访")
    page.get_by_label("短期（临时性）").check()
    page.get_by_label("开始日期").fill("2026-12-01")
    page.get_by_label("结束日期").fill("2026-11-01")
    page.get_by_role("button", name="提交申请").click()

    expect(error_of(page, "content")).to_contain_text("此项为必填项")
    expect(error_of(page, "basis")).to_contain_text("此项为必填项")
    expect(error_of(page, "townships")).to_contain_text("此项为必填项")
    expect(page.get_by_label("事项名称")).to_have_value("困难群众走访")  # what was typed stays
    expect(page.get_by_label("事项内容")).to_have_attribute("aria-invalid", "true")
    page.locator("#error-summary").get_by_role("link", name=re.compile("事项内容")).click()
    expect(page.get_by_label("事项内容")).to_be_focused()
    screenshot(page, "02-apply-form-errors")

    # With every field filled, the rule across fields speaks: the term ends before it starts.
    page.get_by_label("事项内容").fill("每季度走访辖区困难群众")
    page.get_by_label("设立依据").fill("《社会救助暂行办法》")
    page.get_by_label("北岭乡").check()
    page.get_by_role("button", name="提交申请").click()
    expect(error_of(page, "end_date")).to_contain_text("结束日期须晚于开始日期")
    expect(page.locator('[data-field="content"] .field-error')).to_have_count(0)
    expect(page.get_by_label("北岭乡")).to_be_checked()

    page.get_by_role("navigation").get_by_role("link", name="事项查询").click()
    expect(page.locator("main")).to_contain_text("没有符合条件的事项")


def test_a_township_cannot_open_another_townships_matter(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    started = api("nongye").post(
        "/api/v1/processes/matter_admission/instances",
        json=application(townships=["chengguan"]),
    )
    assert started.status_code == 201, started.text
    matter = started.json()
    task_id = matter["open_tasks"][0]["id"]

    xishan = sign_in("xishan")
    response = xishan.goto(f"/matters/{matter['id']}")
    assert response is not None and response.status == 404
    expect(xishan.get_by_role("heading", level=1)).to_have_text("页面或事项不存在")
    expect(xishan.locator("main")).not_to_contain_text(TITLE)
    screenshot(xishan, "09-not-found-for-other-township")
    for path in ("diagram.svg", f"tasks/{task_id}"):
        response = xishan.goto(f"/matters/{matter['id']}/{path}")
        assert response is not None and response.status == 404
    xishan.get_by_role("navigation").get_by_role("link", name="事项查询").click()
    expect(xishan.locator("main")).to_contain_text("没有符合条件的事项")

    chengguan = sign_in("chengguan")
    response = chengguan.goto(f"/matters/{matter['id']}")
    assert response is not None and response.status == 200

    # An applicant's task page is not another department's to open.
    response = sign_in("jiaoyu").goto(f"/matters/{matter['id']}/tasks/{task_id}")
    assert response is not None and response.status == 404


def test_the_matter_page_draws_the_diagram_with_the_current_step_highlighted(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    matter = (
        api("jiaoyu")
        .post(
            "/api/v1/processes/matter_admission/instances",
            json=application(name="校园周边安全巡查", townships=["nanhu"]),
        )
        .json()
    )
    sifa = api("sifa")
    task = next(t for t in sifa.get("/api/v1/tasks").json() if t["instance_id"] == matter["id"])
    done = sifa.post(f"/api/v1/tasks/{task['id']}/complete", json={"opinion": "lawful"})
    assert done.status_code == 200, done.text

    page = sign_in("bianban")
    page.goto(f"/matters/{matter['id']}")
    svg = page.locator("figure.diagram svg.bpmn-diagram")
    expect(svg).to_be_visible()
    expect(svg).to_have_attribute("aria-label", re.compile("当前环节：审核"))
    current = svg.locator('[data-element-id="review"]')
    expect(current).to_have_class(re.compile(r"\bbpmn-current\b"))
    expect(current.locator(".bpmn-node")).to_have_css("stroke", "rgb(194, 65, 12)")
    for step in ("start_apply", "legal_review"):
        expect(svg.locator(f'[data-element-id="{step}"]')).to_have_class(re.compile("bpmn-done"))
    untouched = svg.locator('[data-element-id="approve"]')
    expect(untouched).not_to_have_class(re.compile("bpmn-(done|current)"))
    page.locator("figure.diagram").scroll_into_view_if_needed()  # down the page to it
    expect(current).to_be_in_viewport()  # scrolled to, in a diagram wider than the page
    # The deadline as a county reads it: the last day, inclusive, never a next-day "00:00".
    review = next(t for t in api("bianban").get("/api/v1/tasks").json() if t["bpmn_id"] == "review")
    day = date.fromisoformat(review["due_date"])
    expect(page.locator(".current-steps, main").first).to_contain_text(
        f"期限 {day.year}年{day.month}月{day.day}日前（含当日）"
    )
    screenshot(page, "10-matter-diagram")

    picture = page.request.get(f"/matters/{matter['id']}/diagram.svg")
    assert picture.status == 200
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert 'data-element-id="review"' in picture.text()


def test_the_dashboard_draws_charts_of_the_burden(sign_in: Callable[[str], Page], api: Any) -> None:
    admitted_via_api(api)
    admitted_via_api(api, name="农村人居环境整治督查", townships=["chengguan"])
    api("jiaoyu").post("/api/v1/processes/matter_admission/instances", json=application())
    page = sign_in("bianban")
    page.get_by_role("link", name="统计看板").click()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(6)
    expect(charts.nth(0)).to_have_attribute("aria-label", re.compile("城关镇：2"))
    expect(charts.nth(2)).to_have_attribute("aria-label", re.compile("各乡镇本年须参加的县级会议"))
    expect(charts.nth(3)).to_have_attribute("aria-label", re.compile("督查检查考核次数"))
    expect(charts.nth(4)).to_have_attribute("aria-label", re.compile("各乡镇本年吹哨"))
    expect(charts.nth(5)).to_have_attribute("aria-label", re.compile("县农业农村局：2（在册 2）"))
    expect(charts.nth(5)).to_have_attribute("aria-label", re.compile("县教育局：1（办理中 1）"))
    screenshot(page, "11-dashboard")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel（含明细）").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames == ["乡镇", "部门", "会议", "督查检查考核", "吹哨", "报表"]
    assert download.value.suggested_filename.startswith("乡镇负担-")


def test_a_step_past_its_deadline_is_marked_overdue_in_the_inbox(
    sign_in: Callable[[str], Page], api: Any, console_ctx: Context
) -> None:
    matter = (
        api("nongye")
        .post("/api/v1/processes/matter_admission/instances", json=application())
        .json()
    )
    sifa = api("sifa")
    task = next(t for t in sifa.get("/api/v1/tasks").json() if t["instance_id"] == matter["id"])
    sifa.post(f"/api/v1/tasks/{task['id']}/complete", json={"opinion": "lawful"})
    assert isinstance(console_ctx.clock, ManualClock)
    console_ctx.clock.advance(timedelta(days=40))  # well past 15 working days
    fire_due(console_ctx)

    page = sign_in("bianban")
    row = page.locator("tr", has_text=TITLE)
    expect(row.locator(".badge-overdue")).to_have_text("已超期")
    expect(row).to_have_class(re.compile("overdue"))
    expect(row).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日前（含当日）"))
    screenshot(page, "13-inbox-overdue")


def test_a_long_matter_list_says_its_count_is_a_lower_bound_and_pages_on(
    sign_in: Callable[[str], Page], api: Any, monkeypatch: Any
) -> None:
    from api.console import admission
    from engine.workflow.services import instances

    monkeypatch.setattr(instances, "COUNT_CAP", 2)
    monkeypatch.setattr(admission, "PER_PAGE", 2)
    nongye = api("nongye")
    for n in range(5):
        started = nongye.post(
            "/api/v1/processes/matter_admission/instances",
            json=application(name=f"{TITLE}{n}"),
        )
        assert started.status_code == 201, started.text
    page = sign_in("jiwei")
    page.goto("/matters")
    expect(page.locator("caption")).to_have_text("共 2+ 项")
    page.get_by_role("link", name="下一页").click()
    page.get_by_role("link", name="下一页").click()
    expect(page.locator("caption")).to_have_text("共 5 项")
    expect(page.get_by_role("link", name="下一页")).to_have_count(0)
    expect(page.get_by_role("link", name=f"{TITLE}0")).to_be_visible()
