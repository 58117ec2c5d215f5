"""Fault tolerance and clearance over real HTTP, tried as the demo county's people would.

The demo opens three cases (engine/demo.py): zhangming's (城关镇) is under way, lihua's (东河乡)
was verified untrue and harmed her, wangfang's (西山镇) was "not proven but cannot be ruled out".
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.models import User
from tests import accountability_factories as af
from tests.api.test_admission_api import complete, only_task
from tests.api.test_bad_input import assert_error


def own_case(client) -> dict:
    cases = client.get("/api/v1/cases").json()
    assert cases["total"] == 1, cases
    return cases["items"][0]


def start(client, process_id: str, form: dict) -> dict:
    response = client.post(f"/api/v1/processes/{process_id}/instances", json=form)
    assert response.status_code == 201, response.text
    return response.json()


def trail_steps(client, instance_id: int) -> list[tuple]:
    trail = client.get(f"/api/v1/instances/{instance_id}/trail").json()
    return [
        (e["action"], e["task"], e["actor"])
        for e in trail
        if e["action"] in {"instance_started", "task_completed", "appeal_lodged", "case_updated"}
    ]


def test_cadre_applies_for_fault_tolerance_is_granted_reduced_appeals_and_is_exempted(login, clock):
    zhangming, jiwei, shenli, zuzhibu = (
        login(u) for u in ("zhangming", "jiwei", "jiwei_shenli", "zuzhibu")
    )
    case = own_case(zhangming)
    assert case["status"] == "open" and case["subject_org"]["name"] == "城关镇"
    # Under way: fault tolerance may be applied for; clearance waits for the matter's conclusion.
    assert zhangming.get(f"/api/v1/cases/{case['id']}").json()["actions"] == ["fault_tolerance"]

    started = start(zhangming, "fault_tolerance", af.ft_application(case_id=case["id"]))
    assert started["status"] == "pending" and started["case_id"] == case["id"]
    complete(jiwei, "ft_accept", af.ACCEPT)
    complete(jiwei, "ft_verify", af.ft_verification())
    decided = complete(shenli, "ft_decide", af.ft_decision("reduced"))
    assert decided["status"] == "pending"  # the appeal window is open

    assert zhangming.get(f"/api/v1/cases/{case['id']}").json()["tolerance_outcome"] == "reduced"
    # Told of the acceptance, then of the decision (newest first).
    notice, accepted = zhangming.get("/api/v1/notifications").json()
    assert "已受理" in accepted["message"]
    assert "减责" in notice["message"] and "申诉" in notice["message"]
    assert any("减责" in n["message"] for n in zuzhibu.get("/api/v1/notifications").json())
    # The notice is the cadre's own: his township's office does not read it.
    assert login("chengguan").get("/api/v1/notifications").json() == []

    instance = zhangming.get(f"/api/v1/instances/{started['id']}").json()
    assert instance["actions"] == ["appeal"]
    # The window closes after 15 calendar days: its last day is in the instance's timers.
    [window] = [t for t in instance["timers"] if t["step"] == "gw_appeal"]
    # The service's day, not the wall clock's (the two part at the county's midnight).
    today = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert window["due_date"] == (today + timedelta(days=15)).isoformat()
    appealed = zhangming.post(
        f"/api/v1/instances/{started['id']}/appeals", json={"reason": "已挽回全部损失，请求免责"}
    )
    assert appealed.status_code == 200, appealed.text
    # The first decision stands while the appeal is decided.
    assert zhangming.get(f"/api/v1/cases/{case['id']}").json()["tolerance_outcome"] == "reduced"
    assert_error(
        zhangming.post(f"/api/v1/instances/{started['id']}/appeals", json={"reason": "再次申诉"}),
        409,
    )

    # 回避: the first decider may not decide the appeal; a colleague does.
    [appeal_task] = [
        t for t in shenli.get("/api/v1/tasks").json() if t["bpmn_id"] == "ft_appeal_decide"
    ]
    recused = shenli.post(
        f"/api/v1/tasks/{appeal_task['id']}/complete", json=af.appeal_changed("exempt")
    )
    assert recused.status_code == 403 and "回避" in recused.json()["message"], recused.text
    complete(login("zhaomin"), "ft_appeal_decide", af.appeal_changed("exempt"))
    assert zhangming.get(f"/api/v1/cases/{case['id']}").json()["tolerance_outcome"] == "exempt"
    filed = complete(jiwei, "ft_file", af.ft_filing())
    assert filed["status"] == "concluded"

    assert trail_steps(jiwei, started["id"]) == [
        ("instance_started", "start_apply", "zhangming"),
        ("task_completed", "ft_accept", "jiwei"),
        ("case_updated", "tell_tolerance_accepted", "jiwei"),
        ("task_completed", "ft_verify", "jiwei"),
        ("task_completed", "ft_decide", "jiwei_shenli"),
        ("case_updated", "record_tolerance_outcome", "jiwei_shenli"),
        ("appeal_lodged", "catch_appeal", "zhangming"),
        ("task_completed", "ft_appeal_decide", "zhaomin"),
        ("case_updated", "record_appeal_decision", "zhaomin"),
        ("task_completed", "ft_file", "jiwei"),
    ]


def test_falsely_reported_cadre_is_cleared_at_a_meeting_with_a_written_record(login):
    lihua, jiwei, shenli, zuzhibu = (
        login(u) for u in ("lihua", "jiwei", "jiwei_shenli", "zuzhibu")
    )
    case = own_case(lihua)
    assert (case["status"], case["finding"], case["harm"]) == ("untrue", "untrue", True)
    assert lihua.get(f"/api/v1/cases/{case['id']}").json()["actions"] == ["clearance"]
    assert jiwei.get(f"/api/v1/cases/{case['id']}").json()["actions"] == ["clearance_proposal"]

    started = start(lihua, "clearance", af.cl_application(case_id=case["id"]))
    complete(jiwei, "cl_eligibility", af.eligible())
    complete(shenli, "cl_approve", af.approved("meeting"))
    task = only_task(jiwei, "cl_carry_out")
    assert task["due_at"] is not None  # 5 working days after approval
    # A meeting needs its occasion, and the method is the approved one.
    refused = jiwei.post(
        f"/api/v1/tasks/{task['id']}/complete", json=af.carried_out("meeting", occasion="")
    )
    assert "occasion" in assert_error(refused, 422)["errors"]
    wrong_method = jiwei.post(
        f"/api/v1/tasks/{task['id']}/complete", json=af.carried_out("circular")
    )
    assert "method" in assert_error(wrong_method, 422)["errors"]
    cleared = complete(jiwei, "cl_carry_out", af.carried_out("meeting"))
    assert cleared["status"] == "cleared"
    assert cleared["data"]["cl_result"]["written_record"].startswith("澄清正名记录")

    record = lihua.get(f"/api/v1/cases/{case['id']}").json()
    assert record["clearance_method"] == "meeting" and record["cleared_at"]
    assert "clearance" not in record["actions"]
    assert "会议澄清" in lihua.get("/api/v1/notifications").json()[0]["message"]
    assert any("澄清正名" in n["message"] for n in zuzhibu.get("/api/v1/notifications").json())
    assert [step[1] for step in trail_steps(jiwei, started["id"])] == [
        "start_apply",
        "cl_eligibility",
        "cl_approve",
        "tell_clearance_approved",  # the cadre and the organisation department told
        "cl_carry_out",
        "record_clearance",  # the case record and the notices, at the diagram's service task
    ]


def test_ineligible_clearance_is_refused_with_the_reason_shown(login):
    wangfang, jiwei = login("wangfang"), login("jiwei")
    case = own_case(wangfang)
    assert case["finding"] == "not_proven"
    # The organ proposes clearance only of what it verified untrue; she may still apply.
    assert jiwei.get(f"/api/v1/cases/{case['id']}").json()["actions"] == []
    assert wangfang.get(f"/api/v1/cases/{case['id']}").json()["actions"] == ["clearance"]
    started = start(wangfang, "clearance", af.cl_application(case_id=case["id"]))

    task = only_task(jiwei, "cl_eligibility")
    wrong = jiwei.post(f"/api/v1/tasks/{task['id']}/complete", json=af.eligible())
    assert "查无实据" in "".join(assert_error(wrong, 422)["errors"]["decision"])

    explanation = "核查结论为查无实据但不能排除，不符合澄清正名条件"
    refused = complete(jiwei, "cl_eligibility", af.ineligible(["not_proven"], explanation))
    assert refused["status"] == "refused"
    seen = wangfang.get(f"/api/v1/instances/{started['id']}").json()
    assert seen["status"] == "refused"
    assert seen["data"]["cl_eligibility"]["explanation"] == explanation
    assert explanation in wangfang.get("/api/v1/notifications").json()[0]["message"]
    assert wangfang.get(f"/api/v1/cases/{case['id']}").json()["cleared_at"] is None


def test_cases_are_read_only_by_handling_organs_auditors_and_the_person_concerned(login, ctx):
    # 城关镇's office also files applications of its own (a township asking to change its own
    # list): still, its cadre's procedure, filed from 城关镇, is not its to read.
    with ctx.db.write() as session:
        office = session.scalar(select(User).where(User.username == "chengguan"))
        office.roles = ["applicant", "township"]
    zhangming, lihua = login("zhangming"), login("lihua")
    ft = start(zhangming, "fault_tolerance", af.ft_application(case_id=own_case(zhangming)["id"]))
    lihua_case = own_case(lihua)
    cl = start(lihua, "clearance", af.cl_application(case_id=lihua_case["id"]))

    for outsider in ("donghe", "chengguan", "xishan", "bianban", "xianwei", "nongye"):
        client = login(outsider)
        assert client.get("/api/v1/cases").json()["total"] == 0, outsider
        assert_error(client.get(f"/api/v1/cases/{lihua_case['id']}"), 404)
        for instance in (ft, cl):
            assert_error(client.get(f"/api/v1/instances/{instance['id']}"), 404)
            assert_error(client.get(f"/api/v1/instances/{instance['id']}/trail"), 404)
        listed = client.get("/api/v1/instances").json()["items"]
        assert not {i["id"] for i in listed} & {ft["id"], cl["id"]}, outsider
    # One cadre does not see another's case either.
    assert_error(zhangming.get(f"/api/v1/cases/{lihua_case['id']}"), 404)
    assert_error(zhangming.get(f"/api/v1/instances/{cl['id']}"), 404)
    assert [i["id"] for i in zhangming.get("/api/v1/instances").json()["items"]] == [ft["id"]]

    for reader in ("jiwei", "jiwei_shenli", "zuzhibu"):
        ids = {i["id"] for i in login(reader).get("/api/v1/instances").json()["items"]}
        assert {ft["id"], cl["id"]} <= ids, reader
        assert login(reader).get("/api/v1/cases").json()["total"] == 3


def test_the_person_concerned_never_decides_their_own_case(login):
    zuzhibu, shenli, jiwei = login("zuzhibu"), login("jiwei_shenli"), login("jiwei")
    opened = zuzhibu.post(
        "/api/v1/cases",
        json={
            "subject_kind": "person",
            "subject_username": "jiwei_shenli",
            "matter_reported": "被反映在案件审理中泄露案情",
            "responsibility_level": "principal",
        },
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["case_no"].startswith("问〔") and case["subject_org"]["code"] == "jiwei"
    # The discipline organ does not open, nor record findings on, a case about its own staff.
    assert_error(
        jiwei.post(
            f"/api/v1/cases/{case['id']}/findings",
            json={"finding": "untrue", "harm": True, "note": "失实"},
        ),
        403,
    )

    started = start(shenli, "fault_tolerance", af.ft_application(case_id=case["id"]))
    assert not [t for t in jiwei.get("/api/v1/tasks").json() if t["instance_id"] == started["id"]]
    task_id = started["open_tasks"][0]["id"]
    body = assert_error(jiwei.post(f"/api/v1/tasks/{task_id}/complete", json=af.ACCEPT), 403)
    assert "回避" in body["message"]
    assert_error(shenli.post(f"/api/v1/tasks/{task_id}/complete", json=af.ACCEPT), 403)


def test_bad_requests_on_cases_are_refused_and_change_nothing(login):
    zhangming, lihua, jiwei, chengguan = (
        login(u) for u in ("zhangming", "lihua", "jiwei", "chengguan")
    )
    mine, hers = own_case(zhangming), own_case(lihua)

    # Only the handling organs open cases; bodies are validated field by field.
    assert_error(chengguan.post("/api/v1/cases", json={"subject_kind": "unit"}), 403)
    body = assert_error(
        jiwei.post(
            "/api/v1/cases",
            json={"subject_kind": "group", "responsibility_level": "leadership"},
        ),
        422,
    )
    assert {"subject_kind", "matter_reported"} <= set(body["errors"])
    leadership = assert_error(
        jiwei.post(
            "/api/v1/cases",
            json={
                "subject_kind": "unit",
                "subject_org": "donghe",
                "matter_reported": "x",
                "responsibility_level": "leadership",
            },
        ),
        422,
        "leadership_kind",
    )
    assert "领导责任" in leadership["errors"]["leadership_kind"][0]
    assert_error(
        jiwei.post(
            "/api/v1/cases",
            json={
                "subject_kind": "person",
                "subject_username": "nobody",
                "matter_reported": "x",
                "responsibility_level": "principal",
            },
        ),
        422,
        "subject_username",
    )

    # Fault tolerance: the person's own open case only, one application at a time.
    for bad_id in ("1", None, 0, 2**40, True):
        assert_error(
            zhangming.post(
                "/api/v1/processes/fault_tolerance/instances",
                json=af.ft_application(case_id=bad_id),
            ),
            422,
            "case_id",
        )
    someone_elses = zhangming.post(
        "/api/v1/processes/fault_tolerance/instances", json=af.ft_application(case_id=hers["id"])
    )
    assert assert_error(someone_elses, 422, "case_id")["errors"]["case_id"] == ["案件不存在"]
    decided = lihua.post(
        "/api/v1/processes/fault_tolerance/instances", json=af.ft_application(case_id=hers["id"])
    )
    assert_error(decided, 422, "case_id")
    unknown_circumstance = zhangming.post(
        "/api/v1/processes/fault_tolerance/instances",
        json=af.ft_application(case_id=mine["id"], circumstances=["made_up"]),
    )
    assert_error(unknown_circumstance, 422, "circumstances")
    proposal_by_cadre = zhangming.post(
        "/api/v1/processes/clearance/instances",
        json=af.cl_proposal(case_id=mine["id"]),
    )
    assert_error(proposal_by_cadre, 403)
    assert zhangming.get("/api/v1/instances").json()["total"] == 0

    start(zhangming, "fault_tolerance", af.ft_application(case_id=mine["id"]))
    again = zhangming.post(
        "/api/v1/processes/fault_tolerance/instances", json=af.ft_application(case_id=mine["id"])
    )
    assert_error(again, 409)
    # The verification may conclude; the accountability decision waits for the tolerance one.
    assert_error(jiwei.post(f"/api/v1/cases/{mine['id']}/findings", json={"finding": "maybe"}), 422)
    finding = {"finding": "proven", "harm": False, "note": "问题属实"}
    proven = jiwei.post(f"/api/v1/cases/{mine['id']}/findings", json=finding)
    assert proven.status_code == 200 and proven.json()["status"] == "proven"
    assert proven.json()["concluded_at"] is None and proven.json()["actions"] == ["decision"]
    assert_error(jiwei.post(f"/api/v1/cases/{hers['id']}/findings", json=finding), 409)
    decision = {
        "outcome": "admonition",
        "document_no": "城纪问〔2026〕3号",
        "decided_on": "2026-11-30",
    }
    assert_error(jiwei.post(f"/api/v1/cases/{mine['id']}/decision", json=decision), 409)
    assert zhangming.get(f"/api/v1/cases/{mine['id']}").json()["status"] == "proven"
    assert zhangming.get("/api/v1/instances").json()["total"] == 1
