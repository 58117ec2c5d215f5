"""流程管理 in a real browser: the administrator uploads a county's package, sees it as a draft,
reads its steps, activates it; uploads version 2 and reads what it adds; moves a running
matter onto it (and is told why another cannot move); rolls back to version 1. A bad upload
is refused in Chinese; the page works on a phone; nobody else has it. Its POST routes with
bad input, over plain HTTP: never a 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.api.test_packages_api import APPLY, PROCESS_ID, package, take
from tests.browser.conftest import screenshot
from tests.browser.test_console_http import _signed_in, _token

PLAN = {"title": "二季度安全生产督查", "content": "检查台账", "planned_date": "2027-04-01"}
TODAY = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def _upload(page: Page, name: str, content: bytes) -> None:
    page.get_by_label("程序包（.zip）或流程图（.bpmn）").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": content}
    )
    page.get_by_role("button", name="上传", exact=True).click()


def _row(page: Page, version: int) -> Any:
    return page.locator(f"tr[data-version='{version}']")


def _file(api: Callable[[str], Any], title: str) -> int:
    response = api("nongye").post(APPLY, json={**PLAN, "title": title})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _shows_no_codes(page: Page) -> None:
    text = page.locator("main").inner_text()
    for code in (PROCESS_ID, "approve_plan", "file_record", "bpmn_name", "UserTask", "admin"):
        assert code not in text, code


def test_administrator_deploys_compares_activates_migrates_and_rolls_back(
    sign_in: Callable[[str], Page], api: Callable[[str], Any]
) -> None:
    page = sign_in("admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="流程管理").click()
    expect(page.get_by_role("heading", name="流程管理", level=1)).to_be_visible()

    # Bad uploads: told in Chinese, nothing stored.
    _upload(page, "plan.zip", b"not a zip at all")
    expect(page.locator("#error-summary")).to_contain_text("程序包不是合法的 zip 文件")
    _upload(page, "plan.bpmn", b"<definitions>")
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#error-summary")).not_to_contain_text("Traceback")

    _upload(page, "inspection_plan.zip", package(1))
    expect(page.locator(".flash-success")).to_contain_text("督查检查计划报备”第 1 版（草稿）")
    expect(_row(page, 1).locator("td").nth(1)).to_have_text("草稿")
    expect(_row(page, 1)).to_contain_text(TODAY)
    _shows_no_codes(page)
    _row(page, 1).get_by_role("link", name="查看流程图").click()
    expect(page.locator("ol.steps")).to_contain_text("审批检查计划")  # drawn without layout
    page.go_back()
    _row(page, 1).get_by_role("button", name="启用第 1 版").click()
    expect(_row(page, 1).locator("td").nth(1)).to_have_text("使用中")
    expect(_row(page, 1)).to_contain_text("县政务服务和大数据管理局")

    on_v1 = _file(api, "尚未办理的报备")
    returned = _file(api, "退回重审的报备")
    take(api, "bianban", "review_plan", {"decision": "pass"}, returned)
    take(api, "xianwei", "approve_plan", {"decision": "return", "comment": "补充"}, returned)

    page.goto("/deployments")
    _upload(page, "inspection_plan_v2.zip", package(2))
    expect(_row(page, 2).locator("td").nth(1)).to_have_text("草稿")
    expect(_row(page, 1)).to_contain_text("2 件")  # running on version 1
    _row(page, 2).get_by_role("link", name="与使用中版本比较").click()
    expect(page.locator("[data-diff=added]")).to_have_text("备案")
    expect(page.locator("[data-diff=changed]")).to_contain_text(
        "县委县政府审批检查计划（原名“审批检查计划”）：名称"
    )
    expect(page.locator("[data-diff=forms]")).to_contain_text("备案")
    _shows_no_codes(page)
    screenshot(page, "50-processes-diff")
    page.get_by_role("button", name="启用第 2 版").click()
    expect(_row(page, 2).locator("td").nth(1)).to_have_text("使用中")
    expect(_row(page, 1).locator("td").nth(1)).to_have_text("已停用")

    # Version 1's running matters: one can move, the other completed the changed approval.
    _row(page, 1).get_by_role("link", name="查看流程图").click()
    expect(page.get_by_role("heading", name="按此版本办理中的事项（2 件）")).to_be_visible()
    page.get_by_role("button", name="检查能否迁移：退回重审的报备").click()
    refused = page.locator(f"tr[data-instance-id='{returned}'] td.check")
    expect(refused).to_contain_text("不能迁移")
    expect(refused).to_contain_text("审批检查计划")
    page.get_by_role("button", name="检查能否迁移：尚未办理的报备").click()
    expect(page.locator(f"tr[data-instance-id='{on_v1}'] td.check")).to_have_text(
        "可以迁移到第 2 版"
    )
    page.get_by_role("button", name="迁移到使用中版本：尚未办理的报备").click()
    expect(page.locator(".flash-success")).to_contain_text("“尚未办理的报备”已迁移到第 2 版")
    expect(page.get_by_role("heading", name="按此版本办理中的事项（1 件）")).to_be_visible()
    page.get_by_role("button", name="全部迁移到第 2 版").click()
    expect(page.locator(".flash-success")).to_contain_text("已迁移 0 件，未迁移 1 件")
    expect(page.locator(".flash-error")).to_contain_text("“退回重审的报备”未迁移")
    moved = api("admin").get(f"/api/v1/instances/{on_v1}/migration", params={"to_version": 1})
    assert moved.json()["from_version"] == 2

    # Rollback, from the versions table.
    page.get_by_role("link", name="督查检查计划报备的版本").click()
    _row(page, 1).get_by_role("button", name="回退到第 1 版").click()
    expect(_row(page, 1).locator("td").nth(1)).to_have_text("使用中")
    expect(_row(page, 2).locator("td").nth(1)).to_have_text("已停用")
    expect(_row(page, 2).get_by_role("button", name="启用第 2 版")).to_be_visible()

    # A shipped diagram has its layout: drawn as SVG.
    page.goto("/deployments")
    page.locator("main").get_by_role("link", name="事项准入", exact=True).click()
    _row(page, 1).get_by_role("link", name="查看流程图").click()
    expect(page.locator("figure.diagram svg.bpmn-diagram")).to_be_visible()

    page.goto("/deployments")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "51-processes-phone")
    page.get_by_role("link", name="督查检查计划报备").click()
    screenshot(page, "52-process-versions-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    clerk = sign_in("nongye")
    expect(clerk.get_by_role("link", name="流程管理")).to_have_count(0)
    clerk.goto("/deployments")
    expect(clerk.locator("h1")).to_have_text("无权访问")


def _post(http: requests.Session, url: str, **fields: Any) -> requests.Response:
    token = _token(http.get(url.split("/deployments")[0] + "/deployments", timeout=10).text)
    return http.post(url, data={"csrf_token": token, **fields}, timeout=30)


def test_bad_input_to_the_pages_is_refused_in_chinese_never_a_500(console: str) -> None:
    admin = _signed_in(console, "admin")
    base = f"{console}/deployments"
    assert _post(admin, base).status_code == 422  # no file
    token = _token(admin.get(base, timeout=10).text)
    for name, content in (("plan.txt", b"x"), ("empty.zip", b""), ("plan.xml", b"\xff\xfe")):
        refused = admin.post(
            base, data={"csrf_token": token}, files={"package": (name, content)}, timeout=30
        )
        assert refused.status_code == 422 and "error-summary" in refused.text, name
    version = f"{base}/matter_admission/versions"
    assert _post(admin, f"{version}/99/activate").status_code == 404
    assert admin.get(f"{base}/no_such_process", timeout=10).status_code == 404
    assert admin.get(f"{version}/99", timeout=10).status_code == 404
    assert admin.get(f"{version}/1?check=abc", timeout=10).status_code == 200
    for fields in ({}, {"to_version": "二"}, {"to_version": "99"}):
        for url in (f"{version}/1/migration", f"{version}/1/instances/999999/migrate"):
            answer = _post(admin, url, **fields)
            assert answer.status_code in {200, 404}, (url, fields, answer.status_code)
            assert "系统出错了" not in answer.text

    clerk = _signed_in(console, "nongye")
    assert clerk.get(base, timeout=10).status_code == 403
    token = _token(clerk.get(f"{console}/inbox", timeout=10).text)
    upload = clerk.post(
        base, data={"csrf_token": token}, files={"package": ("p.zip", package(1))}, timeout=30
    )
    assert upload.status_code == 403 and "无权访问" in upload.text
    assert _post(clerk, f"{version}/1/activate").status_code == 403
