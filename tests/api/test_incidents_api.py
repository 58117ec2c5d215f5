"""Incidents, stranded instances and administrators' interventions over real HTTP.

A procedure that fails inside the engine (here: a county deployed a diagram whose condition
reads a field no form fills, and one whose escalation script fails) must not answer 500 nor
change anything: the caller gets a clear 409 with the incident's number, the administrator sees
the cause, a failing timer is held back instead of retried in a loop, and a rollback to the good
diagram lets work go on.
"""

from __future__ import annotations

from datetime import timedelta

from engine.workflow.clock import ManualClock
from tests.api.test_admission_api import complete, only_task
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.packages import ZIP, shipped, upload

GOOD = shipped("matter_admission").xml.decode()


def deploy(admin, xml: str) -> dict:
    """Deploy and activate: new applications start on the diagram."""
    response = admin.post("/api/v1/processes", data=upload("matter_admission", xml), headers=ZIP)
    assert response.status_code in (200, 201), response.text
    info = response.json()
    activated = admin.post(
        f"/api/v1/processes/{info['process_id']}/versions/{info['version']}/activate"
    )
    assert activated.status_code == 200, activated.text
    return activated.json()


def broken_condition() -> str:
    """The review's 'pass' branch reads a key the review form never fills."""
    bad = GOOD.replace("review['decision'] == 'pass'", "review['decisions'] == 'pass'", 1)
    assert bad != GOOD
    return bad


def broken_escalation() -> str:
    """The review's overdue escalation runs a script that fails when the timer fires."""
    old = """    <bpmn:intermediateThrowEvent id="escalate_review" name="超期督办">
      <bpmn:incoming>f_deadline_review</bpmn:incoming>
      <bpmn:outgoing>f_escalated_review</bpmn:outgoing>
    </bpmn:intermediateThrowEvent>"""
    new = """    <bpmn:scriptTask id="escalate_review" name="超期督办">
      <bpmn:incoming>f_deadline_review</bpmn:incoming>
      <bpmn:outgoing>f_escalated_review</bpmn:outgoing>
      <bpmn:script>late = missing_count + 1</bpmn:script>
    </bpmn:scriptTask>"""
    assert old in GOOD
    return GOOD.replace(old, new)


def file_matter(login) -> int:
    started = login("nongye").post(
        "/api/v1/processes/matter_admission/instances", json=application(townships=["xishan"])
    )
    assert started.status_code == 201, started.text
    return started.json()["id"]


def test_engine_failure_is_an_incident_not_a_500_and_changes_nothing(login) -> None:
    admin, bianban, jiwei = login("admin"), login("bianban"), login("jiwei")
    deploy(admin, broken_condition())
    instance_id = file_matter(login)
    complete(login("sifa"), "legal_review", LAWFUL)
    trail_before = jiwei.get(f"/api/v1/instances/{instance_id}/trail").json()

    task = only_task(bianban, "review")
    failed = bianban.post(f"/api/v1/tasks/{task['id']}/complete", json=PASS)

    assert failed.status_code == 409, failed.text
    body = failed.json()
    assert "故障" in body["message"] and body["errors"]["incident"]
    assert only_task(bianban, "review")["id"] == task["id"]  # still open: nothing changed
    trail_after = jiwei.get(f"/api/v1/instances/{instance_id}/trail").json()
    assert [e["action"] for e in trail_after[len(trail_before) :]] == ["incident_opened"]

    [incident] = admin.get("/api/v1/admin/incidents").json()
    assert (incident["instance_id"], incident["kind"], incident["action"]) == (
        instance_id,
        "command",
        "complete",
    )
    assert "decisions" in incident["cause"]
    assert str(incident["id"]) in body["errors"]["incident"][0]
    # Users do not see incidents; a command incident is not replayed by the administrator.
    assert bianban.get("/api/v1/admin/incidents").status_code == 403
    assert admin.post(f"/api/v1/admin/incidents/{incident['id']}/retry").status_code == 409

    # The county rolls back to the good diagram and closes the incident. This instance stays
    # on the version it started on (migration is a later issue); new filings work again.
    versions = admin.get("/api/v1/processes/matter_admission/versions").json()
    good = min(v["version"] for v in versions)
    assert (
        admin.post(f"/api/v1/processes/matter_admission/versions/{good}/activate").status_code
        == 200
    )
    resolved = admin.post(f"/api/v1/admin/incidents/{incident['id']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["resolution"] == "resolved"
    assert admin.get("/api/v1/admin/incidents").json() == []
    second = file_matter(login)
    complete(login("sifa"), "legal_review", LAWFUL)
    review = [t for t in bianban.get("/api/v1/tasks").json() if t["instance_id"] == second]
    done = bianban.post(f"/api/v1/tasks/{review[0]['id']}/complete", json=PASS)
    assert done.status_code == 200, done.text


def test_failing_timer_is_held_back_then_retried_by_the_administrator(ctx, login) -> None:
    from engine.workflow.services import timers

    good = deploy(login("admin"), GOOD)["version"]
    deploy(login("admin"), broken_escalation())
    broken = file_matter(login)
    assert login("admin").post(f"/api/v1/processes/matter_admission/versions/{good}/activate").ok
    healthy = file_matter(login)
    sifa = login("sifa")
    for task in sifa.get("/api/v1/tasks").json():
        assert sifa.post(f"/api/v1/tasks/{task['id']}/complete", json=LAWFUL).ok
    clock: ManualClock = ctx.clock  # type: ignore[assignment]
    clock.advance(timedelta(days=40))  # both reviews are overdue
    admin, bianban = login("admin"), login("bianban")

    # The broken matter's timer fails and is held back; the healthy one's fires all the same.
    assert timers.fire_due(ctx) == timers.FireResult(instances=2, timers=1)
    overdue = {t["instance_id"]: t["overdue"] for t in bianban.get("/api/v1/tasks").json()}
    assert overdue == {broken: False, healthy: True}
    assert timers.fire_due(ctx).instances == 0  # no hot loop
    [incident] = admin.get("/api/v1/admin/incidents").json()
    assert (incident["instance_id"], incident["kind"], incident["attempts"]) == (
        broken,
        "timer",
        1,
    )
    assert "missing_count" in incident["cause"]

    clock.advance(timedelta(seconds=59))
    assert timers.fire_due(ctx).instances == 0  # not yet
    clock.advance(timedelta(seconds=1))
    assert timers.fire_due(ctx).instances == 1  # the first retry, after a minute, fails again
    [incident] = admin.get("/api/v1/admin/incidents").json()
    assert incident["attempts"] == 2

    retried = admin.post(f"/api/v1/admin/incidents/{incident['id']}/retry")
    assert retried.status_code == 409 and "missing_count" in retried.json()["message"]
    assert admin.get("/api/v1/admin/incidents").json()[0]["attempts"] == 3


def test_administrator_suspends_resumes_and_terminates(login) -> None:
    admin, sifa, jiwei, xishan = login("admin"), login("sifa"), login("jiwei"), login("xishan")
    instance_id = file_matter(login)
    reason = {"reason": "核查申请材料真实性"}

    assert sifa.post(f"/api/v1/instances/{instance_id}/suspend", json=reason).status_code == 403
    suspended = admin.post(f"/api/v1/instances/{instance_id}/suspend", json=reason)
    assert suspended.status_code == 200 and suspended.json()["suspended_at"]
    task = only_task(sifa, "legal_review")
    refused = sifa.post(f"/api/v1/tasks/{task['id']}/complete", json=LAWFUL)
    assert refused.status_code == 409 and "暂停" in refused.json()["message"]
    assert admin.post(f"/api/v1/instances/{instance_id}/suspend", json=reason).status_code == 409
    no_reason = admin.post(f"/api/v1/instances/{instance_id}/resume", json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]

    assert admin.post(f"/api/v1/instances/{instance_id}/resume", json=reason).status_code == 200
    complete(sifa, "legal_review", LAWFUL)
    complete(login("bianban"), "review", PASS)
    complete(login("xianwei"), "approve", APPROVE)
    complete(xishan, "confirm_entry", CONFIRM)

    ended = admin.post(f"/api/v1/instances/{instance_id}/terminate", json={"reason": "重复立项"})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    assert [r["status"] for r in xishan.get("/api/v1/register").json()] == ["exited"]
    assert "终止" in xishan.get("/api/v1/notifications").json()[0]["message"]
    again = admin.post(f"/api/v1/instances/{instance_id}/terminate", json={"reason": "再次"})
    assert again.status_code == 409
    withdraw = login("nongye").post(
        f"/api/v1/instances/{instance_id}/withdraw", json={"reason": "不再需要"}
    )
    assert withdraw.status_code == 409
    actions = [e["action"] for e in jiwei.get(f"/api/v1/instances/{instance_id}/trail").json()]
    for action in ("instance_suspended", "instance_resumed", "instance_terminated"):
        assert action in actions
    assert admin.get("/api/v1/admin/stranded").json() == []
