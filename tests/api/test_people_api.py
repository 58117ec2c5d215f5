"""Organisations and people kept by the county's administrators, over real HTTP (issue 15):
a new township and its people, issued passwords changed at first sign-in, a password policy,
renames that keep the old name, retiring, deactivation handing claimed tasks back."""

from __future__ import annotations

from tests.api.test_admission_api import complete, only_task
from tests.conftest import ApiClient
from tests.factories import application

STRONG = "Qinghe-2026-chun"


def _person(admin: ApiClient, **body: object) -> tuple[str, str]:
    created = admin.post("/api/v1/users", json=body)
    assert created.status_code == 201, created.text
    issued = created.json()
    assert issued["user"]["must_change_password"] is True
    return issued["user"]["username"], issued["temporary_password"]


def test_a_new_township_and_its_people_sign_in_and_choose_their_passwords(login, server) -> None:
    admin = login("admin")
    added = admin.post(
        "/api/v1/organizations",
        json={"code": "qingshui", "name": "清水镇", "level": "乡镇（街道）", "parent": "county"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["level"] == "township" and added.json()["parent_name"] == "清河县"
    username, temporary = _person(
        admin,
        username="qs_liu",
        display_name="刘静（清水镇党政办）",
        org="qingshui",
        roles=["township"],
        email="liujing@zhunru.example",
    )
    _person(
        admin,
        username="qs_chen",
        display_name="陈刚（清水镇镇长）",
        org="qingshui",
        roles=["township", "cadre"],
    )
    listed = admin.get("/api/v1/users?org=qingshui").json()
    assert [u["display_name"] for u in listed] == ["刘静（清水镇党政办）", "陈刚（清水镇镇长）"]
    assert (
        next(o for o in admin.get("/api/v1/organizations").json() if o["code"] == "qingshui")[
            "people"
        ]
        == 2
    )

    # The issued password signs in, but nothing can be done before choosing one's own.
    liu = ApiClient(server)
    signed = liu.sign_in(username, temporary)
    assert signed.status_code == 200 and signed.json()["must_change_password"] is True
    refused = liu.get("/api/v1/tasks")
    assert refused.status_code == 403 and "修改密码" in refused.json()["message"]
    assert liu.get("/api/v1/me").json()["must_change_password"] is True
    old_token = liu.http.headers["Authorization"]

    # The policy names what is wrong with a weak password, and changes nothing.
    for weak, reason in (
        ("short1A", "至少 10 个字符"),
        ("qinghezhen2026", "至少 3 类"),
        ("Qs_liu-2026-x", "用户名"),
    ):
        bad = liu.post(
            "/api/v1/me/password", json={"current_password": temporary, "new_password": weak}
        )
        assert bad.status_code == 422, bad.text
        assert reason in "".join(bad.json()["errors"]["new_password"]), bad.json()
    wrong = liu.post(
        "/api/v1/me/password", json={"current_password": "nope", "new_password": STRONG}
    )
    assert wrong.status_code == 422 and "current_password" in wrong.json()["errors"]

    changed = liu.post(
        "/api/v1/me/password", json={"current_password": temporary, "new_password": STRONG}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    # The token from before the change no longer works; the new one does.
    assert liu.get("/api/v1/tasks").status_code == 401
    liu.http.headers["Authorization"] = f"Bearer {changed.json()['access_token']}"
    assert liu.get("/api/v1/tasks").status_code == 200
    assert ApiClient(server).sign_in(username, temporary).status_code == 401
    assert ApiClient(server).sign_in(username, STRONG).status_code == 200
    assert old_token != liu.http.headers["Authorization"]

    # The new township can be addressed by an application.
    nongye = login("nongye")
    filed = nongye.post(
        "/api/v1/processes/matter_admission/instances",
        json=application(townships=["qingshui"]),
    )
    assert filed.status_code == 201, filed.text


def test_only_administrators_keep_people_and_bad_input_changes_nothing(login) -> None:
    admin, bianban = login("admin"), login("bianban")
    for path in ("/api/v1/users", "/api/v1/organizations", "/api/v1/users/nongye"):
        assert bianban.get(path).status_code == 403
    assert bianban.post("/api/v1/users/nongye/password-reset").status_code == 403
    assert (
        bianban.patch("/api/v1/users/bianban", json={"roles": ["reviewer", "admin"]}).status_code
        == 403
    )

    orgs_before = admin.get("/api/v1/organizations").json()
    users_before = admin.get("/api/v1/users?per_page=200").json()
    bad_orgs = (
        ({"code": "x y", "name": "某镇", "level": "township", "parent": "county"}, "code"),
        ({"code": "mouzhen", "name": " ", "level": "township", "parent": "county"}, "name"),
        ({"code": "mouzhen", "name": "某镇", "level": "province", "parent": "county"}, "level"),
        ({"code": "mouzhen", "name": "某市", "level": "city", "parent": "county"}, "parent"),
        ({"code": "mouzhen", "name": "某镇", "level": "township", "parent": "donghe"}, "parent"),
        ({"code": "mouzhen", "name": "某镇", "level": "township"}, "parent"),
        ({"code": "mouzhen", "name": "某镇", "level": "township", "parent": "nowhere"}, "parent"),
        ({"code": "donghe", "name": "某镇", "level": "township", "parent": "county"}, "code"),
    )
    for body, field in bad_orgs:
        refused = admin.post("/api/v1/organizations", json=body)
        assert refused.status_code == 422 and field in refused.json()["errors"], (
            body,
            refused.text,
        )
    bad_users = (
        (
            {"username": "zhao", "display_name": "赵", "org": "donghe", "roles": ["applicant"]},
            "roles",
        ),
        ({"username": "zhao", "display_name": "赵", "org": "donghe", "roles": []}, "roles"),
        ({"username": "zhao", "display_name": "赵", "org": "donghe", "roles": ["king"]}, "roles"),
        (
            {"username": "nongye", "display_name": "赵", "org": "donghe", "roles": ["township"]},
            "username",
        ),
        (
            {"username": "zhao", "display_name": "赵", "org": "nowhere", "roles": ["township"]},
            "org",
        ),
        (
            {
                "username": "zhao",
                "display_name": "赵",
                "org": "donghe",
                "roles": ["township"],
                "email": "x",
            },
            "email",
        ),
        (
            {"username": "Zhao Min", "display_name": "赵", "org": "donghe", "roles": ["township"]},
            "username",
        ),
    )
    for body, field in bad_users:
        refused = admin.post("/api/v1/users", json=body)
        assert refused.status_code == 422 and field in refused.json()["errors"], (
            body,
            refused.text,
        )
    assert admin.post("/api/v1/users", json=["x"]).status_code == 422
    assert admin.patch("/api/v1/users/nongye", json={}).status_code == 422
    assert admin.patch("/api/v1/users/nobody", json={"active": False}).status_code == 404
    assert admin.get("/api/v1/users?per_page=0").status_code == 422
    # An administrator cannot lock themselves out.
    assert admin.patch("/api/v1/users/admin", json={"active": False}).status_code == 403
    assert admin.patch("/api/v1/users/admin", json={"roles": ["auditor"]}).status_code == 403
    assert admin.get("/api/v1/organizations").json() == orgs_before
    assert admin.get("/api/v1/users?per_page=200").json() == users_before


def test_a_renamed_township_keeps_its_old_name_and_retires_only_when_empty(login) -> None:
    admin = login("admin")
    renamed = admin.patch("/api/v1/organizations/beiling", json={"name": "北岭镇"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "北岭镇"
    assert [f["name"] for f in renamed.json()["former_names"]] == ["北岭乡"]

    refused = admin.patch("/api/v1/organizations/beiling", json={"active": False})
    assert refused.status_code == 409 and "在用人员" in refused.json()["message"]
    assert admin.patch("/api/v1/users/beiling", json={"active": False}).status_code == 200
    retired = admin.patch("/api/v1/organizations/beiling", json={"active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    # A retired township takes no new matter and no new person.
    filed = login("nongye").post(
        "/api/v1/processes/matter_admission/instances",
        json=application(townships=["chengguan", "beiling"]),
    )
    assert filed.status_code == 422 and "已撤销" in str(filed.json()["errors"])
    person = admin.post(
        "/api/v1/users",
        json={
            "username": "bl_new",
            "display_name": "新人",
            "org": "beiling",
            "roles": ["township"],
        },
    )
    assert person.status_code == 422 and "已撤销" in str(person.json()["errors"])
    # The trail has the whole story, on the administrative chain.
    assert admin.patch("/api/v1/organizations/beiling", json={"active": True}).status_code == 200


def test_a_deactivated_person_is_signed_out_and_their_claimed_task_goes_back(login, server) -> None:
    admin, sifa = login("admin"), login("sifa")
    username, temporary = _person(
        admin,
        username="ny_clerk",
        display_name="孙丽（县农业农村局科员）",
        org="nongye",
        roles=["applicant"],
    )
    clerk = ApiClient(server)
    clerk.sign_in(username, temporary)
    changed = clerk.post(
        "/api/v1/me/password", json={"current_password": temporary, "new_password": STRONG}
    )
    clerk.http.headers["Authorization"] = f"Bearer {changed.json()['access_token']}"
    filed = clerk.post("/api/v1/processes/matter_admission/instances", json=application())
    assert filed.status_code == 201, filed.text
    complete(sifa, "legal_review", {"opinion": "needs_change", "comment": "经费来源须写明"})
    revise = only_task(clerk, "revise")
    assert clerk.post(f"/api/v1/tasks/{revise['id']}/claim").status_code == 200
    # A colleague in the same office does not see a task someone else claimed.
    nongye = login("nongye")
    assert [t for t in nongye.get("/api/v1/tasks").json() if t["bpmn_id"] == "revise"] == []
    assert admin.get(f"/api/v1/users/{username}").json()["claimed_tasks"] == 1

    off = admin.patch(f"/api/v1/users/{username}", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert off.json()["claimed_tasks"] == 0
    assert clerk.get("/api/v1/tasks").status_code == 401
    assert ApiClient(server).sign_in(username, STRONG).status_code == 401
    back = only_task(nongye, "revise")
    assert back["assignee"] is None
    trail = admin.get(f"/api/v1/instances/{filed.json()['id']}/trail")
    actions = [
        e["action"]
        for e in login("jiwei").get(f"/api/v1/instances/{filed.json()['id']}/trail").json()
    ]
    assert "task_released" in actions, (trail.status_code, actions)


def test_a_reset_password_lifts_a_lock_and_must_be_changed(login, server) -> None:
    admin = login("admin")
    for _ in range(5):  # the fifth failure locks the name
        assert ApiClient(server).sign_in("donghe", "wrong-password").status_code in (401, 429)
    assert ApiClient(server).sign_in("donghe", "zhunru-demo").status_code == 429
    reset = admin.post("/api/v1/users/donghe/password-reset")
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    assert ApiClient(server).sign_in("donghe", "zhunru-demo").status_code == 401
    person = ApiClient(server)
    assert person.sign_in("donghe", temporary).json()["must_change_password"] is True
    assert person.get("/api/v1/instances").status_code == 403


def test_an_administrator_imports_and_exports_people_over_http(login, server) -> None:
    admin = login("admin")
    table = (
        "登录名,姓名,单位编码,角色,电子邮箱\n"
        "dh_wang,王磊（东河乡党政办）,donghe,乡镇（街道）,\n"
        "ny_zhao,赵强（县农业农村局规划科）,nongye,申请单位,zhaoqiang@zhunru.example\n"
    )
    refused = login("bianban").post(
        "/api/v1/users/import", files={"file": ("people.csv", table.encode())}
    )
    assert refused.status_code == 403
    imported = admin.post("/api/v1/users/import", files={"file": ("people.csv", table.encode())})
    assert imported.status_code == 200, imported.text
    result = imported.json()
    assert result["people_created"] == 2
    issued = {p["username"]: p["temporary_password"] for p in result["new_people"]}
    signed = ApiClient(server).sign_in("dh_wang", issued["dh_wang"])
    assert signed.status_code == 200 and signed.json()["organization"] == "donghe"

    bad = table.replace("dh_wang,王磊（东河乡党政办）,donghe", "dh_li,李四,nowhere")
    refused = admin.post("/api/v1/users/import", files={"file": ("people.csv", bad.encode())})
    assert refused.status_code == 422
    assert "人员表第 2 行" in refused.json()["message"], refused.json()
    assert admin.get("/api/v1/users/dh_li").status_code == 404
    assert admin.post("/api/v1/users/import").status_code == 422

    exported = admin.get("/api/v1/users/export?format=csv&table=people")
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    assert "赵强（县农业农村局规划科）" in text and "申请单位" in text
    assert admin.get("/api/v1/users/export?format=pdf").status_code == 422
    assert admin.get("/api/v1/users/export?format=csv").status_code == 422
    workbook = admin.get("/api/v1/users/export?format=xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
