"""Use cases on accountability case records: open, list, read, record the verification finding.

A case is sensitive: every read goes through the case policy in engine.authz (handling organs,
auditors, the person or unit concerned); anyone else gets 404, as if it did not exist. Every
change is on the administrative trail in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accountability.case_forms import CaseDecisionSchema, CaseFindingSchema, CaseSchema
from engine.accountability.cases import (
    BEFORE_DECISION,
    CASE_STATUSES,
    CLEARANCE_TRIGGERS,
    DECISION_OUTCOMES,
    STATUS_OF_FINDING,
)
from engine.accountability.models_cases import AccountabilityCase
from engine.accountability.services.cases_scope import cases_concerning
from engine.authz import (
    CASE_HANDLING_ROLES,
    CASE_OPENING_ROLES,
    Actor,
    CaseSubject,
    can_see_case,
    check_not_concerned,
    instance_scope,
    is_case_party,
    require_role,
    same_county,
)
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent, Instance, Organization, User
from engine.services.directory import OrgRef
from engine.services.notices import tell
from engine.workflow import audit
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import org_in
from engine.workflow.forms import Form
from engine.workflow.services.timers import orgs_with_role
from engine.workflow.workdays import written_date

CASE_FORM = Form(CaseSchema)
FINDING_FORM = Form(CaseFindingSchema)
CASE_ACTIONS = (
    "case_opened",
    "case_finding_recorded",
    "case_decision_recorded",
    "clearance_proposal_overdue",
)
# 应当澄清: the proposal's time limit and whom a late one is told to (config/steps.toml).
PROPOSAL_STEP = "clearance_proposal"
PROPOSAL_DAYS = 10
DECISION_FORM = Form(CaseDecisionSchema)
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class ProcedureRef:
    instance_id: int
    process_id: str
    title: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class CaseEvent:
    at: datetime
    actor: str | None  # the sign-in name
    action: str
    payload: dict[str, Any]
    actor_name: str | None = None  # how the person is named to others


@dataclass(frozen=True)
class CaseInfo:
    id: int
    case_no: str
    subject_kind: str
    subject_name: str
    subject_username: str | None
    subject_org: OrgRef
    subject_position: str
    matter_reported: str
    source: str
    responsibility_level: str
    leadership_kind: str | None
    status: str
    finding: str
    finding_note: str
    harm: bool
    concluded_at: datetime | None
    handling_org: OrgRef
    verified_by: OrgRef | None
    opened_at: datetime
    tolerance_outcome: str | None
    cleared_at: datetime | None
    clearance_method: str | None
    # 问责决定, once made.
    decision_outcome: str | None = None
    decision_no: str = ""
    decided_on: date | None = None
    # 应当澄清: what the untrue report affected, and the organ's proposal's last day (None once
    # a clearance is under way or done).
    clearance_triggers: list[str] = field(default_factory=list)
    clearance_proposal_due: date | None = None


@dataclass(frozen=True)
class CaseDetail(CaseInfo):
    procedures: list[ProcedureRef] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    # What the caller may do now: finding, fault_tolerance, clearance, clearance_proposal.
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CasePage:
    items: list[CaseInfo]
    total: int
    page: int
    per_page: int


def _county_of(session: Session, case: AccountabilityCase) -> int | None:
    """A case is its handling office's county's."""
    handler = session.get(Organization, case.handling_org_id)
    return handler.county_id if handler is not None else None


def subject_of(case: AccountabilityCase) -> CaseSubject:
    return CaseSubject(case.subject_kind, case.subject_user_id, case.subject_org_id)


def visible_case(
    session: Session, case_id: int, actor: Actor, lock: bool = False
) -> AccountabilityCase:
    query = select(AccountabilityCase).where(AccountabilityCase.id == case_id)
    if lock:
        query = query.with_for_update()
    case = session.scalar(query)
    if case is None or not can_see_case(actor, subject_of(case)):
        raise NotFound("案件不存在")
    if not same_county(actor, _county_of(session, case)):
        raise NotFound("案件不存在")  # another county's case: as if absent
    return case


def _require_handler(actor: Actor, action: str) -> None:
    if not actor.roles & set(CASE_OPENING_ROLES):
        raise Forbidden(f"{action}需要纪检监察机关或组织部门的承办角色")


def open_case(ctx: Context, body: Any, actor: Actor) -> CaseDetail:
    """立案: the discipline organ or the organisation department records a case."""
    _require_handler(actor, "登记问责案件")
    values = CASE_FORM.validate(body)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        subject_user, org = _subject(session, values, actor)
        name = (values.get("subject_name") or "").strip()
        if not name:
            name = subject_user.display_name if subject_user else org.name
        subject = CaseSubject(
            values["subject_kind"], subject_user.id if subject_user else None, org.id
        )
        check_not_concerned(actor, subject)
        case = AccountabilityCase(
            case_no=f"pending-{now.timestamp()}-{actor.user_id}",
            subject_kind=values["subject_kind"],
            subject_user_id=subject.user_id,
            subject_name=name,
            subject_org_id=org.id,
            subject_position=values.get("subject_position", ""),
            matter_reported=values["matter_reported"],
            source=values["source"],
            responsibility_level=values["responsibility_level"],
            leadership_kind=values.get("leadership_kind"),
            status="open",
            finding="",
            finding_note="",
            harm=False,
            handling_org_id=actor.org_id,
            opened_by=actor.user_id,
            opened_at=now,
            updated_at=now,
        )
        session.add(case)
        session.flush()
        year = ctx.calendar.local(now).year
        case.case_no = f"问〔{year}〕{case.id}号"
        _audit(session, actor, now, "case_opened", case, {"subject_org": org.code, **values})
        session.flush()
        return _detail(session, ctx, case, actor)


def _subject(
    session: Session, values: dict[str, Any], actor: Actor
) -> tuple[User | None, Organization]:
    """Whom the case concerns, of the caller's county: another county's person or unit is
    answered as one nobody has (the answer tells nothing of who exists there)."""
    username = values.get("subject_username")
    if username:
        user = session.scalar(select(User).where(User.username == username))
        org = session.get(Organization, user.org_id) if user is not None else None
        if user is None or org is None or not same_county(actor, org.county_id):
            raise InvalidInput("案件填写有误", {"subject_username": ["未找到该账号"]})
        if values.get("subject_org") and values["subject_org"] != org.code:
            raise InvalidInput("案件填写有误", {"subject_org": ["与当事人账号所在单位不一致"]})
        return user, org
    org = session.scalar(select(Organization).where(Organization.code == values["subject_org"]))
    if org is None or not same_county(actor, org.county_id):
        raise InvalidInput("案件填写有误", {"subject_org": ["未知单位"]})
    return None, org


def record_finding(ctx: Context, case_id: int, body: Any, actor: Actor) -> CaseDetail:
    """核查结论: the handling organ concludes the verification; the case takes its status.

    A case the caller may not read is not found (404), before any role check (403) or form."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        case = visible_case(session, case_id, actor, lock=True)
        require_role(actor, "discipline", "记录核查结论")
        check_not_concerned(actor, subject_of(case))
        values = FINDING_FORM.validate(body)
        if case.status != "open":
            raise Conflict("案件已有核查结论，不能重复记录")
        case.finding = values["finding"]
        case.finding_note = values["note"]
        case.harm = values["harm"]
        case.verified_by_org_id = actor.org_id  # 谁核实谁澄清: it carries out any clearance
        case.clearance_triggers = list(values.get("clearance_triggers") or [])
        if case.clearance_triggers:  # 应当澄清: the organ's proposal is due within the limit
            days = ctx.steps.working_days().get(PROPOSAL_STEP, PROPOSAL_DAYS)
            today = ctx.calendar.local(now).date()
            case.clearance_proposal_due = ctx.calendar.add_working_days(today, days)
        case.status = STATUS_OF_FINDING[values["finding"]]
        # Proven: the case goes on to its accountability decision; otherwise it is concluded.
        case.concluded_at = None if case.status == "proven" else now
        case.updated_at = now
        _audit(session, actor, now, "case_finding_recorded", case, values)
        session.flush()
        return _detail(session, ctx, case, actor)


def record_decision(ctx: Context, case_id: int, body: Any, actor: Actor) -> CaseDetail:
    """问责决定: once the report is proven (and any fault-tolerance application decided), the
    organ records the outcome, the decision's document number and its date; the case is
    concluded, and the person (or unit) and the organisation department are told."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        case = visible_case(session, case_id, actor, lock=True)
        _require_handler(actor, "记录问责决定")
        check_not_concerned(actor, subject_of(case))
        values = DECISION_FORM.validate(body)
        if case.status != "proven":
            raise Conflict("只有核查属实、尚未作出问责决定的案件可以记录问责决定")
        if _pending_tolerance(session, case.id):
            raise Conflict("该案件有办理中的容错申请，须先作出容错认定再作出问责决定")
        decided_on = values["decided_on"]
        if isinstance(decided_on, str):  # the form gives dates as ISO text
            decided_on = date.fromisoformat(decided_on)
        if decided_on > ctx.calendar.local(now).date():
            raise InvalidInput("问责决定填写有误", {"decided_on": ["决定日期不能晚于今天"]})
        case.decision_outcome = values["outcome"]
        case.decision_no = values["document_no"].strip()
        case.decided_on = decided_on
        case.status, case.concluded_at, case.updated_at = "decided", now, now
        outcome = DECISION_OUTCOMES[values["outcome"]]
        about = f"案件{case.case_no}（{case.subject_name}）"
        when = written_date(decided_on)
        written = f"{about}作出问责决定：{outcome}（{case.decision_no}，{when}）。"
        subject = subject_of(case)
        tell(session, [subject.org_id], None, "case_decided", written, now, subject.user_id)
        county = _county_of(session, case)
        told = orgs_with_role(session, "organization", county)
        tell(session, told, None, "case_decided", written, now)
        _audit(
            session,
            actor,
            now,
            "case_decision_recorded",
            case,
            {**values, "decided_on": decided_on.isoformat()},
        )
        session.flush()
        return _detail(session, ctx, case, actor)


def _proposed(session: Session, case: AccountabilityCase) -> bool:
    """A clearance has been proposed or applied for, or carried out: nothing is due."""
    if case.cleared_at is not None or case.clearance_proposal_due is None:
        return True
    query = select(func.count()).select_from(Instance)
    started = query.where(Instance.case_id == case.id, Instance.process_id == "clearance")
    return (session.scalar(started) or 0) > 0


def escalate_proposals(ctx: Context, now: datetime | None = None) -> int:
    """应当澄清 not proposed by its last day: the handling and verifying organs and the office
    the step rules name are told, once (the case row is locked and its mark set under it)."""
    now = now or ctx.clock.now()
    today = ctx.calendar.local(now).date()
    with ctx.db.read() as session:
        due = list(
            session.scalars(
                select(AccountabilityCase.id).where(
                    AccountabilityCase.clearance_proposal_due < today,
                    AccountabilityCase.clearance_proposal_escalated_at.is_(None),
                    AccountabilityCase.cleared_at.is_(None),
                )
            )
        )
    escalated = 0
    for case_id in due:
        with ctx.db.write() as session:
            case = session.get(AccountabilityCase, case_id, with_for_update=True)
            if (
                case is None
                or case.clearance_proposal_escalated_at is not None
                or _proposed(session, case)
            ):
                continue
            case.clearance_proposal_escalated_at = now
            assert case.clearance_proposal_due is not None
            role = ctx.steps.escalate_to(PROPOSAL_STEP) or "organization"
            county = _county_of(session, case)
            told = {case.handling_org_id, *orgs_with_role(session, role, county)}
            if case.verified_by_org_id:
                told.add(case.verified_by_org_id)
            message = (
                f"督办：案件{case.case_no}（{case.subject_name}）反映失实且"
                f"{'、'.join(CLEARANCE_TRIGGERS.get(t, t) for t in case.clearance_triggers)}，"
                f"应于{written_date(case.clearance_proposal_due)}前提议澄清正名，至今未提议。"
            )
            tell(session, sorted(told), None, "clearance_proposal_overdue", message, now)
            audit.append(
                session,
                instance_id=None,
                actor=None,
                role="system",
                entries=[
                    Entry(
                        "clearance_proposal_overdue",
                        None,
                        {
                            "case_id": case.id,
                            "case_no": case.case_no,
                            "due": case.clearance_proposal_due.isoformat(),
                        },
                    )
                ],
                at=now,
            )
            escalated += 1
    return escalated


def _pending_tolerance(session: Session, case_id: int) -> bool:
    """A fault-tolerance application that has not been decided yet."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Instance)
            .join(AccountabilityCase, AccountabilityCase.id == Instance.case_id)
            .where(
                Instance.case_id == case_id,
                Instance.process_id == "fault_tolerance",
                Instance.status == "pending",
                AccountabilityCase.tolerance_outcome.is_(None),
            )
        )
        or 0
    ) > 0


def _audit(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    case: AccountabilityCase,
    values: dict[str, Any],
) -> None:
    audit.append(
        session,
        instance_id=None,
        actor=actor,
        role=sorted(actor.roles & CASE_HANDLING_ROLES)[0]
        if actor.roles & CASE_HANDLING_ROLES
        else None,
        entries=[Entry(action, None, {"case_id": case.id, "case_no": case.case_no, **values})],
        at=now,
    )


def get_case(ctx: Context, case_id: int, actor: Actor) -> CaseDetail:
    with ctx.db.read() as session:
        return _detail(session, ctx, visible_case(session, case_id, actor), actor)


def list_cases(
    ctx: Context, actor: Actor, status: str | None = None, page: int = 1, per_page: int = 20
) -> CasePage:
    """The cases the caller may read, newest first."""
    if status is not None and status not in CASE_STATUSES:
        raise InvalidInput("筛选条件有误", {"status": [f"应为 {', '.join(CASE_STATUSES)} 之一"]})
    page, per_page = max(1, page), max(1, min(per_page, MAX_PER_PAGE))
    scope = instance_scope(actor)
    query = select(AccountabilityCase).where(
        org_in(AccountabilityCase.handling_org_id, scope.county_id)
    )
    if not scope.all_cases:
        query = query.where(AccountabilityCase.id.in_(cases_concerning(scope)))
    if status:
        query = query.where(AccountabilityCase.status == status)
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(AccountabilityCase.opened_at.desc(), AccountabilityCase.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        return CasePage([_info(session, ctx, row) for row in rows], total, page, per_page)


def _info(session: Session, ctx: Context, case: AccountabilityCase) -> CaseInfo:
    verifier = [case.verified_by_org_id] if case.verified_by_org_id else []
    orgs = ctx.names.orgs(session, [case.subject_org_id, case.handling_org_id, *verifier])
    users = ctx.names.usernames(session, [case.subject_user_id])
    return CaseInfo(
        id=case.id,
        case_no=case.case_no,
        subject_kind=case.subject_kind,
        subject_name=case.subject_name,
        subject_username=users.get(case.subject_user_id) if case.subject_user_id else None,
        subject_org=orgs[case.subject_org_id],
        subject_position=case.subject_position,
        matter_reported=case.matter_reported,
        source=case.source,
        responsibility_level=case.responsibility_level,
        leadership_kind=case.leadership_kind,
        status=case.status,
        finding=case.finding,
        finding_note=case.finding_note,
        harm=case.harm,
        concluded_at=case.concluded_at,
        handling_org=orgs[case.handling_org_id],
        verified_by=orgs[case.verified_by_org_id] if case.verified_by_org_id else None,
        opened_at=case.opened_at,
        tolerance_outcome=case.tolerance_outcome,
        cleared_at=case.cleared_at,
        clearance_method=case.clearance_method,
        decision_outcome=case.decision_outcome,
        decision_no=case.decision_no,
        decided_on=case.decided_on,
        clearance_triggers=list(case.clearance_triggers or []),
        clearance_proposal_due=None if _proposed(session, case) else case.clearance_proposal_due,
    )


def _detail(session: Session, ctx: Context, case: AccountabilityCase, actor: Actor) -> CaseDetail:
    procedures = [
        ProcedureRef(row.id, row.process_id, row.title, row.status, row.created_at)
        for row in session.scalars(
            select(Instance).where(Instance.case_id == case.id).order_by(Instance.id)
        )
    ]
    return CaseDetail(
        **_info(session, ctx, case).__dict__,
        procedures=procedures,
        events=_events(session, ctx, case.id),
        actions=case_actions(case, procedures, actor),
    )


def _events(session: Session, ctx: Context, case_id: int) -> list[CaseEvent]:
    """The case record's own events, from the administrative trail."""
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.actor_id, AuditEvent.action, AuditEvent.payload_json)
        .where(AuditEvent.instance_id.is_(None), AuditEvent.action.in_(CASE_ACTIONS))
        .order_by(AuditEvent.seq)
    ).all()
    events = [(at, actor_id, action, json.loads(text)) for at, actor_id, action, text in rows]
    mine = [event for event in events if event[3].get("case_id") == case_id]
    users = ctx.names.users(session, [actor_id for _, actor_id, _, _ in mine])
    return [
        CaseEvent(
            at,
            users[actor_id].username if actor_id in users else None,
            action,
            payload,
            users[actor_id].name if actor_id in users else None,
        )
        for at, actor_id, action, payload in mine
    ]


def case_actions(
    case: AccountabilityCase, procedures: list[ProcedureRef], actor: Actor
) -> list[str]:
    """What the caller may start on this case now (the services check again when they do)."""
    subject = subject_of(case)
    pending = {p.process_id for p in procedures if p.status == "pending"}
    concerned = actor.user_id == subject.user_id or actor.org_id == subject.org_id
    actions = []
    if actor.has("discipline") and not concerned and case.status == "open":
        actions.append("finding")
    if actor.roles & set(CASE_OPENING_ROLES) and not concerned and case.status == "proven":
        actions.append("decision")
    # Clearance needs a concluded matter: before that it is not offered (the eligibility step
    # would have to refuse it). The person may still apply on a concluded case whatever the
    # finding — the handling organ decides and explains; the organ itself proposes only when
    # the report was verified untrue.
    clearable = case.cleared_at is None and "clearance" not in pending
    if is_case_party(actor, subject):
        if case.status in BEFORE_DECISION and "fault_tolerance" not in pending:
            actions.append("fault_tolerance")
        if clearable and case.concluded_at is not None:
            actions.append("clearance")
    elif actor.roles & set(CASE_OPENING_ROLES) and not concerned:
        if clearable and case.status == "untrue":
            actions.append("clearance_proposal")
    return actions
