"""Starting an accountability case's procedures (fault tolerance, clearance) and appealing.

Who may start what, and when, is domain law (docs/accountability.md): the person or unit
concerned applies for fault tolerance while the case is open (after accountability started,
before a decision); clearance is applied for by them or proposed by the handling department after
consulting them; one procedure of each kind at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit import Entry
from engine.authz import (
    CASE_OPENING_ROLES,
    Actor,
    CaseSubject,
    check_not_concerned,
    is_case_party,
)
from engine.cases import CASE_PROCESSES, facts
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.forms import start_form
from engine.forms_accountability import APPEAL_FORM
from engine.models import Instance
from engine.models_cases import AccountabilityCase
from engine.services import commands, incidents, instances
from engine.services.cases import subject_of, visible_case
from engine.services.context import Context
from engine.services.deployments import diagram_of, latest_deployment
from engine.services.instances import deliver_message, detail_of
from engine.services.views import InstanceDetail

TITLES = {"fault_tolerance": "容错纠错申请", "clearance": "澄清正名"}
MAX_ID = 2**31 - 1


def form_context(
    ctx: Context, case: AccountabilityCase | None, data: dict[str, Any]
) -> dict[str, Any]:
    """What a procedure's form checks may consult besides the form itself."""
    return {
        "case": facts(case) if case is not None else {},
        "data": data,
        "rules": ctx.tolerance,
        "today": ctx.calendar.local(ctx.clock.now()).date().isoformat(),
    }


def start(ctx: Context, process_id: str, body: Any, actor: Actor) -> InstanceDetail:
    """申请 / 提议: start a procedure of a case the caller may read."""
    form = start_form(process_id)
    now = ctx.clock.now()
    with incidents.attempt(ctx, actor, "start") as noted, ctx.db.write() as session:
        case = _named_case(session, body, actor)
        values = form.validate(body, form_context(ctx, case, {}))
        if case is None:
            raise InvalidInput("申请填写有误", {"case_id": ["案件不存在"]})
        role = _check_may_start(session, process_id, case, values, actor)
        deployment = latest_deployment(session, process_id)
        noted.on_deployment(deployment)
        diagram = diagram_of(session, ctx, deployment.id)
        workflow = ctx.runtime.start(
            diagram, {**form.data_for("application", values), "case": facts(case)}
        )
        title = f"{TITLES[process_id]}：{case.subject_name}（{case.case_no}）"
        instance = commands.new_instance(session, deployment, title, actor, now, case_id=case.id)
        loaded = commands.Loaded(instance, diagram, workflow, [])
        started = Entry(
            "instance_started", "start_apply", {"application": values, "case_no": case.case_no}
        )
        commands.save(session, ctx, loaded, actor, role, [started], now)
        return detail_of(session, ctx, instance, actor, loaded)


def _named_case(session: Session, body: Any, actor: Actor) -> AccountabilityCase | None:
    """The case the body names, locked, if it is a well-formed id of a case the caller may
    read; the form reports a malformed id, and an unreadable case is 'not found'."""
    case_id = body.get("case_id") if isinstance(body, dict) else None
    if not isinstance(case_id, int) or isinstance(case_id, bool) or not 1 <= case_id <= MAX_ID:
        return None
    try:
        return visible_case(session, case_id, actor, lock=True)
    except NotFound:  # reported as a field error once the rest of the form is valid
        return None


def _check_may_start(
    session: Session,
    process_id: str,
    case: AccountabilityCase,
    values: dict[str, Any],
    actor: Actor,
) -> str:
    """Raise unless the caller may start this procedure now; return the role they act in."""
    subject = subject_of(case)
    if _pending(session, case.id, process_id):
        raise Conflict(f"该案件已有办理中的{TITLES[process_id]}")
    if process_id == "fault_tolerance":
        _require_party(actor, subject, "只有当事人本人或被问责单位可以申请容错")
        if case.status != "open":
            raise InvalidInput(
                "不能申请容错",
                {"case_id": ["容错申请须在问责启动后、作出问责决定前提出；该案件已有核查结论"]},
            )
        return "cadre"
    if case.cleared_at is not None:
        raise Conflict("该案件已完成澄清正名")
    if values["origin"] == "application":
        _require_party(
            actor,
            subject,
            "以本人名义申请澄清须由当事人本人或被澄清单位提出；承办部门请选择“部门提议”",
        )
        return "cadre"
    role = next((r for r in CASE_OPENING_ROLES if actor.has(r)), None)
    if role is None:
        raise Forbidden("提议澄清正名需要纪检监察机关或组织部门的承办角色")
    check_not_concerned(actor, subject)
    return role


def _require_party(actor: Actor, subject: CaseSubject, message: str) -> None:
    if not is_case_party(actor, subject):
        raise Forbidden(message)


def _pending(session: Session, case_id: int, process_id: str) -> bool:
    count = session.scalar(
        select(func.count())
        .select_from(Instance)
        .where(
            Instance.case_id == case_id,
            Instance.process_id == process_id,
            Instance.status == "pending",
        )
    )
    return bool(count)


def appeal(ctx: Context, instance_id: int, body: Any, actor: Actor) -> InstanceDetail:
    """申诉: the person or unit concerned appeals a fault-tolerance decision within the window;
    the decision stands meanwhile."""
    values = APPEAL_FORM.validate(body)

    def may(session: Session, loaded: commands.Loaded, actor: Actor) -> None:
        case_id = loaded.instance.case_id
        if case_id is None or loaded.instance.process_id != "fault_tolerance":
            raise Conflict("该事项不能申诉")
        subject = commands.case_subject(session, case_id)
        _require_party(actor, subject, "只有当事人本人或被问责单位可以申诉")

    return deliver_message(
        ctx,
        instance_id,
        actor,
        "cadre",
        "ft_appeal",
        {"appeal": values},
        Entry("appeal_lodged", "catch_appeal", values),
        may,
    )


def start_process(ctx: Context, process_id: str, body: Any, actor: Actor) -> InstanceDetail:
    """Start any deployed process: a case's procedure, or an admission application."""
    if process_id in CASE_PROCESSES:
        return start(ctx, process_id, body, actor)
    return instances.start(ctx, process_id, body, actor)
