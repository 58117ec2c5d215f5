"""Deploying diagrams over real HTTP: only XML bodies are taken, and a bad deployment can always
be rolled back, after which new applications work again."""

from __future__ import annotations

from sqlalchemy import update

from engine.models import Deployment
from engine.services.context import Context
from engine.workflow.specs import sha256_of
from tests.api.test_bad_input import assert_error
from tests.factories import application
from tests.packages import ZIP, shipped, upload

PROCESSES = "/api/v1/processes"
PROCESS = "matter_admission"
VERSIONS = "/api/v1/processes/matter_admission/versions"
APPLY = "/api/v1/processes/matter_admission/instances"
XML_HEADERS = {"Content-Type": "application/xml"}
ADMIN_NAME = "县政务服务和大数据管理局经办人"
ADMISSION = shipped("matter_admission")
GOOD = ADMISSION.xml
FLOW = b'<bpmn:sequenceFlow id="f_start" sourceRef="start_apply" targetRef="legal_review" />'
# Passes every deploy-time check (the name's length is not known then), but repeats the
# applicant's matter name 100000 times when an application is filed: a run-time bound hit.
BAD = GOOD.replace(
    FLOW,
    b'<bpmn:sequenceFlow id="f_start" sourceRef="start_apply" targetRef="copy_name" />'
    b'<bpmn:scriptTask id="copy_name" name="copy"><bpmn:incoming>f_start</bpmn:incoming>'
    b"<bpmn:outgoing>f_copied</bpmn:outgoing>"
    b"<bpmn:script>copies = application[&apos;name&apos;] * 100000</bpmn:script>"
    b"</bpmn:scriptTask>"
    b'<bpmn:sequenceFlow id="f_copied" sourceRef="copy_name" targetRef="legal_review" />',
)


def _applications(login) -> int:
    return login("jiwei").get("/api/v1/instances").json()["total"]


def _current(admin) -> dict:
    return next(p for p in admin.get(PROCESSES).json() if p["process_id"] == "matter_admission")


def _filing_fails_clearly(login) -> None:
    before = _applications(login)
    body = assert_error(login("nongye").post(APPLY, json=application()), 409, "incident")
    assert "故障" in body["message"]
    assert _applications(login) == before  # nothing was written
    # The administrator sees why: the expression that hit its bound.
    incident = login("admin").get("/api/v1/admin/incidents").json()[0]
    assert (incident["action"], incident["instance_id"]) == ("start", None)
    assert "ExpressionFailed" in incident["cause"]


def _filing_works(login) -> None:
    created = login("nongye").post(APPLY, json=application())
    assert created.status_code == 201, created.text
    assert [t["bpmn_id"] for t in created.json()["open_tasks"]] == ["legal_review"]


def test_a_package_upload_is_a_zip_or_a_bare_diagram(login) -> None:
    admin = login("admin")
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "text/xml"}, {}):
        body = assert_error(admin.post(PROCESSES, data=BAD, headers=headers), 415, "content_type")
        assert "application/zip" in body["message"] and "application/xml" in body["message"]
    assert [v["version"] for v in admin.get(VERSIONS).json()] == [1]
    spec = admin.get("/api/v1/openapi.json").json()
    upload = spec["paths"][PROCESSES]["post"]
    assert list(upload["requestBody"]["content"]) == ["application/zip", "application/xml"]
    assert "415" in upload["responses"]
    assert (
        f"{VERSIONS.replace('matter_admission', '{process_id}')}/{{version}}/activate"
        in (spec["paths"])
    )


def test_a_deployment_is_a_draft_until_activated_and_activating_the_old_one_rolls_back(
    login,
) -> None:
    admin = login("admin")
    _filing_works(login)
    deployed = admin.post(PROCESSES, data=upload(PROCESS, BAD), headers=ZIP)
    assert deployed.status_code == 201, deployed.text
    assert (deployed.json()["version"], deployed.json()["state"]) == (2, "draft")
    assert deployed.json()["current"] is False and deployed.json()["deployed_by"] == ADMIN_NAME
    # A draft changes nothing for users: new applications still start on version 1.
    assert _current(admin)["version"] == 1
    _filing_works(login)

    activate_2 = f"{VERSIONS}/2/activate"
    assert_error(login("nongye").post(activate_2), 403)
    assert admin.post(activate_2).json()["state"] == "active"
    assert _current(admin)["version"] == 2
    _filing_fails_clearly(login)  # a clear domain error, not a 500

    versions = admin.get(VERSIONS).json()
    assert [(v["version"], v["state"]) for v in versions] == [(2, "active"), (1, "retired")]
    assert versions[0]["activated_by"] == ADMIN_NAME and versions[0]["activated_at"]
    activate = f"{VERSIONS}/1/activate"
    assert_error(admin.post(f"{VERSIONS}/9/activate"), 404)
    assert_error(admin.post("/api/v1/processes/nope/versions/1/activate"), 404)

    activated = admin.post(activate)
    assert activated.status_code == 200, activated.text
    assert activated.json()["version"] == 1 and activated.json()["state"] == "active"
    assert _current(admin)["version"] == 1
    _filing_works(login)
    assert admin.post(activate).json()["version"] == 1  # activating the active one: no change

    events = login("jiwei").get("/api/v1/audit/events", params={"action": "diagram_activated"})
    rollback = events.json()["items"][0]
    assert rollback["actor"] == "admin" and rollback["instance_id"] is None
    assert rollback["payload"]["version"] == 1 and rollback["payload"]["previous_version"] == 2
    assert rollback["payload"]["via"] == "activate"
    deployed_events = login("jiwei").get(
        "/api/v1/audit/events", params={"action": "diagram_deployed"}
    )
    assert [e["payload"]["version"] for e in deployed_events.json()["items"]][0] == 2
    assert login("jiwei").get("/api/v1/audit/verify").json()["ok"] is True


def test_redeploying_identical_bytes_returns_the_stored_version_and_changes_nothing(
    login,
) -> None:
    admin = login("admin")
    assert admin.post(PROCESSES, data=upload(PROCESS, BAD), headers=ZIP).json()["version"] == 2
    assert admin.post(f"{VERSIONS}/2/activate").status_code == 200
    _filing_fails_clearly(login)

    # The good XML again is version 1 as stored: not a third version, and not live by itself.
    again = admin.post(PROCESSES, data=upload(PROCESS, GOOD), headers=ZIP)
    assert again.status_code == 201, again.text
    assert (again.json()["version"], again.json()["state"]) == (1, "retired")
    assert _current(admin)["version"] == 2
    # Identical bytes do not block the rollback.
    assert admin.post(f"{VERSIONS}/1/activate").json()["state"] == "active"
    _filing_works(login)
    assert admin.post(PROCESSES, data=upload(PROCESS, BAD), headers=ZIP).json()["version"] == 2
    assert [v["version"] for v in admin.get(VERSIONS).json()] == [2, 1]


def test_a_stored_version_that_fails_todays_checks_answers_422_and_is_rolled_back(
    login, ctx: Context
) -> None:
    """A diagram stored before these checks existed (here: written straight to the table) with
    an element the runtime cannot run: filing says why instead of a 500, that version cannot be
    activated again once left, and the good one can."""
    legacy = GOOD.replace(FLOW, FLOW + b'<bpmn:serviceTask id="send_mail" name="mail" />')
    with ctx.db.write() as session:
        session.execute(
            update(Deployment)
            .where(Deployment.process_id == "matter_admission")
            .values(is_current=False)
        )
        session.add(
            Deployment(
                process_id="matter_admission",
                name="legacy",
                version=2,
                sha256=sha256_of(legacy),
                xml=legacy,
                files=ADMISSION.stored_files(),
                deployed_at=ctx.clock.now(),
                is_current=True,
            )
        )
    admin = login("admin")
    before = _applications(login)
    body = assert_error(login("nongye").post(APPLY, json=application()), 422, "xml")
    assert "serviceTask" in str(body["errors"]["xml"])
    assert _applications(login) == before

    assert admin.post(f"{VERSIONS}/1/activate").status_code == 200
    _filing_works(login)
    body = assert_error(admin.post(f"{VERSIONS}/2/activate"), 422, "xml")
    assert "serviceTask" in str(body["errors"]["xml"])
    assert _current(admin)["version"] == 1
    _filing_works(login)
