"""A new office's person files with attachments, and the auditor proves the whole file
(issue 15), in Debian's chromium: the administrator adds 县水利局 and its clerk; she signs in
with the issued password, chooses her own, files an application with the policy document and
the funding estimate (a file that is not what it says is refused first, nothing filed); 县委编办
prints the 批复 with its 文号; the auditor exports the matter's file, and the offline verifier
passes it."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from engine.services.context import Context
from tests import files
from tests.browser.conftest import VIEWPORT, screenshot
from tests.browser.test_console_people import NEW_PASSWORD, _add_person
from tests.browser.walk import fill_application
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS
from tests.test_verify_export import run_verifier
from tests.trail_helpers import ORIGIN, configure_key

TITLE = "小型水库巡查"


def _new_office_with_a_clerk(admin: Page) -> str:
    admin.get_by_role("link", name="单位与人员").click()
    add = admin.locator("section", has=admin.get_by_role("heading", name="新增单位"))
    add.get_by_label("单位名称").fill("县水利局")
    add.get_by_label("层级").select_option(label="部门")
    add.get_by_label("上级单位").select_option(label="清河县")
    add.get_by_role("button", name="新增单位").click()
    expect(admin.locator("h1")).to_contain_text("县水利局")
    return _add_person(admin, "吴敏（县水利局办公室）", "shuili_wu", "申请单位")


def _chooses_her_password(browser: Browser, console: str, temporary: str) -> Page:
    page = browser.new_context(base_url=console, viewport=VIEWPORT, locale="zh-CN").new_page()
    page.goto("/login")
    page.get_by_label("用户名").fill("shuili_wu")
    page.get_by_label("密码").fill(temporary)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("修改密码")
    page.get_by_label("当前密码").fill(temporary)
    page.locator("#pw-new_password").fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".flash-success")).to_contain_text("密码已修改")
    return page


def _through_the_county(api: Any, matter: int) -> None:
    """审查、审核、审批 and both townships' confirmation, through the API."""
    for username, form in (
        ("sifa", LAWFUL),
        ("bianban", PASS),
        ("xianwei", APPROVE),
        ("chengguan", CONFIRM),
        ("donghe", CONFIRM),
    ):
        client = api(username)
        task = next(t for t in client.get("/api/v1/tasks").json() if t["instance_id"] == matter)
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
        assert done.status_code == 200, done.text


def test_a_new_clerk_files_with_attachments_and_the_auditor_proves_the_file(
    sign_in: Callable[[str], Page],
    browser: Browser,
    console: str,
    console_ctx: Context,
    api: Any,
    tmp_path: Path,
) -> None:
    key = configure_key(console_ctx, tmp_path).verifier.text()
    temporary = _new_office_with_a_clerk(sign_in("admin"))
    wu = _chooses_her_password(browser, console, temporary)

    basis, estimate = files.pdf(2), files.docx()
    (tmp_path / "水库管理办法.pdf").write_bytes(basis)
    (tmp_path / "经费测算.docx").write_bytes(estimate)
    (tmp_path / "照片.jpg").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 200)  # a broken image

    wu.get_by_role("link", name="新建申请").click()
    fill_application(wu, TITLE)
    picker = wu.get_by_label("附件", exact=True)
    picker.set_input_files([str(tmp_path / "水库管理办法.pdf"), str(tmp_path / "照片.jpg")])
    wu.get_by_role("button", name="提交申请").click()
    expect(wu.locator(".error-summary")).to_contain_text("照片.jpg")
    expect(wu.locator(".error-summary")).to_contain_text("损坏")
    expect(wu.get_by_label("事项名称")).to_have_value(TITLE)  # what was typed stays

    picker = wu.get_by_label("附件", exact=True)
    picker.set_input_files([str(tmp_path / "水库管理办法.pdf"), str(tmp_path / "经费测算.docx")])
    wu.get_by_role("button", name="提交申请").click()
    expect(wu.locator(".flash-success")).to_contain_text("申请已提交")
    matter = int(re.search(r"/matters/(\d+)", wu.url).group(1))
    section = wu.get_by_role("region", name="附件")
    expect(section.get_by_role("link", name="水库管理办法.pdf")).to_be_visible()
    expect(section.get_by_role("link", name="经费测算.docx")).to_be_visible()
    expect(section).to_contain_text("随“申请”提交")
    screenshot(wu, "95-filed-with-attachments")
    with wu.expect_download() as download:
        section.get_by_role("link", name="经费测算.docx").click()
    assert download.value.path().read_bytes() == estimate
    # Only one application was filed, though the first attempt uploaded a file.
    mine = api("jiwei").get("/api/v1/instances?per_page=100").json()["items"]
    assert [m["title"] for m in mine].count(TITLE) == 1

    # A supplement on a slow line: the page shows how much has gone up, then the file is there.
    (tmp_path / "现场照片.jpg").write_bytes(files.photo())
    slow = wu.context.new_cdp_session(wu)
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 64 * 1024},
    )
    section.get_by_label("补充附件").set_input_files(str(tmp_path / "现场照片.jpg"))
    section.get_by_role("button", name="上传").click()
    expect(wu.locator(".upload-progress")).to_contain_text("已上传")
    expect(wu.locator(".flash-success")).to_contain_text("已添加附件“现场照片.jpg”", timeout=60_000)
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(wu.get_by_role("region", name="附件")).to_contain_text("补充")

    _through_the_county(api, matter)
    bianban = sign_in("bianban")
    bianban.goto(f"/matters/{matter}")
    bianban.get_by_role("region", name="文书").get_by_role(
        "button", name="出具事项准入批复"
    ).click()
    expect(bianban.locator(".flash-success")).to_contain_text("清编准〔")

    assert api("jiwei").post("/api/v1/audit/checkpoints").status_code == 201
    jiwei = sign_in("jiwei")
    jiwei.goto(f"/matters/{matter}")
    with jiwei.expect_download() as download:
        jiwei.get_by_role("link", name="导出卷宗").click()
    exported = download.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        listed = json.loads(archive.read("manifest.json"))["files"]
    assert {f["sha256"] for f in listed} >= {
        hashlib.sha256(basis).hexdigest(),
        hashlib.sha256(estimate).hexdigest(),
    }
    assert any(f["path"].startswith("documents/") for f in listed)
    path = tmp_path / "卷宗.zip"
    path.write_bytes(exported)
    verified = run_verifier(path, "--key", key, "--origin", ORIGIN, "--strict")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "4 个文件，0 处不符" in verified.stdout
