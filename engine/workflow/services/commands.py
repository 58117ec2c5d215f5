"""What every state-changing command shares: load and lock, run, save, project, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor, same_county
from engine.errors import Conflict, DomainError, NotFound
from engine.models import Deployment, Instance, InstanceTownship, Organization, Task
from engine.workflow import audit, numbering, processes
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import operation, resolve_all
from engine.workflow.processes import kind_of
from engine.workflow.runtime import SERIALIZER_VERSION, EngineFailure, unpack
from engine.workflow.services import inbox
from engine.workflow.services.deployments import diagram_of
from engine.workflow.services.rows import update_instance
from engine.workflow.specs import Diagram

# Set by an administrator, never derived from the diagram (see services/interventions).
TERMINATED = "terminated"


@dataclass
class Loaded:
    """An instance as a command holds it: locked row, diagram, live workflow, its townships."""

    instance: Instance
    diagram: Diagram
    workflow: BpmnWorkflow
    township_ids: list[int]
    open_tasks: list[Task] = field(default_factory=list)
    # Loop children found completed but never merged (state stranded by older code), merged
    # on restore; `save` puts that on the trail.
    released: int = 0
    # The tasks waiting on an event once the command has run (`save`), for its answer.
    waiting: list[Any] | None = None


def township_ids(session: Session, instance_id: int) -> list[int]:
    return processes.township_ids(session, instance_id)


def visible_instance(
    session: Session, instance_id: int, actor: Actor, lock: bool
) -> tuple[Instance, list[int]]:
    """The instance and its townships if the caller may see it; else NotFound, as if absent."""
    query = select(Instance).where(Instance.id == instance_id)
    if lock:
        query = query.with_for_update()
    instance = session.scalar(query)
    if instance is None:
        raise NotFound("事项不存在")
    return instance, visible_townships(session, instance, actor)


def visible_townships(session: Session, instance: Instance, actor: Actor) -> list[int]:
    """The instance's township ids, after checking the caller may see it (else NotFound).

    Nobody reads another county's; within it, who may read an instance is its process's read
    scope (the process table).
    """
    if not same_county(actor, instance.county_id):
        raise NotFound("事项不存在")
    townships = kind_of(instance.process_id).read_scope(session, instance, actor)
    if townships is None:
        raise NotFound("事项不存在")
    return townships


def new_instance(
    session: Session,
    deployment: Deployment,
    title: str,
    actor: Actor,
    now: datetime,
    case_id: int | None,
    number_prefix: str = "",
    year: int | None = None,
) -> Instance:
    """A new instance row (with an id and its number of the year), filed by the caller's
    organisation; `save` fills in its state, status and trail head."""
    year = year or now.year  # the county's year, as the caller's calendar has it
    # Each county numbers its own records (a city office's filings are numbered apart).
    sequence = f"instance:{deployment.process_id}:{actor.county_id or 'city'}"
    number = numbering.next_in_sequence(session, sequence, year)
    instance = Instance(
        number=numbering.written_number(number_prefix, year, number),
        deployment_id=deployment.id,
        process_id=deployment.process_id,
        title=title,
        status="",
        state=b"",
        trail_seq=0,
        trail_head=audit.GENESIS,
        serializer_version=SERIALIZER_VERSION,
        created_by=actor.user_id,
        applicant_org_id=actor.org_id,
        county_id=actor.county_id,
        case_id=case_id,
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    return instance


def load(session: Session, ctx: Context, instance_id: int, actor: Actor) -> Loaded:
    """Lock the instance row (PostgreSQL) and restore its workflow."""
    instance, townships = visible_instance(session, instance_id, actor, lock=True)
    return restore(session, ctx, instance, townships)


def restore(
    session: Session, ctx: Context, instance: Instance, townships: list[int], command: bool = True
) -> Loaded:
    """The instance's workflow; released first if older code left it stranded. For a
    `command`, refused while an administrator holds the instance or after they ended it."""
    if command and instance.status == TERMINATED:
        raise Conflict("该事项已被管理员终止，不能再办理")
    if command and instance.suspended_at is not None:
        raise Conflict("该事项已被管理员暂停办理，恢复后方可继续")
    diagram = diagram_of(session, ctx, instance.deployment_id)
    kept = ctx.live.take(instance.id, instance.deployment_id, instance.state) if command else None
    if kept is not None:
        if ctx.settings.workflow_cache_check:
            _check_kept(ctx, kept, instance)
        return Loaded(instance, diagram, kept, townships)
    workflow = ctx.runtime.restore(diagram, instance.state)
    loaded = Loaded(instance, diagram, workflow, townships)
    loaded.released = ctx.runtime.release(workflow)
    return loaded


def _check_kept(ctx: Context, kept: Any, instance: Instance) -> None:
    """A kept workflow must be the one a restore gives: serialized, it is the stored state."""
    if json.loads(ctx.runtime.dumps(kept)) != json.loads(unpack(instance.state)):
        raise AssertionError(f"instance {instance.id}: the kept workflow is not its stored state")


def resolve_townships(
    session: Session, county_id: int | None, codes: list[str]
) -> list[Organization]:
    """The county's township organisations named by `codes`; unknown codes are a field error."""
    return processes.resolve_townships(session, county_id, codes)


def set_townships(session: Session, loaded: Loaded, townships: list[Organization]) -> None:
    instance = loaded.instance
    wanted = {org.id for org in townships}
    current = set(loaded.township_ids)
    for org_id in wanted - current:
        session.add(
            InstanceTownship(instance_id=instance.id, org_id=org_id, created_at=instance.created_at)
        )
    for org_id in current - wanted:
        row = session.get(InstanceTownship, (instance.id, org_id))
        if row is not None:
            session.delete(row)
    loaded.township_ids = [org.id for org in townships]


def save(
    session: Session,
    ctx: Context,
    loaded: Loaded,
    actor: Actor | None,
    role: str,
    changes: list[Entry],
    now: datetime,
) -> None:
    """Run the operations of the service tasks the engine passed, store state, rewrite the
    inbox, derive status (and what reaching it means, as the process table says), and append
    every change to the trail.

    Every command ends here (start, complete, message, timer, intervention), so this is the one
    place operations run. `actor` is None when the system acts (a timer fired).
    """
    instance, workflow = loaded.instance, loaded.workflow
    runtime = ctx.runtime
    changes = changes + run_operations(session, ctx, loaded, now)
    ready = runtime.ready_user_tasks(workflow)
    codes = {
        ref.code: org_id for org_id, ref in ctx.names.orgs(session, loaded.township_ids).items()
    }

    def due(spiff_task_id: str) -> datetime | None:
        return runtime.deadline_of(workflow, spiff_task_id)

    kind = kind_of(instance.process_id)
    if loaded.released:
        changes = [released_entry(loaded.released), *changes]
    opened, loaded.open_tasks = inbox.rewrite(
        session,
        instance,
        loaded.diagram,
        ready,
        codes,
        due,
        now,
        kind.party(session, instance),
        kind.owners(session, instance),
    )
    changes = changes + opened
    end = runtime.reached_end(workflow)
    loaded.waiting = waiting = runtime.waiting(workflow)
    messages = runtime.waiting_messages(workflow, waiting)
    status = kind.status(end, messages, {view.bpmn_id for view in ready})
    if status != instance.status and not loaded.diagram.operates:
        changes += kind.reached(session, ctx, loaded, status, now)
    state = runtime.save(workflow)
    if ready:  # someone is to act next; a matter in force or ended may wait months
        ctx.live.keep_on_commit(session, instance.id, instance.deployment_id, state, workflow)
    values: dict[str, Any] = {
        "state": state,
        "updated_at": now,
        "next_timer_at": runtime.next_due(workflow, waiting),
    }
    if status != instance.status:
        changes.append(Entry("status_changed", None, {"from": instance.status, "to": status}))
        values["status"] = status
    if end is not None and instance.ended_at is None:
        values["ended_at"] = now
    record(session, instance, actor, role, changes, now, values)


def run_operations(session: Session, ctx: Context, loaded: Loaded, now: datetime) -> list[Entry]:
    """Run, once each, the operation of every service task completed since the state was last
    stored, in this transaction; a failure rolls the whole command back (a domain error as
    itself, anything else as an EngineFailure, which opens an incident)."""
    entries: list[Entry] = []
    if not loaded.diagram.operates:
        return entries
    for task in ctx.runtime.operations_due(loaded.workflow):
        spec, step = task.task_spec, task.task_spec.bpmn_id
        registered = operation(spec.operation)
        try:
            if registered is None:  # vetted when deployed; the code no longer offers it
                raise LookupError(f"未知的操作 {spec.operation}")
            parameters = resolve_all(spec.parameters, task.data, registered.optional)
            done = registered.run(session, ctx, loaded, parameters, now)
        except DomainError:
            raise
        except Exception as exc:
            raise EngineFailure(step, exc) from exc
        ctx.runtime.mark_operation_ran(task)
        ran = {"operation": registered.name, "label": registered.label, "parameters": parameters}
        # What an operation records is recorded at its service task, unless it names a step.
        entries += [Entry("operation_ran", step, ran)]
        entries += [replace(entry, task=entry.task or step) for entry in done]
    return entries


def released_entry(children: int) -> Entry:
    return Entry("instance_released", None, {"merged_branches": children})


def record(
    session: Session,
    instance: Instance,
    actor: Actor | None,
    role: str,
    entries: list[Entry],
    now: datetime,
    values: dict[str, Any] | None = None,
) -> None:
    """Append to the instance's trail, and store the new chain head (with any other `values`)
    on its locked row in the same UPDATE."""
    seq, head = audit.append(
        session,
        instance_id=instance.id,
        actor=actor,
        role=role,
        entries=entries,
        at=now,
        head=(instance.trail_seq, instance.trail_head),
    )
    update_instance(session, instance, trail_seq=seq, trail_head=head, **(values or {}))
