"""报表 over real HTTP (issue 16), from the shipped package bpmn/report_form: a department asks
to have townships fill a form; its fields are checked against the catalogue's forms (the same
or a near-same wording) and what repeats goes to 编办 with the filing; approved, the form is in
the catalogue and its townships fill it once a period; a form that repeats one already there is
merged into it, and the asking department reads what townships fill there; each read is scoped."""

from __future__ import annotations

from typing import Any

from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error

APPLY = "/api/v1/processes/report_form/instances"


def report(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "农村低保和特困人员情况统计表",
        "purpose": "掌握农村低保和特困供养人员底数",
        "fields": ["农村低保户数", "农村低保人数", "特困供养人员数"],
        "frequency": "quarterly",
        "townships": ["chengguan", "donghe"],
        "basis": "《社会救助暂行办法》",
    }
    values.update(changes)
    return values


def approved(login: Any, by: str = "minzheng", **changes: Any) -> dict[str, Any]:
    filed = login(by).post(APPLY, json=report(**changes))
    assert filed.status_code == 201, filed.text
    done = complete(login("bianban"), "form_review", {"decision": "approve"})
    assert done["status"] == "catalogued"
    [form] = [
        f
        for f in login(by).get("/api/v1/report-forms").json()
        if f["instance_id"] == filed.json()["id"]
    ]
    return form


def test_a_form_is_approved_filled_once_a_period_and_read_by_its_owner(login: Any) -> None:
    form = approved(login)
    assert form["fields"] == ["农村低保户数", "农村低保人数", "特困供养人员数"]
    chengguan, xishan = login("chengguan"), login("xishan")
    assert [f["id"] for f in chengguan.get("/api/v1/report-forms").json()] == [form["id"]]
    assert xishan.get("/api/v1/report-forms").json() == []
    told = chengguan.get("/api/v1/notifications").json()
    assert any(
        "农村低保和特困人员情况统计表" in n["message"] and "每期只需填报一次" in n["message"]
        for n in told
    )
    url = f"/api/v1/report-forms/{form['id']}/submissions"
    values = {"农村低保户数": "126", "农村低保人数": 231, "特困供养人员数": "18"}
    filled = chengguan.post(url, json={"period": "2026Q4", "values": values})
    assert filled.status_code == 201, filled.text
    assert filled.json()["values"]["农村低保人数"] == "231"
    again = chengguan.post(url, json={"period": "2026Q4", "values": values})
    assert again.status_code == 409 and "每期只填一次" in again.json()["message"]
    assert_error(chengguan.post(url, json={"period": "2026-12", "values": values}), 422, "period")
    assert_error(
        chengguan.post(url, json={"period": "2027Q1", "values": {**values, "农村低保户数": ""}}),
        422,
        "values.农村低保户数",
    )
    assert_error(
        chengguan.post(url, json={"period": "2027Q1", "values": {**values, "别的": "1"}}),
        422,
        "values",
    )
    assert xishan.post(url, json={"period": "2026Q4", "values": values}).status_code == 404
    assert login("nongye").post(url, json={"period": "2026Q4", "values": values}).status_code == 404
    # The owner and the county offices read every township's; a township its own; others none.
    assert [s["township"] for s in login("minzheng").get(url).json()] == ["城关镇"]
    assert len(login("bianban").get(url).json()) == 1
    assert login("donghe").get(url).json() == []
    assert login("nongye").get(url).status_code == 404


def test_a_repeated_form_is_found_when_filed_and_merged_into_the_catalogue(login: Any) -> None:
    form = approved(login)
    # 县农业农村局 asks for nearly the same numbers, and one of its own.
    asked = report(
        name="脱贫人口和低保对象监测表",
        fields=["农村低保户数", "农村低保对象人数", "防返贫监测户数"],
        townships=["chengguan", "xishan"],
    )
    filed = login("nongye").post(APPLY, json=asked)
    assert filed.status_code == 201, filed.text
    bianban = login("bianban")
    detail = bianban.get(f"/api/v1/instances/{filed.json()['id']}").json()
    found = " ".join(f["message"] for f in detail["data"]["findings"])
    assert f"报表编号 {form['id']}" in found and "农村低保户数" in found
    assert "相近字段“农村低保人数”" in found  # 农村低保对象人数, worded otherwise
    assert "防返贫监测户数" not in found
    task = next(t for t in bianban.get("/api/v1/tasks").json() if t["bpmn_id"] == "form_review")
    complete_url = f"/api/v1/tasks/{task['id']}/complete"
    assert_error(bianban.post(complete_url, json={"decision": "merge"}), 422, "merge_into")
    assert_error(
        bianban.post(complete_url, json={"decision": "merge", "merge_into": 99999}),
        422,
        "merge_into",
    )
    done = complete(bianban, "form_review", {"decision": "merge", "merge_into": form["id"]})
    assert done["status"] == "merged"
    [merged] = [
        f for f in login("nongye").get("/api/v1/report-forms").json() if f["id"] == form["id"]
    ]
    assert merged["readers"] == ["县农业农村局"]
    assert "防返贫监测户数" in merged["fields"] and "农村低保对象人数" not in merged["fields"]
    assert "西山镇" in merged["townships"]
    # One filling, read by both departments.
    url = f"/api/v1/report-forms/{form['id']}/submissions"
    values = {name: "1" for name in merged["fields"]}
    assert login("xishan").post(url, json={"period": "2026Q4", "values": values}).status_code == 201
    assert [s["township"] for s in login("nongye").get(url).json()] == ["西山镇"]
    assert [s["township"] for s in login("minzheng").get(url).json()] == ["西山镇"]


def test_a_refused_form_is_in_no_catalogue(login: Any) -> None:
    login("jiaoyu").post(APPLY, json=report(name="学生资助情况表", fields=["资助人数"]))
    bianban = login("bianban")
    task = next(t for t in bianban.get("/api/v1/tasks").json() if t["bpmn_id"] == "form_review")
    assert_error(
        bianban.post(f"/api/v1/tasks/{task['id']}/complete", json={"decision": "refuse"}),
        422,
        "comment",
    )
    done = complete(
        bianban, "form_review", {"decision": "refuse", "comment": "数据可从教育系统直接获取"}
    )
    assert done["status"] == "refused"
    assert login("chengguan").get("/api/v1/report-forms").json() == []
    for changes, field in (
        ({"fields": []}, "fields"),
        ({"fields": ["a", "a"]}, "fields"),
        ({"frequency": "daily"}, "frequency"),
        ({"townships": []}, "townships"),
    ):
        assert_error(login("jiaoyu").post(APPLY, json=report(**changes)), 422, field)
