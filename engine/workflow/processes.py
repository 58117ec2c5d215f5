"""The process table: what each process's domain adds to the core, looked up by process id.

The core (start, complete, save, read scope, timers) never branches on a process's or a step's
name: it asks `kind_of(process_id)`. A domain registers a `ProcessKind` for each process it
knows (`register`, from the domain's `register_processes()`, which building a context calls).
A process nobody registered runs as `GENERIC`: its start form, its lanes and its end events are
all it has, so a county can draw and deploy a procedure no Python knows. A start form's field
marked `"x-township": true` (a township's code, or a list of codes) addresses the instance to
those townships: they read it, the data holds `townships` (and `township` when there is one),
and a step in `lane_township` goes to the township its data names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.authz import Actor, CaseSubject, InstanceScope, can_see_instance, require_role
from engine.errors import InvalidInput
from engine.models import Instance, InstanceTownship, Organization
from engine.workflow.audit import Entry
from engine.workflow.specs import Diagram

if TYPE_CHECKING:
    from engine.workflow.context import Context
    from engine.workflow.services.commands import Loaded

# Who is told when a step with no registered supervisor runs over.
DEFAULT_ESCALATION = "reviewer"
# Who starts a process whose start event sits in no lane.
DEFAULT_STARTER = "applicant"
# The roles whose holders act for their organisation (a cadre acts for themselves).
ACTING_FOR_ORGANISATION = frozenset({"applicant", "township"})
RUNNING = "pending"
ENDED = "completed"
TITLE_MAX = 200
# Marks the start form's fields that name the townships an instance is addressed to.
TOWNSHIP_MARK = "x-township"


@dataclass(frozen=True)
class Start:
    """What a process's kind makes of a start request, once it has allowed it."""

    role: str  # the role the starter acts in
    data: dict[str, Any]  # the workflow's data at its start event
    title: str
    trail: dict[str, Any]  # the payload of `instance_started`
    case_id: int | None = None
    townships: Sequence[Organization] = ()  # the organisations the instance is addressed to


# (session, ctx, diagram, its start form, request body, actor) → the start, or a domain error.
StartHook = Callable[[Session, "Context", Diagram, Any, Any, Actor], Start]
# (session, ctx, instance, the task's data) → what a form's cross-checks may consult.
FormContext = Callable[[Session, "Context", Instance, dict[str, Any]], Mapping[str, Any]]
# (session, ctx, loaded, step id, form values, the task's data before) → data added beside the
# form's; may refuse.
StepData = Callable[
    [Session, "Context", "Loaded", str, dict[str, Any], dict[str, Any]], dict[str, Any]
]
# (session, ctx, loaded, step id, form values, the task's data before, now) → trail entries.
AfterStep = Callable[
    [Session, "Context", "Loaded", str, dict[str, Any], dict[str, Any], datetime], list[Entry]
]
# (end event id or None, messages waited for, open user task ids) → the instance's status.
Status = Callable[[str | None, set[str], set[str]], str]
# (session, ctx, loaded, the status just reached, now) → trail entries of what that means.
Reached = Callable[[Session, "Context", "Loaded", str, datetime], list[Entry]]
# (session, instance, actor) → the instance's township ids if the actor may read it, else None.
ReadScope = Callable[[Session, Instance, Actor], list[int] | None]
# (session, instance) → whom the instance concerns (a case's subject): recusal, own tasks.
Party = Callable[[Session, Instance], CaseSubject | None]
# (session, instance) → the organisation ids that carry the instance now, among those it is
# addressed to (a township that exited or was dropped no longer does); None: all of them.
Carriers = Callable[[Session, Instance], set[int] | None]
# (session, instance) → role → the organisation that holds the instance's tasks of that role
# (else any office with the role): e.g. the organ that verified a case carries out its clearance.
Owners = Callable[[Session, Instance], Mapping[str, int]]
# (session, instance) → what a document issued on the instance may print beyond the core's
# facts (a case's person concerned, the matter reported …).
Facts = Callable[[Session, Instance], Mapping[str, Any]]


def end_status(end_event: str, statuses: Collection[str]) -> str:
    """The status an end event names (`end_<status>[_detail]`) if it is one of `statuses`,
    else `ENDED`."""
    parts = end_event.split("_")
    return parts[1] if len(parts) > 1 and parts[1] in statuses else ENDED


def start_event(diagram: Diagram) -> tuple[str, str | None]:
    """The id and lane of the process's start event without a trigger."""
    starts = {
        spec.bpmn_id: spec
        for spec in diagram.spec.task_specs.values()
        if isinstance(spec, StartEvent) and spec.bpmn_id
    }
    found = starts.get(diagram.start_id) or next(
        (
            spec
            for spec in starts.values()
            if isinstance(spec.event_definition, NoneEventDefinition)
        ),
        None,
    )
    return (found.bpmn_id, found.lane) if found is not None else (diagram.start_id or "start", None)


def form_context(
    session: Session, ctx: Context, instance: Instance, data: dict[str, Any]
) -> dict[str, Any]:
    """What every form's cross-checks may consult: the workflow's data so far, today's date."""
    return {"data": data, "today": today(ctx)}


def today(ctx: Context) -> str:
    """Today's date where the county is (ISO)."""
    return ctx.calendar.local(ctx.clock.now()).date().isoformat()


def resolve_townships(
    session: Session, county_id: int | None, codes: Sequence[str], field: str = "townships"
) -> list[Organization]:
    """The township organisations of the county named by `codes`; unknown codes (another
    county's too) are an error on `field`."""
    rows = session.scalars(
        select(Organization).where(
            Organization.code.in_(codes),
            Organization.level == "township",
            Organization.county_id == county_id,
        )
    ).all()
    found = {row.code: row for row in rows}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise InvalidInput("申请填写有误", {field: [f"未知乡镇：{'、'.join(unknown)}"]})
    retired = [found[code].name for code in codes if not found[code].active]
    if retired:
        raise InvalidInput("申请填写有误", {field: [f"乡镇已撤销：{'、'.join(retired)}"]})
    return [found[code] for code in codes]


def township_fields(form: Any) -> list[str]:
    """The start form's top-level fields marked `x-township` (a package's JSON Schema form)."""
    properties = (getattr(form, "json_schema", None) or {}).get("properties") or {}
    return [
        name
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and prop.get(TOWNSHIP_MARK) is True
    ]


_TOWNSHIP_IDS = select(InstanceTownship.org_id).where(
    InstanceTownship.instance_id == bindparam("instance_id")
)


def township_ids(session: Session, instance_id: int) -> list[int]:
    return list(session.scalars(_TOWNSHIP_IDS, {"instance_id": instance_id}))


def _addressed(
    session: Session, county_id: int | None, form: Any, values: dict[str, Any]
) -> tuple[list[Organization], dict[str, Any]]:
    """The townships the start form's marked fields name, and the data saying so."""
    named: dict[int, Organization] = {}
    for name in township_fields(form):
        value = values.get(name)
        codes = [value] if isinstance(value, str) else list(value or [])
        named.update((org.id, org) for org in resolve_townships(session, county_id, codes, name))
    townships = list(named.values())
    if not townships:
        return [], {}
    data: dict[str, Any] = {"townships": [org.code for org in townships]}
    if len(townships) == 1:
        data["township"] = townships[0].code
    return townships, data


def _generic_start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """The start event's lane says who may start; its form's values are the start data, and
    its marked fields the townships the instance is addressed to."""
    step, lane = start_event(diagram)
    role = diagram.lane_roles.get(lane or "", DEFAULT_STARTER)
    require_role(actor, role, f"发起“{diagram.name}”")
    values = form.validate(body, {"data": {}, "today": today(ctx)})
    townships, addressed = _addressed(session, actor.county_id, form, values)
    templated = form.title_for(values) if hasattr(form, "title_for") else None
    named = templated or values.get("title") or values.get("name")
    title = named if isinstance(named, str) and named.strip() else diagram.name
    data = {**form.data_for(step, values), **addressed}
    return Start(role, data, title[:TITLE_MAX], {"form": values}, townships=townships)


def _generic_status(end_event: str | None, waiting: set[str], open_steps: set[str]) -> str:
    # An end event may name any status a domain gave meaning to (end_rejected …).
    return RUNNING if end_event is None else end_status(end_event, known_statuses())


def _generic_read_scope(session: Session, instance: Instance, actor: Actor) -> list[int] | None:
    # The filing organisation (whichever lane it started from: those acting for it, and the
    # person who filed), the townships it is addressed to, the county offices.
    townships = township_ids(session, instance.id)
    filer = actor.user_id == instance.created_by or (
        actor.org_id == instance.applicant_org_id and bool(actor.roles & ACTING_FOR_ORGANISATION)
    )
    if filer or can_see_instance(actor, instance.applicant_org_id, townships):
        return townships
    return None


def _no_step_data(*_: Any) -> dict[str, Any]:
    return {}


def _no_effects(*_: Any) -> list[Entry]:
    return []


def _no_party(session: Session, instance: Instance) -> CaseSubject | None:
    return None


def _all_addressed(session: Session, instance: Instance) -> set[int] | None:
    return None


def _no_owners(session: Session, instance: Instance) -> Mapping[str, int]:
    return {}


def _no_facts(session: Session, instance: Instance) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class ProcessKind:
    """What a domain adds to a process; every default is the generic behaviour."""

    start: StartHook = _generic_start
    form_context: FormContext = form_context
    step_data: StepData = _no_step_data
    # Effects after a step and on reaching a status, for diagrams drawn before effects were
    # service tasks: a diagram with any service task carries its effects itself, and the core
    # does not call these for it (so nothing runs twice).
    after_step: AfterStep = _no_effects
    status: Status = _generic_status
    reached: Reached = _no_effects
    read_scope: ReadScope = _generic_read_scope
    party: Party = _no_party
    carriers: Carriers = _all_addressed
    owners: Owners = _no_owners
    facts: Facts = _no_facts
    # The statuses this kind's end events may name (end_<status>).
    end_statuses: frozenset[str] = frozenset()


GENERIC = ProcessKind()

_TABLE: dict[str, ProcessKind] = {}
_LOCK = threading.Lock()


def register(process_id: str, kind: ProcessKind) -> None:
    """Enter what a domain adds to `process_id`; registering the same kind again is a no-op."""
    with _LOCK:
        known = _TABLE.setdefault(process_id, kind)
    if known is not kind:
        raise ValueError(f"process {process_id} is already registered by another domain")


def kind_of(process_id: str) -> ProcessKind:
    """The kind a domain registered for `process_id`, else the generic one."""
    return _TABLE.get(process_id, GENERIC)


def known_statuses() -> frozenset[str]:
    """Every status some registered kind's end events may name."""
    return frozenset().union(*(kind.end_statuses for kind in list(_TABLE.values())))


# Rules that span processes, which a domain adds beside its kinds.
# (role, actor) → a condition on `task` rows the role's holder must not see (recusal), or None.
InboxRule = Callable[[str, Actor], Any]
# (session, the caller's scope) → conditions on `instance` rows the caller may also read; the
# instance search ORs them with the core's (own filings, addressed townships, county readers).
SearchScope = Callable[[Session, InstanceScope], list[Any]]

# (session, instance, now) → trail entries of what an administrator's termination means to a
# domain (admission: the matter leaves the townships' registers, and they are told).
OnTerminated = Callable[[Session, Instance, datetime], list[Entry]]

_INBOX_RULES: list[InboxRule] = []
_SEARCH_SCOPES: list[SearchScope] = []
_ON_TERMINATED: list[OnTerminated] = []


def add_inbox_rule(rule: InboxRule) -> None:
    with _LOCK:
        if rule not in _INBOX_RULES:
            _INBOX_RULES.append(rule)


def add_search_scope(scope: SearchScope) -> None:
    with _LOCK:
        if scope not in _SEARCH_SCOPES:
            _SEARCH_SCOPES.append(scope)


def inbox_exclusions(role: str, actor: Actor) -> list[Any]:
    """What every domain hides from `actor`'s inbox when acting in `role`."""
    found = (rule(role, actor) for rule in list(_INBOX_RULES))
    return [condition for condition in found if condition is not None]


def search_scopes(session: Session, scope: InstanceScope) -> list[Any]:
    """What every domain lets the caller read beyond the core's own scope."""
    return [condition for rule in list(_SEARCH_SCOPES) for condition in rule(session, scope)]


def add_on_terminated(rule: OnTerminated) -> None:
    with _LOCK:
        if rule not in _ON_TERMINATED:
            _ON_TERMINATED.append(rule)


def terminated(session: Session, instance: Instance, now: datetime) -> list[Entry]:
    """What every domain records when an administrator ends `instance`."""
    return [entry for rule in list(_ON_TERMINATED) for entry in rule(session, instance, now)]
