"""费随事转 over real HTTP (issue 14): a township that confirmed entry without the resources
records what arrives; the applicant reads every township's share and what is owed; bad input
gets field messages in Chinese and changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.api.test_admission_api import complete
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application

COUNTY = ZoneInfo("Asia/Shanghai")


def test_township_records_deliveries_and_the_applicant_reads_the_shares(login) -> None:
    nongye = login("nongye")
    started = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    assert started.status_code == 201, started.text
    matter = started.json()["id"]
    complete(login("sifa"), "legal_review", LAWFUL)
    complete(login("bianban"), "review", PASS)
    complete(login("xianwei"), "approve", APPROVE)
    chengguan, donghe = login("chengguan"), login("donghe")
    complete(chengguan, "confirm_entry", CONFIRM)
    short = {"confirmed": True, "resources_received": False, "comment": "经费尚未拨付"}
    complete(donghe, "confirm_entry", short)

    shares = nongye.get(f"/api/v1/instances/{matter}/resources").json()
    assert [(s["township"]["name"], s["funding_yuan"], s["staff"]) for s in shares] == [
        ("城关镇", 30000, 1),
        ("东河乡", 30000, 1),
    ]
    assert shares[1]["owed"] == ["经费30000元", "人员1名", "下放的权限"]
    assert shares[1]["shortfall_due"] is not None
    # A township reads its own entry only.
    assert [
        s["township"]["code"] for s in donghe.get(f"/api/v1/instances/{matter}/resources").json()
    ] == ["donghe"]

    # The day it entered, on the server's clock, in the county's time zone.
    [entered] = [
        e for e in nongye.get("/api/v1/register").json() if e["township"]["code"] == "donghe"
    ]
    today = datetime.fromisoformat(entered["entered_at"]).astimezone(COUNTY).date().isoformat()
    url = f"/api/v1/instances/{matter}/resources"
    bad_bodies = (
        ({"funding_yuan": 1}, "received_on"),
        ({"received_on": "2026-13-01", "funding_yuan": 1}, "received_on"),
        ({"received_on": today, "funding_yuan": -1}, "funding_yuan"),
        ({"received_on": today, "funding_yuan": "很多"}, "funding_yuan"),
        ({"received_on": today}, "funding_yuan"),
        ({"received_on": today, "funding_yuan": 1, "paid": True}, "paid"),
        ({"received_on": "2099-01-01", "funding_yuan": 1}, "received_on"),
    )
    for body, field in bad_bodies:
        refused = donghe.post(url, json=body)
        assert refused.status_code == 422 and field in refused.json()["errors"], refused.text
    no_township = nongye.post(url, json={"received_on": today, "funding_yuan": 1})
    assert no_township.status_code == 422 and "township" in no_township.json()["errors"]
    assert (
        login("bianban").post(url, json={"received_on": today, "funding_yuan": 1}).status_code
        == 403
    )
    assert (
        login("nanhu").post(url, json={"received_on": today, "funding_yuan": 1}).status_code == 404
    )
    assert donghe.get(url).json()[0]["deliveries"] == []  # nothing of the above was stored

    body = {"received_on": today, "funding_yuan": 30000, "staff": 1, "powers_in_place": True}
    recorded = donghe.post(url, json=body)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["resources_received"] is True and recorded.json()["owed"] == []
    [entry] = [
        e for e in nongye.get("/api/v1/register").json() if e["township"]["code"] == "donghe"
    ]
    assert (entry["funding_received_yuan"], entry["resources_received"]) == (30000, True)
    kinds = [n["kind"] for n in nongye.get("/api/v1/notifications").json()]
    assert "resources_shortfall" in kinds and "resources_delivered" in kinds
