"""挂牌、工作机制、证明事项 in the console (issue 16), in Debian's chromium: 县农业农村局 asks to
have villages hang a new signboard; a certificate on the negative list is refused on the form;
县委编办 approves the signboard and it is on the villages' 挂牌清单 in 职责清单."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.walk import open_task, submit_task

NAME = "农村产权交易服务站"


def ask(page: Page, kind: str, name: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="发起办理").click()
    page.get_by_role("link", name=re.compile("挂牌、机制和证明事项准入")).click()
    page.get_by_label(kind, exact=True).check()
    page.get_by_label(re.compile("^名称")).fill(name)
    page.get_by_label("要求村（社区）做什么").fill("在村委会办公场所悬挂牌子并受理咨询")
    page.get_by_label("依据").fill("县农村产权流转交易管理办法")
    page.get_by_label("必要性").fill("方便村民就近咨询")
    page.get_by_role("button", name=re.compile("提交")).click()


def test_a_signboard_is_listed_and_a_forbidden_certificate_refused(
    sign_in: Callable[[str], Page],
) -> None:
    nongye = sign_in("nongye")
    ask(nongye, "证明事项", "亲属关系证明")
    expect(nongye.locator('[data-field="name"] .field-error')).to_contain_text("负面清单")
    ask(nongye, "挂牌", NAME)
    expect(nongye.locator(".flash-success")).to_contain_text("审核列入清单")

    bianban = sign_in("bianban")
    open_task(bianban, "审核列入清单", title=NAME)
    bianban.get_by_label("同意，列入清单").check()
    submit_task(bianban, "审核列入清单")
    expect(bianban.locator("h1")).to_contain_text("已列入清单")
    bianban.get_by_role("link", name="职责清单").click()
    bianban.get_by_label("清单", exact=True).select_option(label="村（社区）挂牌清单")
    bianban.get_by_role("button", name="查询").click()
    expect(bianban.locator("table.catalog")).to_contain_text(NAME)
    expect(bianban.locator("table.catalog")).to_contain_text("村务监督委员会")
