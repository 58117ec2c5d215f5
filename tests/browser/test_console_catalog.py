"""The duty lists in the console (issue 14): 县委编办 reads and searches every township's list,
adds an item (a bad one is refused and nothing is kept) and retires it with a reason; a
township reads its own list only, on a phone too, and exports it as the county files it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

NEW_ITEM = "农村集体经营性建设用地入市协助"


def test_the_gatekeeper_keeps_the_lists_and_a_township_reads_its_own(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    bianban = sign_in("bianban")
    bianban.get_by_role("link", name="职责清单").click()
    expect(bianban.locator("h1")).to_have_text("乡镇职责清单")
    total = bianban.locator("table.catalog caption")
    expect(total).to_contain_text("共")

    bianban.get_by_label("乡镇（街道）").select_option(label="东河乡")
    bianban.get_by_role("button", name="查询").click()
    expect(bianban.locator("table.catalog")).to_contain_text("全县通用")

    add = bianban.locator("section", has=bianban.get_by_role("heading", name="新增清单事项"))
    add.get_by_label("适用范围").select_option(label="仅东河乡")
    add.get_by_label("清单").select_option(label="配合履职事项")
    add.get_by_label("类别").fill("经济发展")
    bianban.get_by_role("button", name="新增事项").click()  # no name
    expect(bianban.locator(".error-summary")).to_contain_text("未能新增")
    expect(bianban.locator("#new-name-error")).to_be_visible()
    expect(add.get_by_label("类别")).to_have_value("经济发展")  # what was typed stays
    add.get_by_label("事项名称").fill(NEW_ITEM)
    add.get_by_label("责任主体").fill("县自然资源局")
    bianban.get_by_role("button", name="新增事项").click()
    expect(bianban.locator(".flash-success")).to_contain_text(NEW_ITEM)

    bianban.get_by_label("事项名称或内容").fill("集体经营性建设用地")
    bianban.get_by_role("button", name="查询").click()
    row = bianban.locator("table.catalog tbody tr", has_text=NEW_ITEM)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("东河乡")
    screenshot(bianban, "73-gatekeeper-keeps-the-lists")

    # 修改: its content changes, where it belongs does not; a blank name is refused.
    row.get_by_role("link", name="修改").click()
    expect(bianban.locator("h1")).to_have_text("修改清单事项")
    bianban.get_by_label("事项名称").fill("")
    bianban.get_by_role("button", name="保存修改").click()
    expect(bianban.locator(".error-summary")).to_contain_text("未能修改")
    bianban.get_by_label("事项名称").fill(NEW_ITEM)
    bianban.get_by_label("责任主体").fill("县自然资源局（牵头）")
    bianban.get_by_role("button", name="保存修改").click()
    expect(bianban.locator(".flash-success")).to_contain_text("已修改")
    expect(row).to_contain_text("县自然资源局（牵头）")

    donghe = sign_in("donghe")
    donghe.set_viewport_size({"width": 390, "height": 844})
    donghe.get_by_role("link", name="职责清单").click()
    expect(donghe.get_by_label("乡镇（街道）")).to_have_count(0)  # its own list only
    expect(donghe.get_by_role("heading", name="新增清单事项")).to_have_count(0)
    donghe.get_by_label("事项名称或内容").fill("集体经营性建设用地")
    donghe.get_by_role("button", name="查询").click()
    expect(donghe.locator("table.catalog")).to_contain_text(NEW_ITEM)
    assert donghe.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(donghe, "74-township-reads-its-list-phone")
    exported = donghe.request.get("/catalog/export.xlsx")
    assert exported.status == 200 and exported.body()[:2] == b"PK"  # an Excel workbook
    assert "attachment" in exported.headers["content-disposition"]

    bianban.on("dialog", lambda dialog: dialog.accept())  # 确定废止？
    row.locator("summary").click()
    row.get_by_role("button", name="废止").click()  # no reason
    expect(bianban.locator(".flash-error")).to_contain_text("未能废止")
    row.locator("summary").click()
    row.get_by_label("废止理由").fill("该事项已由县局直接承担")
    row.get_by_role("button", name="废止").click()
    expect(bianban.locator(".flash-success")).to_contain_text("已废止")
    donghe.reload()
    expect(donghe.locator("main")).not_to_contain_text(NEW_ITEM)
