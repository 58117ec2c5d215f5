"""基层吹哨、部门报到 over real HTTP (issue 16), from the shipped package bpmn/township_need:
a township raises a need; 县委社会工作部 grades it and routes it to a lead department and
supporting ones with a limit in working days; the lead department answers (报到); the township
rates the answer, and an unsatisfied rating is supervised — sent back or closed. A need past its
limit is escalated. Each read is scoped: the township, the social-work department, the
departments it was routed to; nobody else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error

RAISE = "/api/v1/processes/township_need/instances"


def need(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "柳河村桥梁护栏损毁",
        "content": (
            "柳河村通村公路桥梁护栏被货车撞毁约20米，村民通行有坠河风险，镇里无修复资金和资质"
        ),
        "location": "城关镇柳河村村口桥",
        "category": "safety",
        "department_hint": "nongye",
        "urgency": "urgent",
    }
    values.update(changes)
    return values


ROUTE = {"grade": "county", "lead": "nongye", "supporting": ["minzheng"], "days": 5}


def raised(login: Any, **changes: Any) -> dict[str, Any]:
    response = login("chengguan").post(RAISE, json=need(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_need_is_graded_routed_answered_and_rated(login: Any) -> None:
    chengguan, shegong = login("chengguan"), login("shegong")
    nongye, minzheng, jiaoyu = login("nongye"), login("minzheng"), login("jiaoyu")
    started = raised(login)
    assert started["title"] == "吹哨：柳河村桥梁护栏损毁"
    url = f"/api/v1/instances/{started['id']}"
    # Before routing only the township and the social-work department read it.
    assert shegong.get(url).status_code == 200
    assert nongye.get(url).status_code == 404 and login("donghe").get(url).status_code == 404

    complete(shegong, "need_grade", ROUTE)
    for reader in (nongye, minzheng):  # lead and supporting departments now read it
        assert reader.get(url).status_code == 200
    assert jiaoyu.get(url).status_code == 404
    # The answering step is the lead department's, not the township's; it is due in 5 days.
    [task] = [t for t in nongye.get("/api/v1/tasks").json() if t["instance_id"] == started["id"]]
    assert task["bpmn_id"] == "need_report" and task["due_at"]
    assert not [
        t for t in minzheng.get("/api/v1/tasks").json() if t["instance_id"] == started["id"]
    ]
    told = nongye.get("/api/v1/notifications").json()
    assert any("由你单位牵头办理" in n["message"] and "县民政局配合" in n["message"] for n in told)
    assert any("请你单位配合" in n["message"] for n in minzheng.get("/api/v1/notifications").json())
    # In the department's own search, beside its filings.
    found = nongye.get("/api/v1/instances?process_id=township_need").json()["items"]
    assert [i["id"] for i in found] == [started["id"]]

    complete(nongye, "need_report", {"outcome": "solved", "answer": "已安排公路养护站修复护栏"})
    assert any(
        "已安排公路养护站修复护栏" in n["message"]
        for n in chengguan.get("/api/v1/notifications").json()
    )
    done = complete(chengguan, "need_rate", {"rating": "satisfied"})
    assert done["status"] == "resolved"
    actions = [e["action"] for e in shegong.get(f"{url}/trail").json()]
    assert {"need_routed", "need_answered", "need_rated"} <= set(actions)


def test_an_unsatisfied_rating_is_supervised_and_sent_back(login: Any) -> None:
    chengguan, shegong, nongye = login("chengguan"), login("shegong"), login("nongye")
    started = raised(login, name="西街排水管网堵塞")
    complete(shegong, "need_grade", {**ROUTE, "supporting": []})
    complete(nongye, "need_report", {"outcome": "cannot", "answer": "不属于本单位职责"})
    assert_error(
        chengguan.post(
            f"/api/v1/tasks/{_task(chengguan, started['id'])}/complete",
            json={"rating": "unsatisfied"},
        ),
        422,
        "comment",
    )
    complete(chengguan, "need_rate", {"rating": "unsatisfied", "comment": "推诿，未到现场"})
    told = shegong.get("/api/v1/notifications").json()
    assert any("不满意" in n["message"] and "推诿" in n["message"] for n in told)
    complete(shegong, "need_supervise", {"decision": "redo", "comment": "请牵头部门到现场处置"})
    # Back with the lead department, answered again, rated, closed.
    complete(nongye, "need_report", {"outcome": "solved", "answer": "已现场疏通"})
    done = complete(chengguan, "need_rate", {"rating": "basic"})
    assert done["status"] == "resolved"


def test_grading_names_real_departments_and_says_why_when_not_routed(login: Any) -> None:
    shegong = login("shegong")
    started = raised(login, name="村部屋顶漏雨")
    task = f"/api/v1/tasks/{_task(shegong, started['id'])}/complete"
    for body, field in (
        ({"grade": "county", "days": 5}, "lead"),
        ({"grade": "county", "lead": "nongye"}, "days"),
        ({"grade": "county", "lead": "chengguan", "days": 5}, "lead"),  # a township
        ({"grade": "county", "lead": "nowhere", "days": 5}, "lead"),
        ({"grade": "county", "lead": "nongye", "supporting": ["nongye"], "days": 5}, "supporting"),
        ({"grade": "county", "lead": "nongye", "days": 61}, "days"),
        ({"grade": "township"}, "comment"),
    ):
        assert_error(shegong.post(task, json=body), 422, field)
    # Nothing routed by the refusals: still the social-work department's step.
    assert _task(shegong, started["id"])
    done = complete(
        shegong, "need_grade", {"grade": "township", "comment": "属村级公共设施维护，由镇自行安排"}
    )
    assert done["status"] == "returned"
    assert any(
        "由镇自行安排" in n["message"]
        for n in login("chengguan").get("/api/v1/notifications").json()
    )
    assert login("nongye").get(f"/api/v1/instances/{started['id']}").status_code == 404


def test_only_a_township_raises_and_a_suggested_department_must_exist(login: Any) -> None:
    assert login("nongye").post(RAISE, json=need()).status_code == 403
    assert login("shegong").post(RAISE, json=need()).status_code == 403
    assert_error(
        login("chengguan").post(RAISE, json=need(department_hint="nowhere")), 422, "department_hint"
    )
    assert_error(login("chengguan").post(RAISE, json=need(category="x")), 422, "category")
    assert_error(login("chengguan").post(RAISE, json=need(name="")), 422, "name")


def test_a_need_past_its_limit_is_escalated(ctx: Any, login: Any) -> None:
    from engine.workflow.services import timers

    started = raised(login, name="北街路灯不亮")
    complete(login("shegong"), "need_grade", {**ROUTE, "days": 1})
    ctx.clock.advance(timedelta(days=10))  # past any 1 working day, holidays or not
    assert timers.fire_due(ctx).timers >= 1
    shegong, nongye = login("shegong"), login("nongye")  # signed in anew: days have passed
    [task] = [t for t in nongye.get("/api/v1/tasks").json() if t["instance_id"] == started["id"]]
    assert task["overdue"] is True
    told = shegong.get("/api/v1/notifications").json()
    assert any("北街路灯不亮" in n["message"] and "超过办理时限" in n["message"] for n in told)


def _task(client: Any, instance_id: int) -> int:
    [task] = [t for t in client.get("/api/v1/tasks").json() if t["instance_id"] == instance_id]
    return int(task["id"])


def test_a_need_sent_back_gets_a_new_limit_and_its_department_is_told(ctx: Any, login: Any) -> None:
    started = raised(login, name="南街下水道返臭")
    complete(login("shegong"), "need_grade", {**ROUTE, "days": 2, "supporting": []})
    complete(login("nongye"), "need_report", {"outcome": "partly", "answer": "已清掏一次"})
    complete(login("chengguan"), "need_rate", {"rating": "unsatisfied", "comment": "仍返臭"})
    ctx.clock.advance(timedelta(days=20))  # long past the first limit
    complete(login("shegong"), "need_supervise", {"decision": "redo", "comment": "彻底疏通"})
    nongye = login("nongye")
    told = nongye.get("/api/v1/notifications").json()
    assert any("重新办理" in n["message"] and "彻底疏通" in n["message"] for n in told)
    [task] = [t for t in nongye.get("/api/v1/tasks").json() if t["instance_id"] == started["id"]]
    assert task["due_at"] > ctx.clock.now().isoformat()[:10]
    complete(nongye, "need_report", {"outcome": "solved", "answer": "已更换管道"})
    # Answered within the new limit: not late, whatever the first limit said.
    rows = login("xianwei").get("/api/v1/reports/burden").json()["departments"]
    [row] = [d for d in rows if d["department"]["code"] == "nongye"]
    assert row["needs_late"] == 0 and row["needs_answered"] == 1


def test_a_need_goes_only_to_a_department_that_can_answer(login: Any) -> None:
    started = raised(login, name="村道塌方")
    shegong = login("shegong")
    task = f"/api/v1/tasks/{_task(shegong, started['id'])}/complete"
    # 县委县政府 has nobody in the applicant role: nobody could ever take the step.
    body = assert_error(
        shegong.post(task, json={"grade": "county", "lead": "xianwei", "days": 5}), 422, "lead"
    )
    assert "承办业务" in " ".join(body["errors"]["lead"])
