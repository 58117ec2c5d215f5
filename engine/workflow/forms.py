"""Forms by step: a deployed package's JSON Schema forms (`Diagram.forms`); the REST bodies of
withdrawal and objection.

Each form also says where its validated values go in the workflow's data, which is what the
diagram's gateway conditions read (e.g. `review['decision'] == 'pass'`).
"""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidInput, NotFound
from engine.workflow import fields as f
from engine.workflow.formkit import Form
from engine.workflow.specs import Diagram


class ReasonSchema(f.Schema):
    """Body of withdrawal and objection actions."""

    reason = f.text(2000, required=True)


REASON_FORM = Form(ReasonSchema)


def form_for_start(diagram: Diagram) -> Any:
    """The start form of a deployed diagram, which its package names."""
    form = diagram.forms.get(diagram.start_id) if diagram.start_id else None
    if form is None:
        # Deployment refuses processes without a start form, so this process does not exist.
        raise NotFound(f"流程 {diagram.process_id} 不存在")
    return form


def form_for_task(diagram: Diagram, bpmn_id: str) -> Any:
    """The form of a user task of a deployed diagram, which its package names."""
    form = diagram.forms.get(bpmn_id)
    if form is None:
        raise InvalidInput("该任务没有表单定义", {"task": [bpmn_id]})
    return form
