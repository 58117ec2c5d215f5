"""The whole admission lifecycle over real HTTP, by the right users in the right roles."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application


def only_task(client, bpmn_id: str) -> dict:
    inbox = [t for t in client.get("/api/v1/tasks").json() if t["bpmn_id"] == bpmn_id]
    assert len(inbox) == 1, inbox
    return inbox[0]


def complete(client, bpmn_id: str, form: dict) -> dict:
    task = only_task(client, bpmn_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
    assert response.status_code == 200, response.text
    return response.json()


def test_matter_goes_from_apply_to_exit(login) -> None:
    nongye, sifa, bianban, xianwei = (login(u) for u in ("nongye", "sifa", "bianban", "xianwei"))
    chengguan, donghe, jiwei = login("chengguan"), login("donghe"), login("jiwei")

    started = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    assert started.json()["status"] == "pending"

    # Beside the instant it falls late, the last local day it is in time (the day before).
    legal = only_task(sifa, "legal_review")
    due_at = datetime.fromisoformat(legal["due_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (due_at.hour, due_at.minute) == (0, 0)
    assert date.fromisoformat(legal["due_date"]) == due_at.date() - timedelta(days=1)
    complete(sifa, "legal_review", LAWFUL)
    complete(bianban, "review", PASS)
    after_approval = complete(xianwei, "approve", APPROVE)
    assert sorted(t["township"] for t in after_approval["open_tasks"]) == ["chengguan", "donghe"]

    claimed = chengguan.post(f"/api/v1/tasks/{only_task(chengguan, 'confirm_entry')['id']}/claim")
    assert claimed.json()["assignee"] == "chengguan"
    complete(chengguan, "confirm_entry", CONFIRM)
    in_force = complete(donghe, "confirm_entry", CONFIRM)
    assert in_force["status"] == "in_force"
    assert nongye.get(f"/api/v1/instances/{instance_id}").json()["actions"] == ["withdraw"]
    register = donghe.get("/api/v1/register").json()
    assert [(r["name"], r["status"]) for r in register] == [(application()["name"], "in_force")]

    exited = nongye.post(f"/api/v1/instances/{instance_id}/withdraw", json={"reason": "任务完成"})
    assert exited.status_code == 200, exited.text
    assert exited.json()["status"] == "exited"
    assert "已退出" in donghe.get("/api/v1/notifications").json()[0]["message"]

    trail = jiwei.get(f"/api/v1/instances/{instance_id}/trail").json()
    steps = [
        (e["action"], e["task"], e["actor"], e["organization"]["name"])
        for e in trail
        if e["action"] in {"instance_started", "task_completed", "withdrawal_requested"}
    ]
    assert steps == [
        ("instance_started", "start_apply", "nongye", "县农业农村局"),
        ("task_completed", "legal_review", "sifa", "县司法局"),
        ("task_completed", "review", "bianban", "县委编办"),
        ("task_completed", "approve", "xianwei", "县委县政府"),
        ("task_completed", "confirm_entry", "chengguan", "城关镇"),
        ("task_completed", "confirm_entry", "donghe", "东河乡"),
        ("withdrawal_requested", "catch_withdrawal", "nongye", "县农业农村局"),
    ]
    assert all(e["at"].endswith("+00:00") for e in trail)
    assert trail[-1]["payload"] == {"from": "in_force", "to": "exited"}


def test_instance_list_filters_and_pages(login) -> None:
    nongye, jiaoyu, jiwei = login("nongye"), login("jiaoyu"), login("jiwei")
    for township in ("chengguan", "donghe", "xishan"):
        nongye.post(
            "/api/v1/processes/matter_admission/instances", json=application(townships=[township])
        )
    jiaoyu.post(
        "/api/v1/processes/matter_admission/instances",
        json=application(name="学生资助信息核查", townships=["donghe"]),
    )

    everything = jiwei.get("/api/v1/instances", params={"per_page": 2}).json()
    assert everything["total"] == 4 and len(everything["items"]) == 2
    second_page = jiwei.get("/api/v1/instances", params={"per_page": 2, "page": 2}).json()
    assert {i["id"] for i in everything["items"]}.isdisjoint(i["id"] for i in second_page["items"])
    donghe = jiwei.get("/api/v1/instances", params={"township": "donghe"}).json()
    assert sorted(i["applicant"]["code"] for i in donghe["items"]) == ["jiaoyu", "nongye"]
    by_jiaoyu = jiwei.get("/api/v1/instances", params={"applicant": "jiaoyu"}).json()
    assert [i["title"] for i in by_jiaoyu["items"]] == ["学生资助信息核查"]
    assert jiaoyu.get("/api/v1/instances").json()["total"] == 1
    assert login("donghe").get("/api/v1/instances").json()["total"] == 2
    pending = jiwei.get("/api/v1/instances", params={"status": "in_force"}).json()
    assert pending["total"] == 0


def test_processes_and_me(login) -> None:
    client = login("bianban")
    processes = client.get("/api/v1/processes").json()
    assert [p["process_id"] for p in processes] == [
        "clearance",
        "department_rating",
        "fault_tolerance",
        "inspection_admission",
        "listing_admission",
        "matter_admission",
        "meeting_admission",
        "report_form",
        "secondment_admission",
        "township_need",
    ]
    me = client.get("/api/v1/me").json()
    assert me["org_name"] == "县委编办" and me["roles"] == ["reviewer"]


def test_openapi_document_describes_the_api(login) -> None:
    spec = login().get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token",
        "/api/v1/processes/{process_id}/instances",
        "/api/v1/instances",
        "/api/v1/instances/{instance_id}",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}/claim",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/instances/{instance_id}/trail",
        "/api/v1/instances/{instance_id}/withdraw",
        "/api/v1/instances/{instance_id}/objections",
        "/api/v1/instances/{instance_id}/appeals",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/findings",
    ):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert {"Case", "CaseFinding"} <= set(schemas)
    # A step's form is data deployed with its diagram version (the application is the admission
    # package's application.json): the start and complete bodies are JSON objects per version.
    for path in ("/processes/{process_id}/instances", "/tasks/{task_id}/complete"):
        body = spec["paths"][f"/api/v1{path}"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert schema["type"] == "object" and "版本" in schema["description"]
