"""Use cases on tasks: my inbox, claim, complete."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, or_, select, union_all
from sqlalchemy.orm import Session

from engine.authz import (
    JUDGING_ROLES,
    ORG_SCOPED_ROLES,
    TASK_ROLES,
    Actor,
    check_take_task,
)
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import Instance, Task
from engine.workflow import attachments
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import of_county
from engine.workflow.forms import form_for_task
from engine.workflow.processes import inbox_exclusions, kind_of
from engine.workflow.services import commands, incidents
from engine.workflow.services.deployments import diagram_of
from engine.workflow.services.instances import detail_of
from engine.workflow.services.rows import update_row
from engine.workflow.services.views import InstanceDetail, TaskInfo, task_infos

INBOX_MAX_PER_PAGE = 100


def inbox(ctx: Context, actor: Actor, page: int = 1, per_page: int = 50) -> list[TaskInfo]:
    """我的待办: open tasks the caller may take, oldest first, a page at a time."""
    page, per_page = max(1, page), max(1, min(per_page, INBOX_MAX_PER_PAGE))
    reach = page * per_page
    per_role = [_inbox_ids(role, actor, reach) for role in sorted(actor.roles & TASK_ROLES)]
    if not per_role:
        return []
    if len(per_role) > 1:
        # SQLite allows ORDER BY/LIMIT in a UNION only inside subqueries.
        per_role = [select(*part.subquery().c) for part in per_role]
    ids = (per_role[0] if len(per_role) == 1 else union_all(*per_role)).subquery()
    oldest = (
        select(ids.c.id)
        .order_by(ids.c.created_at, ids.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    with ctx.db.read() as session:
        task_ids = list(session.scalars(oldest))
        rows = session.scalars(
            select(Task).where(Task.id.in_(task_ids)).order_by(Task.created_at, Task.id)
        ).all()
        return task_infos(session, ctx.names, ctx.calendar, list(rows))


def _inbox_ids(role: str, actor: Actor, reach: int) -> Any:
    """Open task ids of one role, oldest first, along the matching partial index."""
    query = select(Task.id, Task.created_at).where(Task.state == "open", Task.role == role)
    if role in ORG_SCOPED_ROLES:
        query = query.where(Task.org_id == actor.org_id)
    else:  # a task the process gave to one office (the verifying organ) is that office's
        query = query.where(or_(Task.org_id.is_(None), Task.org_id == actor.org_id))
        # A county office's tasks are its county's (an organisation's are of its county).
        query = query.where(of_county(Task.county_id, actor.county_id))
    query = query.where(or_(Task.assignee_id.is_(None), Task.assignee_id == actor.user_id))
    if role in JUDGING_ROLES:
        # Separation of duties: judging roles never see their own organisation's filings.
        own = select(Instance.id).where(
            Instance.id == Task.instance_id, Instance.applicant_org_id == actor.org_id
        )
        query = query.where(~own.exists())
    for hidden in inbox_exclusions(role, actor):  # a domain's recusal rules
        query = query.where(~hidden)
    return query.order_by(Task.created_at, Task.id).limit(reach)


# Both rows locked in one read (PostgreSQL; SQLite writers are serialized already), so the
# task is seen as the previous lock holder left it. Built once. (Reading the instance's other
# open tasks here as well would miss a row a concurrent command inserted while this one waited
# for the lock: PostgreSQL re-checks only the rows it first saw. The inbox rewrite reads them
# afresh, after the lock.)
_TASK_AND_INSTANCE = (
    select(Task, Instance)
    .join(Instance, Instance.id == Task.instance_id)
    .where(Task.id == bindparam("task_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _open_task(
    session: Session, ctx: Context, task_id: int, actor: Actor
) -> tuple[Task, Instance, list[int]]:
    """The task (open, visible, takeable by the caller), its instance and its townships."""
    found = session.execute(_TASK_AND_INSTANCE, {"task_id": task_id}).first()
    if found is None:
        raise NotFound("任务不存在")
    task, instance = found
    # Not visible → 404 (we do not confirm it exists); visible but not takeable → 403.
    townships = commands.visible_townships(session, instance, actor)
    if task.state != "open":
        raise Conflict("该任务已办结，不能再办理")
    check_may_take(session, task, instance, actor)
    _check_recusal(session, ctx, task, instance, actor)
    return task, instance, townships


def check_may_take(
    session: Session, task: Task, instance: Instance, actor: Actor, party: Any = None
) -> None:
    """Forbidden unless the caller's roles, office and separation of duties let them take the
    task (`party`: the instance's case subject, if already looked up)."""
    check_take_task(
        actor,
        role=task.role,
        org_id=task.org_id,
        assignee_id=task.assignee_id,
        applicant_org_id=instance.applicant_org_id,
        case=party if party is not None else kind_of(instance.process_id).party(session, instance),
    )


def _check_recusal(
    session: Session, ctx: Context, task: Task, instance: Instance, actor: Actor
) -> None:
    """回避: who did a step the diagram names for this one may not take it (the appeal is
    decided by someone other than the first decider)."""
    steps = diagram_of(session, ctx, instance.deployment_id).recusals.get(task.bpmn_id)
    if not steps:
        return
    done = session.scalar(
        select(Task.name)
        .where(
            Task.instance_id == instance.id,
            Task.bpmn_id.in_(steps),
            Task.state == "completed",
            Task.completed_by == actor.user_id,
        )
        .limit(1)
    )
    if done is not None:
        raise Forbidden(f"回避：您办理过本事项的“{done}”，“{task.name}”须由他人办理")


def claim(ctx: Context, task_id: int, actor: Actor) -> TaskInfo:
    """认领: the caller takes the task so colleagues do not work on it at the same time."""
    with ctx.db.write() as session:
        task, instance, _ = _open_task(session, ctx, task_id, actor)
        if task.assignee_id != actor.user_id:
            update_row(session, task, assignee_id=actor.user_id)
            commands.record(
                session,
                instance,
                actor,
                task.role,
                [Entry("task_claimed", task.bpmn_id, {"name": task.name})],
                ctx.clock.now(),
            )
        return task_infos(session, ctx.names, ctx.calendar, [task], {instance.id: instance.title})[
            0
        ]


def complete(ctx: Context, task_id: int, form: Any, actor: Actor) -> InstanceDetail:
    """办理: submit the task's form; the process moves on in the same transaction."""
    now = ctx.clock.now()
    form, attachment_ids = attachments.split_body(form)
    with incidents.attempt(ctx, actor, "complete") as noted, ctx.db.write() as session:
        task, instance, townships_now = _open_task(session, ctx, task_id, actor)
        noted.on(instance)
        loaded = commands.restore(session, ctx, instance, townships_now)
        # The form of the instance's own version: a package's, or the one built in.
        spec = form_for_task(loaded.diagram, task.bpmn_id)
        spiff_task = ctx.runtime.get_task(loaded.workflow, task.spiff_task_id)
        if spiff_task is None or not spiff_task.has_state(TaskState.READY):
            raise Conflict("任务状态已变化，请刷新后重试")
        task_data = dict(spiff_task.data)
        # What the process's domain adds to a step (checks, data, effects): the process table.
        kind = kind_of(instance.process_id)
        values = spec.validate(form, kind.form_context(session, ctx, instance, task_data))
        extra = kind.step_data(session, ctx, loaded, task.bpmn_id, values, task_data)
        ctx.runtime.complete(
            loaded.workflow, spiff_task, {**spec.data_for(task.bpmn_id, values), **extra}
        )
        update_row(
            session,
            task,
            state="completed",
            completed_at=now,
            completed_by=actor.user_id,
            assignee_id=actor.user_id,
        )
        done: dict[str, Any] = {"name": task.name, "form": values}
        if attachment_ids:
            done[attachments.FIELD] = attachments.bind(
                session, actor, attachment_ids, instance.id, task.bpmn_id, now
            )
        changes = [Entry("task_completed", task.bpmn_id, done)]
        if not loaded.diagram.operates:  # else its service tasks carry the effects
            changes += kind.after_step(session, ctx, loaded, task.bpmn_id, values, task_data, now)
        commands.save(session, ctx, loaded, actor, task.role, changes, now)
        return detail_of(session, ctx, loaded.instance, actor, loaded)
