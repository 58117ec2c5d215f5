"""The process table: what each process's domain adds to the core, looked up by process id.

The core (start, complete, save, read scope, timers) never branches on a process's or a step's
name: it asks `kind_of(process_id)`. A domain registers a `ProcessKind` for each process it
knows (`register`, from the domain's `register_processes()`, which building a context calls).
A process nobody registered runs as `GENERIC`: its start form, its lanes and its end events are
all it has, so a county can draw and deploy a procedure no Python knows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy.orm import Session

from engine.audit import Entry
from engine.authz import Actor, CaseSubject, can_see_instance, require_role
from engine.models import Instance, Organization
from engine.specs import Diagram

if TYPE_CHECKING:
    from engine.services.commands import Loaded
    from engine.services.context import Context

# Who is told when a step with no registered supervisor runs over.
DEFAULT_ESCALATION = "reviewer"
# Who starts a process whose start event sits in no lane.
DEFAULT_STARTER = "applicant"
RUNNING = "pending"
ENDED = "completed"
TITLE_MAX = 200


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
# (session, ctx, loaded, step id, form values) → data added beside the form's; may refuse.
StepData = Callable[[Session, "Context", "Loaded", str, dict[str, Any]], dict[str, Any]]
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


def _generic_start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """The start event's lane says who may start; its form's values are the start data."""
    step, lane = start_event(diagram)
    role = diagram.lane_roles.get(lane or "", DEFAULT_STARTER)
    require_role(actor, role, f"发起“{diagram.name}”")
    values = form.validate(body, {"data": {}, "today": today(ctx)})
    named = values.get("title") or values.get("name")
    title = named if isinstance(named, str) and named.strip() else diagram.name
    return Start(role, form.data_for(step, values), title[:TITLE_MAX], {"form": values})


def _generic_status(end_event: str | None, waiting: set[str], open_steps: set[str]) -> str:
    # An end event may name any status a domain gave meaning to (end_rejected …).
    return RUNNING if end_event is None else end_status(end_event, known_statuses())


def _generic_read_scope(session: Session, instance: Instance, actor: Actor) -> list[int] | None:
    # The filing organisation and the county offices; addressed to no township.
    return [] if can_see_instance(actor, instance.applicant_org_id, ()) else None


def _no_step_data(*_: Any) -> dict[str, Any]:
    return {}


def _no_effects(*_: Any) -> list[Entry]:
    return []


def _no_party(session: Session, instance: Instance) -> CaseSubject | None:
    return None


@dataclass(frozen=True)
class ProcessKind:
    """What a domain adds to a process; every default is the generic behaviour."""

    start: StartHook = _generic_start
    form_context: FormContext = form_context
    step_data: StepData = _no_step_data
    after_step: AfterStep = _no_effects
    status: Status = _generic_status
    reached: Reached = _no_effects
    read_scope: ReadScope = _generic_read_scope
    party: Party = _no_party
    # Step id → the role told when that step runs over (else DEFAULT_ESCALATION).
    escalate_to: Mapping[str, str] = field(default_factory=dict)
    # The statuses this kind's end events may name (end_<status>).
    end_statuses: frozenset[str] = frozenset()

    def escalation_role(self, step: str) -> str:
        return self.escalate_to.get(step, DEFAULT_ESCALATION)


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
