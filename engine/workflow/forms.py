"""Forms by step: a deployed package's JSON Schema forms first, else the marshmallow forms built
into the service (which domains register: the accountability procedures', until they are
packages too); REST bodies.

Each form also says where its validated values go in the workflow's data, which is what the
diagram's gateway conditions read (e.g. `review['decision'] == 'pass'`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import InvalidInput, NotFound
from engine.workflow import fields as f
from engine.workflow.formkit import Form
from engine.workflow.specs import Diagram


class ReasonSchema(f.Schema):
    """Body of withdrawal and objection actions."""

    reason = f.text(2000, required=True)


# The built-in forms by process id (start) and step id (tasks): the accountability procedures'
# until they are ported to packages. Admission's forms are its package's (bpmn/matter_admission).
START_FORMS: dict[str, Form] = {}
TASK_FORMS: dict[str, Form] = {}

REASON_FORM = Form(ReasonSchema)


def form_for_start(diagram: Diagram) -> Any:
    """The start form of a deployed diagram: its package's, else the one built in."""
    form = diagram.forms.get(diagram.start_id) if diagram.start_id else None
    return form if form is not None else start_form(diagram.process_id)


def form_for_task(diagram: Diagram, bpmn_id: str) -> Any:
    """The form of a user task of a deployed diagram: its package's, else the one built in."""
    form = diagram.forms.get(bpmn_id)
    return form if form is not None else task_form(bpmn_id)


def start_form(process_id: str) -> Form:
    form = START_FORMS.get(process_id)
    if form is None:
        # Deployment refuses processes without a start form, so this process does not exist.
        raise NotFound(f"流程 {process_id} 不存在")
    return form


def task_form(bpmn_id: str) -> Form:
    form = TASK_FORMS.get(bpmn_id)
    if form is None:
        raise InvalidInput("该任务没有表单定义", {"task": [bpmn_id]})
    return form


def register_built_in(start: Mapping[str, Form], tasks: Mapping[str, Form]) -> None:
    """A domain's forms built into the service (by process id and step id), for the steps of
    its diagrams that name no package form; registering the same forms again changes nothing."""
    for registry, forms in ((START_FORMS, start), (TASK_FORMS, tasks)):
        for key, form in forms.items():
            if registry.setdefault(key, form) is not form:
                raise ValueError(f"form id used twice: {key}")
