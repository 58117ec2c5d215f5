"""Forms by step: a deployed package's JSON Schema forms (`Diagram.forms`); the REST bodies of
withdrawal and objection.

Versions deployed before procedures were packages are bare diagrams naming no forms. Their
running instances keep working: each of their steps takes the form of the same step in the
package the service ships for that process (`bpmn/<process_id>/`), the same rules as data.

Each form also says where its validated values go in the workflow's data, which is what the
diagram's gateway conditions read (e.g. `review['decision'] == 'pass'`).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput, NotFound
from engine.workflow import fields as f
from engine.workflow.formkit import Form
from engine.workflow.packages import read_directory
from engine.workflow.specs import Diagram, parse_package


class ReasonSchema(f.Schema):
    """Body of withdrawal and objection actions."""

    reason = f.text(2000, required=True)


REASON_FORM = Form(ReasonSchema)


_SHIPPED: list[Path] = []
_LOCK = threading.Lock()


def ship_from(directory: Path) -> None:
    """Where the service's own packages are, for the versions deployed before packages."""
    with _LOCK:
        if directory not in _SHIPPED:
            _SHIPPED.insert(0, directory)


@lru_cache(maxsize=64)
def _shipped_forms(directory: Path, process_id: str) -> dict[str, Any]:
    folder = directory / process_id
    if not folder.is_dir():
        return {}
    return dict(parse_package(read_directory(folder)).forms)


def _forms_of(diagram: Diagram) -> Any:
    """A diagram's own forms; for a bare diagram (deployed before packages), the forms of the
    package shipped for its process."""
    if diagram.forms:
        return diagram.forms
    for directory in list(_SHIPPED):
        shipped = _shipped_forms(directory, diagram.process_id)
        if shipped:
            return shipped
    return {}


def form_for_start(diagram: Diagram) -> Any:
    """The start form of a deployed diagram, which its package names."""
    form = _forms_of(diagram).get(diagram.start_id) if diagram.start_id else None
    if form is None:
        # Deployment refuses processes without a start form, so this process does not exist.
        raise NotFound(f"流程 {diagram.process_id} 不存在")
    return form


def form_for_task(diagram: Diagram, bpmn_id: str) -> Any:
    """The form of a user task of a deployed diagram, which its package names."""
    form = _forms_of(diagram).get(bpmn_id)
    if form is None:
        raise InvalidInput("该任务没有表单定义", {"task": [bpmn_id]})
    return form
