"""Use cases for diagrams: deploy once per content, list processes, find an instance's diagram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.authz import Actor, require_role
from engine.errors import InvalidDiagram, NotFound
from engine.forms import START_FORMS, TASK_FORMS
from engine.models import Deployment
from engine.services.context import Context
from engine.specs import Diagram, parse_diagram, sha256_of, user_task_ids


@dataclass(frozen=True)
class ProcessInfo:
    process_id: str
    name: str
    version: int
    sha256: str
    deployed_at: datetime


def _info(row: Deployment) -> ProcessInfo:
    return ProcessInfo(row.process_id, row.name, row.version, row.sha256, row.deployed_at)


def _check_forms(diagram: Diagram) -> None:
    """The service validates every step's input, so every step needs a form it knows."""
    problems = []
    if diagram.process_id not in START_FORMS:
        problems.append(f"流程 {diagram.process_id} 没有申请表单")
    problems += [
        f"任务 {task} 没有表单定义"
        for task in sorted(user_task_ids(diagram.spec))
        if task not in TASK_FORMS
    ]
    if problems:
        raise InvalidDiagram("流程图中的步骤没有对应的表单", {"xml": problems})


def deploy(session: Session, ctx: Context, xml: bytes, actor: Actor | None) -> ProcessInfo:
    """Store a diagram once; the same XML deployed again returns the existing deployment."""
    existing = session.scalar(select(Deployment).where(Deployment.sha256 == sha256_of(xml)))
    if existing is not None:
        return _info(existing)
    diagram = parse_diagram(xml)
    _check_forms(diagram)
    ctx.diagrams.add(diagram)
    latest = session.scalar(
        select(func.max(Deployment.version)).where(Deployment.process_id == diagram.process_id)
    )
    now = ctx.clock.now()
    row = Deployment(
        process_id=diagram.process_id,
        name=diagram.name,
        version=(latest or 0) + 1,
        sha256=diagram.sha256,
        xml=xml,
        deployed_at=now,
        deployed_by=actor.user_id if actor else None,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        instance_id=None,
        actor=actor,
        role="admin" if actor else None,
        entries=[
            audit.Entry(
                "diagram_deployed",
                None,
                {"process_id": row.process_id, "version": row.version, "sha256": row.sha256},
            )
        ],
        at=now,
    )
    return _info(row)


def deploy_uploaded(ctx: Context, xml: bytes, actor: Actor) -> ProcessInfo:
    """An administrator deploys a diagram; a bad diagram is refused with the reason."""
    require_role(actor, "admin", "部署流程图")
    with ctx.db.write() as session:
        return deploy(session, ctx, xml, actor)


def deploy_directory(
    ctx: Context, directory: Path, actor: Actor | None = None
) -> list[ProcessInfo]:
    with ctx.db.write() as session:
        return [
            deploy(session, ctx, path.read_bytes(), actor)
            for path in sorted(directory.glob("*.bpmn"))
        ]


def list_processes(ctx: Context) -> list[ProcessInfo]:
    """The newest deployment of each process."""
    with ctx.db.read() as session:
        newest = (
            select(Deployment.process_id, func.max(Deployment.version).label("version"))
            .group_by(Deployment.process_id)
            .subquery()
        )
        rows = session.scalars(
            select(Deployment)
            .join(
                newest,
                (Deployment.process_id == newest.c.process_id)
                & (Deployment.version == newest.c.version),
            )
            .order_by(Deployment.process_id)
        )
        return [_info(row) for row in rows]


def latest_deployment(session: Session, process_id: str) -> Deployment:
    row = session.scalar(
        select(Deployment)
        .where(Deployment.process_id == process_id)
        .order_by(Deployment.version.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound(f"流程 {process_id} 不存在")
    return row


def diagram_of(session: Session, ctx: Context, deployment_id: int) -> Diagram:
    """The parsed diagram of a deployment, parsed at most once per process."""
    sha = ctx.deployment_shas.get(deployment_id)
    if sha is None:
        # A deployment never changes once stored, so its id → sha256 mapping can be cached.
        sha = session.scalar(select(Deployment.sha256).where(Deployment.id == deployment_id))
        if sha is None:
            raise NotFound("流程部署不存在")
        ctx.deployment_shas[deployment_id] = sha

    def load_xml() -> bytes:
        xml = session.scalar(select(Deployment.xml).where(Deployment.id == deployment_id))
        assert xml is not None
        return xml

    return ctx.diagrams.get(sha, load_xml)
