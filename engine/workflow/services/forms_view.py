"""Forms to draw, read through the deployed diagram they belong to: a task's, a process's start
form, an instance's forms for its trail, and the package processes a user may start.

Each is the package's JSON Schema form where the diagram's package has one, else the form built
into the service (`engine.workflow.forms.form_for_task` / `form_for_start` decide).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.authz import Actor
from engine.errors import DomainError, NotFound
from engine.models import Deployment, Instance, Task
from engine.workflow.context import Context
from engine.workflow.forms import form_for_start, form_for_task
from engine.workflow.processes import DEFAULT_STARTER, start_event
from engine.workflow.services import commands
from engine.workflow.services.deployments import current_deployment, diagram_of
from engine.workflow.specs import Diagram, user_task_ids


@dataclass(frozen=True)
class InstanceForms:
    """The forms of an instance's own diagram version: its start form and its tasks' forms."""

    start: Any | None
    tasks: Mapping[str, Any]


@dataclass(frozen=True)
class StartOffer:
    """A deployed process whose package brings its own start form, as a user may start it."""

    process_id: str
    name: str
    form: Any


def task_form_of(ctx: Context, task_id: int, actor: Actor) -> Any:
    """The form of a task on an instance the caller may see (NotFound otherwise, as for
    the task itself)."""
    with ctx.db.read() as session:
        found = session.execute(
            select(Task, Instance)
            .join(Instance, Instance.id == Task.instance_id)
            .where(Task.id == task_id)
        ).first()
        if found is None:
            raise NotFound("任务不存在")
        task, instance = found
        commands.visible_townships(session, instance, actor)
        return form_for_task(diagram_of(session, ctx, instance.deployment_id), task.bpmn_id)


def start_form_of(ctx: Context, process_id: str) -> Any:
    """The start form of the process's current version (NotFound for an unknown process)."""
    with ctx.db.read() as session:
        deployment = current_deployment(session, process_id)
        return form_for_start(diagram_of(session, ctx, deployment.id))


def instance_forms(ctx: Context, instance_id: int, actor: Actor) -> InstanceForms:
    """The forms an instance's trail was filled in with, by step id."""
    with ctx.db.read() as session:
        instance, _ = commands.visible_instance(session, instance_id, actor, lock=False)
        diagram = diagram_of(session, ctx, instance.deployment_id)
        tasks = {step: form for step in user_task_ids(diagram) if (form := _task(diagram, step))}
        return InstanceForms(start=_start(diagram), tasks=tasks)


def startable(ctx: Context, actor: Actor) -> list[StartOffer]:
    """Current versions whose package has a start form, if the caller holds the role of the
    start event's lane."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(Deployment.id, Deployment.process_id)
            .where(Deployment.is_current.is_(True))
            .order_by(Deployment.process_id)
        ).all()
        offers = []
        for deployment_id, process_id in rows:
            diagram = diagram_of(session, ctx, deployment_id)
            form = diagram.forms.get(diagram.start_id) if diagram.start_id else None
            _, lane = start_event(diagram)
            if form is not None and actor.has(diagram.lane_roles.get(lane or "", DEFAULT_STARTER)):
                offers.append(StartOffer(process_id, diagram.name, form))
        return offers


def _task(diagram: Diagram, step: str) -> Any | None:
    try:
        return form_for_task(diagram, step)
    except DomainError:  # a step with no form of its own takes none (never deployed so)
        return None


def _start(diagram: Diagram) -> Any | None:
    try:
        return form_for_start(diagram)
    except DomainError:
        return None
