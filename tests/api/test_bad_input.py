"""Bad input always gets a clear 4xx in the agreed shape and changes nothing."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application

APPLY = "/api/v1/processes/matter_admission/instances"


@pytest.fixture
def filed(login) -> dict:
    """One application waiting for the legal review, and a way to see that nothing moved."""
    nongye, auditor = login("nongye"), login("jiwei")
    instance = nongye.post(APPLY, json=application()).json()

    def snapshot() -> tuple:
        detail = auditor.get(f"/api/v1/instances/{instance['id']}").json()
        trail = auditor.get(f"/api/v1/instances/{instance['id']}/trail").json()
        total = auditor.get("/api/v1/instances").json()["total"]
        return detail["version"], detail["status"], len(trail), total

    return {"id": instance["id"], "task": instance["open_tasks"][0]["id"], "snapshot": snapshot}


def assert_error(response: requests.Response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["message"] and body["status"]
    if field is not None:
        assert field in body["errors"], body
    return body


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({k: v for k, v in application().items() if k != "basis"}, "basis", "必填"),
        (application(end_date="2026-11-01"), "end_date", "晚于开始日期"),
        (application(townships=["nowhere"]), "townships", "未知乡镇"),
        (application(townships=["xianwei"]), "townships", "未知乡镇"),
        (application(unexpected="x"), "unexpected", "不允许的字段"),
        (application(resources={"funding_yuan": "五万"}), "resources", "应为整数"),
        (application(start_date=20261201), "start_date", "日期"),
        (application(term_type=None), "term_type", "不能为空"),
    ],
)
def test_bad_application_is_refused_with_field_messages(
    login, filed, payload: dict, field: str, message: str
) -> None:
    before = filed["snapshot"]()
    body = assert_error(login("nongye").post(APPLY, json=payload), 422, field)
    assert message in str(body["errors"][field])
    assert filed["snapshot"]() == before


def test_malformed_json_is_400(login, filed) -> None:
    before = filed["snapshot"]()
    nongye = login("nongye")
    body = assert_error(
        nongye.post(APPLY, data=b'{"name": "x",', headers={"Content-Type": "application/json"}),
        400,
    )
    assert "JSON" in body["message"]
    assert_error(nongye.post(APPLY, data=b"name=x", headers={"Content-Type": "text/plain"}), 415)
    assert_error(nongye.post(APPLY, json=["a", "list"]), 422, "_schema")
    # Python's json reads these; they are no JSON number, and no number a form holds.
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        body = assert_error(
            nongye.post(
                APPLY,
                data=b'{"name": "x", "resources": {"funding_yuan": ' + constant + b"}}",
                headers={"Content-Type": "application/json"},
            ),
            400,
        )
        assert "JSON" in body["message"]
    assert filed["snapshot"]() == before


def test_wrong_types_in_task_form(login, filed) -> None:
    before = filed["snapshot"]()
    sifa = login("sifa")
    url = f"/api/v1/tasks/{filed['task']}/complete"
    assert_error(sifa.post(url, json={"opinion": 1}), 422, "opinion")
    assert_error(sifa.post(url, json={"opinion": "needs_change"}), 422, "comment")
    assert_error(sifa.post(url, json={"opinion": "lawful", "extra": True}), 422, "extra")
    assert filed["snapshot"]() == before


def test_oversize_body_is_413(login, filed) -> None:
    before = filed["snapshot"]()
    huge = application(content="长" * 600_000)
    assert_error(login("nongye").post(APPLY, json=huge), 413)
    assert filed["snapshot"]() == before


def test_no_or_bad_token_is_401(login, filed) -> None:
    anonymous = login()
    assert_error(anonymous.get("/api/v1/tasks"), 401)
    assert_error(anonymous.post(APPLY, json=application()), 401)
    anonymous.http.headers["Authorization"] = "Bearer not-a-token"
    assert_error(anonymous.get(f"/api/v1/instances/{filed['id']}"), 401)
    assert_error(
        anonymous.post(
            "/api/v1/auth/token", json={"username": "nongye", "password": "wrong-password"}
        ),
        401,
    )
    assert_error(anonymous.post("/api/v1/auth/token", json={"username": "nongye"}), 422, "password")


def test_another_organisations_instance_is_404(login, filed) -> None:
    before = filed["snapshot"]()
    jiaoyu, xishan = login("jiaoyu"), login("xishan")
    assert_error(jiaoyu.get(f"/api/v1/instances/{filed['id']}"), 404)
    assert_error(xishan.get(f"/api/v1/instances/{filed['id']}/trail"), 404)
    assert_error(
        jiaoyu.post(f"/api/v1/instances/{filed['id']}/withdraw", json={"reason": "x"}), 404
    )
    assert_error(jiaoyu.get("/api/v1/instances/999999"), 404)
    assert_error(jiaoyu.post(f"/api/v1/tasks/{filed['task']}/complete", json=LAWFUL), 404)
    assert filed["snapshot"]() == before


def test_task_not_yours_is_403(login, filed) -> None:
    before = filed["snapshot"]()
    for username in ("bianban", "xianwei", "jiwei"):
        body = assert_error(
            login(username).post(f"/api/v1/tasks/{filed['task']}/complete", json=LAWFUL), 403
        )
        assert "角色" in body["message"]
    assert_error(login("bianban").post(f"/api/v1/tasks/{filed['task']}/claim"), 403)
    assert filed["snapshot"]() == before


def test_completed_task_is_409(login, filed) -> None:
    sifa = login("sifa")
    url = f"/api/v1/tasks/{filed['task']}/complete"
    assert sifa.post(url, json=LAWFUL).status_code == 200
    before = filed["snapshot"]()
    assert_error(sifa.post(url, json=LAWFUL), 409)
    assert_error(sifa.post(f"/api/v1/tasks/{filed['task']}/claim"), 409)
    assert filed["snapshot"]() == before


def test_withdrawal_before_entry_is_409(login, filed) -> None:
    before = filed["snapshot"]()
    body = assert_error(
        login("nongye").post(f"/api/v1/instances/{filed['id']}/withdraw", json={"reason": "x"}),
        409,
    )
    assert "当前阶段" in body["message"]
    assert_error(
        login("nongye").post(f"/api/v1/instances/{filed['id']}/withdraw", json={}), 422, "reason"
    )
    assert filed["snapshot"]() == before


def test_two_simultaneous_completions_give_one_success_and_one_409(login, filed) -> None:
    sifa = login("sifa")
    url = f"/api/v1/tasks/{filed['task']}/complete"
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def submit(form: dict) -> None:
        barrier.wait()
        statuses.append(sifa.post(url, json=form).status_code)

    threads = [
        threading.Thread(target=submit, args=(LAWFUL,)),
        threading.Thread(target=submit, args=({"opinion": "unlawful", "comment": "无依据"},)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    trail = login("jiwei").get(f"/api/v1/instances/{filed['id']}/trail").json()
    assert [e["task"] for e in trail if e["action"] == "task_completed"] == ["legal_review"]


def test_bad_query_parameters_are_422(login, filed) -> None:
    auditor = login("jiwei")
    assert_error(auditor.get("/api/v1/instances", params={"status": "lost"}), 422, "status")
    assert_error(auditor.get("/api/v1/instances", params={"page": "first"}), 422, "page")
    assert_error(auditor.get("/api/v1/instances", params={"per_page": 5000}), 422, "per_page")
    assert_error(auditor.get("/api/v1/instances", params={"sort": "id"}), 422, "sort")
    assert_error(auditor.get("/api/v1/register", params={"status": "maybe"}), 422, "status")


def test_unknown_route_and_method_use_the_same_shape(login) -> None:
    client = login("jiwei")
    assert_error(client.get("/api/v1/nothing-here"), 404)
    assert_error(client.http.delete(client.base_url + "/api/v1/tasks"), 405)


def test_bad_diagram_upload_is_422_and_admin_only(login) -> None:
    admin, bianban = login("admin"), login("bianban")
    xml_headers = {"Content-Type": "application/xml"}
    assert_error(bianban.post("/api/v1/processes", data=b"<x/>", headers=xml_headers), 403)
    body = assert_error(
        admin.post("/api/v1/processes", data=b"<definitions", headers=xml_headers), 422, "xml"
    )
    assert "XML" in body["message"]
    processes = admin.get("/api/v1/processes").json()
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


def test_objection_needs_an_addressed_township_and_a_matter_in_force(login) -> None:
    nongye = login("nongye")
    instance = nongye.post(APPLY, json=application(townships=["nanhu"])).json()
    for username, step, form in (
        ("sifa", "legal_review", LAWFUL),
        ("bianban", "review", PASS),
        ("xianwei", "approve", APPROVE),
        ("nanhu", "confirm_entry", CONFIRM),
    ):
        client = login(username)
        task = next(t for t in client.get("/api/v1/tasks").json() if t["bpmn_id"] == step)
        assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=form).status_code == 200
    url = f"/api/v1/instances/{instance['id']}/objections"
    assert_error(login("beiling").post(url, json={"reason": "不是我们的"}), 404)
    assert_error(nongye.post(url, json={"reason": "申请单位不能提异议"}), 403)
    assert_error(login("nanhu").post(url, json={"reason": "  "}), 422, "reason")
    assert login("nanhu").post(url, json={"reason": "经费未到位"}).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"resources": {"funding_yuan": 3_000_000_000_000}}, "resources"),
        ({"name": "\ud800"}, "name"),
        ({"name": "a\u0000b"}, "name"),
        ({"townships": ["chengguan\u0000"]}, "townships"),
    ],
)
def test_values_no_database_can_store_are_422(login, filed, change: dict, field: str) -> None:
    before = filed["snapshot"]()
    body = application(**change)
    raw = __import__("json").dumps(body).encode()  # keeps lone surrogates as \ud800 escapes
    response = login("nongye").post(APPLY, data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 422, field)
    assert filed["snapshot"]() == before


def test_deeply_nested_json_is_400(login, filed) -> None:
    before = filed["snapshot"]()
    deep = b"[" * 100_000
    for path in (APPLY, "/api/v1/auth/token", f"/api/v1/tasks/{filed['task']}/complete"):
        response = login("nongye").post(
            path, data=deep, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400)
    assert filed["snapshot"]() == before


def test_ids_beyond_any_key_are_404(login, filed) -> None:
    auditor = login("jiwei")
    for path in (
        "/api/v1/instances/100000000000000000000",
        "/api/v1/instances/2147483648",
        "/api/v1/instances/0",
        "/api/v1/instances/2147483648/trail",
    ):
        assert_error(auditor.get(path), 404)
    assert_error(login("sifa").post("/api/v1/tasks/9223372036854775808/claim"), 404)
    assert_error(auditor.get("/api/v1/instances", params={"page": 2**63 - 1}), 422, "page")
    assert_error(auditor.get("/api/v1/instances", params={"township": "a\u0000"}), 422, "township")


def test_chunked_oversize_body_is_413(login, filed) -> None:
    before = filed["snapshot"]()
    chunk = b'{"name": "' + b"x" * 600_000

    def body():
        yield chunk
        yield chunk
        yield b'"}'

    response = login("nongye").post(
        APPLY, data=body(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413)
    assert filed["snapshot"]() == before


def test_withdrawing_a_returned_application_cannot_rewrite_it(login, filed) -> None:
    for username, step, form in (
        ("sifa", "legal_review", LAWFUL),
        ("bianban", "review", {"decision": "return", "comment": "补充"}),
    ):
        client = login(username)
        task = next(t for t in client.get("/api/v1/tasks").json() if t["bpmn_id"] == step)
        assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=form).status_code == 200
    nongye = login("nongye")
    task = next(t for t in nongye.get("/api/v1/tasks").json() if t["bpmn_id"] == "revise")
    before = filed["snapshot"]()
    sneaky = {"action": "withdraw", "application": application(townships=["xishan"])}
    assert_error(
        nongye.post(f"/api/v1/tasks/{task['id']}/complete", json=sneaky), 422, "application"
    )
    assert filed["snapshot"]() == before
    assert_error(login("xishan").get(f"/api/v1/instances/{filed['id']}"), 404)


def test_unknown_process_is_404(login) -> None:
    assert_error(login("nongye").post("/api/v1/processes/nope/instances", json=application()), 404)


def test_diagram_whose_steps_have_no_form_is_refused(login) -> None:
    from engine.workflow.packages import Package
    from tests.packages import ZIP, shipped, zipped

    package = shipped("matter_admission")
    named = b'<spiffworkflow:property name="%s" value="legal_review%s" />'
    renamed = (
        package.xml.replace(b'"legal_review"', b'"legal_check"')
        .replace(b">legal_review<", b">legal_check<")
        .replace(named % (b"formJsonSchemaFilename", b".json"), b"")
        .replace(named % (b"formUiSchemaFilename", b".ui.json"), b"")
    )
    assert b"legal_review.json" not in renamed  # legal_check names no form, none built in
    files = {k: v for k, v in package.files.items() if not k.startswith("legal_review.")}
    body = assert_error(
        login("admin").post("/api/v1/processes", data=zipped(Package(renamed, files)), headers=ZIP),
        422,
        "xml",
    )
    assert "legal_check" in str(body["errors"]["xml"])
