"""What every state-changing command shares: load and lock, run, save, project, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.authz import Actor, can_see_instance
from engine.errors import InvalidInput, NotFound
from engine.models import Instance, InstanceTownship, Organization
from engine.services import inbox, register
from engine.services.context import Context
from engine.services.deployments import diagram_of
from engine.services.inbox import Change
from engine.specs import Diagram


@dataclass
class Loaded:
    instance: Instance
    diagram: Diagram
    workflow: BpmnWorkflow


def township_ids(session: Session, instance_id: int) -> list[int]:
    return list(
        session.scalars(
            select(InstanceTownship.org_id).where(InstanceTownship.instance_id == instance_id)
        )
    )


def visible_instance(session: Session, instance_id: int, actor: Actor, lock: bool) -> Instance:
    """The instance if the caller may see it; otherwise NotFound, as if it did not exist."""
    query = select(Instance).where(Instance.id == instance_id)
    if lock:
        query = query.with_for_update()
    instance = session.scalar(query)
    if instance is None or not can_see_instance(
        actor, instance.applicant_org_id, township_ids(session, instance_id)
    ):
        raise NotFound("事项不存在")
    return instance


def load(session: Session, ctx: Context, instance_id: int, actor: Actor) -> Loaded:
    """Lock the instance row (PostgreSQL) and restore its workflow."""
    return restore(session, ctx, visible_instance(session, instance_id, actor, lock=True))


def restore(session: Session, ctx: Context, instance: Instance) -> Loaded:
    diagram = diagram_of(session, ctx, instance.deployment_id)
    workflow = ctx.runtime.loads(diagram, instance.state_json)
    return Loaded(instance, diagram, workflow)


def resolve_townships(session: Session, codes: list[str]) -> list[Organization]:
    """The township organisations named by `codes`; unknown codes are a field error."""
    rows = session.scalars(
        select(Organization).where(Organization.code.in_(codes), Organization.level == "township")
    ).all()
    found = {row.code: row for row in rows}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise InvalidInput("申请填写有误", {"townships": [f"未知乡镇：{'、'.join(unknown)}"]})
    return [found[code] for code in codes]


def set_townships(session: Session, instance: Instance, townships: list[Organization]) -> None:
    wanted = {org.id for org in townships}
    current = set(township_ids(session, instance.id))
    for org_id in wanted - current:
        session.add(InstanceTownship(instance_id=instance.id, org_id=org_id))
    for org_id in current - wanted:
        row = session.get(InstanceTownship, (instance.id, org_id))
        if row is not None:
            session.delete(row)


def save(
    session: Session,
    ctx: Context,
    loaded: Loaded,
    actor: Actor,
    role: str,
    changes: list[Change],
    now: datetime,
) -> None:
    """Store state, rewrite the inbox, derive status, and append every change to the trail."""
    instance, workflow = loaded.instance, loaded.workflow
    runtime = ctx.runtime
    ready = runtime.ready_user_tasks(workflow)
    changes = changes + inbox.rewrite(session, instance, loaded.diagram, ready, now)
    end = runtime.reached_end(workflow)
    status = register.status_for(
        end, runtime.waiting_messages(workflow), {view.bpmn_id for view in ready}
    )
    if status == "exited" and instance.status != "exited":
        changes.append(register.record_exit(session, instance, runtime.data(workflow), now))
    if status != instance.status:
        changes.append(Change("status_changed", "", {"from": instance.status, "to": status}))
        instance.status = status
    if end is not None and instance.ended_at is None:
        instance.ended_at = now
    instance.state_json = runtime.dumps(workflow)
    instance.updated_at = now
    session.flush()
    for change in changes:
        audit_change(session, instance, actor, role, change, now)


def audit_change(
    session: Session, instance: Instance, actor: Actor, role: str, change: Change, now: datetime
) -> None:
    audit.append(
        session,
        instance_id=instance.id,
        actor=actor,
        role=role,
        action=change.action,
        task=change.task or None,
        payload=change.payload,
        at=now,
    )
