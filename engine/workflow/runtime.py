"""Wraps SpiffWorkflow's BpmnWorkflow: start, ready user tasks, complete, messages, state I/O.

State is serialized **without** the embedded spec: the diagram lives once in its deployment and
is re-attached from the parsed-spec registry on load. No database here.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from engine.errors import Conflict, DomainError, ExpressionFailed
from engine.workflow.expressions import script_engine
from engine.workflow.specs import Diagram, OperationTask
from engine.workflow.time_functions import parse_instant
from engine.workflow.workdays import NEVER

SERIALIZER_VERSION = VERSION
# orjson as SpiffWorkflow's json encoder would write: keys that are not text become text, and
# dates, times and dataclasses go to the registry's encoder (as they did through json).
_ORJSON = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
# Set in a completed service task's internal data once the core has run its operation: state
# and effects are stored in one transaction, so a restored workflow knows what already ran.
OPERATION_RAN = "operation_ran"


class EngineFailure(Exception):
    """The engine failed while running a diagram: an expression error, an element it cannot
    run, a bug. Not the caller's fault; the service opens an incident for it."""

    def __init__(self, step: str | None, cause: BaseException) -> None:
        text = f"{type(cause).__name__}: {cause}"
        details = getattr(cause, "errors", None)
        if details:
            text += f" {details}"
        super().__init__(text)
        self.step = step
        self.cause = text[:2000]


def _step_of(exc: BaseException) -> str | None:
    task = getattr(exc, "task", None) or getattr(exc, "sender", None)
    spec = getattr(task, "task_spec", task)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)


@contextmanager
def _engine(step: str | None = None) -> Iterator[None]:
    """Turn any failure inside SpiffWorkflow into EngineFailure; our own errors pass through."""
    try:
        yield
    except ExpressionFailed as exc:  # a diagram's expression hit a bound: the diagram's fault
        raise EngineFailure(step, exc) from exc
    except (DomainError, EngineFailure):
        raise
    except Exception as exc:
        raise EngineFailure(_step_of(exc) or step, exc) from exc


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Leaves `spec`/`subprocess_specs` out of the state and takes them back in on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(  # type: ignore[override]
        self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


# How far up a user task its guarding timer is looked for: the task's own split, a loop, the
# start of a subprocess and the subprocess's own split and loop.
DEADLINE_DEPTH = 8


class OperationTaskConverter(BpmnTaskSpecConverter):
    """Renders an OperationTask's operation and parameters (specs are not stored with state;
    version diffs and migration compare specs through the registry)."""

    def to_dict(self, spec: OperationTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["operation"] = spec.operation
        dct["parameters"] = {key: list(value) for key, value in spec.parameters.items()}
        return dct


@dataclass(frozen=True)
class UserTaskView:
    """What the service layer needs to know of a ready user task."""

    spiff_task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    data: dict[str, Any]


class Runtime:
    """Stateless helper around the engine; one per process, safe to share between threads.

    `functions` are extra functions diagrams may call (the timer functions of engine/timers).
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        config = dict(DEFAULT_CONFIG)
        config[BpmnWorkflow] = SpeclessWorkflowConverter
        config[OperationTask] = OperationTaskConverter
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self.script_engine = script_engine(functions)
        # SpiffWorkflow's serializer flips a flag on its shared registry while it writes JSON
        # (`_encoder_mode`), which changes how every conversion behaves meanwhile: threads
        # that serialize, or compare specs through the registry, take turns.
        self._converting = threading.Lock()
        self._encoder = create_encoder(self.serializer.registry)()

    @contextmanager
    def converting(self) -> Iterator[Any]:
        """The serializer's registry, held by this thread alone."""
        with self._converting:
            yield self.serializer.registry

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, diagram: Diagram, data: dict[str, Any]) -> BpmnWorkflow:
        workflow = BpmnWorkflow(
            diagram.spec, diagram.subprocess_specs, script_engine=self.script_engine
        )
        # Data on workflow.data is not inherited by tasks: seed the READY start task.
        start = workflow.get_next_task(state=TaskState.READY)
        if start is None:
            raise WorkflowException("流程没有可启动的开始事件")
        start.set_data(**data)
        with _engine("start"):
            workflow.do_engine_steps()
        return workflow

    def complete(self, workflow: BpmnWorkflow, task: SpiffTask, data: dict[str, Any]) -> None:
        with _engine(task.task_spec.bpmn_id):
            task.set_data(**data)
            task.run()
            workflow.do_engine_steps()

    def send_message(self, workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
        if name not in self.waiting_messages(workflow):
            raise Conflict("事项当前阶段不能办理此操作")
        with _engine(name):
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload))
            workflow.do_engine_steps()

    # -- inspection --------------------------------------------------------------------------
    def ready_user_tasks(self, workflow: BpmnWorkflow) -> list[UserTaskView]:
        return [
            UserTaskView(
                spiff_task_id=str(task.id),
                bpmn_id=task.task_spec.bpmn_id,
                name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                lane=task.task_spec.lane,
                data=task.data,
            )
            for task in workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def get_task(self, workflow: BpmnWorkflow, spiff_task_id: str) -> SpiffTask | None:
        return workflow.get_task_from_id(UUID(spiff_task_id))

    def waiting(self, workflow: BpmnWorkflow) -> list[SpiffTask]:
        """The tasks waiting on an event (messages, timers): one walk of the tree, which a
        command's answer reuses for both."""
        return list(workflow.get_tasks(state=TaskState.WAITING))

    def waiting_messages(
        self, workflow: BpmnWorkflow, waiting: list[SpiffTask] | None = None
    ) -> set[str]:
        """Names of the messages the workflow can catch now (event-based gateways included)."""
        names: set[str] = set()
        for task in self.waiting(workflow) if waiting is None else waiting:
            names.update(_message_names(getattr(task.task_spec, "event_definition", None)))
        return names

    # -- timers ------------------------------------------------------------------------------
    def waiting_timers(
        self, workflow: BpmnWorkflow, waiting: list[SpiffTask] | None = None
    ) -> list[tuple[SpiffTask, datetime]]:
        """Waiting timer tasks with their due instants (evaluated when they started waiting)."""
        timers = []
        for task in self.waiting(workflow) if waiting is None else waiting:
            if not _timer_definitions(getattr(task.task_spec, "event_definition", None)):
                continue
            value = task._get_internal_data("event_value")
            if value is not None:
                timers.append((task, parse_instant(value)))
        return timers

    def next_due(
        self, workflow: BpmnWorkflow, waiting: list[SpiffTask] | None = None
    ) -> datetime | None:
        due = [at for _, at in self.waiting_timers(workflow, waiting) if at < NEVER]
        return min(due) if due else None

    def fire_due_timers(self, workflow: BpmnWorkflow, now: datetime) -> list[str]:
        """Fire every timer due by `now` (our clock, not the wall clock); return their ids."""
        fired = []
        for task, due in self.waiting_timers(workflow):
            if due <= now:
                # SpiffWorkflow compares with the wall clock; we decide by the injected clock.
                task._set_internal_data(event_fired=True)
                fired.append(task.task_spec.bpmn_id or task.task_spec.name)
        if fired:
            with _engine(fired[0]):
                workflow.refresh_timers()
                workflow.do_engine_steps()
        return fired

    def deadline_of(self, workflow: BpmnWorkflow, spiff_task_id: str) -> datetime | None:
        """Due instant of the boundary timer guarding a user task, if it has one: on the task
        itself, on the multi-instance step it is one of, or on the subprocess it runs in (each
        township's confirmation inside the loop over townships)."""
        task = self.get_task(workflow, spiff_task_id)
        for _ in range(DEADLINE_DEPTH):
            if task is None:
                return None
            ancestor = task.parent
            if ancestor is None:  # the root of a subprocess: go on from the task that runs it
                owner = getattr(task.workflow, "parent_task_id", None)
                task = workflow.get_task_from_id(owner) if owner is not None else None
                continue
            for sibling in ancestor.children:
                if sibling is task or not sibling.has_state(TaskState.WAITING):
                    continue
                if _timer_definitions(getattr(sibling.task_spec, "event_definition", None)):
                    value = sibling._get_internal_data("event_value")
                    return parse_instant(value) if value is not None else None
            task = ancestor
        return None

    def operations_due(self, workflow: BpmnWorkflow) -> list[SpiffTask]:
        """Completed service tasks whose operation has not run yet, oldest first: those the
        engine passed during the command under way."""
        due = [
            task
            for task in _completed(workflow)
            if isinstance(task.task_spec, OperationTask)
            and not task._get_internal_data(OPERATION_RAN)
        ]
        return sorted(due, key=lambda task: task.last_state_change)

    def mark_operation_ran(self, task: SpiffTask) -> None:
        task._set_internal_data(**{OPERATION_RAN: True})

    def completed_ids(self, workflow: BpmnWorkflow) -> list[str]:
        """bpmn ids of completed tasks, oldest first."""
        done = _completed(workflow)
        return [
            t.task_spec.bpmn_id
            for t in sorted(done, key=lambda t: t.last_state_change)
            if t.task_spec.bpmn_id
        ]

    def reached_end(self, workflow: BpmnWorkflow) -> str | None:
        """The bpmn id of the end event a completed workflow stopped at, else None."""
        if not workflow.completed:
            return None
        ends = [
            task
            for task in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(task.task_spec, EndEvent) and task.workflow is workflow
        ]
        if not ends:
            return None
        return max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id

    def data(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The data of the most recently changed task: the instance's data so far."""
        return workflow.last_task.data if workflow.last_task is not None else {}

    # -- stranded states ---------------------------------------------------------------------
    def unmerged_children(self, workflow: BpmnWorkflow) -> list[SpiffTask]:
        """Completed loop children their parent never merged, oldest first.

        State written by code that wired multi-instance tasks lazily (before the fix in
        engine/specs) and restored in a fresh process completed children without merging them.
        """
        found = []
        for task in workflow.get_tasks(state=TaskState.STARTED):
            spec = task.task_spec
            if not isinstance(spec, LoopTask):
                continue
            merged = set(task.internal_data.get("merged", []))
            found += [
                child
                for child in task.children
                if child.task_spec.name == spec.task_spec
                and child.has_state(TaskState.COMPLETED)
                and str(child.id) not in merged
            ]
        return sorted(found, key=lambda t: t.last_state_change)

    def stranded_reason(self, workflow: BpmnWorkflow) -> str | None:
        """Why a state cannot move on by itself or by anyone's hand, or None if it can.

        `unmerged`: loop children completed but never merged; `no_way_on`: not ended, and no
        ready user task, waiting timer or waiting message.
        """
        if workflow.completed:
            return None
        if self.unmerged_children(workflow):
            return "unmerged"
        if workflow.get_tasks(state=TaskState.READY, manual=True):
            return None
        for task in workflow.get_tasks(state=TaskState.WAITING):
            if getattr(task.task_spec, "event_definition", None) is not None:
                return None
        return "no_way_on"

    def release(self, workflow: BpmnWorkflow) -> int:
        """Merge unmerged loop children into their parents and run the engine on; how many."""
        children = self.unmerged_children(workflow)
        with _engine():
            for child in children:
                child.parent.task_spec.merge_child(workflow, child)
            if children:
                workflow.do_engine_steps()
        return len(children)

    # -- state -------------------------------------------------------------------------------
    def dumps(self, workflow: BpmnWorkflow) -> str:
        """State as JSON text, without the spec."""
        return self._json(workflow).decode()

    def save(self, workflow: BpmnWorkflow) -> bytes:
        return pack(self._json(workflow))

    def _json(self, workflow: BpmnWorkflow) -> bytes:
        """What SpiffWorkflow's serialize_json writes, written by orjson (a tenth of the time).

        The same steps: the workflow's dictionary and its values' encoder, both with the
        registry in its encoder mode. Dates, times and dataclasses go to that encoder as they
        did (orjson would write them itself); an integer past 64 bits, which an expression may
        build, or nesting deeper than orjson goes, is written by the json module as before.
        (A UUID nested in task data would be written as its text; nothing a form, expression
        or operation makes is one. NaN and infinities, which orjson writes as null, are refused
        where values come in: the API's JSON, the forms' numbers, expressions' arithmetic.)
        """
        registry = self.serializer.registry
        with self._converting:
            registry._encoder_mode = True
            try:
                state = self.serializer.to_dict(workflow)
                state[self.serializer.VERSION_KEY] = self.serializer.VERSION
                try:
                    return orjson.dumps(state, default=self._encoder.default, option=_ORJSON)
                except TypeError:
                    return json.dumps(state, cls=type(self._encoder)).encode()
            finally:
                registry._encoder_mode = False

    def restore(self, diagram: Diagram, stored: bytes) -> BpmnWorkflow:
        return self.loads(diagram, unpack(stored))

    def loads(self, diagram: Diagram, state_json: str | bytes) -> BpmnWorkflow:
        dct = _parsed(state_json)
        self.serializer.migrate(dct)
        workflow = self.serializer.from_dict(
            dct, spec=diagram.spec, subprocess_specs=diagram.subprocess_specs
        )
        workflow.script_engine = self.script_engine
        return workflow


_LONG_NUMBER = re.compile(rb"\d{19}")


def _parsed(state_json: str | bytes) -> Any:
    """Stored state read by orjson, except where it reads differently from json: an integer
    of 19 digits or more (past 64 bits orjson gives a float; an expression may build one),
    or text orjson refuses (a lone surrogate, which json wrote as an escape)."""
    raw = state_json.encode() if isinstance(state_json, str) else state_json
    if _LONG_NUMBER.search(raw) is None:
        with contextlib.suppress(orjson.JSONDecodeError):
            return orjson.loads(raw)
    return json.loads(raw)


def pack(state_json: str | bytes) -> bytes:
    """Stored form of state: zlib at its fastest level (44 KB of JSON becomes about 6 KB)."""
    data = state_json.encode() if isinstance(state_json, str) else state_json
    return zlib.compress(data, 1)


def unpack(stored: bytes) -> bytes:
    return zlib.decompress(stored)


def _completed(workflow: BpmnWorkflow) -> list[SpiffTask]:
    """Every completed task, those inside subprocesses that are still running included.

    SpiffWorkflow's `get_tasks(state=COMPLETED)` does not look below a task in an earlier state:
    it skips a multi-instance loop still under way, and with it every township's finished
    steps inside the loop (a register entry made at a township's confirmation ran only when
    the last township confirmed). So the whole tree is walked and filtered here.
    """
    return [task for task in workflow.get_tasks() if task.has_state(TaskState.COMPLETED)]


def _timer_definitions(definition: Any) -> list[TimerEventDefinition]:
    if isinstance(definition, TimerEventDefinition):
        return [definition]
    found: list[TimerEventDefinition] = []
    for child in getattr(definition, "event_definitions", None) or []:
        found += _timer_definitions(child)
    return found


def _message_names(definition: Any) -> set[str]:
    if isinstance(definition, MessageEventDefinition):
        return {definition.name}
    names: set[str] = set()
    for child in getattr(definition, "event_definitions", None) or []:
        names.update(_message_names(child))
    return names
