"""The inbox projection: open user tasks as rows, rewritten with the instance in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Instance, Organization, Task
from engine.runtime import UserTaskView
from engine.specs import Diagram


@dataclass(frozen=True)
class Change:
    """Something the projection did that belongs in the trail."""

    action: str
    task: str
    payload: dict[str, Any]


def _org_ids_by_code(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = session.execute(
        select(Organization.code, Organization.id).where(Organization.code.in_(codes))
    )
    return {code: org_id for code, org_id in rows}


def _task_org(
    role: str, view: UserTaskView, instance: Instance, orgs: dict[str, int]
) -> int | None:
    """Which organisation a task belongs to; None means any organisation holding the role."""
    if role == "applicant":
        return instance.applicant_org_id
    if role == "township":
        return orgs[view.data["township"]]
    return None


def rewrite(
    session: Session,
    instance: Instance,
    diagram: Diagram,
    ready: list[UserTaskView],
    now: datetime,
) -> list[Change]:
    """Make the instance's open task rows match the workflow's ready user tasks."""
    open_rows = {
        row.spiff_task_id: row
        for row in session.scalars(
            select(Task).where(Task.instance_id == instance.id, Task.state == "open")
        )
    }
    township_codes = {v.data["township"] for v in ready if "township" in v.data}
    orgs = _org_ids_by_code(session, township_codes)
    changes: list[Change] = []
    ready_ids = set()
    for view in ready:
        ready_ids.add(view.spiff_task_id)
        if view.spiff_task_id in open_rows:
            continue
        role = diagram.lane_roles[view.lane or ""]
        org_id = _task_org(role, view, instance, orgs)
        session.add(
            Task(
                instance_id=instance.id,
                spiff_task_id=view.spiff_task_id,
                bpmn_id=view.bpmn_id,
                name=view.name,
                lane=view.lane,
                role=role,
                org_id=org_id,
                state="open",
                created_at=now,
            )
        )
        payload: dict[str, Any] = {"name": view.name, "role": role}
        if role == "township":
            payload["township"] = view.data["township"]
        changes.append(Change("task_opened", view.bpmn_id, payload))
    for spiff_id, row in open_rows.items():
        if spiff_id not in ready_ids:
            row.state = "cancelled"
            row.completed_at = now
            changes.append(Change("task_cancelled", row.bpmn_id, {"name": row.name}))
    return changes
