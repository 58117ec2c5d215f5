"""Move running instances to another version of their process (administrators only).

Each move is one transaction: the workflow moved by SpiffWorkflow's diff (engine/migration),
the instance's deployment, state, inbox rows, status and its `instance_migrated` trail event.
From then on the instance's diagram, and so its forms, are the new version's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor, require_role
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Deployment, Instance, Task
from engine.workflow import migration
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import administered, administers
from engine.workflow.services import commands, incidents
from engine.workflow.services.deployments import diagram_of
from engine.workflow.services.rows import update_instance, update_row

ACTION = "迁移事项"


@dataclass(frozen=True)
class MigrationCheck:
    """Whether an instance can move to a version, why not, and what that version changes."""

    instance_id: int
    process_id: str
    from_version: int
    to_version: int
    can: bool
    reasons: list[str]
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OpenStep:
    bpmn_id: str
    name: str


@dataclass(frozen=True)
class Migrated:
    """What an administrator sees of a moved instance: its state, not its contents."""

    id: int
    process_id: str
    title: str
    status: str
    from_version: int
    to_version: int
    open_steps: list[OpenStep]


@dataclass(frozen=True)
class MigrationReport:
    process_id: str
    from_version: int
    to_version: int
    moved: list[int]
    refused: dict[int, list[str]]


@dataclass
class _Examined:
    current: Deployment
    target: Deployment
    reasons: list[str]
    loaded: commands.Loaded | None = None
    plan: migration.Plan | None = None


def _hold(
    session: Session, instance_id: int, actor: Actor | None, lock: bool
) -> tuple[Instance, list[int]]:
    """The instance and its townships. Administrators (and the operator at the command line,
    `actor` None) hold any instance they keep, as when suspending it; anyone else learns
    nothing of one they cannot see (NotFound), else Forbidden."""
    query = select(Instance).where(Instance.id == instance_id)
    instance = session.scalar(query.with_for_update() if lock else query)
    if instance is None or not administers(actor, instance.county_id):
        raise NotFound("事项不存在")
    if actor is not None and not actor.has("admin"):
        commands.visible_townships(session, instance, actor)
        require_role(actor, "admin", ACTION)
    return instance, commands.township_ids(session, instance.id)


def _version(session: Session, process_id: str, version: int, name: str) -> Deployment:
    row = session.scalar(
        select(Deployment).where(Deployment.process_id == process_id, Deployment.version == version)
    )
    if row is None:
        raise InvalidInput("版本有误", {name: [f"流程 {process_id} 没有第 {version} 版"]})
    return row


def _instance_refusals(instance: Instance, current: Deployment, target: Deployment) -> list[str]:
    if instance.status == commands.TERMINATED:
        return ["该事项已被管理员终止"]
    if instance.ended_at is not None:
        return ["该事项已办结"]
    if instance.suspended_at is not None:
        return ["该事项已被管理员暂停办理，恢复后方可迁移"]
    if target.id == current.id:
        return [f"该事项已在第 {current.version} 版"]
    return []


def _examine(
    session: Session, ctx: Context, instance: Instance, townships: list[int], to_version: int
) -> _Examined:
    current = session.get_one(Deployment, instance.deployment_id)
    target = _version(session, instance.process_id, to_version, "to_version")
    reasons = _instance_refusals(instance, current, target)
    if reasons:
        return _Examined(current, target, reasons)
    loaded = commands.restore(session, ctx, instance, townships)
    target_diagram = diagram_of(session, ctx, target.id)
    with ctx.runtime.converting() as registry:
        plan = migration.plan(registry, loaded.workflow, loaded.diagram, target_diagram)
    return _Examined(current, target, list(plan.reasons), loaded, plan)


def check(ctx: Context, instance_id: int, to_version: int, actor: Actor | None) -> MigrationCheck:
    """Can the instance move to `to_version` of its process now, and if not, why not."""
    with incidents.attempt(ctx, actor, "migration_check") as noted, ctx.db.read() as session:
        instance, townships = _hold(session, instance_id, actor, lock=False)
        noted.on(instance)
        found = _examine(session, ctx, instance, townships, to_version)
        plan = found.plan
        return MigrationCheck(
            instance_id=instance.id,
            process_id=instance.process_id,
            from_version=found.current.version,
            to_version=found.target.version,
            can=not found.reasons,
            reasons=found.reasons,
            changed=list(plan.changed) if plan else [],
            added=list(plan.added) if plan else [],
            removed=list(plan.removed) if plan else [],
        )


def _retitle_open_tasks(session: Session, ctx: Context, loaded: commands.Loaded) -> None:
    """Open task rows take the new version's step names and lanes (the plan refused a change
    of role, so who may take them stays the same)."""
    views = {view.spiff_task_id: view for view in ctx.runtime.ready_user_tasks(loaded.workflow)}
    rows = session.scalars(
        select(Task).where(Task.instance_id == loaded.instance.id, Task.state == "open")
    )
    for row in rows:
        view = views.get(row.spiff_task_id)
        if view is not None and (row.bpmn_id, row.name, row.lane) != (
            view.bpmn_id,
            view.name,
            view.lane,
        ):
            update_row(session, row, bpmn_id=view.bpmn_id, name=view.name, lane=view.lane)


def migrate(ctx: Context, instance_id: int, to_version: int, actor: Actor | None) -> Migrated:
    """Move a running instance to `to_version` of its process, or refuse (Conflict) with
    the reasons `check` gives."""
    now = ctx.clock.now()
    with incidents.attempt(ctx, actor, "migrate") as noted, ctx.db.write() as session:
        instance, townships = _hold(session, instance_id, actor, lock=True)
        noted.on(instance)
        found = _examine(session, ctx, instance, townships, to_version)
        if found.reasons or found.loaded is None or found.plan is None:
            raise Conflict(f"该事项不能迁移到第 {to_version} 版", {"to_version": found.reasons})
        loaded, plan = found.loaded, found.plan
        migration.apply(plan, loaded.workflow)
        loaded.diagram = plan.target
        _retitle_open_tasks(session, ctx, loaded)
        update_instance(session, instance, deployment_id=found.target.id)
        moved = Entry(
            "instance_migrated",
            None,
            {
                "from_version": found.current.version,
                "to_version": found.target.version,
                "changed": list(plan.changed),
                "added": list(plan.added),
                "removed": list(plan.removed),
            },
        )
        commands.save(session, ctx, loaded, actor, "admin", [moved], now)
        return Migrated(
            id=instance.id,
            process_id=instance.process_id,
            title=instance.title,
            status=instance.status,
            from_version=found.current.version,
            to_version=found.target.version,
            open_steps=[OpenStep(row.bpmn_id, row.name) for row in loaded.open_tasks],
        )


def migrate_all(
    ctx: Context, process_id: str, from_version: int, to_version: int, actor: Actor | None
) -> MigrationReport:
    """Move every running instance of one version that can move, each in its own
    transaction; report the others with their reasons."""
    if actor is not None:
        require_role(actor, "admin", ACTION)
    with ctx.db.read() as session:
        if session.scalar(select(Deployment.id).where(Deployment.process_id == process_id)) is None:
            raise NotFound(f"流程 {process_id} 不存在")
        source = _version(session, process_id, from_version, "from_version")
        _version(session, process_id, to_version, "to_version")
        if from_version == to_version:
            raise InvalidInput("版本有误", {"to_version": ["应与原版本不同"]})
        ids = [row.id for row in _running(session, source, actor)]
    moved: list[int] = []
    refused: dict[int, list[str]] = {}
    for instance_id in ids:
        try:
            migrate(ctx, instance_id, to_version, actor)
        except Conflict as refusal:  # incl. a concurrent writer, or an engine failure's incident
            refused[instance_id] = refusal.errors.get("to_version") or [refusal.message]
        else:
            moved.append(instance_id)
    return MigrationReport(process_id, from_version, to_version, moved, refused)


@dataclass(frozen=True)
class Running:
    """A running instance as the migration page lists it."""

    id: int
    title: str
    status: str


def running_on(ctx: Context, process_id: str, version: int, actor: Actor) -> list[Running]:
    """The instances still running on one version of a process (administrators), the ones
    `migrate_all` would try to move."""
    require_role(actor, "admin", ACTION)
    with ctx.db.read() as session:
        source = _version(session, process_id, version, "from_version")
        return _running(session, source, actor)


def _running(session: Session, source: Deployment, actor: Actor | None) -> list[Running]:
    """Those the administrator `actor` keeps (None: the CLI's, every county's)."""
    rows = session.execute(
        select(Instance.id, Instance.title, Instance.status)
        .where(
            Instance.deployment_id == source.id,
            Instance.ended_at.is_(None),
            administered(actor),
        )
        .order_by(Instance.id)
    ).all()
    return [Running(row.id, row.title, row.status) for row in rows]
