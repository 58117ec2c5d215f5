"""Moving running instances between versions of a process, on real SQLite and PostgreSQL.

Every step after a move runs in a fresh context (a new diagram registry parsing the new version
anew), as another worker or a restarted server would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from api.cli import main
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent, Deployment, Instance, Task
from engine.services.context import Context, build_context
from engine.workflow.audit import verify_chain
from engine.workflow.clock import ManualClock
from engine.workflow.packages import Package, form_refs
from engine.workflow.services import deployments, instances, interventions, migration, tasks
from tests.conftest import make_settings
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.integration.test_admission_services import actor, take
from tests.packages import shipped

# The steps below name the shipped admission forms, so each version is a package of its own.
_SHIPPED = shipped("matter_admission")
_REFS = form_refs(etree.fromstring(_SHIPPED.xml))


def _form(step: str) -> str:
    """The extension elements naming `step`'s shipped form, as the shipped diagram does."""
    ref = _REFS[step]
    ui = f'<spiffworkflow:property name="formUiSchemaFilename" value="{ref.ui}" />'
    return (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{ref.schema}" />'
        f"{ui if ref.ui else ''}</spiffworkflow:properties></bpmn:extensionElements>"
    )


def package(xml: bytes) -> Package:
    """`xml` with the shipped form files its steps name."""
    named = {n for ref in form_refs(etree.fromstring(xml)).values() for n in (ref.schema, ref.ui)}
    return Package(xml, {n: c for n, c in _SHIPPED.files.items() if n in named})


_APPROVAL = f"""
    <bpmn:userTask id="approve" name="审批">{_form("approve")}
      <bpmn:incoming>f_review_pass</bpmn:incoming><bpmn:outgoing>f_approve</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw_approve" name="审批结论">
      <bpmn:incoming>f_approve</bpmn:incoming>
      <bpmn:outgoing>f_approve_pass</bpmn:outgoing><bpmn:outgoing>f_approve_reject</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_rejected_approval" name="审批不予准入">
      <bpmn:incoming>f_approve_reject</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f_approve" sourceRef="approve" targetRef="gw_approve" />
    <bpmn:sequenceFlow id="f_approve_pass" sourceRef="gw_approve" targetRef="confirm_entry">
      <bpmn:conditionExpression>approve['decision'] == 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_approve_reject" sourceRef="gw_approve"
        targetRef="end_rejected_approval">
      <bpmn:conditionExpression>approve['decision'] != 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
_APPROVER_LANE = """
      <bpmn:lane id="lane_approver" name="县委县政府（审批）">
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef><bpmn:flowNodeRef>gw_approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_rejected_approval</bpmn:flowNodeRef>
      </bpmn:lane>"""


def admission_xml(
    legal_name: str = "合法性审查", approve: bool = False, end_name: str = "已确认进入"
) -> bytes:
    """A small matter_admission: legal review, review (with its deadline), with `approve` an
    approval after it, then each township confirms."""
    entry_from = "f_approve_pass" if approve else "f_review_pass"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_migration" targetNamespace="http://zhunru.test/migration">
  <bpmn:process id="matter_admission" name="事项准入" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_applicant" name="申请单位">
        <bpmn:flowNodeRef>start_apply</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_legal_reviewer" name="司法局（合法性审查）">
        <bpmn:flowNodeRef>legal_review</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_reviewer" name="县委编办（审核）">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>gw_review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>deadline_review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_escalated_review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_rejected_review</bpmn:flowNodeRef>
      </bpmn:lane>{_APPROVER_LANE if approve else ""}
      <bpmn:lane id="lane_township" name="乡镇（街道）">
        <bpmn:flowNodeRef>confirm_entry</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_entered</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start_apply" name="提交申请">{_form("start_apply")}
      <bpmn:outgoing>f_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="legal_review" name="{legal_name}">{_form("legal_review")}
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_legal</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="review" name="审核">{_form("review")}
      <bpmn:incoming>f_legal</bpmn:incoming><bpmn:outgoing>f_review</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="deadline_review" name="办理时限" cancelActivity="false"
        attachedToRef="review">
      <bpmn:outgoing>f_deadline_review</bpmn:outgoing>
      <bpmn:timerEventDefinition id="deadline_review_def">
        <bpmn:timeDate>deadline('review')</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_escalated_review" name="已督办">
      <bpmn:incoming>f_deadline_review</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:exclusiveGateway id="gw_review" name="审核结论">
      <bpmn:incoming>f_review</bpmn:incoming>
      <bpmn:outgoing>f_review_pass</bpmn:outgoing><bpmn:outgoing>f_review_reject</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_rejected_review" name="审核不予准入">
      <bpmn:incoming>f_review_reject</bpmn:incoming>
    </bpmn:endEvent>{_APPROVAL if approve else ""}
    <bpmn:userTask id="confirm_entry" name="确认进入">{_form("confirm_entry")}
      <bpmn:incoming>{entry_from}</bpmn:incoming>
      <bpmn:outgoing>f_entered</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopDataInputRef>townships</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>entries</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="township" name="township" />
        <bpmn:outputDataItem id="entry" name="entry" />
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:endEvent id="end_entered" name="{end_name}">
      <bpmn:incoming>f_entered</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start_apply" targetRef="legal_review" />
    <bpmn:sequenceFlow id="f_legal" sourceRef="legal_review" targetRef="review" />
    <bpmn:sequenceFlow id="f_review" sourceRef="review" targetRef="gw_review" />
    <bpmn:sequenceFlow id="f_deadline_review" sourceRef="deadline_review"
        targetRef="end_escalated_review" />
    <bpmn:sequenceFlow id="f_review_pass" sourceRef="gw_review"
        targetRef="{"approve" if approve else "confirm_entry"}">
      <bpmn:conditionExpression>review['decision'] == 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_review_reject" sourceRef="gw_review"
        targetRef="end_rejected_review">
      <bpmn:conditionExpression>review['decision'] != 'pass'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_entered" sourceRef="confirm_entry" targetRef="end_entered" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


@dataclass(frozen=True)
class Versions:
    base: int  # new instances start here
    renamed: int  # legal review renamed, an approval added after the review
    approval: int  # only the approval added
    end_renamed: int  # only the end event renamed


def deploy_versions(ctx: Context) -> Versions:
    with ctx.db.write() as session:
        numbers = [
            deployments.deploy(session, ctx, package(xml), None).version
            for xml in (
                admission_xml(),
                admission_xml("合法性审核", approve=True),
                admission_xml(approve=True),
                admission_xml(end_name="已进入"),
            )
        ]
    deployments.activate(ctx, "matter_admission", numbers[0], None)
    return Versions(*numbers)


def file(ctx: Context, townships: list[str] | None = None) -> int:
    form = application(townships=townships or ["chengguan"])
    return instances.start(ctx, "matter_admission", form, actor(ctx, "nongye")).id


@pytest.fixture
def versions(ctx: Context) -> Versions:
    return deploy_versions(ctx)


@pytest.fixture
def fresh(database_url: str, clock) -> Iterator[Context]:
    """Another process: its own diagram registry, nothing parsed or run before."""
    context = build_context(make_settings(database_url), clock=clock)
    yield context
    context.db.dispose()


def stored(ctx: Context, instance_id: int) -> tuple:
    with ctx.db.read() as session:
        row = session.get_one(Instance, instance_id)
        return row.state, row.deployment_id, row.version, row.trail_seq, row.status


def trail_verifies(ctx: Context, instance_id: int) -> tuple[str, dict]:
    """The instance's trail verifies; its last event's action and payload."""
    with ctx.db.read() as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.instance_id == instance_id)
                .order_by(AuditEvent.seq)
            )
        )
        assert verify_chain(events) == []
        return events[-1].action, json.loads(events[-1].payload_json)


def open_task(ctx: Context, instance_id: int) -> SimpleNamespace:
    """The instance's one open inbox row, as stored."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Task).where(Task.instance_id == instance_id, Task.state == "open")
        ).all()
        assert len(rows) == 1, rows
        row = rows[0]
        return SimpleNamespace(id=row.id, bpmn_id=row.bpmn_id, due_at=row.due_at, org_id=row.org_id)


def next_timer(ctx: Context, instance_id: int) -> datetime | None:
    with ctx.db.read() as session:
        return session.get_one(Instance, instance_id).next_timer_at


def deployment_version(ctx: Context, instance_id: int) -> int:
    with ctx.db.read() as session:
        instance = session.get_one(Instance, instance_id)
        return session.get_one(Deployment, instance.deployment_id).version


def test_an_instance_that_completed_no_changed_step_moves_and_runs_the_new_step(
    ctx: Context, fresh: Context, versions: Versions, clock: ManualClock
) -> None:
    instance_id = file(ctx)
    take(ctx, "sifa", LAWFUL)
    review = open_task(ctx, instance_id)
    due = next_timer(ctx, instance_id)
    clock.advance(timedelta(days=3))
    admin = actor(ctx, "admin")

    checked = migration.check(ctx, instance_id, versions.approval, admin)
    assert (checked.can, checked.reasons) == (True, [])
    assert (checked.from_version, checked.to_version) == (versions.base, versions.approval)
    assert checked.added == ["approve", "end_rejected_approval", "gw_approve"]
    assert "gw_review" in checked.changed

    moved = migration.migrate(ctx, instance_id, versions.approval, admin)

    assert [(s.bpmn_id, s.name) for s in moved.open_steps] == [("review", "审核")]
    assert deployment_version(ctx, instance_id) == versions.approval
    after = open_task(ctx, instance_id)
    assert (after.id, after.due_at) == (review.id, review.due_at)
    assert next_timer(ctx, instance_id) == due  # the deadline runs on, not from the move
    assert trail_verifies(ctx, instance_id) == (
        "instance_migrated",
        {
            "from_version": versions.base,
            "to_version": versions.approval,
            "changed": checked.changed,
            "added": checked.added,
            "removed": [],
        },
    )

    # The rest runs in another process, on the new version parsed anew.
    take(fresh, "bianban", PASS, "review")
    assert open_task(fresh, instance_id).bpmn_id == "approve"
    take(fresh, "xianwei", APPROVE, "approve")
    take(fresh, "chengguan", CONFIRM, "confirm_entry")
    with fresh.db.read() as session:
        assert session.get_one(Instance, instance_id).ended_at is not None
    trail_verifies(fresh, instance_id)


def test_an_open_step_renamed_shows_its_new_name_and_the_instance_goes_on(
    ctx: Context, fresh: Context, versions: Versions
) -> None:
    instance_id = file(ctx)
    admin = actor(ctx, "admin")
    assert migration.check(ctx, instance_id, versions.renamed, admin).can

    moved = migration.migrate(ctx, instance_id, versions.renamed, admin)

    assert [s.name for s in moved.open_steps] == ["合法性审核"]
    inbox = tasks.inbox(fresh, actor(fresh, "sifa"))
    assert [(t.instance_id, t.name) for t in inbox] == [(instance_id, "合法性审核")]
    take(fresh, "sifa", LAWFUL, "legal_review")
    take(fresh, "bianban", PASS, "review")
    take(fresh, "xianwei", APPROVE, "approve")
    take(fresh, "chengguan", CONFIRM, "confirm_entry")
    with fresh.db.read() as session:
        assert session.get_one(Instance, instance_id).ended_at is not None
    trail_verifies(fresh, instance_id)


def test_an_instance_may_move_back_to_an_older_version(ctx: Context, versions: Versions) -> None:
    instance_id = file(ctx)
    admin = actor(ctx, "admin")
    migration.migrate(ctx, instance_id, versions.renamed, admin)
    back = migration.migrate(ctx, instance_id, versions.base, admin)
    assert [s.name for s in back.open_steps] == ["合法性审查"]
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    assert open_task(ctx, instance_id).bpmn_id == "confirm_entry"  # no approval in the base


def test_a_completed_changed_step_is_refused_with_its_name_and_nothing_is_stored(
    ctx: Context, versions: Versions
) -> None:
    instance_id = file(ctx)
    take(ctx, "sifa", LAWFUL)
    admin = actor(ctx, "admin")
    before = stored(ctx, instance_id)

    checked = migration.check(ctx, instance_id, versions.renamed, admin)
    assert checked.can is False
    assert checked.reasons == ["步骤“合法性审查”已修改且已办理"]
    with pytest.raises(Conflict) as refused:
        migration.migrate(ctx, instance_id, versions.renamed, admin)
    assert refused.value.errors == {"to_version": ["步骤“合法性审查”已修改且已办理"]}
    assert stored(ctx, instance_id) == before


def test_a_changed_step_under_way_is_refused(ctx: Context, versions: Versions) -> None:
    instance_id = file(ctx, ["chengguan", "donghe"])
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    take(ctx, "chengguan", CONFIRM)  # donghe has not confirmed yet: the step is under way
    before = stored(ctx, instance_id)

    checked = migration.check(ctx, instance_id, versions.approval, actor(ctx, "admin"))

    assert checked.can is False
    assert "步骤“确认进入”已修改且正在办理" in checked.reasons
    assert "步骤“审核结论”已修改且已办理" in checked.reasons
    with pytest.raises(Conflict):
        migration.migrate(ctx, instance_id, versions.approval, actor(ctx, "admin"))
    assert stored(ctx, instance_id) == before


def test_an_unchanged_step_under_way_moves_and_each_township_keeps_its_task(
    ctx: Context, fresh: Context, versions: Versions
) -> None:
    instance_id = file(ctx, ["chengguan", "donghe"])
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    take(ctx, "chengguan", CONFIRM)

    migration.migrate(ctx, instance_id, versions.end_renamed, actor(ctx, "admin"))

    assert open_task(ctx, instance_id).org_id is not None  # still donghe's
    assert [t.township for t in tasks.inbox(fresh, actor(fresh, "donghe"))] == ["donghe"]
    take(fresh, "donghe", CONFIRM, "confirm_entry")
    detail = instances.get(fresh, instance_id, actor(fresh, "jiwei"))
    assert detail.ended_at is not None
    assert [entry["confirmed"] for entry in detail.data["entries"]] == [True, True]
    trail_verifies(fresh, instance_id)


def test_a_batch_moves_those_that_can_and_reports_the_others(
    ctx: Context, versions: Versions
) -> None:
    waiting = [file(ctx), file(ctx)]
    reviewed = file(ctx, ["donghe"])
    sifa = actor(ctx, "sifa")
    task = next(t for t in tasks.inbox(ctx, sifa) if t.instance_id == reviewed)
    tasks.complete(ctx, task.id, LAWFUL, sifa)

    report = migration.migrate_all(
        ctx, "matter_admission", versions.base, versions.renamed, actor(ctx, "admin")
    )

    assert report.moved == waiting
    assert report.refused == {reviewed: ["步骤“合法性审查”已修改且已办理"]}
    assert [deployment_version(ctx, i) for i in waiting] == [versions.renamed] * 2
    assert deployment_version(ctx, reviewed) == versions.base


def test_what_cannot_move_and_who_may_not_move_it(ctx: Context, versions: Versions) -> None:
    admin, instance_id = actor(ctx, "admin"), file(ctx)
    with pytest.raises(Forbidden):  # sees the matter, may not move it
        migration.check(ctx, instance_id, versions.renamed, actor(ctx, "bianban"))
    with pytest.raises(NotFound):  # another organisation's matter: as if absent
        migration.migrate(ctx, instance_id, versions.renamed, actor(ctx, "jiaoyu"))
    with pytest.raises(Forbidden):
        migration.migrate_all(ctx, "matter_admission", 1, versions.renamed, actor(ctx, "nongye"))
    with pytest.raises(InvalidInput):
        migration.check(ctx, instance_id, 99, admin)
    with pytest.raises(NotFound):
        migration.migrate_all(ctx, "no_such_process", 1, 2, admin)
    assert migration.check(ctx, instance_id, versions.base, admin).reasons == [
        f"该事项已在第 {versions.base} 版"
    ]

    interventions.suspend(ctx, instance_id, {"reason": "核查"}, admin)
    assert migration.check(ctx, instance_id, versions.renamed, admin).reasons == [
        "该事项已被管理员暂停办理，恢复后方可迁移"
    ]
    interventions.terminate(ctx, instance_id, {"reason": "重复申请"}, admin)
    with pytest.raises(Conflict) as refused:
        migration.migrate(ctx, instance_id, versions.renamed, admin)
    assert refused.value.errors == {"to_version": ["该事项已被管理员终止"]}


def test_the_operator_moves_a_version_from_the_command_line(
    ctx: Context, database_url: str, versions: Versions
) -> None:
    waiting, reviewed = file(ctx), file(ctx, ["donghe"])
    sifa = actor(ctx, "sifa")
    task = next(t for t in tasks.inbox(ctx, sifa) if t.instance_id == reviewed)
    tasks.complete(ctx, task.id, LAWFUL, sifa)
    env = {"ZHUNRU_DATABASE_URL": database_url, "ZHUNRU_SECRET_KEY": "s" * 64}
    command = ["process", "migrate", "matter_admission", "--from", str(versions.base)]

    result = CliRunner().invoke(main, [*command, "--to", str(versions.renamed)], env=env)

    assert result.exit_code == 0, result.output
    assert f"事项 {reviewed} 未迁移：步骤“合法性审查”已修改且已办理" in result.output
    assert "1 个事项；未迁移：1 个" in result.output
    assert deployment_version(ctx, waiting) == versions.renamed
    unknown = CliRunner().invoke(main, [*command, "--to", "99"], env=env)
    assert unknown.exit_code == 2 and "没有第 99 版" in unknown.output
