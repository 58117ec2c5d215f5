"""Duty lists, pre-check and burden report over real HTTP."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from engine.duty_lists.demo_catalog import load_demo_catalog
from tests.factories import application

ITEMS = "/api/v1/catalog/items"


@pytest.fixture(autouse=True)
def lists(ctx) -> None:
    load_demo_catalog(ctx)


def error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["message"]
    if field is not None:
        assert field in body["errors"], body
    return body


def test_township_reads_its_own_list_and_searches_it(login) -> None:
    nanhu = login("nanhu")
    page = nanhu.get(ITEMS, params={"list_type": "basic", "per_page": 200}).json()
    names = [i["name"] for i in page["items"]]
    assert "老旧小区改造协调" in names and "秸秆禁烧" not in names
    assert page["total"] == len(names)
    found = nanhu.get(ITEMS, params={"q": "物业服务"}).json()["items"]
    assert found[0]["name"] == "住宅小区物业服务监督" and found[0]["scope"]["code"] == "nanhu"
    error(nanhu.get(ITEMS, params={"township": "chengguan"}), 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"list_type": "其他"}, "list_type"),
        ({"per_page": 0}, "per_page"),
        ({"township": "nowhere"}, "township"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_list_query_is_a_422_with_chinese_messages(login, params, field) -> None:
    body = error(login("bianban").get(ITEMS, params=params), 422, field)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(body["errors"][field]))


def test_gatekeeper_creates_edits_and_retires_an_item(login) -> None:
    bianban, nongye = login("bianban"), login("nongye")
    body = {"scope": "donghe", "list_type": "assisting", "category": "城乡建设", "name": "水库巡查"}
    error(nongye.post(ITEMS, json=body), 403)
    created = bianban.post(ITEMS, json=body)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["scope"] == {"code": "donghe", "name": "东河乡"} and not item["template"]
    edited = bianban.http.patch(
        f"{bianban.base_url}{ITEMS}/{item['id']}", json={"basis": "《水库大坝安全管理条例》"}
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    bad = bianban.http.patch(f"{bianban.base_url}{ITEMS}/{item['id']}", json={"name": ""})
    error(bad, 422, "name")
    retired = bianban.post(f"{ITEMS}/{item['id']}/retire", json={"reason": "水库已移交"})
    assert retired.json()["status"] == "retired"
    error(bianban.post(f"{ITEMS}/999999/retire", json={"reason": "x"}), 404)
    error(bianban.post(f"{ITEMS}/{item['id']}/retire", json={}), 422, "reason")
    assert "水库巡查" not in [i["name"] for i in login("donghe").get(ITEMS).json()["items"]]


def test_export_and_import_files(login) -> None:
    admin = login("admin")
    exported = admin.get("/api/v1/catalog/export", params={"format": "xlsx", "township": "beiling"})
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:5] == ["编码", "适用范围", "清单类型", "类别", "事项名称"]
    assert "护林员队伍管理" in [row[4] for row in sheet.iter_rows(values_only=True)]
    error(admin.get("/api/v1/catalog/export", params={"format": "pdf"}), 422, "format")

    good = (
        "编码,适用范围,清单类型,类别,事项名称\nN-1,beiling,基本履职事项,经济发展,林下经济产业发展\n"
    )
    bad = good + "N-2,beiling,基本履职事项,,缺类别\n"
    refused = admin.post("/api/v1/catalog/import", files={"file": ("l.csv", bad.encode())})
    body = error(refused, 422, "rows")
    assert list(body["errors"]["rows"]) == ["3"] and "category" in body["errors"]["rows"]["3"]
    assert "第 3 行" in body["message"]
    names = [
        i["name"] for i in login("beiling").get(ITEMS, params={"per_page": 200}).json()["items"]
    ]
    assert "林下经济产业发展" not in names
    stored = admin.post("/api/v1/catalog/import", files={"file": ("l.csv", good.encode())})
    assert stored.status_code == 200 and stored.json()["created"] == 1
    error(admin.post("/api/v1/catalog/import", json={"file": "x"}), 422, "file")
    error(login("beiling").post("/api/v1/catalog/import", files={"file": ("l.csv", b"")}), 403)


def test_precheck_before_filing(login) -> None:
    nongye = login("nongye")
    refused = nongye.post(
        "/api/v1/catalog/precheck", json=application(name="为村民出具婚姻状况证明")
    ).json()
    assert refused["blocking"] and not refused["can_submit"]
    assert "婚姻状况证明" in refused["refusal"]
    on_list = nongye.post("/api/v1/catalog/precheck", json=application(name="协助开展征兵工作"))
    assert [f["kind"] for f in on_list.json()["findings"]] == ["on_duty_list"]
    error(nongye.post("/api/v1/catalog/precheck", json=application(townships=[])), 422, "townships")
    error(login("donghe").post("/api/v1/catalog/precheck", json=application()), 403)


def test_near_duplicate_reaches_the_reviewer_named(login) -> None:
    nongye, jiaoyu = login("nongye"), login("jiaoyu")
    first = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    near = application(name="高标准农田项目巡查", townships=["donghe"])
    check = jiaoyu.post("/api/v1/catalog/precheck", json=near).json()
    [finding] = check["findings"]
    assert finding["kind"] == "duplicate_matter"
    assert finding["matter"]["instance_id"] == first.json()["id"]
    own = nongye.post(
        "/api/v1/catalog/precheck", params={"instance_id": first.json()["id"]}, json=application()
    ).json()
    assert own["findings"] == []
    error(
        jiaoyu.post(
            "/api/v1/catalog/precheck", params={"instance_id": first.json()["id"]}, json=near
        ),
        404,
    )


def test_burden_report_json_and_csv(login) -> None:
    nongye, jiwei = login("nongye"), login("jiwei")
    nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    report = jiwei.get("/api/v1/reports/burden").json()
    pending = {t["township"]["code"]: t["pending_applications"] for t in report["townships"]}
    assert pending == {"beiling": 0, "chengguan": 1, "donghe": 1, "nanhu": 0, "xishan": 0}
    own = nongye.get("/api/v1/reports/burden").json()
    assert [d["department"]["code"] for d in own["departments"]] == ["nongye"]
    assert own["departments"][0]["filed"] == 1 and own["townships"] == []
    as_csv = jiwei.get("/api/v1/reports/burden", params={"format": "csv"})
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][0] == "乡镇代码" and ["部门代码"] == rows[rows.index([]) + 1][:1]
    error(jiwei.get("/api/v1/reports/burden", params={"format": "xml"}), 422, "format")
    error(login().get("/api/v1/reports/burden"), 401)
    # The Excel workbook: the numbers and the lists behind them, named for its year.
    book = jiwei.get("/api/v1/reports/burden", params={"format": "xlsx", "year": 2025})
    assert book.status_code == 200 and "2025" in unquote(book.headers["Content-Disposition"])
    assert load_workbook(io.BytesIO(book.content)).sheetnames[:2] == ["乡镇", "部门"]
    error(jiwei.get("/api/v1/reports/burden", params={"year": "abc"}), 422, "year")
    error(jiwei.get("/api/v1/reports/burden", params={"year": 1999}), 422, "year")


def test_openapi_lists_the_catalog_endpoints(login) -> None:
    paths = login().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/catalog/items",
        "/api/v1/catalog/items/{item_id}",
        "/api/v1/catalog/items/{item_id}/retire",
        "/api/v1/catalog/export",
        "/api/v1/catalog/import",
        "/api/v1/catalog/precheck",
        "/api/v1/reports/burden",
    ):
        assert path in paths, path
