"""The ceiling: bare SpiffWorkflow on matter_admission with the service's own serializer."""

from __future__ import annotations

import time
from typing import Any

from bench.common import APPLICATION, STEPS
from config import Settings
from config.steps import load_step_rules
from engine.admission.services.admission import application_data
from engine.services.context import register_processes
from engine.workflow.clock import SystemClock
from engine.workflow.forms import form_for_start, form_for_task
from engine.workflow.packages import read_directory
from engine.workflow.runtime import Runtime
from engine.workflow.specs import parse_package
from engine.workflow.time_functions import TimerRules
from engine.workflow.workdays import WorkingCalendar

TODAY = "2026-12-31"  # the approval's meeting is not in the future


def run(lifecycles: int) -> dict[str, Any]:
    """Per lifecycle: create; then per user task deserialize → complete → serialize."""
    settings = Settings()
    register_processes()  # the named checks its forms list and the operations it names
    diagram = parse_package(read_directory(settings.bpmn_dir / "matter_admission"))
    # The service's own runtime: same serializer, same restricted script engine and timer
    # functions (the diagram's deadlines are evaluated here too), no database.
    steps = load_step_rules(settings.step_rules_file)
    rules = TimerRules(SystemClock(), WorkingCalendar(), steps.working_days())
    runtime = Runtime(rules.functions())
    start_form = form_for_start(diagram)
    start_data = application_data(start_form, start_form.validate(APPLICATION))
    # Each answer as the service stores it: validated once here (defaults filled in), outside
    # the timed loop, as the engine never sees an unvalidated form.
    forms = [
        (bpmn_id, step.data_for(bpmn_id, step.validate(form, {"data": {}, "today": TODAY})))
        for _, bpmn_id, form in STEPS
        for step in [form_for_task(diagram, bpmn_id)]
    ]

    def lifecycle() -> str:
        state = runtime.dumps(runtime.start(diagram, start_data))
        for bpmn_id, data in forms:
            workflow = runtime.loads(diagram, state)
            view = next(v for v in runtime.ready_user_tasks(workflow) if v.bpmn_id == bpmn_id)
            runtime.complete(workflow, runtime.get_task(workflow, view.spiff_task_id), data)
            state = runtime.dumps(workflow)
        return state

    lifecycle()
    began = time.perf_counter()
    for _ in range(lifecycles):
        state = lifecycle()
    elapsed = time.perf_counter() - began
    steps = lifecycles * len(STEPS)
    return {
        "lifecycles": lifecycles,
        "steps_per_s": round(steps / elapsed, 1),
        "ms_per_step": round(elapsed / steps * 1000, 3),
        "state_json_bytes": len(state),
    }
