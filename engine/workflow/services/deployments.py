"""Use cases for procedure versions: deploy a package as a draft, activate one version per
process, list and compare versions, find an instance's diagram.

Deploying stores a package (a diagram and the forms it names) once per content as a *draft*:
nothing changes for users until an administrator *activates* a version, which becomes the one
new instances start on (state "active"; the one it replaces is "retired"). Activating an older
version is the rollback. Instances keep the version they started on until migrated. Every
deployment and activation is an event on the administrative trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from engine.authz import Actor, require_role
from engine.errors import Conflict, InvalidDiagram, NotFound
from engine.models import Deployment, Instance, User
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.packages import Package, read_directory
from engine.workflow.specs import Diagram, parse_package, user_task_ids
from engine.workflow.versions import Step, VersionDiff, compare, steps_of


@dataclass(frozen=True)
class ProcessInfo:
    process_id: str
    name: str
    version: int
    sha256: str
    deployed_at: datetime
    current: bool = True
    state: str = "active"  # draft | active | retired
    deployed_by: str | None = None  # display names, never usernames
    activated_at: datetime | None = None
    activated_by: str | None = None
    files: tuple[str, ...] = ()


def _infos(session: Session, rows: list[Deployment]) -> list[ProcessInfo]:
    """The versions as callers see them, the names of who deployed and activated each read in
    one query."""
    ids = {user for row in rows for user in (row.deployed_by, row.activated_by)} - {None}
    names = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    return [
        ProcessInfo(
            row.process_id,
            row.name,
            row.version,
            row.sha256,
            row.deployed_at,
            row.is_current,
            row.state,
            names.get(row.deployed_by),
            row.activated_at,
            names.get(row.activated_by),
            tuple(sorted(row.files or {})),
        )
        for row in rows
    ]


def _info(session: Session, row: Deployment) -> ProcessInfo:
    return _infos(session, [row])[0]


def _check_forms(diagram: Diagram) -> None:
    """The service validates every step's input, so every step needs a form its package
    names."""
    problems = []
    if diagram.start_id not in diagram.forms:
        problems.append(f"流程 {diagram.process_id} 没有申请表单")
    problems += [
        f"任务 {task} 没有表单定义"
        for task in sorted(user_task_ids(diagram))
        if task not in diagram.forms
    ]
    if problems:
        raise InvalidDiagram("流程图中的步骤没有对应的表单", {"xml": problems})


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # another deployment of this process committed meanwhile
        raise Conflict("该流程正在被另一位管理员部署或切换版本，请稍后重试") from exc


def _current_row(session: Session, process_id: str) -> Deployment | None:
    # Without the package (90 KB of diagram and 25 KB of forms for matter_admission): a filing
    # asks for its version twice, and the parsed diagram comes from the cache (`diagram_of`).
    return session.scalar(
        select(Deployment)
        .where(Deployment.process_id == process_id, Deployment.is_current.is_(True))
        .options(defer(Deployment.xml), defer(Deployment.files))
    )


def _make_current(session: Session, row: Deployment) -> Deployment | None:
    """Make `row` its process's current version; return the one it replaces."""
    # Lock the process's versions (PostgreSQL; SQLite writers are serialized already) so two
    # administrators switching versions at once queue instead of both clearing the old one.
    session.execute(
        select(Deployment.id).where(Deployment.process_id == row.process_id).with_for_update()
    )
    previous = _current_row(session, row.process_id)
    if previous is not None:
        previous.is_current = False
        _flush(session)  # first, on its own: at no moment may two versions be current
    row.is_current = True
    _flush(session)
    return previous


def _record(
    session: Session,
    action: str,
    row: Deployment,
    actor: Actor | None,
    at: datetime,
    **extra: object,
) -> None:
    audit.append(
        session,
        instance_id=None,
        actor=actor,
        role="admin" if actor else None,
        entries=[
            audit.Entry(
                action,
                None,
                {
                    "process_id": row.process_id,
                    "version": row.version,
                    "sha256": row.sha256,
                    **extra,
                },
            )
        ],
        at=at,
    )


def _activate(
    session: Session, ctx: Context, row: Deployment, actor: Actor | None, via: str
) -> ProcessInfo:
    """Make a stored version current, if it still passes today's vetting."""
    if row.is_current:
        return _info(session, row)
    # Vetted again: a version stored under older rules may hold what they now refuse.
    _check_forms(diagram_of(session, ctx, row.id))
    previous = _make_current(session, row)
    now = ctx.clock.now()
    row.activated_at = now
    row.activated_by = actor.user_id if actor else None
    _flush(session)
    _record(
        session,
        "diagram_activated",
        row,
        actor,
        now,
        previous_version=previous.version if previous is not None else None,
        via=via,
    )
    return _info(session, row)


def deploy(
    session: Session, ctx: Context, package: Package | bytes, actor: Actor | None
) -> ProcessInfo:
    """Store a package once, as a draft of its process's next version. A package already
    stored is not stored again: its version is returned as it is (activate it to use it).

    Deployments take turns (PostgreSQL advisory lock; SQLite writers already queue): the next
    version number is read and written, and the administrative trail appended, by one at a
    time — concurrent uploads once collided on (process_id, version) with a 500.
    """
    if isinstance(package, bytes):
        package = Package(package)
    audit.lock_admin_chain(session)
    existing = session.scalar(select(Deployment).where(Deployment.sha256 == package.sha256))
    if existing is not None:
        return _info(session, existing)
    diagram = parse_package(package)
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
        xml=package.xml,
        files=package.stored_files(),
        deployed_at=now,
        deployed_by=actor.user_id if actor else None,
        is_current=False,
    )
    session.add(row)
    _flush(session)
    _record(session, "diagram_deployed", row, actor, now, files=sorted(package.files))
    return _info(session, row)


def deploy_uploaded(ctx: Context, package: Package, actor: Actor) -> ProcessInfo:
    """An administrator deploys a package (or a bare diagram) as a draft; a bad one is
    refused with the reason."""
    require_role(actor, "admin", "部署流程")
    with ctx.db.write() as session:
        return deploy(session, ctx, package, actor)


def packages_in(directory: Path) -> list[Package]:
    """The packages kept in `directory`: each sub-folder is one, each loose .bpmn another."""
    folders = sorted(path for path in directory.iterdir() if path.is_dir())
    loose = sorted(directory.glob("*.bpmn"))
    return [read_directory(folder) for folder in folders if any(folder.glob("*.bpmn"))] + [
        Package(path.read_bytes()) for path in loose
    ]


def deploy_directory(
    ctx: Context, directory: Path, actor: Actor | None = None, activate: bool = False
) -> list[ProcessInfo]:
    """Deploy every package in `directory` (the operator at the command line); with
    `activate`, each also becomes the version new instances start on."""
    with ctx.db.write() as session:
        infos = [deploy(session, ctx, package, actor) for package in packages_in(directory)]
        if not activate:
            return infos
        rows = [_version_row(session, info.process_id, info.version) for info in infos]
        return [_activate(session, ctx, row, actor, via="operator") for row in rows]


def _version_row(session: Session, process_id: str, version: int) -> Deployment:
    row = session.scalar(
        select(Deployment).where(Deployment.process_id == process_id, Deployment.version == version)
    )
    if row is None:
        raise NotFound(f"流程 {process_id} 没有第 {version} 版")
    return row


def activate(ctx: Context, process_id: str, version: int, actor: Actor | None) -> ProcessInfo:
    """Make a version of a process the one new instances start on: a draft goes live, or an
    earlier version comes back (rollback). Running instances keep theirs.

    `actor` None is the operator at the command line. A version that no longer passes vetting
    is refused (InvalidDiagram); activating the active version changes nothing.
    """
    if actor is not None:
        require_role(actor, "admin", "启用流程版本")
    with ctx.db.write() as session:
        audit.lock_admin_chain(session)
        row = _version_row(session, process_id, version)
        return _activate(session, ctx, row, actor, via="activate")


def list_processes(ctx: Context) -> list[ProcessInfo]:
    """The current deployment of each process."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Deployment)
            .where(Deployment.is_current.is_(True))
            .order_by(Deployment.process_id)
        )
        return _infos(session, list(rows))


def list_versions(ctx: Context, process_id: str) -> list[ProcessInfo]:
    """Every deployed version of a process, newest first, saying which one is current."""
    with ctx.db.read() as session:
        rows = list(
            session.scalars(
                select(Deployment)
                .where(Deployment.process_id == process_id)
                .order_by(Deployment.version.desc())
            )
        )
        if not rows:
            raise NotFound(f"流程 {process_id} 不存在")
        return _infos(session, rows)


def current_deployment(session: Session, process_id: str) -> Deployment:
    """The deployment new instances of `process_id` start on."""
    row = _current_row(session, process_id)
    if row is None:
        raise NotFound(f"流程 {process_id} 不存在")
    return row


# The name callers have used since "current" meant "newest"; it means current now.
latest_deployment = current_deployment


def diagram_of(session: Session, ctx: Context, deployment_id: int) -> Diagram:
    """The parsed diagram of a deployment, parsed at most once per process."""
    sha = ctx.deployment_shas.get(deployment_id)
    if sha is None:
        # A deployment never changes once stored, so its id → sha256 mapping can be cached.
        sha = session.scalar(select(Deployment.sha256).where(Deployment.id == deployment_id))
        if sha is None:
            raise NotFound("流程部署不存在")
        ctx.deployment_shas[deployment_id] = sha

    def load() -> Package:
        row = session.execute(
            select(Deployment.xml, Deployment.files).where(Deployment.id == deployment_id)
        ).one()
        return Package.from_stored(row.xml, row.files)

    return ctx.diagrams.get(sha, load)


def diff(ctx: Context, process_id: str, version: int, against: int) -> VersionDiff:
    """Version `version` of a process against version `against`: steps added, removed and
    changed, forms changed."""
    with ctx.db.read() as session:
        new = _version_row(session, process_id, version)
        old = _version_row(session, process_id, against)
        before, after = diagram_of(session, ctx, old.id), diagram_of(session, ctx, new.id)
    with ctx.runtime.converting() as registry:
        return compare(registry, before, after)


@dataclass(frozen=True)
class StepForm:
    """A form a version's step collects: what a client needs to draw and check it."""

    step: Step
    start: bool  # the start event's (the application) rather than a task's
    json_schema: dict[str, Any]
    ui_schema: dict[str, Any] | None


def forms_of(ctx: Context, process_id: str, version: int) -> list[StepForm]:
    """The package forms of a version, the start form first: clients draw each step's form
    from the schema of the instance's own version."""
    with ctx.db.read() as session:
        diagram = diagram_of(session, ctx, _version_row(session, process_id, version).id)
    steps = {step.id: step for step in steps_of(diagram.task_specs())}
    found = [
        StepForm(steps[step_id], step_id == diagram.start_id, form.json_schema, form.ui_schema)
        for step_id, form in diagram.forms.items()
        if step_id in steps
    ]
    return sorted(found, key=lambda item: (not item.start, item.step.id))


@dataclass(frozen=True)
class ProcessOverview:
    """A process as administrators list it: its newest version, the one in use (None while
    it only has drafts) and how many drafts wait."""

    newest: ProcessInfo
    active: ProcessInfo | None
    drafts: int


def list_all(ctx: Context, actor: Actor) -> list[ProcessOverview]:
    """Every process deployed, drafts-only ones included (administrators)."""
    require_role(actor, "admin", "管理流程")
    with ctx.db.read() as session:
        # Every column but the XML: the list reads no diagram.
        rows = session.scalars(
            select(Deployment)
            .options(defer(Deployment.xml))
            .order_by(Deployment.process_id, Deployment.version.desc())
        ).all()
        infos = dict(zip((row.id for row in rows), _infos(session, list(rows)), strict=True))
        versions: dict[str, list[Deployment]] = {}
        for row in rows:
            versions.setdefault(row.process_id, []).append(row)
        return [
            ProcessOverview(
                newest=infos[found[0].id],
                active=next((infos[r.id] for r in found if r.is_current), None),
                drafts=sum(r.state == "draft" for r in found),
            )
            for found in versions.values()
        ]


@dataclass(frozen=True)
class VersionDrawing:
    """What is needed to show one version: its record, its XML (for the picture) and its
    steps (for a diagram drawn without layout)."""

    info: ProcessInfo
    xml: bytes
    steps: tuple[Step, ...]


def drawing(ctx: Context, process_id: str, version: int, actor: Actor) -> VersionDrawing:
    """One version of a process as administrators see it before activating it."""
    require_role(actor, "admin", "管理流程")
    with ctx.db.read() as session:
        row = _version_row(session, process_id, version)
        diagram = diagram_of(session, ctx, row.id)
        return VersionDrawing(_info(session, row), row.xml, steps_of(diagram.task_specs()))


@dataclass(frozen=True)
class VersionUse:
    """A version and how many instances still run on it (they stay until migrated)."""

    info: ProcessInfo
    running: int


def history(ctx: Context, process_id: str, actor: Actor) -> list[VersionUse]:
    """Every version of a process, newest first, with its running instances (administrators)."""
    require_role(actor, "admin", "管理流程")
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Deployment)
            .options(defer(Deployment.xml))
            .where(Deployment.process_id == process_id)
            .order_by(Deployment.version.desc())
        ).all()
        if not rows:
            raise NotFound("该流程不存在")
        running = dict(
            session.execute(
                select(Instance.deployment_id, func.count())
                .where(
                    Instance.deployment_id.in_([row.id for row in rows]),
                    Instance.ended_at.is_(None),
                )
                .group_by(Instance.deployment_id)
            ).all()
        )
        infos = _infos(session, list(rows))
        pairs = zip(infos, rows, strict=True)
        return [VersionUse(info, running.get(row.id, 0)) for info, row in pairs]
