"""Every shipped diagram passes bpmnlint's recommended rules, so it opens and saves in bpmn-js
(the modeler behind most BPMN editors) without losing anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LINTER = ROOT / "tools" / "bpmnlint"
CLI = LINTER / "node_modules" / ".bin" / "bpmnlint"

# A start event leading nowhere, no end event, and a multi-instance task whose loop refs name
# variables nothing in the document declares: the references bpmn-js drops when it saves.
BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Definitions_broken" targetNamespace="http://zhunru.example/bpmn">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="start_nowhere" />
    <bpmn:userTask id="confirm_each">
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopDataInputRef>townships</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>entries</bpmn:loopDataOutputRef>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
  </bpmn:process>
</bpmn:definitions>
"""


def diagrams(folder: Path) -> list[Path]:
    """Every diagram under `folder`: loose files and those in one folder per procedure."""
    return sorted(folder.glob("**/*.bpmn"))


def lint(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    # A missing linter is a failure, never a skip: CI must not pass without this check.
    if not CLI.is_file():
        pytest.fail(f"bpmnlint not found at {CLI}: run `bash scripts/system-deps.sh lint`")
    return subprocess.run(
        [str(CLI), "--config", str(LINTER / ".bpmnlintrc"), *map(str, paths)],
        cwd=LINTER,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_shipped_diagrams_have_no_lint_errors() -> None:
    shipped = diagrams(ROOT / "bpmn")
    assert {"matter_admission.bpmn", "fault_tolerance.bpmn", "clearance.bpmn"} <= {
        path.name for path in shipped
    }
    result = lint(shipped)
    assert result.returncode == 0, f"bpmnlint reported errors:\n{result.stdout}{result.stderr}"


def test_a_broken_diagram_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text(BROKEN, encoding="utf-8")
    result = lint([broken])
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    assert "unresolved reference <townships>" in report
    assert "unresolved reference <entries>" in report
    assert "end-event-required" in report


def test_diagrams_are_found_loose_and_in_a_folder_per_procedure(tmp_path: Path) -> None:
    (tmp_path / "clearance.bpmn").touch()
    (tmp_path / "matter_admission").mkdir()
    (tmp_path / "matter_admission" / "matter_admission.bpmn").touch()
    (tmp_path / "matter_admission" / "forms.json").touch()
    assert [path.relative_to(tmp_path).as_posix() for path in diagrams(tmp_path)] == [
        "clearance.bpmn",
        "matter_admission/matter_admission.bpmn",
    ]
