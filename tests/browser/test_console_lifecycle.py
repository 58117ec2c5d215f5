"""A matter clicked through the console by each office in turn: apply, review, approve, enter,
exit; and a return for revision answered from a form filled with the application as it was."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.walk import (
    TITLE,
    confirm_entry,
    current_steps,
    error_of,
    fill_application,
    open_task,
    submit_task,
)


def test_a_matter_goes_from_application_to_exit_in_the_browser(
    sign_in: Callable[[str], Page],
) -> None:
    # 申请: the agriculture bureau files the matter from the form.
    nongye = sign_in("nongye")
    nongye.get_by_role("link", name="新建申请").click()
    fill_application(nongye)
    screenshot(nongye, "01-apply-form")
    nongye.get_by_role("button", name="提交申请").click()
    expect(nongye.locator(".flash-success")).to_contain_text("合法性审查")
    expect(nongye.get_by_role("heading", level=1)).to_contain_text(TITLE)
    assert current_steps(nongye) == ["legal_review"]
    matter_url = nongye.url

    # 审核: the justice bureau's legality opinion, with the pre-check beside the form.
    sifa = sign_in("sifa")
    open_task(sifa, "合法性审查")
    expect(sifa.locator(".precheck")).to_be_visible()
    sifa.get_by_label("合法", exact=True).check()
    submit_task(sifa, "合法性审查")

    # 审核: the gatekeeper refuses without grounds, is told so beside the field, then passes.
    bianban = sign_in("bianban")
    open_task(bianban, "审核", claim=True)
    bianban.get_by_label("不予准入", exact=True).check()
    bianban.get_by_role("button", name="提交办理结果").click()
    expect(error_of(bianban, "comment")).to_contain_text("退回或不予准入时须填写意见")
    expect(bianban.locator("#error-summary")).to_contain_text("未保存任何内容")
    expect(bianban.locator("#error-summary")).to_be_focused()
    screenshot(bianban, "03-review-form-error")
    bianban.get_by_label("通过", exact=True).check()
    submit_task(bianban, "审核")

    # 审批: the county Party committee and government approve, at a meeting on record.
    xianwei = sign_in("xianwei")
    open_task(xianwei, "审批")
    expect(xianwei.locator(".decisions")).to_contain_text("县委编办")
    xianwei.get_by_label("通过", exact=True).check()
    xianwei.get_by_role("button", name="提交办理结果").click()
    expect(xianwei.locator("#error-summary")).to_contain_text("研究决定的会议、日期和纪要编号")
    screenshot(xianwei, "03b-approval-needs-the-meeting")
    xianwei.get_by_label("县委常委会会议", exact=True).check()
    xianwei.get_by_label("会议日期").fill("2024-12-30")
    xianwei.get_by_label("会议纪要编号").fill("县委常委会会议纪要〔2024〕31号")
    submit_task(xianwei, "审批")
    assert current_steps(xianwei) == ["confirm_entry"]
    screenshot(xianwei, "04-matter-awaiting-townships")

    # 进入: both townships confirm; the matter is then in force and on their registers.
    confirm_entry(sign_in("chengguan"))
    donghe = sign_in("donghe")
    confirm_entry(donghe)
    expect(donghe.locator("h1 .status")).to_have_text("已准入（在册）")
    donghe.get_by_role("link", name="准入台账").click()
    expect(donghe.locator("table.data tbody tr")).to_have_count(1)
    expect(donghe.locator("table.data")).to_contain_text(TITLE)
    # The matter's 60,000 yuan is split between its two townships: this one's share, in hand.
    expect(donghe.locator("table.data")).to_contain_text("30,000 / 30,000")
    screenshot(donghe, "05-township-register")

    # 退出: the department withdraws the matter, first without a reason, then with one.
    nongye.goto(matter_url)
    nongye.on("dialog", lambda dialog: dialog.accept())
    nongye.get_by_role("button", name="撤回事项（退出）").click()
    expect(nongye.locator("#withdraw-reason-error")).to_contain_text("此项为必填项")
    nongye.get_by_label("理由").fill("巡查任务已完成")
    nongye.get_by_role("button", name="撤回事项（退出）").click()
    expect(nongye.locator("h1 .status")).to_have_text("已退出")
    expect(nongye.locator(".timeline")).to_contain_text("申请单位撤回")
    screenshot(nongye, "06-matter-exited")
    donghe.get_by_role("link", name=re.compile(r"^通知（\d+ 条未读）$")).click()
    expect(donghe.locator(".notices")).to_contain_text("已退出")
    expect(donghe.locator(".notices")).to_contain_text("请在办理时限内确认进入")  # it was told
    expect(donghe.locator(".notice-unread").first).to_contain_text("未读")
    donghe.get_by_role("button", name=re.compile("全部标为已读")).click()
    expect(donghe.locator(".notice-unread")).to_have_count(0)
    nav = donghe.get_by_role("navigation")
    expect(nav.get_by_role("link", name="通知", exact=True)).to_be_visible()

    # The auditor finds every step of it in the trail, and verifies the trail.
    jiwei = sign_in("jiwei")  # also the discipline organ: it lands on its inbox
    jiwei.get_by_role("link", name="留痕查询").click()
    jiwei.get_by_label("事项编号").fill(matter_url.rsplit("/", 1)[1])
    jiwei.get_by_role("button", name="查询").click()
    table = jiwei.locator("table.data")
    for office in ("县农业农村局", "县司法局", "县委编办", "县委县政府", "城关镇", "东河乡"):
        expect(table).to_contain_text(f"{office}经办人")  # people by name, not sign-in name
    screenshot(jiwei, "07-audit-trail-search")
    jiwei.get_by_role("link", name="留痕核验").click()
    expect(jiwei.locator("main")).to_contain_text("核验通过")
    screenshot(jiwei, "08-audit-verify")


def test_a_returned_application_is_revised_from_a_filled_in_form(
    sign_in: Callable[[str], Page],
) -> None:
    nongye = sign_in("nongye")
    nongye.get_by_role("link", name="新建申请").click()
    fill_application(nongye)
    nongye.get_by_role("button", name="提交申请").click()
    sifa = sign_in("sifa")
    open_task(sifa, "合法性审查")
    sifa.get_by_label("合法", exact=True).check()
    submit_task(sifa, "合法性审查")
    bianban = sign_in("bianban")
    open_task(bianban, "审核")
    bianban.get_by_label("退回修改").check()
    bianban.get_by_label("意见或说明").fill("请补充经费测算依据")
    submit_task(bianban, "审核")

    open_task(nongye, "修改或撤回申请")
    # The application to revise shows once 修改后重新提交 is chosen, filled in as it was.
    expect(nongye.get_by_label("事项名称")).to_be_hidden()
    nongye.get_by_label("修改后重新提交").check()
    expect(nongye.get_by_label("事项名称")).to_have_value(TITLE)
    expect(nongye.get_by_label("东河乡")).to_be_checked()
    nongye.get_by_label("事项名称").fill("")
    nongye.get_by_role("button", name="提交办理结果").click()
    expect(error_of(nongye, "application.name")).to_contain_text("此项为必填项")
    expect(nongye.get_by_label("东河乡")).to_be_checked()  # the rest is kept as typed
    screenshot(nongye, "12-revise-form-error")
    nongye.get_by_label("事项名称").fill(TITLE)
    nongye.get_by_label("经费合计（元）").fill("80000")
    nongye.get_by_role("button", name="提交办理结果").click()
    expect(nongye.locator(".flash-success")).to_contain_text("合法性审查")
    assert current_steps(nongye) == ["legal_review"]
    expect(nongye.locator("#application-title + dl")).to_contain_text("80000")
    # What the resubmission changed is marked, with what it read before.
    changed = nongye.locator("#application-title + dl .changed")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("已修改")
    expect(changed).to_contain_text("修改前：60000")

    nongye.get_by_role("link", name="我的待办").click()
    expect(nongye.locator("main")).to_contain_text("暂无待办")
    sifa.get_by_role("link", name="我的待办").click()
    expect(sifa.locator("tr", has_text=TITLE)).to_have_count(1)
