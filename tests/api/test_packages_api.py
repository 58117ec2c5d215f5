"""A package nobody on the team wrote, over real HTTP: a county draws 督查检查计划报备 (an
inspection plan filed with the county), names its JSON Schema forms the SpiffArena way, zips
it and deploys it. It is a draft until activated, starts, refuses bad input with field messages
in Chinese and stores nothing, and runs to its end. A second version (one step renamed, one
added) stays a draft until activated, then new instances take it; activating version 1 again
rolls back."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.api.test_bad_input import assert_error

PROCESSES = "/api/v1/processes"
PROCESS_ID = "inspection_plan"
VERSIONS = f"{PROCESSES}/{PROCESS_ID}/versions"
APPLY = f"{PROCESSES}/{PROCESS_ID}/instances"
ZIP = {"Content-Type": "application/zip"}
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _form(step: str, name: str) -> str:
    return (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{name}" />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )


def diagram(version: int) -> str:
    """Version 1: file → review → approve (returned → review again) → end. Version 2 renames
    the approval step and adds a filing step after it."""
    approve_name = "审批检查计划" if version == 1 else "县委县政府审批检查计划"
    after_approval = "end_approved" if version == 1 else "file_record"
    filing = (
        ""
        if version == 1
        else f"""
    <bpmn:userTask id="file_record" name="备案">
      {_form("file_record", "file_record.json")}
      <bpmn:incoming>f_pass</bpmn:incoming><bpmn:outgoing>f_filed</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_filed" sourceRef="file_record" targetRef="end_approved" />"""
    )
    end_incoming = "f_pass" if version == 1 else "f_filed"
    filing_lane = "" if version == 1 else "<bpmn:flowNodeRef>file_record</bpmn:flowNodeRef>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="{SPIFF}" id="defs_plan" targetNamespace="http://county.example/plan">
  <bpmn:process id="{PROCESS_ID}" name="督查检查计划报备" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_applicant" name="报备部门">
        <bpmn:flowNodeRef>start_file</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_reviewer" name="县委编办">
        <bpmn:flowNodeRef>review_plan</bpmn:flowNodeRef>{filing_lane}
      </bpmn:lane>
      <bpmn:lane id="lane_approver" name="县委县政府">
        <bpmn:flowNodeRef>approve_plan</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>gw_approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_approved</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start_file" name="报备检查计划">
      {_form("start_file", "plan.json")}
      <bpmn:outgoing>f_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start_file" targetRef="review_plan" />
    <bpmn:userTask id="review_plan" name="审核检查计划">
      {_form("review_plan", "review_plan.json")}
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:incoming>f_back</bpmn:incoming>
      <bpmn:outgoing>f_review</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_review" sourceRef="review_plan" targetRef="approve_plan" />
    <bpmn:userTask id="approve_plan" name="{approve_name}">
      {_form("approve_plan", "approve_plan.json")}
      <bpmn:incoming>f_review</bpmn:incoming><bpmn:outgoing>f_approve</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_approve" sourceRef="approve_plan" targetRef="gw_approve" />
    <bpmn:exclusiveGateway id="gw_approve" name="审批结论">
      <bpmn:incoming>f_approve</bpmn:incoming>
      <bpmn:outgoing>f_pass</bpmn:outgoing><bpmn:outgoing>f_back</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_pass" sourceRef="gw_approve" targetRef="{after_approval}">
      <bpmn:conditionExpression>approve_plan['decision'] == 'approve'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_back" sourceRef="gw_approve" targetRef="review_plan">
      <bpmn:conditionExpression>approve_plan['decision'] == 'return'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>{filing}
    <bpmn:endEvent id="end_approved" name="计划已批准">
      <bpmn:incoming>{end_incoming}</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


PLAN = {
    "title": "督查检查计划",
    "type": "object",
    "required": ["title", "content", "planned_date"],
    "properties": {
        "title": {"type": "string", "title": "计划名称", "maxLength": 100},
        "content": {"type": "string", "title": "检查内容", "maxLength": 2000},
        "planned_date": {"type": "string", "format": "date", "title": "计划开展日期"},
        "townships": {
            "type": "integer",
            "title": "涉及乡镇数",
            "minimum": 1,
            "maximum": 50,
            "default": 1,
        },
    },
}


def _decision(choices: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {
                "title": "结论",
                "oneOf": [{"const": code, "title": title} for code, title in choices.items()],
            },
            "comment": {"type": "string", "title": "意见", "maxLength": 500},
        },
        "if": {"properties": {"decision": {"const": "return"}}, "required": ["decision"]},
        "then": {
            "required": ["comment"],
            "x-messages": {"required": "退回时须填写意见"},
        },
    }


FILES_V1 = {
    "plan.json": PLAN,
    "review_plan.json": _decision({"pass": "同意", "return": "退回"}),
    "approve_plan.json": _decision({"approve": "批准", "return": "退回重审"}),
}
FILES_V2 = {
    **FILES_V1,
    "file_record.json": {
        "type": "object",
        "required": ["record_no"],
        "properties": {"record_no": {"type": "string", "title": "备案编号", "maxLength": 40}},
    },
}


def package(version: int, files: dict[str, Any] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inspection_plan/inspection_plan.bpmn", diagram(version))
        for name, schema in (files or (FILES_V1 if version == 1 else FILES_V2)).items():
            archive.writestr(f"inspection_plan/{name}", json.dumps(schema, ensure_ascii=False))
    return buffer.getvalue()


def deploy(admin, version: int) -> dict[str, Any]:
    response = admin.post(PROCESSES, data=package(version), headers=ZIP)
    assert response.status_code == 201, response.text
    return response.json()


def activate(admin, version: int) -> dict[str, Any]:
    response = admin.post(f"{VERSIONS}/{version}/activate")
    assert response.status_code == 200, response.text
    return response.json()


def file_plan(login, **changes: Any) -> dict[str, Any]:
    body = {"title": "2027年一季度安全生产督查", "content": "检查各乡镇安全生产台账"}
    body |= {"planned_date": "2027-01-11", **changes}
    response = login("nongye").post(APPLY, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def take(
    login, user: str, step: str, form: dict[str, Any], instance_id: int | None = None
) -> dict[str, Any]:
    client = login(user)
    [task] = [
        t
        for t in client.get("/api/v1/tasks").json()
        if t["bpmn_id"] == step and instance_id in (None, t["instance_id"])
    ]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json=form)
    assert response.status_code == 200, response.text
    return response.json()


def _instances(login) -> int:
    return login("nongye").get("/api/v1/instances").json()["total"]


def test_a_county_package_deploys_as_a_draft_then_runs_to_its_end(login) -> None:
    admin = login("admin")
    assert_error(login("nongye").post(PROCESSES, data=package(1), headers=ZIP), 403)
    info = deploy(admin, 1)
    assert (info["process_id"], info["version"], info["state"]) == (PROCESS_ID, 1, "draft")
    assert info["files"] == ["approve_plan.json", "plan.json", "review_plan.json"]
    # A draft is nothing users can start.
    assert_error(login("nongye").post(APPLY, json={}), 404)
    assert PROCESS_ID not in {p["process_id"] for p in admin.get(PROCESSES).json()}
    assert activate(admin, 1)["state"] == "active"
    # A client (a clerk's phone) draws each step's form from the version's own schema.
    forms = login("nongye").get(f"{VERSIONS}/1/forms").json()
    assert [(f["step"]["id"], f["start"]) for f in forms] == [
        ("start_file", True),
        ("approve_plan", False),
        ("review_plan", False),
    ]
    assert forms[0]["step"]["name"] == "报备检查计划" and forms[0]["json_schema"] == PLAN
    assert_error(login("nongye").get(f"{VERSIONS}/9/forms"), 404)

    # Bad input: a field message in Chinese for each problem, and nothing stored.
    before = _instances(login)
    bad = login("nongye").post(
        APPLY, json={"title": "", "planned_date": "明年", "townships": 99, "extra": 1}
    )
    errors = assert_error(bad, 422, "content")["errors"]
    assert errors["content"] == ["此项为必填项"]
    assert set(errors) == {"title", "content", "planned_date", "townships", "extra"}
    assert "日期" in errors["planned_date"][0] and errors["extra"] == ["不允许的字段"]
    assert _instances(login) == before
    assert_error(login("bianban").post(APPLY, json={}), 403)  # not the start lane's role

    filed = file_plan(login)
    assert filed["status"] == "pending" and filed["title"] == "2027年一季度安全生产督查"
    assert [t["bpmn_id"] for t in filed["open_tasks"]] == ["review_plan"]
    refused = login("bianban").get("/api/v1/tasks").json()
    [task] = [t for t in refused if t["bpmn_id"] == "review_plan"]
    returned = login("bianban").post(
        f"/api/v1/tasks/{task['id']}/complete", json={"decision": "return"}
    )
    assert assert_error(returned, 422, "comment")["errors"]["comment"] == ["退回时须填写意见"]

    take(login, "bianban", "review_plan", {"decision": "pass"})
    back = take(login, "xianwei", "approve_plan", {"decision": "return", "comment": "补充范围"})
    assert [t["bpmn_id"] for t in back["open_tasks"]] == ["review_plan"]
    take(login, "bianban", "review_plan", {"decision": "pass", "comment": "已补充"})
    done = take(login, "xianwei", "approve_plan", {"decision": "approve"})
    assert done["open_tasks"] == [] and done["status"] != "pending"
    assert login("jiwei").get("/api/v1/audit/verify").json()["ok"] is True


def test_a_second_version_waits_as_a_draft_and_version_one_comes_back(login) -> None:
    admin = login("admin")
    deploy(admin, 1)
    activate(admin, 1)
    second = deploy(admin, 2)
    assert (second["version"], second["state"]) == (2, "draft")
    diff = admin.get(f"{VERSIONS}/2/diff", params={"against": 1}).json()
    assert [step["id"] for step in diff["added"]] == ["file_record"]
    changed = {item["step"]["id"]: item["attributes"] for item in diff["changed"]}
    assert "bpmn_name" in changed["approve_plan"]
    assert "review_plan" not in changed and diff["removed"] == []
    assert [step["name"] for step in diff["forms_changed"]] == ["备案"]
    assert_error(admin.get(f"{VERSIONS}/2/diff", params={"against": "一"}), 422, "against")
    assert_error(admin.get(f"{VERSIONS}/2/diff", params={"against": 7}), 404)

    # Still version 1 for new filings while version 2 is a draft.
    on_v1 = file_plan(login, title="草稿期间的报备")
    take(login, "bianban", "review_plan", {"decision": "pass"})
    take(login, "xianwei", "approve_plan", {"decision": "approve"})
    assert login("nongye").get(f"/api/v1/instances/{on_v1['id']}").json()["open_tasks"] == []

    activate(admin, 2)
    file_plan(login, title="新版本的报备")
    take(login, "bianban", "review_plan", {"decision": "pass"})
    at_filing = take(login, "xianwei", "approve_plan", {"decision": "approve"})
    assert [t["bpmn_id"] for t in at_filing["open_tasks"]] == ["file_record"]
    assert at_filing["open_tasks"][0]["name"] == "备案"
    take(login, "bianban", "file_record", {"record_no": "备〔2027〕1号"})

    versions = admin.get(VERSIONS).json()
    assert [(v["version"], v["state"]) for v in versions] == [(2, "active"), (1, "retired")]
    assert activate(admin, 1)["state"] == "active"  # the rollback
    file_plan(login, title="回退后的报备")
    take(login, "bianban", "review_plan", {"decision": "pass"})
    ended = take(login, "xianwei", "approve_plan", {"decision": "approve"})
    assert ended["open_tasks"] == []


def test_a_package_that_does_not_hold_together_is_refused_with_reasons(login) -> None:
    admin = login("admin")
    missing = {k: v for k, v in FILES_V1.items() if k != "review_plan.json"}
    body = assert_error(admin.post(PROCESSES, data=package(1, missing), headers=ZIP), 422)
    assert "review_plan.json" in json.dumps(body["errors"], ensure_ascii=False)
    extra = {**FILES_V1, "unused.json": {"type": "object"}}
    body = assert_error(admin.post(PROCESSES, data=package(1, extra), headers=ZIP), 422)
    assert "unused.json" in json.dumps(body["errors"], ensure_ascii=False)
    broken = {**FILES_V1, "plan.json": {"type": "object", "x-checks": ["no_such_check"]}}
    body = assert_error(admin.post(PROCESSES, data=package(1, broken), headers=ZIP), 422)
    assert "no_such_check" in json.dumps(body["errors"], ensure_ascii=False)
    assert_error(admin.post(PROCESSES, data=b"PK\x03\x04 not a zip", headers=ZIP), 422)
    assert_error(admin.get(VERSIONS), 404)  # nothing was stored


def test_running_instances_migrate_to_version_two_unless_a_changed_step_is_behind_them(
    login,
) -> None:
    admin = login("admin")
    deploy(admin, 1)
    activate(admin, 1)
    untouched = file_plan(login, title="尚在审核的报备")  # nothing version 2 changed behind it
    returned = file_plan(login, title="被退回的报备")
    take(login, "bianban", "review_plan", {"decision": "pass"}, returned["id"])
    back = take(login, "xianwei", "approve_plan", {"decision": "return", "comment": "重审"})
    assert [t["bpmn_id"] for t in back["open_tasks"]] == ["review_plan"]
    deploy(admin, 2)

    def check(instance: dict[str, Any]) -> dict[str, Any]:
        url = f"/api/v1/instances/{instance['id']}/migration"
        return admin.get(url, params={"to_version": 2}).json()

    assert check(untouched)["can"] is True and check(untouched)["reasons"] == []
    # The returned one has completed the approval step, which version 2 changed.
    refused = check(returned)
    assert refused["can"] is False
    assert any("审批检查计划" in reason for reason in refused["reasons"]), refused
    url = f"/api/v1/instances/{returned['id']}/migration"
    body = assert_error(admin.post(url, json={"to_version": 2}), 409)
    assert "审批检查计划" in json.dumps(body, ensure_ascii=False)
    assert_error(login("nongye").post(url, json={"to_version": 2}), 403)

    url = f"/api/v1/instances/{untouched['id']}/migration"
    moved = admin.post(url, json={"to_version": 2})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["from_version"], moved.json()["to_version"]) == (1, 2)

    # The migrated one runs version 2: the renamed approval, then the new filing step.
    take(login, "bianban", "review_plan", {"decision": "pass"}, untouched["id"])
    [task] = [
        t
        for t in login("xianwei").get("/api/v1/tasks").json()
        if t["instance_id"] == untouched["id"]
    ]
    assert task["name"] == "县委县政府审批检查计划"
    approved = take(login, "xianwei", "approve_plan", {"decision": "approve"}, untouched["id"])
    assert [t["bpmn_id"] for t in approved["open_tasks"]] == ["file_record"]
    ended = take(login, "bianban", "file_record", {"record_no": "备〔2027〕2号"}, untouched["id"])
    assert ended["open_tasks"] == []
    # The refused one stays on version 1 and still ends there.
    take(login, "bianban", "review_plan", {"decision": "pass"}, returned["id"])
    last = take(login, "xianwei", "approve_plan", {"decision": "approve"}, returned["id"])
    assert last["open_tasks"] == []
    assert login("jiwei").get("/api/v1/audit/verify").json()["ok"] is True
