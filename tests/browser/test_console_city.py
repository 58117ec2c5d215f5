"""The city's office in the console, in Debian's chromium: it lands on the burden dashboard,
sees both counties' townships told apart by county (both have a 城关镇), narrows to one county
and exports it — and the page works on a phone. A county's reviewer sees only its county."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from engine.demo_city import load_demo_city
from engine.services.context import Context
from tests.browser.conftest import screenshot
from tests.conftest import DEMO_PASSWORD


def test_the_city_office_reads_every_county_s_burden(
    console_ctx: Context, sign_in: Callable[[str], Page]
) -> None:
    load_demo_city(console_ctx, DEMO_PASSWORD)
    city = sign_in("shi_bianban")
    expect(city.locator("h1")).to_have_text("统计看板")
    nav = city.get_by_role("navigation", name="主导航")
    for county_page in ("准入台账", "我的待办", "发起办理", "职责清单", "部门评价"):
        expect(nav.get_by_role("link", name=county_page)).to_have_count(0)
    table = city.locator("#chart-in-force").locator("..").locator("table")
    city.locator("#chart-in-force").locator("..").get_by_text("查看数据表").click()
    expect(table.get_by_role("rowheader", name="清河县城关镇")).to_be_visible()
    expect(table.get_by_role("rowheader", name="清源县城关镇")).to_be_visible()

    city.get_by_label("县（市、区）").select_option(label="清源县")
    city.get_by_role("button", name="查看").click()
    city.locator("#chart-in-force").locator("..").get_by_text("查看数据表").click()
    rows = table.get_by_role("rowheader")
    expect(rows).to_have_text(["白石乡", "城关镇", "河口镇"])
    with city.expect_download() as download:
        city.get_by_role("button", name="导出 Excel（含明细）").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    counties = {row[2] for row in book["乡镇"].iter_rows(min_row=2, values_only=True)}
    assert counties == {"清源县"}

    city.set_viewport_size({"width": 390, "height": 844})
    assert city.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(city, "city-dashboard-390")

    reviewer = sign_in("qy_bianban")
    reviewer.goto("/dashboard")
    expect(reviewer.get_by_label("县（市、区）")).to_have_count(0)
    reviewer.locator("#chart-in-force").locator("..").get_by_text("查看数据表").click()
    expect(
        reviewer.locator("#chart-in-force").locator("..").locator("table").get_by_role("rowheader")
    ).to_have_text(["白石乡", "城关镇", "河口镇"])


def test_a_township_picks_only_its_own_county_s_departments(
    console_ctx: Context, sign_in: Callable[[str], Page]
) -> None:
    load_demo_city(console_ctx, DEMO_PASSWORD)
    hekou = sign_in("qy_hekou")
    hekou.get_by_role("link", name="发起办理").click()
    hekou.get_by_role("link", name=re.compile("吹哨")).click()
    options = hekou.get_by_label("建议办理部门").locator("option")
    texts = [t.strip() for t in options.all_inner_texts()]
    assert "清源县农业农村局" in texts
    assert "县农业农村局" not in texts and "县民政局" not in texts
