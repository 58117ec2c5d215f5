"""A city with two counties over real HTTP: the city's office reads both counties' burden (JSON,
CSV, one county at a time), a county's offices read and take only their own county's, and an
organisation cannot be added or moved across counties."""

from __future__ import annotations

import csv
import io
from typing import Any

from engine.demo_city import load_demo_city
from engine.services.context import Context
from tests.api.test_bad_input import assert_error
from tests.conftest import DEMO_PASSWORD
from tests.factories import application

FILE = "/api/v1/processes/matter_admission/instances"
BURDEN = "/api/v1/reports/burden"


def filed(client: Any, **values: Any) -> dict[str, Any]:
    response = client.post(FILE, json=application(**values))
    assert response.status_code == 201, response.text
    return response.json()


def pending(report: dict[str, Any]) -> dict[str, int]:
    return {t["township"]["code"]: t["pending_applications"] for t in report["townships"]}


def test_the_city_reads_each_county_s_burden_and_no_county_reads_the_other(
    ctx: Context, login: Any
) -> None:
    load_demo_city(ctx, DEMO_PASSWORD)
    first = filed(login("nongye"), townships=["chengguan"])
    second = filed(login("qy_nongye"), townships=["qy_chengguan", "qy_hekou"])

    city = login("shi_bianban")
    whole = city.get(BURDEN)
    assert whole.status_code == 200, whole.text
    report = whole.json()
    assert pending(report) == {
        "beiling": 0,
        "chengguan": 1,
        "donghe": 0,
        "nanhu": 0,
        "xishan": 0,
        "qy_baishi": 0,
        "qy_chengguan": 1,
        "qy_hekou": 1,
    }
    named = {t["township"]["code"]: t["county"]["name"] for t in report["townships"]}
    assert named["chengguan"] == "清河县" and named["qy_chengguan"] == "清源县"
    one = city.get(BURDEN, params={"county": "qingyuan"}).json()
    assert pending(one) == {"qy_baishi": 0, "qy_chengguan": 1, "qy_hekou": 1}
    as_csv = city.get(BURDEN, params={"format": "csv", "county": "qingyuan"})
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][2] == "所属县（市、区）" and {r[2] for r in rows[1 : rows.index([])]} == {
        "清源县"
    }
    assert_error(city.get(BURDEN, params={"county": "qy_hekou"}), 422, "county")
    assert_error(city.get(BURDEN, params={"county": "x" * 65}), 422, "county")
    # The city's office reads the numbers, not the matters behind them.
    assert_error(city.get(f"/api/v1/instances/{second['id']}"), 404)

    qy_bianban = login("qy_bianban")
    own = qy_bianban.get(BURDEN).json()
    assert set(pending(own)) == {"qy_baishi", "qy_chengguan", "qy_hekou"}
    assert_error(qy_bianban.get(BURDEN, params={"county": "county"}), 422, "county")
    assert_error(qy_bianban.get(f"/api/v1/instances/{first['id']}"), 404)
    listed = qy_bianban.get("/api/v1/instances", params={"per_page": 100}).json()
    assert [i["id"] for i in listed["items"]] == [second["id"]]
    # A township of the other county is unknown to a county's filers.
    assert_error(
        login("qy_nongye").post(FILE, json=application(townships=["donghe"])), 422, "townships"
    )


def test_organisations_stay_in_their_county_and_each_county_keeps_its_own(
    ctx: Context, login: Any
) -> None:
    load_demo_city(ctx, DEMO_PASSWORD)
    city_admin, county_admin = login("shi_shuju"), login("admin")
    moved = city_admin.patch("/api/v1/organizations/qy_hekou", json={"parent": "county"})
    assert_error(moved, 422, "parent")
    assert city_admin.get("/api/v1/organizations/qy_hekou").json()["parent"] == "qingyuan"
    added = city_admin.post(
        "/api/v1/organizations",
        json={"name": "清源县交通运输局", "level": "department", "parent": "qingyuan"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["parent"] == "qingyuan"
    assert_error(
        city_admin.post(
            "/api/v1/organizations",
            json={"name": "乡镇", "level": "township", "parent": "qingjiang"},
        ),
        422,
        "parent",
    )
    # A county's administrators keep their county's organisations and people only.
    tree = {o["code"] for o in county_admin.get("/api/v1/organizations").json()}
    assert "chengguan" in tree and not tree & {"qingjiang", "qingyuan", "qy_hekou", "shi_bianban"}
    people = {u["username"] for u in county_admin.get("/api/v1/users?per_page=200").json()}
    assert "nongye" in people and not {"qy_nongye", "shi_bianban"} & people
    assert_error(county_admin.get("/api/v1/organizations/qy_hekou"), 404)
    assert_error(county_admin.get("/api/v1/users/qy_nongye"), 404)
    assert_error(county_admin.post("/api/v1/users/qy_nongye/password-reset"), 404)
    assert_error(county_admin.patch("/api/v1/users/qy_nongye", json={"active": False}), 404)
    assert_error(
        county_admin.post(
            "/api/v1/users",
            json={
                "username": "qy_new",
                "display_name": "新人",
                "org": "qy_hekou",
                "roles": ["township"],
            },
        ),
        422,
        "org",
    )
    assert_error(
        county_admin.patch("/api/v1/users/nongye_liu", json={"org": "qy_nongye"}), 422, "org"
    )
    assert qy_user_active(city_admin)


def qy_user_active(client: Any) -> bool:
    return client.get("/api/v1/users/qy_nongye").json()["active"] is True
