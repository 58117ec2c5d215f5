"""Who reads what, over real HTTP (issue 12): organisation notices reach those who act for the
organisation, a finding on a case one cannot see is 404, and CSV downloads name one charset."""

from __future__ import annotations

from pathlib import Path

from engine.services.context import Context
from tests import accountability_factories as af
from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error
from tests.integration.test_admission_services import admit
from tests.trail_helpers import configure_key


def _notices(client) -> list[dict]:
    response = client.get("/api/v1/notifications")
    assert response.status_code == 200, response.text
    return response.json()


def _cases_by_subject(login) -> dict[str, int]:
    items = login("jiwei").get("/api/v1/cases").json()["items"]
    return {case["subject_username"]: case["id"] for case in items}


def test_organisation_notices_reach_those_who_act_for_it_not_its_cadres(login, ctx) -> None:
    matter = admit(ctx, ["chengguan"])
    withdrawn = login("nongye").post(
        f"/api/v1/instances/{matter}/withdraw", json={"reason": "巡查任务已完成"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    chengguan, zhangming = login("chengguan"), login("zhangming")
    assert [n["kind"] for n in _notices(chengguan) if n["instance_id"] == matter] == [
        "matter_exited",
        "matter_incoming",
    ]
    # 张明 belongs to 城关镇 but does not act for it: the matter is not his to read, nor its notice.
    assert_error(zhangming.get(f"/api/v1/instances/{matter}"), 404)
    assert _notices(zhangming) == []

    # His own notices still reach him (and only him).
    case_id = _cases_by_subject(login)["zhangming"]
    started = zhangming.post(
        "/api/v1/processes/fault_tolerance/instances", json=af.ft_application(case_id=case_id)
    )
    assert started.status_code == 201, started.text
    complete(login("jiwei"), "ft_accept", af.refuse_acceptance())
    mine = _notices(zhangming)
    assert [n["kind"] for n in mine] == ["tolerance_refused"]
    assert mine[0]["instance_id"] == started.json()["id"]
    assert not [n for n in _notices(chengguan) if n["kind"] == "tolerance_refused"]


def test_a_finding_on_a_case_the_caller_cannot_see_is_not_found(login) -> None:
    cases = _cases_by_subject(login)
    finding = {"finding": "untrue", "harm": True, "note": "经核查，反映问题失实"}

    def record(username: str, case_id: int, body: dict | None = None):
        return login(username).post(f"/api/v1/cases/{case_id}/findings", json=body or finding)

    # Cannot see it: 404 whatever the body, as for a case that does not exist.
    for outsider in ("nongye", "chengguan", "bianban", "lihua"):
        assert_error(record(outsider, cases["zhangming"]), 404)
        assert_error(record(outsider, cases["zhangming"], {"finding": "?"}), 404)
    assert_error(record("nongye", 999_999), 404)
    # Can see it but may not record a finding: 403.
    assert_error(record("zhangming", cases["zhangming"]), 403)
    assert_error(record("zuzhibu", cases["zhangming"]), 403)
    # The discipline organ: the form is judged, then the finding recorded.
    assert_error(record("jiwei", cases["zhangming"], {"finding": "?"}), 422, "finding")
    recorded = record("jiwei", cases["zhangming"])
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["status"] == "untrue"


def test_csv_downloads_name_one_charset(login, ctx: Context, tmp_path: Path) -> None:
    configure_key(ctx, tmp_path)
    matter = admit(ctx, ["chengguan"])
    jiwei, admin, bianban = login("jiwei"), login("admin"), login("bianban")
    jiwei.post("/api/v1/audit/checkpoints")
    downloads = [
        admin.get("/api/v1/catalog/export", params={"format": "csv"}),
        bianban.get("/api/v1/reports/burden", params={"format": "csv"}),
        jiwei.get(f"/api/v1/instances/{matter}/trail/export", params={"format": "csv"}),
        jiwei.get("/api/v1/audit/events/export", params={"format": "csv"}),
    ]
    for response in downloads:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", response.url
