"""Text hygiene over real HTTP: no text input takes a control character, and no export breaks
on one stored before that rule (issue 12)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.duty_lists.demo_catalog import load_demo_catalog
from engine.duty_lists.models_catalog import DutyItem
from tests import accountability_factories as af
from tests.api.test_admission_api import only_task
from tests.api.test_bad_input import assert_error
from tests.factories import application

ITEMS = "/api/v1/catalog/items"
EXPORT = "/api/v1/catalog/export"
APPLY = "/api/v1/processes/matter_admission/instances"
ITEM = {"scope": "donghe", "list_type": "assisting", "category": "城乡建设", "name": "水库巡查"}
NEW_CASE = {
    "subject_kind": "person",
    "subject_username": "lihua",
    "matter_reported": "被反映在危房改造评定中优亲厚友",
    "responsibility_level": "principal",
}


@pytest.fixture(autouse=True)
def lists(ctx) -> None:
    load_demo_catalog(ctx)


def _message(body: dict, *path: str) -> str:
    errors = body["errors"]
    for key in path:
        errors = errors[key]
    return str(errors)


def _sheet_rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


def test_a_duty_item_named_with_a_control_character_is_refused_and_export_still_works(
    login,
) -> None:
    bianban = login("bianban")
    refused = bianban.post(ITEMS, json={**ITEM, "name": "水库\x0b巡查"})
    assert "控制字符（U+000B）" in _message(assert_error(refused, 422, "name"), "name")
    exported = login("admin").get(EXPORT, params={"format": "xlsx"})
    assert exported.status_code == 200, exported.text
    assert not [row for row in _sheet_rows(exported.content) if row[4] and "\x0b" in row[4]]


def test_a_control_character_stored_before_the_rule_does_not_break_the_exports(login, ctx) -> None:
    created = login("bianban").post(ITEMS, json=ITEM)
    assert created.status_code == 201, created.text
    with ctx.db.write() as session:
        item = session.scalar(select(DutyItem).where(DutyItem.id == created.json()["id"]))
        item.name = "水库\x01巡查"
        item.description = "第一行\n第二行\t\x1f附注"
    admin = login("admin")

    as_xlsx = admin.get(EXPORT, params={"format": "xlsx", "township": "donghe"})
    assert as_xlsx.status_code == 200, as_xlsx.text
    rows = {row[0]: row for row in _sheet_rows(as_xlsx.content)[1:]}
    row = rows[created.json()["code"]]
    assert row[4] == "水库\ufffd巡查" and row[5] == "第一行\n第二行\t\ufffd附注"

    as_csv = admin.get(EXPORT, params={"format": "csv", "township": "donghe"})
    assert as_csv.status_code == 200
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert ["水库\ufffd巡查", "第一行\n第二行\t\ufffd附注"] in [r[4:6] for r in table]
    # What was exported can be imported again: the marked character is ordinary text.
    again = admin.post("/api/v1/catalog/import", files={"file": ("l.csv", as_csv.content)})
    assert again.status_code == 200, again.text


def _case_id(login, username: str) -> int:
    return login(username).get("/api/v1/cases").json()["items"][0]["id"]


# (who, method, path or a function of the login fixture giving it, body, field path, message)
BAD_TEXT = [
    ("nongye", "post", APPLY, application(name="巡查\t台账"), ("name",), "只能填写一行"),
    ("nongye", "post", APPLY, application(basis="依据\x1f"), ("basis",), "U+001F"),
    ("nongye", "post", APPLY, application(content="内容\x7f"), ("content",), "U+007F"),
    ("nongye", "post", APPLY, application(reason="理由\x85"), ("reason",), "U+0085"),
    ("nongye", "post", APPLY, application(name="巡查\ufffe"), ("name",), "无效字符"),
    ("nongye", "post", APPLY, application(townships=["chengguan\x01"]), ("townships",), "U+0001"),
    (
        "nongye",
        "post",
        APPLY,
        application(resources={"funding_yuan": 1, "powers": "权限\x1b"}),
        ("resources", "powers"),
        "U+001B",
    ),
    ("nongye", "post", "/api/v1/catalog/precheck", application(name="a\rb"), ("name",), "一行"),
    ("bianban", "post", ITEMS, {**ITEM, "category": "城乡\x02建设"}, ("category",), "U+0002"),
    (
        "bianban",
        "post",
        ITEMS,
        {**ITEM, "responsible_body": "乡\n镇"},
        ("responsible_body",),
        "一行",
    ),
    ("bianban", "post", ITEMS, {**ITEM, "basis": "条例\x0c"}, ("basis",), "U+000C"),
    ("bianban", "post", ITEMS, {**ITEM, "code": "X\x00"}, ("code",), "空字符"),
    (
        "jiwei",
        "post",
        "/api/v1/cases",
        {**NEW_CASE, "matter_reported": "被反映\x03"},
        ("matter_reported",),
        "U+0003",
    ),
    (
        "jiwei",
        "post",
        "/api/v1/cases",
        {**NEW_CASE, "subject_position": "副镇长\n"},
        ("subject_position",),
        "一行",
    ),
    (
        "jiwei",
        "post",
        lambda login: f"/api/v1/cases/{_case_id(login, 'zhangming')}/findings",
        {"finding": "untrue", "harm": True, "note": "失实\x04"},
        ("note",),
        "U+0004",
    ),
    (
        "zhangming",
        "post",
        "/api/v1/processes/fault_tolerance/instances",
        lambda login: af.ft_application(case_id=_case_id(login, "zhangming"), facts="事实\x06"),
        ("facts",),
        "U+0006",
    ),
    (
        "zhangming",
        "post",
        "/api/v1/processes/fault_tolerance/instances",
        lambda login: af.ft_application(
            case_id=_case_id(login, "zhangming"), distinctions=["inexperience\x07"]
        ),
        ("distinctions",),
        "U+0007",
    ),
    (
        None,
        "post",
        "/api/v1/auth/token",
        {"username": "nongye\x01", "password": "x" * 8},
        ("username",),
        "U+0001",
    ),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "field", "message"), BAD_TEXT)
def test_every_text_input_refuses_control_characters_with_a_field_message(
    login, who, method, path, body, field, message
) -> None:
    client = login(who)
    path = path(login) if callable(path) else path
    body = body(login) if callable(body) else body
    refused = getattr(client.http, method)(client.base_url + path, json=body, timeout=30)
    found = assert_error(refused, 422, field[0])
    assert message in _message(found, *field), found


def test_bad_text_in_a_task_form_is_refused(login) -> None:
    nongye, sifa = login("nongye"), login("sifa")
    assert nongye.post(APPLY, json=application()).status_code == 201
    task = only_task(sifa, "legal_review")
    body = {"opinion": "needs_change", "comment": "请补充\x08依据"}
    refused = sifa.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
    assert "U+0008" in _message(assert_error(refused, 422, "comment"), "comment")


@pytest.mark.parametrize(
    ("who", "path", "params", "field"),
    [
        ("bianban", ITEMS, {"q": "水库\x01"}, "q"),
        ("jiwei", "/api/v1/instances", {"township": "chengguan\x1f"}, "township"),
        ("jiwei", "/api/v1/audit/events", {"actor": "nongye\n"}, "actor"),
    ],
)
def test_queries_refuse_control_characters(login, who, path, params, field) -> None:
    assert_error(login(who).get(path, params=params), 422, field)


def test_multi_line_text_keeps_tabs_and_line_breaks_and_stores_crlf_as_lf(login) -> None:
    content = "每月巡查一次：\r\n\t一、核对台账\r二、报送"
    filed = login("nongye").post(APPLY, json=application(content=content))
    assert filed.status_code == 201, filed.text
    stored = filed.json()["data"]["application"]["content"]
    assert stored == "每月巡查一次：\n\t一、核对台账\n二、报送"


def test_imported_rows_and_file_names_refuse_control_characters(login) -> None:
    admin = login("admin")
    header = "编码,适用范围,清单类型,类别,事项名称,事项描述\r\n"
    good = 'N-1,beiling,基本履职事项,经济发展,林下经济,"第一行\r\n第二行"\r\n'
    bad = "N-2,beiling,基本履职事项,经济发展,林下\x1e经济二,\r\n"
    refused = admin.post(
        "/api/v1/catalog/import", files={"file": ("l.csv", (header + good + bad).encode())}
    )
    body = assert_error(refused, 422, "rows")
    assert list(body["errors"]["rows"]) == ["4"]  # the quoted description spans lines 2-3
    assert "U+001E" in str(body["errors"]["rows"]["4"]["name"])
    named = admin.post(
        "/api/v1/catalog/import", files={"file": ("清单\x01.csv", (header + good).encode())}
    )
    assert "控制字符" in str(assert_error(named, 422, "file")["errors"]["file"])
    stored = admin.post(
        "/api/v1/catalog/import", files={"file": ("l.csv", (header + good).encode())}
    )
    assert stored.status_code == 200, stored.text
    items = login("beiling").get(ITEMS, params={"q": "林下经济"}).json()["items"]
    assert [i["description"] for i in items if i["code"] == "N-1"] == ["第一行\n第二行"]


def test_an_administrators_intervention_reason_follows_the_same_rule(login) -> None:
    filed = login("nongye").post(APPLY, json=application())
    assert filed.status_code == 201, filed.text
    admin = login("admin")
    path = f"/api/v1/instances/{filed.json()['id']}/suspend"
    for bad, shown in (
        ("巡查\x85暂停", "U+0085"),
        ("暂停\ufffe", "U+FFFE"),
        ("暂停\x0b", "U+000B"),
    ):
        body = assert_error(admin.post(path, json={"reason": bad}), 422, "reason")
        assert shown in _message(body, "reason")
    suspended = admin.post(path, json={"reason": "核查材料\r\n暂停办理"})
    assert suspended.status_code == 200, suspended.text
