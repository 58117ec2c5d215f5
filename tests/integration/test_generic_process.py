"""A procedure no Python knows (借调准入, drawn by the county) runs through the generic process
kind: deployed, activated, started by its start lane's role, taken step by step by the roles of
its lanes — each step in a fresh process — and ended with a status, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent
from engine.services.context import Context, build_context
from engine.workflow.audit import verify_chain
from engine.workflow.packages import Package
from engine.workflow.processes import GENERIC, kind_of
from engine.workflow.services import deployments, instances, tasks
from tests.conftest import make_settings
from tests.integration.test_admission_services import _second_user, actor

PROCESS_ID = "secondment"

SECONDMENT = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_secondment" targetNamespace="http://zhunru.test/secondment">
  <bpmn:process id="{PROCESS_ID}" name="借调准入" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_applicant" name="借调单位">
        <bpmn:flowNodeRef>start_apply</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_reviewer" name="县委编办（审核）">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>gw_review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_rejected_review</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_approver" name="县委县政府（审批）">
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef><bpmn:flowNodeRef>gw_approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_approved</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_rejected_approval</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start_apply" name="提出借调">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="application.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start_apply" targetRef="review" />
    <bpmn:userTask id="review" name="审核借调">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="decision.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_review</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_review" sourceRef="review" targetRef="gw_review" />
    <bpmn:exclusiveGateway id="gw_review" name="审核结论">
      <bpmn:incoming>f_review</bpmn:incoming>
      <bpmn:outgoing>f_review_pass</bpmn:outgoing><bpmn:outgoing>f_review_not</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_review_pass" sourceRef="gw_review" targetRef="approve">
      <bpmn:conditionExpression>review['decision'] == 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_review_not" sourceRef="gw_review" targetRef="end_rejected_review">
      <bpmn:conditionExpression>review['decision'] != 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end_rejected_review" name="审核未通过">
      <bpmn:incoming>f_review_not</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:userTask id="approve" name="审批借调">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="decision.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_review_pass</bpmn:incoming><bpmn:outgoing>f_approve</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_approve" sourceRef="approve" targetRef="gw_approve" />
    <bpmn:exclusiveGateway id="gw_approve" name="审批结论">
      <bpmn:incoming>f_approve</bpmn:incoming>
      <bpmn:outgoing>f_approve_pass</bpmn:outgoing><bpmn:outgoing>f_approve_not</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_approve_pass" sourceRef="gw_approve" targetRef="end_approved">
      <bpmn:conditionExpression>approve['decision'] == 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_approve_not" sourceRef="gw_approve"
        targetRef="end_rejected_approval">
      <bpmn:conditionExpression>approve['decision'] != 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end_approved" name="同意借调">
      <bpmn:incoming>f_approve_pass</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:endEvent id="end_rejected_approval" name="不同意借调">
      <bpmn:incoming>f_approve_not</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()


# 提出借调: who is seconded from where, for how long.
SECONDMENT_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "提出借调",
    "type": "object",
    "required": ["name", "person", "days"],
    "properties": {
        "name": {"title": "借调事由", "type": "string", "maxLength": 200},
        "person": {"title": "借调人员", "type": "string", "maxLength": 50},
        "days": {"title": "借调天数", "type": "integer", "minimum": 1, "maximum": 365},
    },
}
# 审核借调 / 审批借调: the diagram's two steps share one form file.
DECISION_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "审核或审批借调",
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {
            "title": "结论",
            "type": "string",
            "oneOf": [{"const": "pass", "title": "同意"}, {"const": "reject", "title": "不同意"}],
        },
        "reasons": {"type": "array", "items": {"type": "string"}, "default": []},
        "comment": {"type": "string", "maxLength": 5000, "default": ""},
    },
}
PACKAGE = Package(
    SECONDMENT,
    {
        "application.json": json.dumps(SECONDMENT_FORM).encode(),
        "decision.json": json.dumps(DECISION_FORM).encode(),
    },
)


APPLICATION = {"name": "借调城关镇干部参与防汛督查", "person": "赵强", "days": 30}
PASS = {"decision": "pass"}


@pytest.fixture
def county(ctx: Context) -> Context:
    """The demo county with 借调准入 deployed and activated."""
    with ctx.db.write() as session:
        version = deployments.deploy(session, ctx, PACKAGE, None).version
    deployments.activate(ctx, PROCESS_ID, version, None)
    return ctx


@pytest.fixture
def fresh(database_url: str, county: Context) -> Iterator[Any]:
    """Another process each time: its own diagram registry, nothing parsed or run before."""
    opened: list[Context] = []

    def open_context() -> Context:
        opened.append(build_context(make_settings(database_url), clock=county.clock))
        return opened[-1]

    yield open_context
    for context in opened:
        context.db.dispose()


def inbox_of(ctx: Context, username: str, instance_id: int) -> list[str]:
    return [
        t.bpmn_id for t in tasks.inbox(ctx, actor(ctx, username)) if t.instance_id == instance_id
    ]


def take(ctx: Context, username: str, bpmn_id: str, form: dict[str, Any]) -> Any:
    who = actor(ctx, username)
    task = next(t for t in tasks.inbox(ctx, who) if t.bpmn_id == bpmn_id)
    return tasks.complete(ctx, task.id, form, who)


def test_a_procedure_no_python_knows_runs_to_its_end_each_step_in_a_fresh_process(
    county: Context, fresh: Any
) -> None:
    assert kind_of(PROCESS_ID) is GENERIC
    started = instances.start(county, PROCESS_ID, APPLICATION, actor(county, "nongye"))
    assert (started.status, started.title) == ("pending", APPLICATION["name"])
    assert started.data["start_apply"] == APPLICATION
    assert [(t.bpmn_id, t.role) for t in started.open_tasks] == [("review", "reviewer")]

    second = fresh()
    assert inbox_of(second, "bianban", started.id) == ["review"]
    assert inbox_of(second, "xianwei", started.id) == []
    assert inbox_of(second, "nongye", started.id) == []
    reviewed = take(second, "bianban", "review", PASS)
    assert (reviewed.status, [t.bpmn_id for t in reviewed.open_tasks]) == ("pending", ["approve"])

    third = fresh()
    assert inbox_of(third, "bianban", started.id) == []
    approved = take(third, "xianwei", "approve", PASS)

    assert approved.status == "completed" and approved.open_tasks == []
    assert approved.ended_at is not None
    trail = instances.trail(county, started.id, actor(county, "jiwei"))
    assert [(e.task, e.actor) for e in trail if e.action == "task_completed"] == [
        ("review", "bianban"),
        ("approve", "xianwei"),
    ]
    assert trail[0].action == "instance_started" and trail[0].task == "start_apply"
    with county.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == started.id).order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(list(events)) == []


def test_an_end_event_naming_a_status_some_domain_gave_meaning_to_sets_it(
    county: Context,
) -> None:
    started = instances.start(county, PROCESS_ID, APPLICATION, actor(county, "nongye"))
    refused = take(
        county,
        "bianban",
        "review",
        {"decision": "reject", "reasons": ["other"], "comment": "不符合借调条件"},
    )
    assert (refused.status, refused.open_tasks) == ("rejected", [])
    assert instances.get(county, started.id, actor(county, "nongye")).status == "rejected"


def test_who_may_start_read_and_judge_follows_the_lanes_and_the_county_rules(
    county: Context,
) -> None:
    # The start event sits in the applicant lane: a reviewer may not start it.
    with pytest.raises(Forbidden):
        instances.start(county, PROCESS_ID, APPLICATION, actor(county, "bianban"))
    with pytest.raises(InvalidInput) as refused:
        instances.start(county, PROCESS_ID, {**APPLICATION, "days": 0}, actor(county, "nongye"))
    assert "days" in refused.value.errors

    # A reviewer of the filing organisation never judges its own filing (separation of duties).
    own_reviewer = _second_user(county, "nongye", "nongye_reviewer", ["reviewer"])
    started = instances.start(county, PROCESS_ID, APPLICATION, actor(county, "nongye"))
    assert inbox_of(county, "nongye_reviewer", started.id) == []
    with pytest.raises(Forbidden, match="职责分离"):
        tasks.complete(county, started.open_tasks[0].id, PASS, own_reviewer)

    # Another department reads nothing of it: as if it did not exist.
    jiaoyu = actor(county, "jiaoyu")
    with pytest.raises(NotFound):
        instances.get(county, started.id, jiaoyu)
    listed = instances.search(county, jiaoyu, instances.InstanceFilter(process_id=PROCESS_ID))
    assert listed.total == 0
    # A township is addressed by nothing here, so it reads nothing either.
    with pytest.raises(NotFound):
        instances.get(county, started.id, actor(county, "chengguan"))
    # The filing department and the county offices do.
    for username in ("nongye", "bianban", "xianwei", "jiwei"):
        assert instances.get(county, started.id, actor(county, username)).id == started.id


def test_an_organisation_reads_what_it_filed_whatever_lane_it_starts_from(ctx: Context) -> None:
    """A procedure a township starts (its start event in lane_township): the township reads
    its own filing; another township does not."""
    xml = SECONDMENT.decode().replace(
        '<bpmn:lane id="lane_applicant" name="借调单位">',
        '<bpmn:lane id="lane_township" name="乡镇">',
    )
    assert xml.encode() != SECONDMENT
    package = Package(xml.encode(), PACKAGE.files)
    with ctx.db.write() as session:
        version = deployments.deploy(session, ctx, package, None).version
    deployments.activate(ctx, PROCESS_ID, version, None)
    started = instances.start(ctx, PROCESS_ID, APPLICATION, actor(ctx, "xishan"))
    assert instances.get(ctx, started.id, actor(ctx, "xishan")).title == APPLICATION["name"]
    with pytest.raises(NotFound):
        instances.get(ctx, started.id, actor(ctx, "donghe"))
    # A cadre of that township acts for themselves, not for it.
    with pytest.raises(NotFound):
        instances.get(ctx, started.id, actor(ctx, "wangfang"))
