"""How path tests carry a workflow from one step to the next.

- live: the same objects throughout, as one request would;
- roundtrip: state saved and restored into the same parsed diagram (a warm process);
- fresh: state saved and restored into the XML parsed anew by a new registry, nothing run on it
  before — what a restarted server or another worker does. The worst bug so far (a confirmed
  matter stranded after a restart) showed only in this mode.
"""

from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.workflow.packages import Package
from engine.workflow.runtime import Runtime
from engine.workflow.specs import Diagram, DiagramRegistry
from tests.packages import shipped

MODES = ("live", "roundtrip", "fresh")
modes = pytest.mark.parametrize("mode", MODES)


def carry(runtime: Runtime, diagram: Diagram, workflow: BpmnWorkflow, mode: str) -> BpmnWorkflow:
    """The workflow as the next step sees it in `mode`."""
    if mode == "live":
        return workflow
    state = runtime.dumps(workflow)
    if mode == "fresh":
        diagram = DiagramRegistry().get(diagram.sha256, lambda: _package(diagram))
    return runtime.loads(diagram, state)


def _package(diagram: Diagram) -> Package:
    """What `diagram` was parsed from: its shipped package (diagram and forms), else its XML."""
    package = shipped(diagram.process_id)
    return package if package.sha256 == diagram.sha256 else Package(diagram.xml)
