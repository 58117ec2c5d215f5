"""What the admission process means for townships: status, the register of admitted matters, exit.

This is where the matter_admission diagram's milestones become domain facts: a township's
confirmation puts the matter on its register; reaching the exit end event takes it off and tells
every township.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admission.services import resources
from engine.models import Instance, Matter, Organization
from engine.services.notices import org_codes, tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context

# End events are named end_<status>[_detail] in every diagram.
END_STATUSES = {"exited", "rejected", "withdrawn", "refused", "concluded", "cleared"}
IN_FORCE_SIGNS = {"matter_withdrawal"}  # waiting for this message: the matter is in force
IN_FORCE_STEPS = {"decide_objection", "reevaluate"}  # steps taken on a matter in force
# Every exit path passes a throw event exit_<reason> just before the matters leave.
EXIT_PREFIX = "exit_"
EXIT_LABELS = {
    "withdrawn": "申请单位撤回",
    "objection": "乡镇异议经审核决定退出",
    "expired": "短期事项期限届满",
    "reevaluated": "年度评估决定退出",
    "terminated": "平台管理员终止办理",
}


def status_for(end_event: str | None, waiting_messages: set[str], open_steps: set[str]) -> str:
    if end_event is not None:
        parts = end_event.split("_")
        if len(parts) > 1 and parts[1] in END_STATUSES:
            return parts[1]
        return "completed"
    if waiting_messages & IN_FORCE_SIGNS or open_steps & IN_FORCE_STEPS:
        return "in_force"
    return "pending"


def record_entry(
    session: Session,
    ctx: Context,
    instance: Instance,
    data: dict[str, Any],
    confirmation: dict[str, Any],
    now: datetime,
) -> Entry:
    """A township confirmed (on versions drawn before entry was a service task): the matter
    goes onto its register with its share of the resources, received or owed."""
    application = data["application"]
    township = session.scalar(select(Organization).where(Organization.code == data["township"]))
    assert township is not None
    end = application.get("end_date")
    given = application.get("resources") or {}
    townships = list(application.get("townships") or [])
    promise = resources.Promise(
        funding_yuan=resources.share(int(given.get("funding_yuan") or 0), townships, township.code),
        staff=resources.share(int(given.get("staff") or 0), townships, township.code),
        powers=str(given.get("powers") or ""),
    )
    values = {
        "name": application["name"],
        "term_type": application["term_type"],
        "start_date": date.fromisoformat(application["start_date"]),
        "end_date": date.fromisoformat(end) if end else None,
    }
    received = bool(confirmation["resources_received"])
    _, promised = resources.enter(
        session, ctx, instance, township.id, values, promise, received, now
    )
    payload = {"township": township.code, "resources_received": received}
    return Entry("matter_entered", "confirm_entry", payload | promised)


def exit_reason(completed_ids: list[str]) -> str:
    """Why a matter exited: the last exit_<reason> event the workflow passed."""
    exits = [bpmn_id for bpmn_id in completed_ids if bpmn_id.startswith(EXIT_PREFIX)]
    return exits[-1].removeprefix(EXIT_PREFIX) if exits else "withdrawn"


def record_exit(
    session: Session, instance: Instance, reason: str, now: datetime, township_id: int | None = None
) -> Entry:
    """The matter leaves every township's register (or only `township_id`'s, the others keeping
    it); each township that leaves is told, and so is the department, unless it withdrew the
    matter itself."""
    query = select(Matter).where(Matter.instance_id == instance.id, Matter.status == "in_force")
    if township_id is not None:
        query = query.where(Matter.township_org_id == township_id)
    rows = session.scalars(query).all()
    told = []
    why = EXIT_LABELS.get(reason, reason)
    for row in rows:
        row.status = "exited"
        row.exited_at = now
        row.exit_reason = reason
        message = f"事项“{row.name}”已退出（{why}），自即日起不再由本乡镇承担。"
        tell(session, [row.township_org_id], instance.id, "matter_exited", message, now)
        told.append(row.township_org_id)
    if rows and reason != "withdrawn":
        names = "、".join(
            o.name for o in session.scalars(select(Organization).where(Organization.id.in_(told)))
        )
        if township_id is None:
            message = f"事项“{instance.title}”已退出（{why}），已通知{names}。"
        else:
            message = f"事项“{instance.title}”已不再由{names}承担（{why}），其他乡镇继续承担。"
        tell(session, [instance.applicant_org_id], instance.id, "matter_exited", message, now)
    told_codes = org_codes(session, told)
    return Entry("matter_exited", "notify_exit", {"reason": reason, "townships_told": told_codes})
