"""借调准入 over real HTTP, from the shipped package (bpmn/secondment_admission, deployed and
activated by load-demo) and no Python of its own: a department asks to second a township's
cadre, 编办 reviews, the county approves, the township is told, confirms the person left (onto
its register) and returned (off it). Bad input is refused with Chinese field messages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error
from tests.integration.test_operations import application

APPLY = "/api/v1/processes/secondment_admission/instances"
PASS = {"decision": "pass"}
DRAFT = {"decision": "pass", "comment": "借调用于高标准农田建设督导，依据充分，西山镇已同意"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"township_agreed": False}, "township_agreed", "借调须经人员所在乡镇同意"),
        ({"person_name": "  "}, "person_name", "不能只填空白"),
        ({"end_date": "2025-13-40"}, "end_date", "日期"),
        ({"end_date": "2020-01-01"}, "end_date", "结束日期须晚于开始日期"),
        ({"township": "nowhere"}, "township", "未知乡镇：nowhere"),
        ({"township": "nongye"}, "township", "未知乡镇：nongye"),
    ],
)
def test_bad_applications_are_refused_with_chinese_field_messages(
    login: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    nongye = login("nongye")
    body = assert_error(nongye.post(APPLY, json=application(**changes)), 422, field)
    assert message in " ".join(body["errors"][field])
    assert nongye.get("/api/v1/instances?process_id=secondment_admission").json()["total"] == 0


def test_a_secondment_runs_from_application_to_return_and_the_register_shows_it(
    login: Any,
) -> None:
    nongye, bianban, xianwei = login("nongye"), login("bianban"), login("xianwei")
    xishan, donghe = login("xishan"), login("donghe")
    started = nongye.post(APPLY, json=application())
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    # Named after the person, by the start form's x-title, not the procedure's name.
    assert started.json()["title"] == "借调：张三（西山镇农业服务中心科员）"
    # Addressed to 西山镇 by the form's township field: it reads the matter, others do not.
    assert xishan.get(f"/api/v1/instances/{instance_id}").status_code == 200
    assert donghe.get(f"/api/v1/instances/{instance_id}").status_code == 404

    # 编办: 孙婷 (the clerk) drafts the opinion; the office's head decides. Whoever drafted
    # may not decide on her own draft, though both hold the reviewer role.
    bianban_sun = login("bianban_sun")
    complete(bianban_sun, "review_draft", DRAFT)
    [review] = [t for t in bianban_sun.get("/api/v1/tasks").json() if t["bpmn_id"] == "review"]
    assert review["instance_id"] == instance_id  # in her office's inbox, …
    refused = bianban_sun.post(f"/api/v1/tasks/{review['id']}/complete", json=PASS)
    assert refused.status_code == 403 and "回避" in refused.json()["message"]  # … not hers
    complete(bianban, "review", PASS)
    approved = complete(xianwei, "approve", PASS)
    assert [(t["bpmn_id"], t["township"]) for t in approved["open_tasks"]] == [
        ("confirm_departure", "xishan")
    ]
    assert "已同意借调张三" in xishan.get("/api/v1/notifications").json()[0]["message"]

    name = "借调：张三（西山镇农业服务中心科员，借调从事高标准农田建设督导）"
    complete(xishan, "confirm_departure", {"departed_on": application()["start_date"]})
    register = xishan.get("/api/v1/register?status=in_force").json()
    assert [(r["name"], r["township"]["code"]) for r in register] == [(name, "xishan")]
    assert donghe.get("/api/v1/register").json() == []
    # The burden picture counts a person lent apart from the matters the township carries.
    report = login("jiwei").get("/api/v1/reports/burden").json()
    [town] = [t for t in report["townships"] if t["township"]["code"] == "xishan"]
    assert (town["seconded_out"], town["matters_in_force"]) == (1, 0)
    [dept] = [d for d in report["departments"] if d["department"]["code"] == "nongye"]
    assert dept["secondments_held"] == 1

    returned = complete(xishan, "confirm_return", {"returned_on": application()["end_date"]})
    assert returned["status"] == "exited"
    assert xishan.get("/api/v1/register?status=in_force").json() == []
    report = login("jiwei").get("/api/v1/reports/burden").json()
    assert [
        t["seconded_out"] for t in report["townships"] if t["township"]["code"] == "xishan"
    ] == [0]
    exited = xishan.get("/api/v1/register?status=exited").json()
    assert [(r["name"], r["exit_reason"]) for r in exited] == [(name, "借调期满，人员已返回")]

    trail = login("jiwei").get(f"/api/v1/instances/{instance_id}/trail").json()
    assert [e["task"] for e in trail if e["action"] == "operation_ran"] == [
        "notify_township",
        "enter_register",
        "exit_register",
    ]
