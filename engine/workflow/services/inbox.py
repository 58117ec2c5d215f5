"""The inbox projection: open user tasks as rows, rewritten with the instance in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from engine.authz import CaseSubject
from engine.models import Instance, Task
from engine.workflow.audit import Entry
from engine.workflow.runtime import UserTaskView
from engine.workflow.services.rows import update_row
from engine.workflow.specs import Diagram


def _task_owner(
    role: str,
    view: UserTaskView,
    instance: Instance,
    townships: dict[str, int],
    case: CaseSubject | None,
    owners: Mapping[str, int],
) -> tuple[int | None, int | None]:
    """Which organisation a task belongs to (None: any organisation holding the role), and
    to whom it is assigned from the start (a person's own task in their case)."""
    if role in owners:  # the process kind names the office (e.g. the verifying organ)
        return owners[role], None
    if role == "applicant":
        return instance.applicant_org_id, None
    if role == "township":
        return townships[view.data["township"]], None
    if role == "cadre" and case is not None:
        return case.org_id, case.user_id if case.kind == "person" else None
    return None, None


# Built once (building a statement costs more than running it).
_OPEN_ROWS = select(Task).where(Task.instance_id == bindparam("instance_id"), Task.state == "open")
_INSERT_ROWS = insert(Task.__table__).returning(Task.__table__.c.id, sort_by_parameter_order=True)


def rewrite(
    session: Session,
    instance: Instance,
    diagram: Diagram,
    ready: list[UserTaskView],
    townships: dict[str, int],
    due: Callable[[str], datetime | None],
    now: datetime,
    case: CaseSubject | None = None,
    owners: Mapping[str, int] | None = None,
) -> tuple[list[Entry], list[Task]]:
    """Make the instance's open task rows match the workflow's ready user tasks.

    `townships` maps the instance's township codes to organisation ids; `due` gives a task's
    deadline (its boundary timer). Returns the trail entries and the task rows open afterwards.
    """
    open_rows = {
        row.spiff_task_id: row
        for row in session.scalars(_OPEN_ROWS, {"instance_id": instance.id})
        # A row completed earlier in this transaction is not flushed yet: trust memory.
        if row.state == "open"
    }
    changes: list[Entry] = []
    now_open: list[Task] = []
    new_rows: list[dict[str, Any]] = []
    ready_ids = set()
    for view in ready:
        ready_ids.add(view.spiff_task_id)
        if view.spiff_task_id in open_rows:
            now_open.append(open_rows[view.spiff_task_id])
            continue
        role = diagram.lane_roles[view.lane or ""]
        org_id, assignee_id = _task_owner(role, view, instance, townships, case, owners or {})
        new_rows.append(
            {
                "instance_id": instance.id,
                "spiff_task_id": view.spiff_task_id,
                "bpmn_id": view.bpmn_id,
                "name": view.name,
                "lane": view.lane,
                "role": role,
                "org_id": org_id,
                "county_id": instance.county_id,
                "assignee_id": assignee_id,
                "state": "open",
                "due_at": due(view.spiff_task_id),
                "escalated_at": None,
                "created_at": now,
                "completed_at": None,
                "completed_by": None,
            }
        )
        payload: dict[str, Any] = {"name": view.name, "role": role}
        if role == "township":
            payload["township"] = view.data["township"]
        changes.append(Entry("task_opened", view.bpmn_id, payload))
    for spiff_id, row in open_rows.items():
        if spiff_id not in ready_ids:
            update_row(session, row, state="cancelled", completed_at=now)
            changes.append(Entry("task_cancelled", row.bpmn_id, {"name": row.name}))
    if new_rows:
        # Plain INSERT … RETURNING: the new rows' ids, without a unit-of-work flush.
        ids = session.scalars(_INSERT_ROWS, new_rows).all()
        now_open += [Task(id=task_id, **row) for task_id, row in zip(ids, new_rows, strict=True)]
    return changes, now_open
