"""会议 over real HTTP (issue 16), from the shipped package bpmn/meeting_admission: a
department files a meeting that requires townships, ahead of its day; the county office
approves it in person or as a video meeting, or refuses; approved, it is on each township's
calendar and they are told; a township's month holds at most the county's limit of in-person
meetings; a township may ask to attend by video and the organiser answers; each read is
scoped to who called it or must attend."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error

APPLY = "/api/v1/processes/meeting_admission/instances"


def meeting(day: date, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "全县秋冬季森林防火工作部署会",
        "held_on": day.isoformat(),
        "starts_at": "09:30",
        "hours": 1.5,
        "location": "县政府三楼会议室",
        "townships": ["chengguan", "donghe"],
        "attendees": "分管副镇长1名",
        "video_possible": True,
        "reason": "部署防火责任，须乡镇分管负责同志当面领任务",
    }
    values.update(changes)
    return values


def local_today() -> date:
    """The county's today (the tests' clock starts at the real time)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def next_month_day(_login: Any, day: int = 10) -> date:
    """A day of next month: after today, and the month's meetings all this test's."""
    first = (local_today().replace(day=1) + timedelta(days=32)).replace(day=1)
    return first.replace(day=day)


def test_a_meeting_is_filed_approved_and_on_the_townships_calendars(login: Any) -> None:
    nongye, xianwei = login("nongye"), login("xianwei")
    chengguan, xishan = login("chengguan"), login("xishan")
    day = next_month_day(login)
    filed = nongye.post(APPLY, json=meeting(day))
    assert filed.status_code == 201, filed.text
    assert filed.json()["title"] == "会议：全县秋冬季森林防火工作部署会"
    # Addressed to its townships: they read it, others do not.
    assert chengguan.get(f"/api/v1/instances/{filed.json()['id']}").status_code == 200
    assert xishan.get(f"/api/v1/instances/{filed.json()['id']}").status_code == 404

    done = complete(
        xianwei, "meeting_review", {"decision": "approve", "comment": "同意，压缩到1小时以内"}
    )
    assert done["status"] == "scheduled"
    window = f"start={day.isoformat()}&end={day.isoformat()}"
    mine = chengguan.get(f"/api/v1/meetings?{window}").json()
    assert [(m["name"], m["mode"], m["township"]) for m in mine] == [
        ("全县秋冬季森林防火工作部署会", "in_person", "chengguan")
    ]
    assert mine[0]["starts_at"] == "09:30" and mine[0]["minutes"] == 90
    assert mine[0]["organiser"] == "县农业农村局"
    assert xishan.get(f"/api/v1/meetings?{window}").json() == []
    called = nongye.get(f"/api/v1/meetings?{window}").json()
    assert sorted(m["township"] for m in called) == ["chengguan", "donghe"]
    assert len(login("jiaoyu").get(f"/api/v1/meetings?{window}").json()) == 0
    assert len(xianwei.get(f"/api/v1/meetings?{window}&township=donghe").json()) == 1
    told = chengguan.get("/api/v1/notifications").json()
    assert any("森林防火" in n["message"] and "分管副镇长1名" in n["message"] for n in told)


def test_a_meeting_is_filed_ahead_and_well_formed(login: Any) -> None:
    nongye = login("nongye")
    today = local_today()
    for changes, field in (
        ({"held_on": today.isoformat()}, "held_on"),
        ({"starts_at": "25:00"}, "starts_at"),
        ({"hours": 0.2}, "hours"),
        ({"hours": 12}, "hours"),
        ({"townships": []}, "townships"),
        ({"townships": ["nowhere"]}, "townships"),
        ({"reason": ""}, "reason"),
    ):
        body = assert_error(
            nongye.post(APPLY, json=meeting(today + timedelta(days=3), **changes)), 422, field
        )
        assert any("\u4e00" <= c <= "\u9fff" for c in " ".join(body["errors"][field])), body
    assert (
        login("chengguan").post(APPLY, json=meeting(today + timedelta(days=3))).status_code == 403
    )


def test_the_monthly_limit_holds_in_person_meetings_but_not_video_ones(login: Any, ctx) -> None:
    nongye, xianwei = login("nongye"), login("xianwei")
    cap = ctx.settings.meeting_monthly_cap
    day = next_month_day(login, 5)
    for n in range(cap):
        filed = nongye.post(APPLY, json=meeting(day + timedelta(days=n), name=f"第{n + 1}次会议"))
        assert filed.status_code == 201, filed.text
        complete(xianwei, "meeting_review", {"decision": "approve"})
    over = nongye.post(
        APPLY, json=meeting(day + timedelta(days=cap), name="又一次会议", townships=["chengguan"])
    )
    task = next(
        t for t in xianwei.get("/api/v1/tasks").json() if t["instance_id"] == over.json()["id"]
    )
    refused = xianwei.post(f"/api/v1/tasks/{task['id']}/complete", json={"decision": "approve"})
    body = assert_error(refused, 422, "decision")
    assert "城关镇" in body["message"] and "视频" in body["message"]
    # Nothing was stored: the task is still open, the calendar unchanged.
    assert any(t["id"] == task["id"] for t in xianwei.get("/api/v1/tasks").json())
    video = xianwei.post(f"/api/v1/tasks/{task['id']}/complete", json={"decision": "approve_video"})
    assert video.status_code == 200 and video.json()["status"] == "scheduled"
    month = f"start={day.replace(day=1).isoformat()}&end={(day + timedelta(days=20)).isoformat()}"
    modes = [m["mode"] for m in login("chengguan").get(f"/api/v1/meetings?{month}").json()]
    assert modes.count("in_person") == cap and modes.count("video") == 1


def test_a_township_asks_to_attend_by_video_and_the_organiser_answers(login: Any) -> None:
    nongye, xianwei, chengguan, donghe = (
        login(u) for u in ("nongye", "xianwei", "chengguan", "donghe")
    )
    day = next_month_day(login, 20)
    filed = nongye.post(APPLY, json=meeting(day)).json()
    complete(xianwei, "meeting_review", {"decision": "approve"})
    window = f"start={day.isoformat()}&end={day.isoformat()}"
    [mine] = chengguan.get(f"/api/v1/meetings?{window}").json()
    # Only the township that must attend asks; a reason is needed.
    assert (
        donghe.post(
            f"/api/v1/meetings/{mine['id']}/video-request", json={"reason": "x"}
        ).status_code
        == 404
    )
    assert_error(
        chengguan.post(f"/api/v1/meetings/{mine['id']}/video-request", json={"reason": " "}),
        422,
        "reason",
    )
    asked = chengguan.post(
        f"/api/v1/meetings/{mine['id']}/video-request",
        json={"reason": "当天镇里有防汛值守，分管领导不能离岗"},
    )
    assert asked.status_code == 200, asked.text
    again = chengguan.post(
        f"/api/v1/meetings/{mine['id']}/video-request", json={"reason": "再次申请"}
    )
    assert again.status_code == 409
    assert any("防汛值守" in n["message"] for n in nongye.get("/api/v1/notifications").json())
    # Only the organiser answers; refusing needs a reason.
    assert (
        xianwei.post(
            f"/api/v1/meetings/{mine['id']}/video-answer", json={"grant": True}
        ).status_code
        == 404
    )
    assert_error(
        nongye.post(f"/api/v1/meetings/{mine['id']}/video-answer", json={"grant": False}),
        422,
        "reason",
    )
    granted = nongye.post(f"/api/v1/meetings/{mine['id']}/video-answer", json={"grant": True})
    assert granted.status_code == 200 and granted.json()["mode"] == "video"
    assert granted.json()["video_answer"] == "granted"
    trail = login("jiwei").get(f"/api/v1/instances/{filed['id']}/trail").json()
    assert [e["action"] for e in trail][-2:] == [
        "meeting_video_requested",
        "meeting_video_answered",
    ]


def test_a_refused_meeting_is_on_no_calendar(login: Any) -> None:
    nongye, xianwei = login("nongye"), login("xianwei")
    day = next_month_day(login, 25)
    nongye.post(APPLY, json=meeting(day))
    assert_error(
        xianwei.post(
            f"/api/v1/tasks/{next(t for t in xianwei.get('/api/v1/tasks').json())['id']}/complete",
            json={"decision": "refuse"},
        ),
        422,
        "comment",
    )
    done = complete(
        xianwei, "meeting_review", {"decision": "refuse", "comment": "可合并到月度例会"}
    )
    assert done["status"] == "refused"
    assert login("chengguan").get(f"/api/v1/meetings?start={day}&end={day}").json() == []
    assert any(
        "可合并到月度例会" in n["message"] for n in nongye.get("/api/v1/notifications").json()
    )
