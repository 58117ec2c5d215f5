"""What changed between two versions of a procedure: steps added, removed and changed (by
SpiffWorkflow's own spec diff, the one migration obeys) and forms changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff

from engine.workflow.specs import Diagram


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    kind: str  # the BPMN element, e.g. UserTask, ExclusiveGateway


@dataclass(frozen=True)
class ChangedStep:
    step: Step
    attributes: tuple[str, ...]


@dataclass(frozen=True)
class VersionDiff:
    added: tuple[Step, ...]
    removed: tuple[Step, ...]
    changed: tuple[ChangedStep, ...]
    forms_changed: tuple[Step, ...]

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed or self.forms_changed)


def _step(task_spec: Any) -> Step | None:
    """A step a modeller drew (SpiffWorkflow adds unnamed internal specs: Start, End, …)."""
    if not task_spec.bpmn_id:
        return None
    return Step(task_spec.bpmn_id, task_spec.bpmn_name or "", type(task_spec).__name__)


def steps_of(specs: Any) -> tuple[Step, ...]:
    """The steps a modeller drew among `specs`, by id."""
    found = (_step(spec) for spec in specs)
    return tuple(sorted((step for step in found if step), key=lambda step: step.id))


def _form_of(diagram: Diagram, step_id: str) -> tuple[Any, Any] | None:
    form = diagram.forms.get(step_id)
    return None if form is None else (form.json_schema, form.ui_schema)


def compare(registry: Any, old: Diagram, new: Diagram) -> VersionDiff:
    """`new` against `old`, the process and each of its subprocesses; `registry` is the
    workflow serializer's (it renders a spec's attributes for comparison)."""
    added: list[Any] = []
    removed: list[Any] = []
    changed = []
    pairs = [(old.spec, new.spec)] + [
        (old.subprocess_specs.get(name), new.subprocess_specs.get(name))
        for name in sorted(set(old.subprocess_specs) | set(new.subprocess_specs))
    ]
    for before, after in pairs:
        if before is None or after is None:  # a subprocess drawn in one version only
            added += after.task_specs.values() if after is not None else []
            removed += before.task_specs.values() if before is not None else []
            continue
        diff = SpecDiff(registry, before, after)
        added += diff.added
        removed += diff.removed
        for spec, attributes in diff.changed.items():
            step = _step(spec)
            if step is not None:
                changed.append(ChangedStep(step, tuple(sorted(attributes))))
    steps = {spec.bpmn_id: spec for spec in new.task_specs() if spec.bpmn_id}
    form_ids = sorted(
        step_id
        for step_id in set(old.forms) | set(new.forms)
        if step_id in steps and _form_of(old, step_id) != _form_of(new, step_id)
    )
    return VersionDiff(
        added=steps_of(added),
        removed=steps_of(removed),
        changed=tuple(sorted(changed, key=lambda item: item.step.id)),
        forms_changed=tuple(step for step in (_step(steps[i]) for i in form_ids) if step),
    )
