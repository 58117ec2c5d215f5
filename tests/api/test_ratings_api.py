"""考核评价权 over real HTTP (issue 16), from the shipped package bpmn/department_rating: each
township rates each county department once a year on the package's dimensions; the county's
assessing offices read the summary (mean points, 差 counted, the needs each department led)
and export it; a department reads only its own summary, and only once three townships have
rated it; nobody reads back who rated how but the township and the assessing offices."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.api.test_bad_input import assert_error
from tests.api.test_inspections_api import admit
from tests.factories import application

RATE = "/api/v1/processes/department_rating/instances"
SUMMARY = "/api/v1/reports/department-ratings"


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


def rating(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "year": this_year(),
        "department": "nongye",
        "responsiveness": "excellent",
        "burden": "good",
        "resources": "fair",
        "service": "good",
        "overall": "good",
    }
    values.update(changes)
    return values


def rated(client: Any, **changes: Any) -> dict[str, Any]:
    response = client.post(RATE, json=rating(**changes))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "recorded"
    return response.json()


def scores(client: Any, code: str) -> dict[str, Any]:
    body = client.get(f"{SUMMARY}?year={this_year()}").json()
    return next(d for d in body["departments"] if d["department"]["code"] == code)


def test_townships_rate_and_the_assessing_office_reads_the_means(login: Any) -> None:
    chengguan, donghe, xishan = login("chengguan"), login("donghe"), login("xishan")
    first = rated(chengguan)
    rated(donghe, overall="poor", comment="多次下派未准入事项", burden="poor")
    # The package's points: 好 100, 较好 85, 一般 70, 差 50.
    zuzhibu = login("zuzhibu")
    row = scores(zuzhibu, "nongye")
    assert row["raters"] == 2 and row["poor"] == 1
    assert row["means"]["responsiveness"] == 100.0
    assert row["means"]["overall"] == (85 + 50) / 2
    assert row["means"]["burden"] == (85 + 50) / 2
    assert scores(zuzhibu, "jiaoyu")["raters"] == 0
    assert scores(zuzhibu, "jiaoyu")["means"]["overall"] is None
    # Who rated how: the township and the assessing offices; never the department rated.
    url = f"/api/v1/instances/{first['id']}"
    assert zuzhibu.get(url).status_code == 200 and login("xianwei").get(url).status_code == 200
    assert login("nongye").get(url).status_code == 404
    assert donghe.get(url).status_code == 404
    # Too few raters: the department does not read its own summary yet; with three it does.
    own = login("nongye").get(f"{SUMMARY}?year={this_year()}").json()["departments"]
    assert [(d["department"]["code"], d["hidden"], d["means"]["overall"]) for d in own] == [
        ("nongye", True, None)
    ]
    rated(xishan)
    [mine] = login("nongye").get(f"{SUMMARY}?year={this_year()}").json()["departments"]
    assert not mine["hidden"] and mine["raters"] == 3 and mine["poor"] == 1
    assert login("chengguan").get(SUMMARY).status_code == 403


def test_a_department_is_rated_once_a_year_by_a_township(login: Any) -> None:
    chengguan = login("chengguan")
    rated(chengguan, department="jiaoyu")
    again = chengguan.post(RATE, json=rating(department="jiaoyu"))
    assert again.status_code == 409 and "已评价过县教育局" in again.json()["message"]
    rated(chengguan, department="jiaoyu", year=this_year() - 1)  # last year's is another
    for changes, field in (
        ({"year": this_year() - 2}, "year"),
        ({"year": this_year() + 1}, "year"),
        ({"department": "chengguan"}, "department"),  # a township is no department
        ({"department": "nowhere"}, "department"),
        ({"overall": "poor"}, "comment"),
        ({"burden": "bad"}, "burden"),
    ):
        assert_error(chengguan.post(RATE, json=rating(**changes)), 422, field)
    assert login("nongye").post(RATE, json=rating(department="jiaoyu")).status_code == 403


def test_the_summary_exports_for_the_assessment_office(login: Any) -> None:
    rated(login("chengguan"), department="minzheng", overall="excellent")
    zuzhibu = login("zuzhibu")
    table = zuzhibu.get(f"{SUMMARY}?year={this_year()}&format=csv")
    assert table.status_code == 200 and table.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["部门", "评价乡镇数", "回应乡镇需求（平均分）"]
    assert rows[1][0] == "县民政局" and rows[1][1] == "1"  # the best first
    book = zuzhibu.get(f"{SUMMARY}?year={this_year()}&format=xlsx")
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet.title == f"{this_year()}年度部门考核评价"
    assert sheet.cell(2, 1).value == "县民政局" and sheet.cell(2, 2).value == 1
    assert_error(zuzhibu.get(f"{SUMMARY}?format=pdf"), 422, "format")
    assert_error(zuzhibu.get(f"{SUMMARY}?year=abc"), 422, "year")


def test_townships_rate_the_department_behind_each_matter_they_carry(login: Any) -> None:
    """Per matter: each township carrying an admitted matter rates its department once; the
    department reads only sums, and only once three townships have rated its matters."""
    carried = ["chengguan", "donghe", "xishan"]
    matter = admit(login, townships=carried)
    url = f"/api/v1/instances/{matter}/rating"
    chengguan = login("chengguan")
    assert_error(chengguan.get(url), 404)  # not rated yet
    assert_error(chengguan.post(url, json={"overall": "good"}), 422, "resources")
    assert_error(chengguan.post(url, json={"overall": "best", "resources": "good"}), 422, "overall")
    assert_error(chengguan.post(url, json={"overall": "good", "resources": "good", "x": 1}), 422)
    given = chengguan.post(
        url, json={"overall": "poor", "resources": "fair", "comment": "经费未到"}
    )
    assert given.status_code == 201, given.text
    assert given.json()["overall_title"] == "差" and given.json()["resources_title"] == "一般"
    assert chengguan.get(url).json()["comment"] == "经费未到"
    assert_error(chengguan.post(url, json={"overall": "good", "resources": "good"}), 409)
    # Only townships carrying it rate it: not the department, not another township.
    assert_error(login("nongye").post(url, json={"overall": "good", "resources": "good"}), 403)
    assert_error(login("nanhu").post(url, json={"overall": "good", "resources": "good"}), 404)
    # A pending application is not on anybody's register yet.
    pending = login("nongye").post(
        "/api/v1/processes/matter_admission/instances", json=application_for(["donghe"])
    )
    early = login("donghe").post(
        f"/api/v1/instances/{pending.json()['id']}/rating",
        json={"overall": "good", "resources": "good"},
    )
    assert_error(early, 409)

    zuzhibu, nongye = login("zuzhibu"), login("nongye")
    assert scores(zuzhibu, "nongye")["matters_rated"] == 1
    assert scores(zuzhibu, "nongye")["matters_overall"] == 50.0
    own = scores(nongye, "nongye")
    assert own["matters_rated"] == 1 and own["matters_overall"] is None  # one township: hidden
    login("donghe").post(url, json={"overall": "good", "resources": "good"})
    login("xishan").post(url, json={"overall": "excellent", "resources": "good"})
    own = scores(nongye, "nongye")
    assert own["matters_rated"] == 3 and own["matters_overall"] == round((50 + 85 + 100) / 3, 1)
    assert own["matters_poor"] == 1
    # The matter's trail, which the department reads, says nothing of how it was rated.
    trail = nongye.get(f"/api/v1/instances/{matter}/trail").json()
    assert "matter_rated" not in {e["action"] for e in trail}


def application_for(townships: list[str]) -> dict[str, Any]:
    return application(name="农村供水设施巡查", townships=townships)
