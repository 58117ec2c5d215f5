"""单位与人员 in the console (issue 15): the administrator adds a township and two people in it;
one signs in with the issued password, must choose their own before anything else, and is
signed out everywhere once deactivated; a rename keeps the old name in the history."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORT, screenshot

NEW_PASSWORD = "Qingshui-2026-dong"


def _issued_password(admin: Page) -> str:
    expect(admin.locator("#temporary-password")).to_be_visible()
    return admin.locator("#temporary-password").inner_text().strip()


def _add_person(admin: Page, name: str, username: str, role: str) -> str:
    form = admin.locator("section", has=admin.get_by_role("heading", name="新增人员"))
    form.get_by_label("姓名（职务）").fill(name)
    form.get_by_label("登录名").fill(username)
    form.get_by_label(role, exact=True).check()
    form.get_by_role("button", name="新增人员并生成临时密码").click()
    return _issued_password(admin)


def test_an_administrator_adds_a_township_and_its_people_who_choose_their_passwords(
    sign_in: Callable[[str], Page], browser: Browser, console: str
) -> None:
    admin = sign_in("admin")
    admin.get_by_role("link", name="单位与人员").click()
    expect(admin.locator("h1")).to_have_text("单位与人员")
    add = admin.locator("section", has=admin.get_by_role("heading", name="新增单位"))
    add.get_by_role("button", name="新增单位").click()  # nothing filled in
    expect(admin.locator(".error-summary")).to_contain_text("未能新增")
    add = admin.locator("section", has=admin.get_by_role("heading", name="新增单位"))
    add.get_by_label("单位名称").fill("清水镇")
    add.get_by_label("层级").select_option(label="乡镇（街道）")
    add.get_by_label("上级单位").select_option(label="清河县")
    add.get_by_role("button", name="新增单位").click()
    expect(admin.locator(".flash-success")).to_contain_text("清水镇")
    expect(admin.locator("h1")).to_contain_text("清水镇")

    # A person whose roles do not fit a township is refused, and what was typed stays.
    form = admin.locator("section", has=admin.get_by_role("heading", name="新增人员"))
    form.get_by_label("姓名（职务）").fill("刘静（清水镇党政办）")
    form.get_by_label("登录名").fill("qs_liu")
    form.get_by_role("button", name="新增人员并生成临时密码").click()
    expect(admin.locator(".error-summary")).to_contain_text("请至少选择一个角色")
    expect(form.get_by_label("登录名")).to_have_value("qs_liu")
    temporary = _add_person(admin, "刘静（清水镇党政办）", "qs_liu", "乡镇（街道）")
    screenshot(admin, "90-admin-adds-people")
    _add_person(admin, "陈刚（清水镇镇长）", "qs_chen", "干部（当事人）")
    people = admin.locator("section", has=admin.get_by_role("heading", name="人员（2）"))
    expect(people).to_contain_text("刘静（清水镇党政办）")
    expect(people).to_contain_text("待本人修改密码")

    # She signs in with the issued password and must choose her own before anything else.
    liu_ctx = browser.new_context(base_url=console, viewport=VIEWPORT, locale="zh-CN")
    liu = liu_ctx.new_page()
    liu.goto("/login")
    liu.get_by_label("用户名").fill("qs_liu")
    liu.get_by_label("密码").fill(temporary)
    liu.get_by_role("button", name="登录").click()
    expect(liu.locator("h1")).to_have_text("修改密码")
    expect(liu.locator(".lead")).to_contain_text("由管理员设置")
    liu.goto("/inbox")
    expect(liu.locator("h1")).to_have_text("修改密码")
    liu.get_by_label("当前密码").fill(temporary)
    liu.locator("#pw-new_password").fill("short")
    liu.get_by_label("再次输入新密码").fill("short")
    liu.get_by_role("button", name="修改密码").click()
    expect(liu.locator(".error-summary")).to_contain_text("至少 10 个字符")
    liu.get_by_label("当前密码").fill(temporary)
    liu.locator("#pw-new_password").fill(NEW_PASSWORD)
    liu.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    liu.get_by_role("button", name="修改密码").click()
    expect(liu.locator(".flash-success")).to_contain_text("密码已修改")
    expect(liu.locator("h1")).to_have_text("我的待办")

    # A rename keeps the old name in the township's history.
    edit = admin.locator("section", has=admin.get_by_role("heading", name="修改单位"))
    edit.get_by_label("单位名称").fill("清水街道")
    edit.get_by_role("button", name="保存修改").click()
    expect(admin.locator("h1")).to_contain_text("清水街道")
    expect(admin.get_by_role("region", name="沿革")).to_contain_text("清水镇")

    # Deactivated, she is signed out at her next page; she cannot sign in again.
    admin.get_by_role("link", name="刘静（清水镇党政办）").click()
    admin.get_by_role("button", name="停用账号").click()
    expect(admin.locator(".flash-success")).to_contain_text("已停用")
    liu.goto("/inbox")
    expect(liu.get_by_role("button", name="登录")).to_be_visible()
    liu.get_by_label("用户名").fill("qs_liu")
    liu.get_by_label("密码").fill(NEW_PASSWORD)
    liu.get_by_role("button", name="登录").click()
    expect(liu.locator("[role=alert], .error")).to_contain_text("用户名或密码错误")
    liu_ctx.close()

    # Retiring is refused while somebody still works there.
    admin.get_by_role("link", name="清水街道").click()
    admin.get_by_role("button", name="撤销本单位").click()
    expect(admin.locator(".flash-error")).to_contain_text("在用人员")


def test_the_people_pages_work_on_a_phone(browser: Browser, console: str, sign_in) -> None:
    admin = sign_in("admin")
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto("/people")
    expect(admin.locator("h1")).to_have_text("单位与人员")
    width = admin.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    admin.get_by_role("link", name="东河乡").click()
    expect(admin.locator("h1")).to_contain_text("东河乡")
    assert admin.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(admin, "91-people-on-a-phone")


def test_an_administrator_imports_people_from_a_file(
    sign_in: Callable[[str], Page], tmp_path
) -> None:
    admin = sign_in("admin")
    admin.goto("/people")
    bad = tmp_path / "人员.csv"
    bad.write_text(
        "登录名,姓名,单位编码,角色\n"
        "xs_he,何伟（西山镇党政办）,xishan,乡镇（街道）\n"
        "xs_lu,卢敏（西山镇综治办）,xishan,申请单位\n",
        encoding="utf-8",
    )
    admin.get_by_label("选择文件（.xlsx 或 .csv）").set_input_files(str(bad))
    admin.get_by_role("button", name="导入", exact=True).click()
    summary = admin.locator(".error-summary")
    expect(summary).to_contain_text("人员表第 3 行")
    expect(summary).to_contain_text("不能担任：申请单位")
    good = tmp_path / "people.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("申请单位", "乡镇（街道）"), "utf-8")
    admin.get_by_label("选择文件（.xlsx 或 .csv）").set_input_files(str(good))
    admin.get_by_role("button", name="导入", exact=True).click()
    expect(admin.locator("h1")).to_have_text("导入完成")
    expect(admin.locator(".lead")).to_contain_text("新增人员 2 名")
    rows = admin.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("何伟（西山镇党政办）")
    screenshot(admin, "92-people-imported")
