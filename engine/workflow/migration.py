"""Moving a live workflow onto another version of its diagram, by SpiffWorkflow's own diff.

The rule is SpiffArena's: a workflow may move unless a step the new version changed or removed
is completed or under way in it (`SpecDiff`/`WorkflowDiff`, `diff_workflow`,
`migrate_workflow` of SpiffWorkflow 3.2). "Changed" is SpiffWorkflow's: any attribute of the
step's serialized spec differs — its name, lane, documentation, incoming or outgoing flows, a
gateway's conditions, a timer's or a loop's expressions. Steps not reached yet may change
freely. No database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import Conflict, DomainError
from engine.workflow.runtime import EngineFailure
from engine.workflow.specs import Diagram

# Completed, or started and not finished (a multi-instance step some townships have done).
DONE = TaskState.COMPLETED | TaskState.STARTED
# What SpiffWorkflow resets and predicts again under the new spec (its default; SpiffArena also
# resets STARTED tasks, which would drop a multi-instance step's completed children).
RESET = TaskState.READY | TaskState.WAITING
# SpiffWorkflow's own specs around an activity with boundary events, named after it.
_AROUND = (".BoundaryEventSplit", ".BoundaryEventJoin")


@dataclass(frozen=True)
class Plan:
    """What moving one workflow to `target` means: why it cannot (nothing: it can), and the
    steps of the new version added, removed and changed, by id."""

    target: Diagram
    reasons: tuple[str, ...]
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    diff: WorkflowDiff


@contextmanager
def _engine() -> Iterator[None]:
    try:
        yield
    except DomainError:
        raise
    except Exception as exc:  # SpiffWorkflow failed on a diagram: an incident, not a 500
        raise EngineFailure(None, exc) from exc


def _owner(spec: Any) -> Any:
    """The step a spec belongs to: itself, or the activity SpiffWorkflow built it around."""
    for suffix in _AROUND:
        if not spec.bpmn_id and spec.name.endswith(suffix):
            return spec._wf_spec.task_specs.get(spec.name.removesuffix(suffix), spec)
    return spec


def step_name(spec: Any) -> str:
    """A step as people know it: its BPMN name, else its id."""
    owner = _owner(spec)
    if isinstance(owner, LoopTask) and not owner.bpmn_name:  # the name is on its child
        owner = owner._wf_spec.task_specs.get(owner.task_spec, owner)
    return owner.bpmn_name or owner.bpmn_id or owner.name


def _ids(specs: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({_owner(spec).bpmn_id for spec in specs} - {None, ""}))


def _refusals(diff: WorkflowDiff, old: Diagram, target: Diagram) -> list[str]:
    """SpiffArena's rule, plus two our inbox needs: a removed step may not be waiting (its
    task would keep the old spec), and an open step may not move to another role's lane."""
    reasons = []
    for task in diff.changed + diff.removed:
        if not task.has_state(DONE | RESET):
            continue
        what = "已删除" if task in diff.removed else "已修改"
        if task.has_state(TaskState.COMPLETED):
            reasons.append(f"步骤“{step_name(task.task_spec)}”{what}且已办理")
        elif task.has_state(TaskState.STARTED):
            reasons.append(f"步骤“{step_name(task.task_spec)}”{what}且正在办理")
        elif task in diff.removed:
            reasons.append(f"步骤“{step_name(task.task_spec)}”已删除且正在等待办理")
    for task, new in diff.alignment.items():
        if task.has_state(TaskState.READY) and getattr(task.task_spec, "manual", False):
            before = old.lane_roles.get(task.task_spec.lane or "")
            if new is not None and target.lane_roles.get(new.lane or "") != before:
                reasons.append(
                    f"步骤“{step_name(task.task_spec)}”正在等待办理，新版本改由其他角色办理"
                )
    return list(dict.fromkeys(reasons))


def plan(registry: Any, workflow: BpmnWorkflow, old: Diagram, target: Diagram) -> Plan:
    """Compare `workflow` (on `old`) with `target`; `registry` is the workflow serializer's
    (it renders a spec's attributes for comparison)."""
    with _engine():
        specs = SpecDiff(registry, workflow.spec, target.spec)
        diff, subprocesses = diff_workflow(registry, workflow, target.spec, target.subprocess_specs)
        reasons = _refusals(diff, old, target)
    if subprocesses:  # the runtime refuses subprocesses when deployed; state may predate that
        reasons.append("事项含子流程，不能迁移")
    return Plan(
        target=target,
        reasons=tuple(reasons),
        changed=_ids(specs.changed),
        added=_ids(specs.added),
        removed=_ids(specs.removed),
        diff=diff,
    )


def apply(plan: Plan, workflow: BpmnWorkflow) -> None:
    """Move `workflow` to the plan's target (the plan must allow it); Conflict if the moved
    state would still name a step of the old version.

    SpiffWorkflow resets ready and waiting tasks so they are predicted again under the new
    spec; a reset also drops each one's data and internal data. Kept as they were: a task's
    data (a multi-instance child's item, e.g. its township), and for an unchanged step its
    internal data (a timer's due time: a deadline does not restart because the diagram moved).
    """
    assert not plan.reasons, plan.reasons
    changed = {task.id for task in plan.diff.changed}
    kept = {
        task.id: (deepcopy(task.data), deepcopy(task.internal_data))
        for task in workflow.get_tasks(state=RESET)
    }
    with _engine():
        migrate_workflow(plan.diff, workflow, plan.target.spec)
        workflow.subprocess_specs = plan.target.subprocess_specs
    for task in workflow.get_tasks(state=RESET):
        if task.id in kept:
            task.data, internal = kept[task.id]
            if task.id not in changed:
                task.internal_data = internal
    strays = sorted(
        {
            step_name(task.task_spec)
            for task in workflow.get_tasks()
            if plan.target.spec.task_specs.get(task.task_spec.name) is not task.task_spec
        }
    )
    if strays:  # state naming a spec the new version lacks could not be restored later
        raise Conflict(
            "该事项不能迁移到新版本",
            {"to_version": [f"迁移后仍会引用旧版本的步骤：{'、'.join(strays)}"]},
        )
