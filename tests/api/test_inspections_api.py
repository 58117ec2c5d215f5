"""督查检查考核 over real HTTP (issue 16), from the shipped package bpmn/inspection_admission:
a department files an inspection of townships for a year (in its annual plan or outside it
with a reason); the county's supervising office approves it, approves fewer visits, merges it
into another or refuses it; approved, it is in each township's plan and they are told; the
department announces each visit ahead, never more than approved; a filing that inspects
townships on a matter already admitted to them is refused when filed; each read is scoped."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application

APPLY = "/api/v1/processes/inspection_admission/instances"


def local_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def next_year() -> int:
    return local_today().year + 1


def inspection(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "year": next_year(),
        "kind": "inspection",
        "name": "安全生产大检查",
        "content": "检查乡镇安全生产责任落实、隐患排查整改情况",
        "basis": "《中华人民共和国安全生产法》第九条",
        "townships": ["chengguan", "donghe"],
        "times": 2,
        "months": [3, 9],
        "method": "on_site",
    }
    values.update(changes)
    return values


def filed(client: Any, **changes: Any) -> dict[str, Any]:
    response = client.post(APPLY, json=inspection(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def test_an_inspection_is_filed_approved_and_in_the_townships_plans(login: Any) -> None:
    nongye, xianwei = login("nongye"), login("xianwei")
    chengguan, xishan = login("chengguan"), login("xishan")
    started = filed(nongye)
    assert started["title"] == "督查检查考核：安全生产大检查"
    assert chengguan.get(f"/api/v1/instances/{started['id']}").status_code == 200
    assert xishan.get(f"/api/v1/instances/{started['id']}").status_code == 404
    # Nobody is told of a filing not yet approved, and no plan holds it.
    assert chengguan.get(f"/api/v1/inspections?year={next_year()}").json() == []

    done = complete(xianwei, "inspection_review", {"decision": "approve"})
    assert done["status"] == "planned"
    mine = chengguan.get(f"/api/v1/inspections?year={next_year()}").json()
    assert [(i["name"], i["times"], i["left"], i["months"]) for i in mine] == [
        ("安全生产大检查", 2, 2, [3, 9])
    ]
    assert mine[0]["department"] == "县农业农村局" and mine[0]["out_of_plan"] is False
    assert xishan.get(f"/api/v1/inspections?year={next_year()}").json() == []
    own = nongye.get(f"/api/v1/inspections?year={next_year()}").json()
    assert sorted(i["township"] for i in own) == ["chengguan", "donghe"]
    assert login("jiaoyu").get(f"/api/v1/inspections?year={next_year()}").json() == []
    one = xianwei.get(f"/api/v1/inspections?year={next_year()}&township=donghe").json()
    assert [i["township_name"] for i in one] == ["东河乡"]
    told = chengguan.get("/api/v1/notifications").json()
    assert any("安全生产大检查" in n["message"] and "3月、9月" in n["message"] for n in told)


def test_visits_are_announced_ahead_within_the_approved_number(login: Any) -> None:
    nongye, xianwei, chengguan = login("nongye"), login("xianwei"), login("chengguan")
    started = filed(
        nongye, name="农村公路养护检查", townships=["chengguan"], times=3, months=[3, 4]
    )
    done = complete(xianwei, "inspection_review", {"decision": "limit", "times": 1})
    assert done["status"] == "planned"
    [item] = chengguan.get(f"/api/v1/inspections?year={next_year()}").json()
    assert item["times"] == 1
    visits = f"/api/v1/inspections/{item['id']}/visits"
    day = date(next_year(), 3, 12)
    # Only the department that runs it announces; the day is ahead and in the approved year.
    # The township sees the item, so it is told it may not (403); another office does not (404).
    assert chengguan.post(visits, json={"held_on": day.isoformat()}).status_code == 403
    assert login("jiaoyu").post(visits, json={"held_on": day.isoformat()}).status_code == 404
    assert_error(nongye.post(visits, json={"held_on": local_today().isoformat()}), 422, "held_on")
    assert_error(nongye.post(visits, json={"held_on": f"{next_year() + 1}-01-05"}), 422, "held_on")
    assert_error(nongye.post(visits, json={"held_on": "2027-02-30"}), 422, "held_on")
    outside = assert_error(
        nongye.post(visits, json={"held_on": f"{next_year()}-07-08"}), 422, "held_on"
    )
    assert "3月、4月" in " ".join(outside["errors"]["held_on"])  # the planned months
    announced = nongye.post(visits, json={"held_on": day.isoformat(), "note": "查阅公路养护台账"})
    assert announced.status_code == 201, announced.text
    assert announced.json()["left"] == 0
    assert [v["held_on"] for v in announced.json()["visits"]] == [day.isoformat()]
    over = nongye.post(visits, json={"held_on": (day + timedelta(days=20)).isoformat()})
    assert over.status_code == 409 and "批准的 1 次" in over.json()["message"]
    told = chengguan.get("/api/v1/notifications").json()
    assert any("农村公路养护检查" in n["message"] and "第 1 次" in n["message"] for n in told)
    trail = login("jiwei").get(f"/api/v1/instances/{started['id']}/trail").json()
    assert [e["action"] for e in trail][-1] == "inspection_visit_announced"


def test_fewer_visits_must_be_fewer_and_merging_or_refusing_needs_a_reason(login: Any) -> None:
    nongye, xianwei = login("nongye"), login("xianwei")
    filed(nongye, name="秸秆禁烧督查", kind="supervision")
    task = next(
        t for t in xianwei.get("/api/v1/tasks").json() if t["bpmn_id"] == "inspection_review"
    )
    url = f"/api/v1/tasks/{task['id']}/complete"
    assert_error(xianwei.post(url, json={"decision": "limit"}), 422, "times")
    assert_error(xianwei.post(url, json={"decision": "limit", "times": 2}), 422, "times")
    assert_error(xianwei.post(url, json={"decision": "merge"}), 422, "comment")
    done = complete(
        xianwei,
        "inspection_review",
        {"decision": "merge", "comment": "并入县应急管理局安全生产大检查"},
    )
    assert done["status"] == "merged"
    assert login("chengguan").get(f"/api/v1/inspections?year={next_year()}").json() == []
    assert any(
        "并入县应急管理局" in n["message"] for n in nongye.get("/api/v1/notifications").json()
    )


def test_an_out_of_plan_inspection_says_why_and_a_past_year_is_refused(login: Any) -> None:
    nongye = login("nongye")
    body = assert_error(nongye.post(APPLY, json=inspection(out_of_plan=True)), 422, "urgency")
    assert "理由" in " ".join(body["errors"]["urgency"])
    assert_error(nongye.post(APPLY, json=inspection(year=local_today().year - 1)), 422, "year")
    for changes, field in (
        ({"times": 0}, "times"),
        ({"times": 13}, "times"),
        ({"months": [13]}, "months"),
        ({"kind": "ranking"}, "kind"),
        ({"method": "phone"}, "method"),
        ({"townships": ["nowhere"]}, "townships"),
        ({"basis": ""}, "basis"),
    ):
        assert_error(nongye.post(APPLY, json=inspection(**changes)), 422, field)
    assert login("chengguan").post(APPLY, json=inspection()).status_code == 403
    started = filed(nongye, out_of_plan=True, urgency="汛期前须排查涉水安全隐患", name="汛前检查")
    complete(login("xianwei"), "inspection_review", {"decision": "approve"})
    [item, *_] = login("chengguan").get(f"/api/v1/inspections?year={next_year()}").json()
    assert item["instance_id"] == started["id"] and item["out_of_plan"] is True


def test_an_admitted_matter_is_not_inspected_again(login: Any) -> None:
    nongye = login("nongye")
    admitted = admit(login, name="高标准农田建设项目日常巡查", townships=["chengguan"])
    # The same matter inspected on the township it was admitted to: refused when filed.
    body = assert_error(
        nongye.post(
            APPLY, json=inspection(name="高标准农田建设项目日常巡查考核", townships=["chengguan"])
        ),
        422,
        "name",
    )
    message = " ".join(body["errors"]["name"])
    assert "已准入城关镇" in message and str(admitted) in message, message
    # Its content naming the matter is as much about it.
    assert_error(
        nongye.post(
            APPLY,
            json=inspection(
                name="农业农村工作督查",
                content="督查高标准农田建设项目日常巡查开展情况并排名",
                townships=["chengguan", "donghe"],
            ),
        ),
        422,
        "name",
    )
    # Nothing stored: no instance was filed by these refusals.
    mine = nongye.get("/api/v1/instances?process_id=inspection_admission").json()
    assert not [i for i in mine["items"] if "高标准农田" in i["title"]]
    # Another township, where the matter was not admitted, may be inspected on it.
    filed(nongye, name="高标准农田建设项目日常巡查考核", townships=["donghe"])


def admit(login: Any, **overrides: Any) -> int:
    """A matter taken through the admission gate until it is in force on its townships."""
    started = login("nongye").post(
        "/api/v1/processes/matter_admission/instances", json=application(**overrides)
    )
    assert started.status_code == 201, started.text
    steps = [("sifa", "legality", LAWFUL), ("bianban", "review", PASS)]
    steps += [("xianwei", "approve", APPROVE)]
    steps += [(t, "confirm", CONFIRM) for t in overrides.get("townships", ["chengguan"])]
    for username, _, form in steps:
        client = login(username)
        task = next(
            t
            for t in client.get("/api/v1/tasks").json()
            if t["instance_id"] == started.json()["id"]
        )
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
        assert done.status_code == 200, done.text
    assert done.json()["status"] == "in_force"
    return int(started.json()["id"])
