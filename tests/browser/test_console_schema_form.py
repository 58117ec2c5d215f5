"""A procedure deployed as a package — a diagram and its JSON Schema forms — is started and
handled in the console from those forms alone: labels, choices, field errors in Chinese, and a
field that appears only for the answer that needs it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.walk import error_of, open_task, submit_task
from tests.conftest import ApiClient

PROCESS = "task_funding"
TITLE = "2027年乡镇网格员培训经费"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _forms(step: str, schema: str) -> str:
    return (
        f'<bpmn:extensionElements><spiffworkflow:properties xmlns:spiffworkflow="{SPIFF}">'
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{schema}" />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )


DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  id="Definitions_{PROCESS}" targetNamespace="http://zhunru.example/bpmn">
  <bpmn:collaboration id="Collaboration_{PROCESS}">
    <bpmn:participant id="participant_{PROCESS}" name="交办事项工作经费申请"
      processRef="{PROCESS}" />
  </bpmn:collaboration>
  <bpmn:process id="{PROCESS}" name="交办事项工作经费申请" isExecutable="true">
    <bpmn:laneSet id="LaneSet_{PROCESS}">
      <bpmn:lane id="lane_applicant" name="县级部门（申请）">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_reviewer" name="县委编办（审核）">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="提出申请">{_forms("start", "request.json")}
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="审核经费申请">{_forms("review", "review.json")}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end" name="办结"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_{PROCESS}">
    <bpmndi:BPMNPlane id="BPMNPlane_{PROCESS}" bpmnElement="Collaboration_{PROCESS}">
      <bpmndi:BPMNShape id="participant_di" bpmnElement="participant_{PROCESS}" isHorizontal="true">
        <dc:Bounds x="100" y="40" width="560" height="260" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_applicant_di" bpmnElement="lane_applicant" isHorizontal="true">
        <dc:Bounds x="130" y="40" width="530" height="130" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_reviewer_di" bpmnElement="lane_reviewer" isHorizontal="true">
        <dc:Bounds x="130" y="170" width="530" height="130" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="182" y="87" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="review_di" bpmnElement="review">
        <dc:Bounds x="300" y="195" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end">
        <dc:Bounds x="502" y="217" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
        <di:waypoint x="218" y="105" /><di:waypoint x="350" y="105" />
        <di:waypoint x="350" y="195" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
        <di:waypoint x="400" y="235" /><di:waypoint x="502" y="235" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
REQUEST = {
    "title": "交办事项工作经费申请",
    "description": "县级部门向乡镇（街道）交办事项的，随事下放的工作经费报县委编办审核。",
    "type": "object",
    "required": ["title", "amount", "purposes"],
    "properties": {
        "title": {"title": "事项名称", "type": "string", "minLength": 1, "maxLength": 100},
        "amount": {"title": "申请金额（元）", "type": "integer", "minimum": 1, "maximum": 1000000},
        "needed_by": {"title": "需要到位日期", "type": "string", "format": "date"},
        "purposes": {
            "title": "经费用途",
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "string",
                "oneOf": [
                    {"const": "training", "title": "人员培训"},
                    {"const": "equipment", "title": "办公设备"},
                    {"const": "publicity", "title": "宣传资料"},
                ],
            },
        },
        "note": {
            "title": "情况说明",
            "description": "写明承接的事项和测算依据。",
            "type": "string",
            "maxLength": 2000,
        },
    },
}
REVIEW = {
    "title": "审核经费申请",
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {
            "title": "审核结论",
            "type": "string",
            "oneOf": [
                {"const": "approve", "title": "同意"},
                {"const": "return", "title": "退回补充材料"},
            ],
        },
        "comment": {"title": "退回理由", "type": "string", "maxLength": 500},
    },
    "allOf": [
        {
            "if": {"properties": {"decision": {"const": "return"}}, "required": ["decision"]},
            "then": {"required": ["comment"]},
        }
    ],
}


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{PROCESS}.bpmn", DIAGRAM)
        archive.writestr("request.json", json.dumps(REQUEST, ensure_ascii=False))
        archive.writestr("review.json", json.dumps(REVIEW, ensure_ascii=False))
    return buffer.getvalue()


def deploy_and_activate(admin: ApiClient) -> None:
    deployed = admin.post(
        "/api/v1/processes", data=package(), headers={"Content-Type": "application/zip"}
    )
    assert deployed.status_code == 201, deployed.text
    version = deployed.json()["version"]
    activated = admin.post(f"/api/v1/processes/{PROCESS}/versions/{version}/activate")
    assert activated.status_code == 200, activated.text


def test_a_package_is_started_and_reviewed_from_its_json_schema_forms(
    sign_in: Callable[[str], Page], api: Callable[[str], ApiClient]
) -> None:
    deploy_and_activate(api("admin"))

    # 发起: the department finds the procedure among what it may start; the form is the schema's.
    dept = sign_in("nongye")
    dept.get_by_role("link", name="发起办理").click()
    dept.get_by_role("link", name="交办事项工作经费申请").click()
    expect(dept.get_by_role("heading", level=1)).to_have_text("交办事项工作经费申请")
    expect(dept.locator('[data-field="note"] .hint')).to_have_text("写明承接的事项和测算依据。")
    dept.get_by_label("事项名称").fill(TITLE)
    dept.get_by_label("申请金额（元）").fill("0")
    dept.get_by_role("button", name="提交").click()
    expect(error_of(dept, "amount")).to_contain_text("应在 1 到 1000000 之间")
    expect(error_of(dept, "purposes")).to_contain_text("此项为必填项")
    expect(dept.locator("#error-summary")).to_contain_text("申请金额（元）")
    expect(dept.get_by_label("事项名称")).to_have_value(TITLE)  # what was typed is kept

    dept.set_viewport_size({"width": 390, "height": 844})
    screenshot(dept, "schema-start-form-error-390")
    assert dept.evaluate("document.documentElement.scrollWidth") <= 390
    dept.get_by_label("申请金额（元）").fill("36000")
    dept.get_by_label("需要到位日期").fill("2027-03-01")
    dept.get_by_label("人员培训").check()
    dept.get_by_label("宣传资料").check()
    dept.get_by_role("button", name="提交").click()
    expect(dept.locator(".flash-success")).to_contain_text("审核经费申请")
    expect(dept.get_by_role("heading", level=1)).to_contain_text(TITLE)
    application = dept.locator('section[aria-labelledby="application-title"]')
    expect(application).to_contain_text("人员培训、宣传资料")
    expect(application).to_contain_text("36000")

    # 审核: the return reason shows only when returning, and is then required.
    office = sign_in("bianban")
    open_task(office, "审核经费申请", title=TITLE)
    reason = office.locator('[data-field="comment"]')
    expect(reason).to_be_hidden()
    office.get_by_label("退回补充材料").check()
    expect(reason).to_be_visible()
    office.get_by_role("button", name="提交办理结果").click()
    expect(error_of(office, "comment")).to_contain_text("此项为必填项")
    expect(office.get_by_label("退回补充材料")).to_be_checked()
    office.get_by_label("退回理由").fill("请补充经费测算明细")
    submit_task(office, "审核经费申请")
    decisions = office.locator(".decisions")
    expect(decisions).to_contain_text("退回补充材料")
    expect(decisions).to_contain_text("请补充经费测算明细")
    expect(office.locator("main")).not_to_contain_text("decision")
