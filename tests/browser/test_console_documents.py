"""文书 in the console (issue 15): 县委编办 prints the 批复 of an approved matter with its 文号;
the applicant downloads the same file, whose SHA-256 the trail holds."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.walk import admitted_via_api


def test_the_gatekeeper_prints_the_approval_reply_with_its_number(
    sign_in: Callable[[str], Page], api: Any
) -> None:
    matter = admitted_via_api(api)
    bianban = sign_in("bianban")
    bianban.goto(f"/matters/{matter}")
    section = bianban.get_by_role("region", name="文书")
    section.get_by_role("button", name="出具事项准入批复").click()
    flash = bianban.locator(".flash-success")
    expect(flash).to_contain_text("已出具“事项准入批复”")
    number = re.search(r"清编准〔\d{4}〕\d+号", flash.inner_text()).group(0)
    link = bianban.get_by_role("link", name=re.compile("事项准入批复"))
    expect(link).to_contain_text(number)
    # Issued once: the button is gone.
    expect(bianban.get_by_role("button", name="出具事项准入批复")).to_have_count(0)
    screenshot(bianban, "93-approval-reply-issued")
    with bianban.expect_download() as download:
        link.click()
    printed = download.value.path().read_bytes()
    assert printed[:5] == b"%PDF-"

    # The applicant downloads the same bytes; the trail holds their hash.
    trail = api("nongye").get(f"/api/v1/instances/{matter}/trail").json()
    [issued] = [e for e in trail if e["action"] == "document_issued"]
    assert issued["payload"]["sha256"] == hashlib.sha256(printed).hexdigest()
    nongye = sign_in("nongye")
    nongye.goto(f"/matters/{matter}")
    # The applicant issues only its own application form, never the 批复.
    expect(nongye.get_by_role("button", name=re.compile("出具"))).to_have_text(
        ["出具事项准入申请表"]
    )
    expect(nongye.locator("#trail-title ~ *").first).to_be_visible()
    expect(nongye.get_by_text("出具文书").first).to_be_visible()
