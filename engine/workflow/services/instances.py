"""Use cases on instances: apply (start), read, list, trail, withdraw, object."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, defer

from engine.authz import (
    Actor,
    CaseSubject,
    InstanceScope,
    instance_scope,
    is_case_party,
    require_role,
)
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import AuditEvent, Instance, InstanceTownship, Organization, Task
from engine.services.directory import OrgRef
from engine.workflow import attachments
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import instance_in
from engine.workflow.forms import REASON_FORM, form_for_start
from engine.workflow.processes import kind_of, known_statuses, search_scopes, start_event
from engine.workflow.services import commands, incidents
from engine.workflow.services.deployments import diagram_of, latest_deployment
from engine.workflow.services.views import (
    InstanceDetail,
    InstanceSummary,
    Page,
    TimerInfo,
    counted,
    summaries,
    task_infos,
)
from engine.workflow.workdays import NEVER

STATUSES = (
    "pending",
    "in_force",
    "exited",
    "rejected",
    "withdrawn",
    "completed",  # any other end event
    # accountability procedures
    "refused",
    "concluded",
    "cleared",
    # ended by an administrator
    "terminated",
)
MAX_PER_PAGE = 100


def all_statuses() -> list[str]:
    """The core's statuses, then those the registered procedures' end events name."""
    return [*STATUSES, *sorted(known_statuses() - set(STATUSES))]


# A search counts its matches up to this many (or to the page asked for, if further): past a
# thousand matters a clerk narrows the search, and a count is the one part of a search whose
# cost grows with the store (the page itself comes off an index, newest first).
COUNT_CAP = 1_000


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at: datetime
    actor: str | None  # the sign-in name, for auditors' searches
    organization: OrgRef | None
    role: str | None
    action: str
    task: str | None
    payload: dict[str, Any]
    hash: str
    # How the person who acted is named to others (their display name).
    actor_name: str | None = None


@dataclass(frozen=True)
class InstanceFilter:
    process_id: str | None = None
    status: str | None = None
    township: str | None = None
    applicant: str | None = None
    page: int = 1
    per_page: int = 20

    @property
    def filters(self) -> bool:
        """Whether anything narrows the list beyond what the caller may read."""
        return any((self.process_id, self.status, self.township, self.applicant))


def start(ctx: Context, process_id: str, body: Any, actor: Actor) -> InstanceDetail:
    """申请 / 发起: start a process; its kind in the process table allows and prepares the
    start (who may, what the form must hold, what goes into the workflow)."""
    kind = kind_of(process_id)
    now = ctx.clock.now()
    body, attachment_ids = attachments.split_body(body)
    with incidents.attempt(ctx, actor, "start") as noted, ctx.db.write() as session:
        deployment = latest_deployment(session, process_id)
        noted.on_deployment(deployment)
        diagram = diagram_of(session, ctx, deployment.id)
        begun = kind.start(session, ctx, diagram, form_for_start(diagram), body, actor)
        workflow = ctx.runtime.start(diagram, begun.data)
        instance = commands.new_instance(
            session,
            deployment,
            begun.title,
            actor,
            now,
            case_id=begun.case_id,
            number_prefix=diagram.number_prefix,
            year=ctx.calendar.local(now).year,
        )
        loaded = commands.Loaded(instance, diagram, workflow, [])
        if begun.townships:
            commands.set_townships(session, loaded, list(begun.townships))
        trail, first_step = dict(begun.trail), start_event(diagram)[0]
        if attachment_ids:
            trail[attachments.FIELD] = attachments.bind(
                session, actor, attachment_ids, instance.id, first_step, now
            )
        started = Entry("instance_started", first_step, trail)
        commands.save(session, ctx, loaded, actor, begun.role, [started], now)
        return detail_of(session, ctx, instance, actor, loaded)


def get(ctx: Context, instance_id: int, actor: Actor) -> InstanceDetail:
    with ctx.db.read() as session:
        instance, _ = commands.visible_instance(session, instance_id, actor, lock=False)
        return detail_of(session, ctx, instance, actor)


def _timers(ctx: Context, workflow: Any, waiting: list[Any] | None = None) -> list[TimerInfo]:
    """The timers the instance waits on, soonest first (a window that never closes is left
    out)."""
    timers = sorted(
        (due, task.task_spec.bpmn_id or "", task.task_spec.bpmn_name or "")
        for task, due in ctx.runtime.waiting_timers(workflow, waiting)
        if due < NEVER
    )
    return [
        TimerInfo(step, name or step, due, ctx.calendar.last_day(due)) for due, step, name in timers
    ]


def detail_of(
    session: Session,
    ctx: Context,
    instance: Instance,
    actor: Actor,
    loaded: commands.Loaded | None = None,
) -> InstanceDetail:
    """The instance as the caller sees it; a command passes what it already holds (its data is
    copied: the workflow may be kept for the instance's next command, which another thread can
    take while this answer is still being written)."""
    held = loaded is not None
    if loaded is None:
        _, township_ids = commands.visible_instance(session, instance.id, actor, lock=False)
        loaded = commands.restore(session, ctx, instance, township_ids, command=False)
        loaded.open_tasks = list(
            session.scalars(
                select(Task).where(Task.instance_id == instance.id, Task.state == "open")
            )
        )
    links = [(instance.id, org_id) for org_id in loaded.township_ids]
    summary = summaries(session, ctx.names, [instance], links)[0]
    workflow = loaded.workflow
    open_rows = sorted(loaded.open_tasks, key=lambda row: row.id)
    return InstanceDetail(
        **summary.__dict__,
        data=copy.deepcopy(ctx.runtime.data(workflow)) if held else ctx.runtime.data(workflow),
        open_tasks=task_infos(
            session, ctx.names, ctx.calendar, open_rows, {instance.id: instance.title}
        ),
        actions=_actions(
            instance,
            summary,
            ctx.runtime.waiting_messages(workflow, loaded.waiting),
            actor,
            kind_of(instance.process_id).party(session, instance),
            # Read only when an objection is possible: not a query on every command's answer.
            lambda: kind_of(instance.process_id).carriers(session, instance),
        ),
        case_id=instance.case_id,
        timers=_timers(ctx, workflow, loaded.waiting),
        ended_at=instance.ended_at,
    )


def _actions(
    instance: Instance,
    summary: InstanceSummary,
    waiting: set[str],
    actor: Actor,
    case: CaseSubject | None,
    carriers: Callable[[], set[int] | None],
) -> list[str]:
    """The instance-level actions this caller may take now (beyond their tasks)."""
    actions = []
    if "ft_appeal" in waiting and case is not None and actor.has("cadre"):
        if is_case_party(actor, case):
            actions.append("appeal")
    if "matter_withdrawal" in waiting and actor.has("applicant"):
        if instance.applicant_org_id == actor.org_id:
            actions.append("withdraw")
    if "matter_objection" in waiting and actor.has("township"):
        addressed = actor.org_code in {t.code for t in summary.townships}
        carrying = carriers() if addressed else None
        if addressed and (carrying is None or actor.org_id in carrying):
            actions.append("object")
    return actions


def search(ctx: Context, actor: Actor, flt: InstanceFilter) -> Page:
    """Instances the caller may see, newest first, filtered and paginated."""
    statuses = all_statuses()
    if flt.status is not None and flt.status not in statuses:
        raise InvalidInput("筛选条件有误", {"status": [f"应为 {', '.join(statuses)} 之一"]})
    per_page = max(1, min(flt.per_page, MAX_PER_PAGE))
    page = max(1, flt.page)
    with ctx.db.read() as session:
        visible, township = _visible(session, instance_scope(actor))
        if visible is None:
            return Page([], 0, page, per_page)
        if township is not None and not flt.filters:
            return _township_page(session, ctx, township, page, per_page)
        query = _filtered(session, select(Instance).where(visible), flt)
        if query is None:
            return Page([], 0, page, per_page)
        counts = counted(session, query, Instance.id, page, per_page, COUNT_CAP)
        newest = (Instance.created_at.desc(), Instance.id.desc())
        return _page(session, ctx, query, newest, counts, page, per_page)


def _page(
    session: Session,
    ctx: Context,
    query: Any,
    newest: tuple[Any, ...],
    counts: tuple[int, bool],
    page: int,
    per_page: int,
) -> Page:
    """One page of `query`'s matters in `newest` order, with their count (and whether exact)."""
    rows = session.scalars(
        query.options(defer(Instance.state))  # a list shows no workflow
        .order_by(*newest)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    total, exact = counts
    return Page(summaries(session, ctx.names, list(rows)), total, page, per_page, total_exact=exact)


def _township_page(session: Session, ctx: Context, township: int, page: int, per_page: int) -> Page:
    """A township's own list, unfiltered: read along its links, which carry their matters'
    creation times, instead of probing the newest matters of every township for a link (in a
    city a township's matters are a few in a hundred). Filtered lists keep the general path,
    where a filter's own index (status, say) may be the better walk."""
    link = InstanceTownship
    mine = select(link.instance_id).where(link.org_id == township)
    counts = counted(session, mine, link.instance_id, page, per_page, COUNT_CAP)
    query = select(Instance).join(
        link, (link.instance_id == Instance.id) & (link.org_id == township)
    )
    newest = (link.created_at.desc(), link.instance_id.desc())
    return _page(session, ctx, query, newest, counts, page, per_page)


def _visible(session: Session, scope: InstanceScope) -> tuple[Any, int | None]:
    """The filter of what a caller may read (None: nothing at all), and the township whose
    matters are all of it, when that is so (a township's own people).

    Admission matters by the admission scope; accountability procedures only by their case:
    every case for its readers, otherwise the few cases that concern the caller.
    """
    county = instance_in(scope.county_id)
    if scope.everything and scope.all_cases:
        return county, None
    admission = _admission_visible(session, scope)
    # Procedures are addressed to no township, so this never reaches one.
    township = [] if scope.township_org_id is None else [_addressed_to(scope.township_org_id)]
    # What domains let the caller read besides, within the county. (The caller's own
    # organisation's and township's rows are of its county already: organisations never move
    # to another county.)
    found = [county & reach for reach in search_scopes(session, scope)]
    visible = admission + township + found
    if not visible:
        return None, None
    alone = scope.township_org_id if township and not admission and not found else None
    return or_(*visible), alone


def _admission_visible(session: Session, scope: InstanceScope) -> list[Any]:
    """The everything / own-filings part of the admission scope, procedures excluded."""
    admission: list[Any] = []
    if scope.everything:
        admission.append(instance_in(scope.county_id))
    if scope.applicant_org_id is not None:
        admission.append(Instance.applicant_org_id == scope.applicant_org_id)
    if not admission:
        return []
    # Procedures are excluded by id, not by `case_id IS NULL`: the procedure ids are read once
    # along the case_id index (they are few), and the scope's index, which holds ids, answers
    # without reading rows. (Asking first whether any procedure could be reached cost more:
    # the planners walked the scope's index to answer it.)
    procedures = select(Instance.id).where(Instance.case_id.is_not(None))
    return [Instance.id.not_in(procedures) & or_(*admission)]


def _addressed_to(org_id: int) -> Any:
    return exists().where(
        InstanceTownship.instance_id == Instance.id, InstanceTownship.org_id == org_id
    )


def _filtered(session: Session, query: Any, flt: InstanceFilter) -> Any:
    """Apply filters; None when a filter names an organisation that does not exist."""
    if flt.process_id:
        query = query.where(Instance.process_id == flt.process_id)
    if flt.status:
        query = query.where(Instance.status == flt.status)
    for code, column in ((flt.township, "township"), (flt.applicant, "applicant")):
        if not code:
            continue
        org_id = session.scalar(select(Organization.id).where(Organization.code == code))
        if org_id is None:
            return None
        if column == "township":
            query = query.where(_addressed_to(org_id))
        else:
            query = query.where(Instance.applicant_org_id == org_id)
    return query


def trail(ctx: Context, instance_id: int, actor: Actor) -> list[TrailEntry]:
    """Every recorded step of one instance: who, which organisation, role, when, what."""
    with ctx.db.read() as session:
        commands.visible_instance(session, instance_id, actor, lock=False)
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        ).all()
        orgs = ctx.names.orgs(session, [e.actor_org_id for e in events])
        users = ctx.names.users(session, [e.actor_id for e in events])
        return [
            TrailEntry(
                seq=e.seq,
                at=e.at,
                actor=users[e.actor_id].username if e.actor_id in users else None,
                organization=orgs.get(e.actor_org_id) if e.actor_org_id else None,
                role=e.role,
                action=e.action,
                task=e.task,
                payload=json.loads(e.payload_json),
                hash=e.hash,
                actor_name=users[e.actor_id].name if e.actor_id in users else None,
            )
            for e in events
        ]


def withdraw(ctx: Context, instance_id: int, body: Any, actor: Actor) -> InstanceDetail:
    """退出 by withdrawal: the applicant department withdraws a matter in force."""
    values = REASON_FORM.validate(body)
    return deliver_message(
        ctx,
        instance_id,
        actor,
        "applicant",
        "matter_withdrawal",
        {"withdrawal": values},
        Entry("withdrawal_requested", "catch_withdrawal", values),
        _own_applicant,
    )


def object_to(ctx: Context, instance_id: int, body: Any, actor: Actor) -> InstanceDetail:
    """A township objects to a matter in force; the gatekeeper then decides on exit."""
    values = REASON_FORM.validate(body)
    payload = {"objection": {**values, "township": actor.org_code}}
    return deliver_message(
        ctx,
        instance_id,
        actor,
        "township",
        "matter_objection",
        payload,
        Entry("objection_raised", "catch_objection", payload["objection"]),
        _addressed_township,
    )


def _own_applicant(session: Session, loaded: commands.Loaded, actor: Actor) -> None:
    if loaded.instance.applicant_org_id != actor.org_id:
        raise Forbidden("只有申请单位可以撤回本单位的事项")


def _addressed_township(session: Session, loaded: commands.Loaded, actor: Actor) -> None:
    # The townships were read when the instance was loaded and its visibility checked.
    if actor.org_id not in loaded.township_ids:
        raise Forbidden("只有事项所涉乡镇可以提出异议")
    carriers = kind_of(loaded.instance.process_id).carriers(session, loaded.instance)
    if carriers is not None and actor.org_id not in carriers:
        raise Conflict("本乡镇已不再承担该事项，不能提出异议")


def deliver_message(
    ctx: Context,
    instance_id: int,
    actor: Actor,
    role: str,
    message: str,
    payload: dict[str, Any],
    change: Entry,
    may: Any,
) -> InstanceDetail:
    """Deliver a message the instance waits for (withdrawal, objection, appeal), after the role
    check and `may(session, loaded, actor)`, which raises when this caller may not."""
    now = ctx.clock.now()
    with incidents.attempt(ctx, actor, message) as noted, ctx.db.write() as session:
        loaded = commands.load(session, ctx, instance_id, actor)
        noted.on(loaded.instance)
        require_role(actor, role, "该操作")
        may(session, loaded, actor)
        ctx.runtime.send_message(loaded.workflow, message, payload)
        commands.save(session, ctx, loaded, actor, role, [change], now)
        return detail_of(session, ctx, loaded.instance, actor, loaded)
