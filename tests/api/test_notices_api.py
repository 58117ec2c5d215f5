"""Notices read and unread, over real HTTP: each person keeps their own marks, can list only
what they have not read and mark some or all read; nobody marks another's (issue 14)."""

from __future__ import annotations

from tests.api.test_admission_api import complete
from tests.factories import application


def test_each_person_reads_their_own_notices_and_marks_them_read(login) -> None:
    nongye, sifa = login("nongye"), login("sifa")
    started = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    assert started.status_code == 201, started.text
    complete(sifa, "legal_review", {"opinion": "needs_change", "comment": "经费来源须写明"})
    # The department is told its application came back, with the opinion.
    notices = nongye.get("/api/v1/notifications?unread=true").json()
    assert [n["kind"] for n in notices] == ["application_returned"]
    assert "已退回修改" in notices[0]["message"] and notices[0]["read"] is False
    assert notices[0]["instance_id"] == started.json()["id"]

    marked = nongye.post("/api/v1/notifications/read", json={"ids": [notices[0]["id"]]})
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    assert nongye.get("/api/v1/notifications?unread=true").json() == []
    [seen] = nongye.get("/api/v1/notifications").json()
    assert seen["read"] is True
    # Again: nothing left unread, nothing changes.
    assert nongye.post("/api/v1/notifications/read", json={}).json() == {"marked": 0}

    # Another office's notice cannot be marked (nor seen), and bad input changes nothing.
    other = login("jiaoyu")
    refused = other.post("/api/v1/notifications/read", json={"ids": [seen["id"]]})
    assert refused.status_code == 404
    for body, field in (({"ids": []}, "ids"), ({"ids": ["x"]}, "ids"), ({"all": True}, "all")):
        bad = nongye.post("/api/v1/notifications/read", json=body)
        assert bad.status_code == 422 and field in bad.json()["errors"], bad.text
    assert nongye.get("/api/v1/notifications?unread=maybe").status_code == 422
