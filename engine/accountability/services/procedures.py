"""Starting an accountability case's procedures (fault tolerance, clearance) and appealing; their
entry in the process table (start, form context, case effects, read scope, escalation).

Who may start what, and when, is domain law (docs/accountability.md): the person or unit
concerned applies for fault tolerance while the case is open (after accountability started,
before a decision); clearance is applied for by them or proposed by the handling department after
consulting them; one procedure of each kind at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accountability import forms_accountability
from engine.accountability.cases import BEFORE_DECISION, CASE_PROCESSES, facts
from engine.accountability.forms_accountability import APPEAL_FORM
from engine.accountability.models_cases import AccountabilityCase
from engine.accountability.services import case_effects, cases, cases_scope
from engine.accountability.services.cases import subject_of, visible_case
from engine.authz import (
    CASE_OPENING_ROLES,
    Actor,
    CaseSubject,
    can_see_case,
    check_not_concerned,
    is_case_party,
)
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Instance, Organization
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.jobs import register_job
from engine.workflow.processes import (
    RUNNING,
    ProcessKind,
    Start,
    add_inbox_rule,
    add_search_scope,
    end_status,
    register,
)
from engine.workflow.services import commands, instances
from engine.workflow.services.instances import deliver_message
from engine.workflow.services.views import InstanceDetail
from engine.workflow.specs import Diagram

TITLES = {"fault_tolerance": "容错纠错申请", "clearance": "澄清正名"}
END_STATUSES = frozenset({"refused", "concluded", "cleared"})
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


def _start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """申请 / 提议: start a procedure of a case the caller may read."""
    process_id = diagram.process_id
    case = _named_case(session, body, actor)
    values = form.validate(body, form_context(ctx, case, {}))
    if case is None:
        raise InvalidInput("申请填写有误", {"case_id": ["案件不存在"]})
    role = _check_may_start(session, process_id, case, values, actor)
    return Start(
        role=role,
        data={**form.data_for("application", values), "case": facts(case)},
        title=f"{TITLES[process_id]}：{case.subject_name}（{case.case_no}）",
        trail={"application": values, "case_no": case.case_no},
        case_id=case.id,
    )


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
        if case.status not in BEFORE_DECISION:
            raise InvalidInput(
                "不能申请容错",
                {"case_id": ["容错申请须在问责启动后、作出问责决定前提出；该案件已办结"]},
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
        subject = case_subject(session, case_id)
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
    """Start any deployed process, as the process table says (a case's procedure, an
    admission application, or a procedure no domain knows)."""
    return instances.start(ctx, process_id, body, actor)


def _form_context(
    session: Session, ctx: Context, instance: Instance, data: dict[str, Any]
) -> dict[str, Any]:
    # The case is locked here, before the step's effects write to it.
    case = session.scalar(
        select(AccountabilityCase)
        .where(AccountabilityCase.id == instance.case_id)
        .with_for_update()
    )
    return form_context(ctx, case, data)


def _after_step(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    step: str,
    values: dict[str, Any],
    data: dict[str, Any],
    now: datetime,
) -> list[Entry]:
    instance = loaded.instance
    case = session.get(AccountabilityCase, instance.case_id) if instance.case_id else None
    return case_effects.after_task(session, instance, case, step, values, now)


def _status(end_event: str | None, waiting: set[str], open_steps: set[str]) -> str:
    return RUNNING if end_event is None else end_status(end_event, END_STATUSES)


def _read_scope(session: Session, instance: Instance, actor: Actor) -> list[int] | None:
    """A procedure is read by its case's readers only, and is addressed to no township."""
    party = _party(session, instance)
    return [] if party is not None and can_see_case(actor, party) else None


def _party(session: Session, instance: Instance) -> CaseSubject | None:
    return case_subject(session, instance.case_id) if instance.case_id else None


def case_subject(session: Session, case_id: int) -> CaseSubject:
    row = session.execute(
        select(
            AccountabilityCase.subject_kind,
            AccountabilityCase.subject_user_id,
            AccountabilityCase.subject_org_id,
        ).where(AccountabilityCase.id == case_id)
    ).one()
    return CaseSubject(row.subject_kind, row.subject_user_id, row.subject_org_id)


def _owners(session: Session, instance: Instance) -> dict[str, int]:
    """谁核实谁澄清: a clearance's steps for the discipline organ go to the organ that verified
    the report (on a case verified before that was recorded: any office with the role)."""
    if instance.process_id != "clearance" or instance.case_id is None:
        return {}
    verifier = session.scalar(
        select(AccountabilityCase.verified_by_org_id).where(
            AccountabilityCase.id == instance.case_id
        )
    )
    return {"discipline": verifier} if verifier is not None else {}


def _document_facts(session: Session, instance: Instance) -> Mapping[str, Any]:
    """What a document issued on a case's procedure prints of the case."""
    case = session.get(AccountabilityCase, instance.case_id) if instance.case_id else None
    if case is None:
        return {}
    org = session.get(Organization, case.subject_org_id)
    return {
        "case_no": case.case_no,
        "subject_name": case.subject_name,
        "subject_position": case.subject_position,
        "subject_org": org.name if org else "",
        "matter_reported": case.matter_reported,
        "finding_note": case.finding_note,
    }


ACCOUNTABILITY = ProcessKind(
    start=_start,
    form_context=_form_context,
    after_step=_after_step,
    status=_status,
    read_scope=_read_scope,
    party=_party,
    owners=_owners,
    facts=_document_facts,
    end_statuses=END_STATUSES,
)


def register_processes() -> None:
    forms_accountability.register_checks()
    register_job("cases.escalate_clearance_proposals", cases.escalate_proposals)
    for process_id in CASE_PROCESSES:
        register(process_id, ACCOUNTABILITY)
    add_inbox_rule(cases_scope.recusal)
    add_search_scope(cases_scope.case_procedures_visible)
