"""Versions deployed before procedures were packages: bare diagrams naming no forms, stored as
they were. Their running instances keep working — in a fresh process, with each step's form
taken from the package the service ships for the process — and a new bare diagram is still
refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from engine.accountability.services import cases
from engine.admission.services import matters
from engine.errors import InvalidDiagram
from engine.models import Deployment, Instance
from engine.services import notices
from engine.services.context import Context, build_context
from engine.workflow.packages import Package
from engine.workflow.services import deployments, instances
from tests.conftest import make_settings
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application
from tests.integration.test_accountability_services import decided, own_case_id
from tests.integration.test_admission_services import actor, take
from tests.packages import activate_before_service_tasks, before_service_tasks

EXTENSIONS = re.compile(rb"<bpmn:extensionElements>.*?</bpmn:extensionElements>", re.S)


def bare(process_id: str) -> bytes:
    """The shipped diagram as it was before packages: no step names a form (nor is any effect
    a service task: that came later)."""
    xml = EXTENSIONS.sub(b"", before_service_tasks(process_id).xml)
    assert b"formJsonSchemaFilename" not in xml
    return xml


def store_legacy(ctx: Context, process_id: str) -> None:
    """Write a bare version straight to the table, current, as an older release left it."""
    xml = bare(process_id)
    with ctx.db.write() as session:
        session.execute(
            update(Deployment).where(Deployment.process_id == process_id).values(is_current=False)
        )
        session.add(
            Deployment(
                process_id=process_id,
                name="legacy",
                version=99,
                sha256=Package(xml).sha256,
                xml=xml,
                deployed_at=ctx.clock.now(),
                activated_at=ctx.clock.now(),
                is_current=True,
            )
        )


def fresh(ctx: Context) -> Context:
    """Another worker on the same database: nothing parsed yet."""
    return build_context(make_settings(str(ctx.db.engine.url)), clock=ctx.clock)


def test_an_instance_on_a_version_deployed_before_packages_runs_to_its_end(
    ctx: Context,
) -> None:
    store_legacy(ctx, "matter_admission")
    detail = instances.start(
        ctx, "matter_admission", application(townships=["chengguan"]), actor(ctx, "nongye")
    )
    with ctx.db.read() as session:
        version = session.scalar(
            select(Deployment.version)
            .join(Instance, Instance.deployment_id == Deployment.id)
            .where(Instance.id == detail.id)
        )
    assert version == 99
    # Each step in a fresh process, validated as strictly as the shipped forms validate.
    for username, form in (("sifa", LAWFUL), ("bianban", PASS), ("xianwei", APPROVE)):
        worker = fresh(ctx)
        with pytest.raises(Exception, match="表单填写有误"):
            take(worker, username, {"unknown": 1})
        take(worker, username, form)
        worker.db.dispose()
    worker = fresh(ctx)
    done = take(worker, "chengguan", CONFIRM)
    assert done.status == "in_force" and done.open_tasks == []
    worker.db.dispose()


def test_a_new_bare_diagram_is_still_refused(ctx: Context) -> None:
    with pytest.raises(InvalidDiagram), ctx.db.write() as session:
        deployments.deploy(session, ctx, Package(bare("clearance")), None)


def test_instances_on_the_version_before_service_tasks_keep_their_effects(ctx: Context) -> None:
    """A county's running instances started on the version whose effects followed the step
    (no service task in the diagram): the register entry and the case outcome still happen,
    once, at the step they always followed."""
    activate_before_service_tasks(ctx, "matter_admission")
    matter = instances.start(
        ctx, "matter_admission", application(townships=["chengguan"]), actor(ctx, "nongye")
    ).id
    for username, form in (("sifa", LAWFUL), ("bianban", PASS), ("xianwei", PASS)):
        take(fresh(ctx), username, form)
    assert take(fresh(ctx), "chengguan", CONFIRM).status == "in_force"
    register = matters.register(ctx, actor(ctx, "chengguan"))
    assert [(r.instance_id, r.status) for r in register] == [(matter, "in_force")]
    trail = [(e.action, e.task) for e in instances.trail(ctx, matter, actor(ctx, "jiwei"))]
    assert [e for e in trail if e[0] == "matter_entered"] == [("matter_entered", "confirm_entry")]

    activate_before_service_tasks(ctx, "fault_tolerance")
    tolerance = decided(ctx, "reduced")
    case = cases.get_case(ctx, own_case_id(ctx, "zhangming"), actor(ctx, "zhangming"))
    assert case.tolerance_outcome == "reduced"
    told = notices.notifications(ctx, actor(ctx, "zhangming"))
    assert [n.kind for n in told] == ["tolerance_decided"]
    trail = [(e.action, e.task) for e in instances.trail(ctx, tolerance, actor(ctx, "jiwei"))]
    assert ("case_updated", "ft_decide") in trail
    assert not any(action == "operation_ran" for action, _ in trail)
