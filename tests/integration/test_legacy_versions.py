"""Versions deployed before procedures were packages: bare diagrams naming no forms, stored as
they were. Their running instances keep working — in a fresh process, with each step's form
taken from the package the service ships for the process — and a new bare diagram is still
refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from engine.errors import InvalidDiagram
from engine.models import Deployment, Instance
from engine.services.context import Context, build_context
from engine.workflow.packages import Package
from engine.workflow.services import deployments, instances
from tests.conftest import make_settings
from tests.factories import CONFIRM, LAWFUL, PASS, application
from tests.integration.test_admission_services import actor, take
from tests.packages import shipped

EXTENSIONS = re.compile(rb"<bpmn:extensionElements>.*?</bpmn:extensionElements>", re.S)


def bare(process_id: str) -> bytes:
    """The shipped diagram as it was before packages: no step names a form."""
    xml = EXTENSIONS.sub(b"", shipped(process_id).xml)
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
    for username, form in (("sifa", LAWFUL), ("bianban", PASS), ("xianwei", PASS)):
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
