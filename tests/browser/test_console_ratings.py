"""考核评价权 in the console (issue 16), in Debian's chromium: three townships rate 县农业农村局
for this year through the filing page; 县委组织部 reads the summary and exports it as Excel;
the department reads its own summary — and the page works on a phone."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.api.test_inspections_api import admit
from tests.api.test_ratings_api import this_year
from tests.browser.conftest import screenshot


def rate(page: Page, overall: str, comment: str = "") -> None:
    page.get_by_role("link", name="发起办理").click()
    page.get_by_role("link", name=re.compile("乡镇评价县直部门")).click()
    page.get_by_label("评价年度").fill(str(this_year()))
    page.get_by_label("被评价部门").select_option(label="县农业农村局")
    for field in ("responsiveness", "burden", "resources", "service"):
        page.locator(f'[data-field="{field}"]').get_by_label("较好").check()
    page.locator('[data-field="overall"]').get_by_label(overall, exact=True).check()
    if comment:
        page.get_by_label("意见和建议").fill(comment)
    page.get_by_role("button", name=re.compile("提交")).click()
    expect(page.locator("h1")).to_contain_text("已记入部门考核")


def test_townships_rate_a_department_and_the_assessment_office_exports_it(
    sign_in: Callable[[str], Page],
) -> None:
    rate(sign_in("chengguan"), "好")
    rate(sign_in("donghe"), "较好")
    rate(sign_in("xishan"), "差", "多次未经准入下派检查任务")

    zuzhibu = sign_in("zuzhibu")
    zuzhibu.get_by_role("link", name="部门评价").click()
    row = zuzhibu.locator("tbody tr", has_text="县农业农村局")
    expect(row).to_contain_text("3")
    expect(row).to_contain_text(f"{(100 + 85 + 50) / 3:.1f}")  # 总体评价
    with zuzhibu.expect_download() as download:
        zuzhibu.get_by_role("button", name="导出 Excel").click()
    assert download.value.suggested_filename == f"{this_year()}年度部门考核评价.xlsx"
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert [c.value for c in sheet[1]][:2] == ["部门", "评价乡镇数"]

    nongye = sign_in("nongye")
    nongye.get_by_role("link", name="部门评价").click()
    expect(nongye.locator("tbody tr")).to_have_count(1)
    expect(nongye.locator("tbody tr")).to_contain_text("85.0")
    nongye.set_viewport_size({"width": 390, "height": 844})
    nongye.reload()
    width = nongye.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(nongye, "100-department-ratings-phone")


def test_a_township_rates_the_department_behind_a_matter_it_carries(
    sign_in: Callable[[str], Page], api: Callable[[str], Any]
) -> None:
    matter = admit(api, townships=["chengguan"], name="农村饮水安全巡查")
    page = sign_in("chengguan")
    page.goto(f"/matters/{matter}")
    card = page.locator("section", has=page.get_by_role("heading", name="评价本事项"))
    card.get_by_role("button", name="提交评价").click()  # nothing chosen: said, nothing kept
    expect(card.get_by_role("alert")).to_contain_text("请选择总体评价")
    card.locator('[data-field="overall"]').get_by_label("较好").check()
    card.locator('[data-field="resources"]').get_by_label("一般", exact=True).check()
    card.get_by_label("意见和建议").fill("人员到位，经费尚缺一半")
    card.get_by_role("button", name="提交评价").click()
    expect(page.locator(".flash-success")).to_contain_text("评价已提交")
    expect(card).to_contain_text("总体较好，资源随事下放一般")
    expect(card.get_by_role("button", name="提交评价")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The department reads the matter, and no rating form or rating on it.
    nongye = sign_in("nongye")
    nongye.goto(f"/matters/{matter}")
    expect(nongye.get_by_role("heading", name="评价本事项")).to_have_count(0)
    expect(nongye.locator("main")).not_to_contain_text("人员到位，经费尚缺一半")
