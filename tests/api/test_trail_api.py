"""The auditors' API over real HTTP: verify, checkpoints, search, export, and who may use them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from engine.services.context import Context
from tests.integration.test_admission_services import admit
from tests.trail_helpers import configure_key


@pytest.fixture
def matter(ctx: Context, tmp_path: Path) -> int:
    configure_key(ctx, tmp_path)
    return admit(ctx, ["chengguan"])


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["message"]
    if field is not None:
        assert field in body["errors"], body
    return body


def test_auditor_seals_verifies_and_keeps_the_checkpoint(login, matter: int) -> None:
    jiwei = login("jiwei")
    made = jiwei.post("/api/v1/audit/checkpoints")
    assert made.status_code == 201, made.text
    note = made.json()["note"]
    latest = jiwei.get("/api/v1/audit/checkpoints")
    assert latest.headers["Content-Type"].startswith("text/plain")
    assert latest.text == note and "\n\n— zhunru.test/trail " in note

    report = jiwei.get("/api/v1/audit/verify", params={"checkpoint": note}).json()
    assert report["ok"] is True and report["problems"] == []
    assert report["held_checkpoints"] == 1 and report["events_since_checkpoint"] == 0
    assert report["events"] == made.json()["size"]


def test_auditor_searches_across_matters(login, ctx: Context, matter: int) -> None:
    admit(ctx, ["donghe"])
    jiwei = login("jiwei")
    page = jiwei.get("/api/v1/audit/events", params={"actor": "bianban"}).json()
    assert page["total"] >= 2 and {e["actor"] for e in page["items"]} == {"bianban"}
    assert {e["organization"]["code"] for e in page["items"]} == {"bianban"}
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    reviews = {"actor": "bianban", "action": "task_completed"}
    assert jiwei.get("/api/v1/audit/events", params=reviews).json()["total"] == 2
    by_org = jiwei.get(
        "/api/v1/audit/events",
        params={"organization": "sifa", "action": "task_completed", "per_page": 1},
    ).json()
    assert by_org["total"] == 2 and len(by_org["items"]) == 1 and by_org["per_page"] == 1
    assert by_org["items"][0]["task"] == "legal_review"
    # Dates are the county's: after 16:00 UTC it is already tomorrow in Beijing.
    today = ctx.calendar.local(ctx.clock.now()).date().isoformat()
    dated = jiwei.get("/api/v1/audit/events", params={"date_from": today, "date_to": today})
    assert dated.json()["total"] > 0
    gone = jiwei.get("/api/v1/audit/events", params={"date_to": "2020-01-01"}).json()
    assert gone["total"] == 0 and gone["items"] == []
    nobody = jiwei.get("/api/v1/audit/events", params={"actor": "no-such-user"}).json()
    assert nobody["total"] == 0


def test_an_event_search_past_its_count_cap_pages_to_its_end(
    login, matter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.trail.services import trail_search

    monkeypatch.setattr(trail_search, "COUNT_CAP", 3)
    jiwei = login("jiwei")
    first = jiwei.get("/api/v1/audit/events", params={"per_page": 2}).json()
    assert (first["total"], first["total_exact"], len(first["items"])) == (3, False, 2)
    far = jiwei.get("/api/v1/audit/events", params={"per_page": 2, "page": 1000}).json()
    assert far["total_exact"] is True and far["items"] == [] and far["total"] > 3
    last_page = -(-far["total"] // 2)
    last = jiwei.get("/api/v1/audit/events", params={"per_page": 2, "page": last_page}).json()
    assert last["total_exact"] is True and 1 <= len(last["items"]) <= 2


def test_export_carries_checkpoint_and_proofs(login, matter: int) -> None:
    jiwei = login("jiwei")
    jiwei.post("/api/v1/audit/checkpoints")
    response = jiwei.get(f"/api/v1/instances/{matter}/trail/export", params={"format": "jsonl"})
    assert response.status_code == 200, response.text
    assert f"trail-instance-{matter}.jsonl" in response.headers["Content-Disposition"]
    head, *events = [json.loads(line) for line in response.text.splitlines()]
    assert head["type"] == "checkpoint" and head["note"].startswith("zhunru.test/trail\n")
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["inclusion_proof"] and e["leaf_index"] is not None for e in events)

    table = jiwei.get(f"/api/v1/instances/{matter}/trail/export", params={"format": "csv"})
    assert table.headers["Content-Type"].startswith("text/csv")
    assert table.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))
    assert [r["record"] for r in rows] == ["event"] * len(events) + ["checkpoint"]
    assert rows[0]["actor"] == "nongye" and rows[0]["organization_name"] == "县农业农村局"
    assert rows[-1]["checkpoint"] == head["note"]

    searched = jiwei.get("/api/v1/audit/events/export", params={"actor": "bianban"})
    head, *found = [json.loads(line) for line in searched.text.splitlines()]
    assert head["scope"] == {"actor": "bianban"} and head["events"] == len(found) > 0
    assert {e["actor"] for e in found} == {"bianban"}


def test_others_get_403_or_404_as_elsewhere(login, matter: int) -> None:
    assert_error(login().get("/api/v1/audit/verify"), 401)
    for username in ("bianban", "nongye", "chengguan"):
        client = login(username)
        assert_error(client.get("/api/v1/audit/verify"), 403)
        assert_error(client.get("/api/v1/audit/events"), 403)
        assert_error(client.get("/api/v1/audit/checkpoints"), 403)
        assert_error(client.post("/api/v1/audit/checkpoints"), 403)
    # The applicant sees its matter but may not export it; others do not see it at all.
    assert_error(login("nongye").get(f"/api/v1/instances/{matter}/trail/export"), 403)
    assert_error(login("jiaoyu").get(f"/api/v1/instances/{matter}/trail/export"), 404)
    assert_error(login("admin").get(f"/api/v1/instances/{matter}/trail/export"), 404)
    assert_error(login("jiwei").get("/api/v1/instances/999999/trail/export"), 404)
    assert_error(login("jiwei").get("/api/v1/audit/checkpoints"), 404)  # none yet
    assert login("admin").post("/api/v1/audit/checkpoints").status_code == 201


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/audit/events", {"date_from": "2026-13-01"}, "date_from"),
        ("/api/v1/audit/events", {"date_from": "2026-12-02", "date_to": "2026-12-01"}, "date_to"),
        ("/api/v1/audit/events", {"per_page": "0"}, "per_page"),
        ("/api/v1/audit/events", {"page": "x"}, "page"),
        ("/api/v1/audit/events", {"instance_id": "0"}, "instance_id"),
        ("/api/v1/audit/events", {"colour": "red"}, "colour"),
        ("/api/v1/audit/events/export", {"format": "xml"}, "format"),
        ("/api/v1/audit/verify", {"checkpoint": ""}, "checkpoint"),
        ("/api/v1/instances/1/trail/export", {"format": "pdf"}, "format"),
    ],
)
def test_bad_query_parameters_get_422_with_field_messages(
    login, matter: int, path: str, params: dict, field: str
) -> None:
    body = assert_error(login("jiwei").get(path, params=params), 422, field)
    message = json.dumps(body["errors"][field], ensure_ascii=False)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # zh-CN


def test_a_forged_held_checkpoint_fails_verification(login, matter: int) -> None:
    jiwei = login("jiwei")
    note = jiwei.post("/api/v1/audit/checkpoints").json()["note"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    report = jiwei.get("/api/v1/audit/verify", params={"checkpoint": "\n".join(lines)}).json()
    assert report["ok"] is False
    assert "签名无效" in report["problems"][0]["message"]


def test_sealing_without_a_key_is_a_clear_conflict(login, ctx: Context) -> None:
    ctx.settings = ctx.settings.with_overrides(audit_key_file=None)
    body = assert_error(login("jiwei").post("/api/v1/audit/checkpoints"), 409)
    assert "ZHUNRU_AUDIT_KEY_FILE" in body["message"]
