"""Accountability cases clicked through the console: fault tolerance applied for, decided,
appealed and filed; clearance carried out at a meeting; an ineligible clearance refused with its
reason; cases hidden from everyone else; a case opened and its finding recorded.

The same stories as tests/api/test_accountability_api.py, by the demo county's people.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from engine.services.context import Context
from tests import accountability_factories as af
from tests.browser.conftest import screenshot
from tests.browser.walk import current_steps, error_of, open_task, submit_task
from tests.browser.walk_cases import (
    FALSE_POINTS,
    FT_TITLE,
    accept_and_verify,
    apply_for_clearance,
    apply_for_fault_tolerance,
    choose,
    open_my_case,
    own_case_id,
    started_via_api,
    step_done_via_api,
    yesterday,
)


def test_a_cadre_applies_for_fault_tolerance_appeals_and_the_result_is_filed(
    sign_in: Callable[[str], Page], console_ctx: Context
) -> None:
    # 申请: zhangming finds his open case and applies from it.
    zhangming = sign_in("zhangming")
    open_my_case(zhangming)
    expect(zhangming.locator("h1 .status")).to_have_text("问责调查中")
    expect(zhangming.locator(".case-record")).to_contain_text("领导责任（主要领导责任）")
    screenshot(zhangming, "20-case-open-for-the-cadre")
    apply_for_fault_tolerance(zhangming)
    assert current_steps(zhangming) == ["ft_accept"]
    expect(zhangming.locator("#application-title + dl")).to_contain_text(
        "推进改革中因缺乏经验、先行先试出现失误"
    )
    matter_url = zhangming.url

    # 受理, 核实: the discipline organ.
    jiwei = sign_in("jiwei")
    accept_and_verify(jiwei)

    # 认定: case review grants a reduction, against the distinctions and the county's list.
    shenli = sign_in("jiwei_shenli")
    open_task(shenli, "认定", FT_TITLE)
    expect(shenli.locator(".case-facts")).to_contain_text("问责调查中")
    expect(shenli.locator(".decisions")).to_contain_text("县农业农村局、县财政局")
    # The rectification fields show only once a rectification is required.
    expect(shenli.get_by_label("整改期限")).to_be_hidden()
    choose(shenli, "outcome", "减责")
    choose(shenli, "distinctions", "因缺乏经验、先行先试出现的失误", exact=False)
    choose(shenli, "circumstances", "推进改革中因缺乏经验", exact=False)
    choose(shenli, "circumstances", "主动挽回损失", exact=False)
    shenli.get_by_label("认定理由").fill(af.ft_decision()["reasoning"])
    choose(shenli, "rectification_required", "否")
    screenshot(shenli, "21-fault-tolerance-decision-form")
    submit_task(shenli, "认定")
    expect(shenli.locator(".results")).to_contain_text("减责")

    # 反馈: zhangming is told in writing, and appeals with the button on the matter page.
    zhangming.get_by_role("navigation").get_by_role("link", name="通知").click()
    notice = zhangming.locator(".notices li").first
    expect(notice).to_contain_text("减责")
    expect(notice).to_contain_text("申诉")
    notice.get_by_role("link", name="查看事项").click()
    expect(zhangming.locator(".results")).to_contain_text("减责")
    # The cadre sees the day the appeal window closes: 15 calendar days from the decision.
    # The service's day, not the wall clock's (the two part at the county's midnight).
    today = console_ctx.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    closes = today + timedelta(days=15)
    expect(zhangming.locator("#action-appeal-title + p")).to_contain_text(
        f"申诉期至{closes.year}年{closes.month}月{closes.day}日（含当日）"
    )
    zhangming.on("dialog", lambda dialog: dialog.accept())
    zhangming.get_by_role("button", name="提出申诉").click()
    expect(zhangming.locator("#appeal-reason-error")).to_contain_text("此项为必填项")
    zhangming.get_by_label("理由").fill("已挽回全部损失，请求免责")
    screenshot(zhangming, "22-fault-tolerance-appeal")
    zhangming.get_by_role("button", name="提出申诉").click()
    expect(zhangming.locator(".flash-success")).to_contain_text("已提出申诉")
    expect(zhangming.get_by_role("button", name="提出申诉")).to_have_count(0)
    assert current_steps(zhangming) == ["ft_appeal_decide"]

    # 申诉复核: a colleague of the first decider (回避) changes the outcome to exemption.
    zhaomin = sign_in("zhaomin")
    open_task(zhaomin, "申诉复核", FT_TITLE)
    expect(zhaomin.locator(".decisions")).to_contain_text("已挽回全部损失，请求免责")
    expect(zhaomin.locator('fieldset[data-field="outcome"]')).to_be_hidden()
    choose(zhaomin, "decision", "变更认定")
    choose(zhaomin, "outcome", "免责")
    zhaomin.get_by_label("复核理由").fill("损失已全部挽回，符合免责情形")
    submit_task(zhaomin, "申诉复核")

    # 备案: the discipline organ files it; the procedure is concluded.
    open_task(jiwei, "备案", FT_TITLE)
    filing = af.ft_filing()
    jiwei.get_by_label("报备机关").fill(filing["filed_with"])
    jiwei.get_by_label("报备日期").fill(yesterday())
    jiwei.get_by_label("备案文号").fill(filing["reference"])
    submit_task(jiwei, "备案")
    expect(jiwei.locator("h1 .status")).to_have_text("已办结")

    zhangming.goto(matter_url)
    expect(zhangming.locator("h1 .status")).to_have_text("已办结")
    expect(zhangming.locator(".results")).to_contain_text("变更认定为免责")
    timeline = zhangming.locator(".timeline")
    for text in ("提交申请", "受理", "核实", "认定", "提出申诉", "申诉复核", "备案", "记入案件"):
        expect(timeline).to_contain_text(text)
    expect(timeline).to_contain_text("已书面通知：当事人张明")
    expect(zhangming.locator("figure.diagram svg.bpmn-diagram")).to_be_visible()
    screenshot(zhangming, "23-fault-tolerance-concluded")
    zhangming.locator(".breadcrumbs").get_by_role("link", name="问〔").click()
    expect(zhangming.locator(".case-outcomes")).to_contain_text("免责")
    expect(zhangming.locator("tr", has_text="容错纠错")).to_contain_text("已办结")


def test_a_falsely_reported_cadre_is_cleared_at_a_meeting(
    sign_in: Callable[[str], Page],
) -> None:
    lihua = sign_in("lihua")
    open_my_case(lihua)
    expect(lihua.locator(".case-finding")).to_contain_text("反映失实")
    expect(lihua.locator(".clearance-unmet")).to_have_count(0)  # she qualifies: no warning
    apply_for_clearance(lihua)
    title = "澄清正名：李华"

    # 核查澄清条件: the handler sees why the case qualifies, and lists the points found false.
    jiwei = sign_in("jiwei")
    open_task(jiwei, "核查澄清条件", title)
    expect(jiwei.locator(".conditions")).to_contain_text("按案件记录符合")
    choose(jiwei, "decision", "符合澄清条件")
    jiwei.get_by_label("核实为失实的问题").fill("\n".join(FALSE_POINTS) + "\n")
    screenshot(jiwei, "24-clearance-eligibility-form")
    submit_task(jiwei, "核查澄清条件")

    # 审批: the scope is chosen among those points only.
    shenli = sign_in("jiwei_shenli")
    open_task(shenli, "审批澄清", title)
    choose(shenli, "decision", "批准澄清")
    choose(shenli, "method", "会议澄清")
    scope = shenli.locator('fieldset[data-field="scope"] input[type="checkbox"]')
    expect(scope).to_have_count(len(FALSE_POINTS))
    for point in FALSE_POINTS:
        choose(shenli, "scope", point)
    submit_task(shenli, "审批澄清")

    # 实施澄清: carried out as approved, with a written record and the meeting it was at.
    open_task(jiwei, "实施澄清", title)
    expect(jiwei.locator('fieldset[data-field="method"]').get_by_label("会议澄清")).to_be_checked()
    for point in FALSE_POINTS:
        points = jiwei.locator('fieldset[data-field="points_cleared"]')
        expect(points.get_by_label(point, exact=True)).to_be_checked()
    jiwei.get_by_label("澄清日期").fill(yesterday())
    jiwei.get_by_label("澄清书面记录").fill(af.carried_out()["written_record"])
    jiwei.get_by_label("澄清场合").fill(af.OCCASIONS["meeting"])
    choose(jiwei, "malicious_accusation", "否")
    screenshot(jiwei, "25-clearance-carry-out-form")
    submit_task(jiwei, "实施澄清")
    expect(jiwei.locator("h1 .status")).to_have_text("已澄清")

    lihua.reload()
    expect(lihua.locator("h1 .status")).to_have_text("已澄清")
    expect(lihua.locator(".results")).to_contain_text("会议澄清")
    lihua.locator(".breadcrumbs").get_by_role("link", name="问〔").click()
    expect(lihua.locator(".case-outcomes")).to_contain_text("已澄清（会议澄清")
    expect(lihua.locator("tr", has_text="澄清正名")).to_contain_text("已澄清")
    screenshot(lihua, "26-case-cleared")
    lihua.get_by_role("navigation").get_by_role("link", name="通知").click()
    expect(lihua.locator(".notices")).to_contain_text("会议澄清")


def test_an_ineligible_clearance_is_refused_with_the_reason_shown(
    sign_in: Callable[[str], Page],
) -> None:
    wangfang = sign_in("wangfang")
    open_my_case(wangfang)
    expect(wangfang.locator(".case-finding")).to_contain_text("查无实据但不能排除")
    # Told before applying what stands in the way, and the record is not called an
    # accountability case, nor given a responsibility level.
    expect(wangfang.locator(".clearance-unmet")).to_contain_text("不符合澄清条件")
    expect(wangfang.locator("#record-title")).to_have_text("核查记录")
    expect(wangfang.locator(".case-record")).not_to_contain_text("责任类型")
    apply_for_clearance(wangfang)
    matter_url = wangfang.url
    title = "澄清正名：王芳"

    jiwei = sign_in("jiwei")
    open_task(jiwei, "核查澄清条件", title)
    expect(jiwei.locator(".conditions")).to_contain_text("按案件记录不符合")
    expect(jiwei.locator(".conditions li.unmet")).to_contain_text("查无实据但不能排除")
    choose(jiwei, "decision", "符合澄清条件")
    jiwei.get_by_label("核实为失实的问题").fill("收受好处")
    jiwei.get_by_role("button", name="提交办理结果").click()
    expect(error_of(jiwei, "decision")).to_contain_text("查无实据")
    expect(jiwei.locator("#error-summary")).to_contain_text("未保存任何内容")
    screenshot(jiwei, "27-clearance-ineligible-error")

    explanation = "核查结论为查无实据但不能排除，不符合澄清正名条件"
    choose(jiwei, "decision", "不符合澄清条件")
    expect(jiwei.get_by_label("核实为失实的问题")).to_be_hidden()
    choose(jiwei, "grounds", "查无实据但不能排除")
    jiwei.get_by_label("向申请人说明的理由").fill(explanation)
    submit_task(jiwei, "核查澄清条件")
    expect(jiwei.locator("h1 .status")).to_have_text("不予办理")

    wangfang.goto(matter_url)
    expect(wangfang.locator("h1 .status")).to_have_text("不予办理")
    expect(wangfang.locator(".results")).to_contain_text(explanation)
    screenshot(wangfang, "28-clearance-refused-for-the-cadre")
    wangfang.get_by_role("navigation").get_by_role("link", name="通知").click()
    expect(wangfang.locator(".notices")).to_contain_text(explanation)


def test_a_case_and_its_procedures_are_hidden_from_everyone_else(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    case_id = own_case_id(api, "zhangming")
    instance_id = started_via_api(
        api, "zhangming", "fault_tolerance", af.ft_application(case_id=case_id)
    )
    task_id = api("jiwei").get(f"/api/v1/instances/{instance_id}").json()["open_tasks"][0]["id"]

    # His own township's office reads every admission matter of the township, not his case.
    chengguan = sign_in("chengguan")
    for path in (
        f"/cases/{case_id}",
        f"/cases/{case_id}/clearance",
        f"/matters/{instance_id}",
        f"/matters/{instance_id}/diagram.svg",
        f"/matters/{instance_id}/tasks/{task_id}",
    ):
        response = chengguan.goto(path)
        assert response is not None and response.status == 404, path
        expect(chengguan.get_by_role("heading", level=1)).to_have_text("页面或事项不存在")
        expect(chengguan.locator("main")).not_to_contain_text("张明")
    screenshot(chengguan, "29-case-not-found-for-township")
    chengguan.goto("/cases")
    expect(chengguan.locator("main")).to_contain_text("没有符合条件的问责案件")
    chengguan.get_by_role("navigation").get_by_role("link", name="事项查询").click()
    expect(chengguan.locator("main")).not_to_contain_text("容错纠错申请")

    # Another cadre's list holds her own case only.
    lihua = sign_in("lihua")
    lihua.get_by_role("navigation").get_by_role("link", name="问责案件").click()
    expect(lihua.locator("table.cases tbody tr")).to_have_count(1)
    expect(lihua.locator("table.cases")).to_contain_text("李华")
    expect(lihua.locator("table.cases")).not_to_contain_text("张明")
    response = lihua.goto(f"/cases/{case_id}")
    assert response is not None and response.status == 404

    # The organisation department reads every case, and proposes; it takes no cadre's place.
    zuzhibu = sign_in("zuzhibu")
    zuzhibu.get_by_role("navigation").get_by_role("link", name="问责案件").click()
    expect(zuzhibu.locator("table.cases tbody tr")).to_have_count(3)
    screenshot(zuzhibu, "33-case-list-for-the-organisation-department")


def test_a_decision_without_reasoning_is_shown_beside_its_field_and_nothing_is_saved(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    case_id = own_case_id(api, "zhangming")
    instance_id = started_via_api(
        api, "zhangming", "fault_tolerance", af.ft_application(case_id=case_id)
    )
    step_done_via_api(api, "jiwei", instance_id, af.ACCEPT)
    step_done_via_api(api, "jiwei", instance_id, af.ft_verification())

    shenli = sign_in("jiwei_shenli")
    open_task(shenli, "认定", FT_TITLE)
    choose(shenli, "outcome", "免责")
    choose(shenli, "distinctions", "因缺乏经验、先行先试出现的失误", exact=False)
    choose(shenli, "circumstances", "推进改革中因缺乏经验", exact=False)
    choose(shenli, "rectification_required", "是")
    shenli.get_by_label("整改事项").fill("重新履行托管方公开遴选程序")
    shenli.get_by_role("button", name="提交办理结果").click()

    expect(error_of(shenli, "reasoning")).to_contain_text("此项为必填项")
    expect(shenli.locator("#error-summary")).to_contain_text("未保存任何内容")
    expect(shenli.locator("#error-summary")).to_be_focused()
    expect(shenli.get_by_label("认定理由")).to_have_attribute("aria-invalid", "true")
    # What was chosen and typed stays; nothing else is complained about.
    expect(shenli.locator('fieldset[data-field="outcome"]').get_by_label("免责")).to_be_checked()
    expect(shenli.get_by_label("整改事项")).to_have_value("重新履行托管方公开遴选程序")
    expect(shenli.locator('[data-field="outcome"] .field-error')).to_have_count(0)
    screenshot(shenli, "30-fault-tolerance-decision-error")

    # Nothing was saved: the step is still open and the case has no outcome.
    assert api("jiwei").get(f"/api/v1/cases/{case_id}").json()["tolerance_outcome"] is None
    shenli.goto(f"/matters/{instance_id}")
    assert current_steps(shenli) == ["ft_decide"]
    expect(shenli.locator(".decisions")).not_to_contain_text("认定结果")


def test_a_case_is_opened_its_finding_recorded_and_a_unit_may_then_apply(
    sign_in: Callable[[str], Page],
) -> None:
    zuzhibu = sign_in("zuzhibu")
    zuzhibu.get_by_role("navigation").get_by_role("link", name="问责案件").click()
    zuzhibu.get_by_role("link", name="登记问责案件").click()
    choose(zuzhibu, "subject_kind", "单位")
    expect(zuzhibu.get_by_label("当事人账号")).to_be_hidden()
    zuzhibu.get_by_label("所在单位（被问责单位）").select_option(label="南湖街道")
    zuzhibu.get_by_label("反映的问题").fill("被反映在征地补偿中虚报冒领")
    choose(zuzhibu, "responsibility_level", "领导责任")
    zuzhibu.get_by_role("button", name="登记案件").click()
    expect(error_of(zuzhibu, "leadership_kind")).to_contain_text("领导责任须区分")
    screenshot(zuzhibu, "32-open-case-form-error")
    choose(zuzhibu, "leadership_kind", "主要领导责任")
    zuzhibu.get_by_role("button", name="登记案件").click()
    expect(zuzhibu.locator(".flash-success")).to_contain_text("已登记问责案件")
    expect(zuzhibu.locator("h1")).to_contain_text("南湖街道")
    case_url = zuzhibu.url

    jiwei = sign_in("jiwei")
    jiwei.goto(case_url)
    jiwei.get_by_role("link", name="记录核查结论").click()
    choose(jiwei, "finding", "反映失实")
    choose(jiwei, "harm", "是")
    jiwei.get_by_label("核查情况说明").fill("经核查，补偿款发放程序合规，反映失实")
    jiwei.get_by_role("button", name="提交").click()
    expect(jiwei.locator("h1 .status")).to_have_text("经核查失实")
    expect(jiwei.get_by_role("link", name="记录核查结论")).to_have_count(0)
    expect(jiwei.get_by_role("link", name="提议澄清正名")).to_be_visible()
    screenshot(jiwei, "31-case-with-finding")

    # The unit concerned reads its case and may apply for clearance, not for fault tolerance.
    nanhu = sign_in("nanhu")
    nanhu.goto(case_url)
    expect(nanhu.get_by_role("link", name="申请澄清正名")).to_be_visible()
    expect(nanhu.get_by_role("link", name="申请容错纠错")).to_have_count(0)


def test_a_proven_case_is_concluded_by_its_accountability_decision(
    sign_in: Callable[[str], Page],
) -> None:
    """核查属实 leaves the case awaiting its 问责决定; the organisation department records the
    outcome, document number and date, and the cadre is told."""
    jiwei = sign_in("jiwei")
    jiwei.get_by_role("link", name="问责案件").click()
    jiwei.locator("tr", has_text="张明").get_by_role("link").first.click()
    jiwei.get_by_role("link", name="记录核查结论").click()
    choose(jiwei, "finding", "问题属实")
    choose(jiwei, "harm", "否")
    jiwei.get_by_label("核查情况说明").fill("经核查，未经招标先行采购属实")
    jiwei.get_by_role("button", name="提交").click()
    expect(jiwei.locator("h1 .status")).to_have_text("问题属实，待作出问责决定")
    case_url = jiwei.url

    zuzhibu = sign_in("zuzhibu")
    zuzhibu.goto(case_url)
    zuzhibu.get_by_role("link", name="记录问责决定").click()
    choose(zuzhibu, "outcome", "诫勉")
    zuzhibu.get_by_label("决定文号").fill("县委组问〔2026〕5号")
    zuzhibu.get_by_label("决定日期").fill(yesterday())
    screenshot(zuzhibu, "34-accountability-decision-form")
    zuzhibu.get_by_role("button", name="提交").click()
    expect(zuzhibu.locator(".flash-success")).to_contain_text("已记录问责决定")
    expect(zuzhibu.locator("h1 .status")).to_have_text("已作出问责决定")
    expect(zuzhibu.locator(".case-decision")).to_contain_text("县委组问〔2026〕5号")
    expect(zuzhibu.locator(".case-decision")).to_contain_text("诫勉")

    zhangming = sign_in("zhangming")
    zhangming.goto("/notifications")
    expect(zhangming.locator(".notices")).to_contain_text("作出问责决定：诫勉")
