"""Every path of matter_admission at engine level, each also with a state round trip per step."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from config import Settings
from config.steps import load_step_rules
from engine.admission.services.admission import application_data, revise_data
from engine.errors import Conflict
from engine.workflow.clock import ManualClock
from engine.workflow.forms import form_for_start, form_for_task
from engine.workflow.runtime import Runtime
from engine.workflow.time_functions import TimerRules
from engine.workflow.workdays import WorkingCalendar
from tests.engine_modes import carry, modes
from tests.factories import (
    APPROVE,
    CONFIRM,
    LAWFUL,
    MEETING,
    PASS,
    application,
    rejected,
    returned,
)
from tests.packages import shipped_diagram

LIMITS = load_step_rules(Settings().step_rules_file).working_days()
DIAGRAM = shipped_diagram("matter_admission")


class Walk:
    """Drives one workflow; the state is carried between steps as `mode` says (engine_modes)."""

    def __init__(self, mode: str, townships: list[str] | None = None) -> None:
        rules = TimerRules(ManualClock(datetime.now(UTC)), WorkingCalendar(), LIMITS)
        self.runtime = Runtime(rules.functions())
        self.mode = mode
        # What the admission kind starts with (its start hook, less the database's pre-check).
        form = form_for_start(DIAGRAM)
        values = form.validate(application(townships=townships or ["chengguan", "donghe"]))
        self.workflow = self.runtime.start(DIAGRAM, application_data(form, values))
        self._checkpoint()

    def _checkpoint(self) -> None:
        self.workflow = carry(self.runtime, DIAGRAM, self.workflow, self.mode)

    def ready(self) -> list[str]:
        return sorted(view.bpmn_id for view in self.runtime.ready_user_tasks(self.workflow))

    def do(
        self,
        bpmn_id: str,
        form: dict[str, Any],
        township: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        views = [v for v in self.runtime.ready_user_tasks(self.workflow) if v.bpmn_id == bpmn_id]
        if township is not None:
            views = [v for v in views if v.data["township"] == township]
        assert views, f"{bpmn_id} is not ready; ready: {self.ready()}"
        task = self.runtime.get_task(self.workflow, views[0].spiff_task_id)
        spec = form_for_task(DIAGRAM, bpmn_id)
        values = spec.validate(form)
        # The admission kind's step data: a resubmission replaces the application.
        data = revise_data(spec, values) if bpmn_id == "revise" else spec.data_for(bpmn_id, values)
        self.runtime.complete(self.workflow, task, {**data, **(extra or {})})
        self._checkpoint()

    def send(self, message: str, payload: dict[str, Any]) -> None:
        self.runtime.send_message(self.workflow, message, payload)
        self._checkpoint()

    def enter(self) -> None:
        self.do("legal_review", LAWFUL)
        self.do("review", PASS)
        self.do("approve", APPROVE)
        self.do("confirm_entry", CONFIRM, township="chengguan")
        self.do("confirm_entry", CONFIRM, township="donghe")

    @property
    def end(self) -> str | None:
        return self.runtime.reached_end(self.workflow)


@modes
def test_admitted_matter_waits_in_force_then_exits_on_withdrawal(mode: str) -> None:
    walk = Walk(mode)
    assert walk.ready() == ["legal_review"]
    walk.do("legal_review", LAWFUL)
    walk.do("review", PASS)
    walk.do("approve", APPROVE)
    assert walk.ready() == ["confirm_entry", "confirm_entry"]
    walk.do("confirm_entry", CONFIRM, township="donghe")
    assert walk.ready() == ["confirm_entry"]
    walk.do(
        "confirm_entry",
        {**CONFIRM, "resources_received": False, "comment": "经费未到"},
        township="chengguan",
    )
    assert walk.ready() == []
    assert walk.runtime.waiting_messages(walk.workflow) == {"matter_withdrawal", "matter_objection"}
    assert walk.end is None
    walk.send("matter_withdrawal", {"withdrawal": {"reason": "任务完成"}})
    assert walk.end == "end_exited"
    data = walk.runtime.data(walk.workflow)
    assert data["withdrawal"] == {"reason": "任务完成"}
    assert len(data["entries"]) == 2


@modes
def test_one_confirmation_task_per_target_township(mode: str) -> None:
    walk = Walk(mode, townships=["chengguan", "donghe", "xishan", "nanhu"])
    walk.do("legal_review", LAWFUL)
    walk.do("review", PASS)
    walk.do("approve", APPROVE)
    views = walk.runtime.ready_user_tasks(walk.workflow)
    assert sorted(v.data["township"] for v in views) == ["chengguan", "donghe", "nanhu", "xishan"]
    assert {DIAGRAM.lane_roles[v.lane] for v in views} == {"township"}


@modes
def test_returned_application_can_be_withdrawn(mode: str) -> None:
    walk = Walk(mode)
    walk.do("legal_review", LAWFUL)
    walk.do("review", returned())
    assert walk.ready() == ["revise"]
    walk.do("revise", {"action": "withdraw", "comment": "不再需要"})
    assert walk.end == "end_withdrawn"


@modes
def test_returned_application_is_revised_and_reviewed_again(mode: str) -> None:
    walk = Walk(mode)
    walk.do("legal_review", {"opinion": "needs_change", "comment": "依据需写明条款"})
    assert walk.ready() == ["revise"]  # "needs change" goes straight back to the applicant
    revised = application(basis="《农田建设项目管理办法》第十二条", townships=["xishan"])
    walk.do("revise", {"action": "resubmit", "application": revised})
    assert walk.ready() == ["legal_review"]
    data = walk.runtime.data(walk.workflow)
    assert data["application"]["basis"].endswith("第十二条")
    assert data["townships"] == ["xishan"]
    walk.do("legal_review", LAWFUL)
    walk.do("review", PASS)
    walk.do("approve", APPROVE)
    assert [v.data["township"] for v in walk.runtime.ready_user_tasks(walk.workflow)] == ["xishan"]


@modes
def test_approver_returns_to_review(mode: str) -> None:
    walk = Walk(mode)
    walk.do("legal_review", LAWFUL)
    walk.do("review", PASS)
    walk.do("approve", returned("请编办核实是否与清单重复"))
    assert walk.ready() == ["review"]
    walk.do("review", PASS)
    assert walk.ready() == ["approve"]


@modes
@pytest.mark.parametrize("step", ["review", "approve"])
def test_rejection_ends_the_application(mode: str, step: str) -> None:
    walk = Walk(mode)
    walk.do("legal_review", LAWFUL)
    if step == "approve":
        walk.do("review", PASS)
    meeting = MEETING if step == "approve" else {}
    walk.do(step, {**rejected(["no_resources", "negative_list"]), **meeting})
    assert walk.end == f"end_rejected_{step if step == 'review' else 'approval'}"
    assert walk.ready() == []


@modes
def test_objection_kept_then_one_township_exits_then_the_last_takes_the_matter_out(
    mode: str,
) -> None:
    walk = Walk(mode)
    walk.enter()
    walk.send("matter_objection", {"objection": {"reason": "经费未到位", "township": "donghe"}})
    assert walk.ready() == ["decide_objection"]
    assert walk.runtime.waiting_messages(walk.workflow) == set()
    walk.do("decide_objection", {"decision": "keep", "comment": "经费已拨付，维持"})
    assert "notify_objection_kept" in walk.runtime.completed_ids(walk.workflow)
    assert walk.runtime.waiting_messages(walk.workflow) == {"matter_withdrawal", "matter_objection"}
    # Upheld for 东河 while 城关 still carries it (the service's step data counts the others).
    walk.send("matter_objection", {"objection": {"reason": "仍未到位", "township": "donghe"}})
    exits = {"decision": "township_exits", "comment": "资源未随事下放，该乡镇退出"}
    walk.do("decide_objection", exits, extra={"objection_others": 1})
    assert "township_exits" in walk.runtime.completed_ids(walk.workflow)
    assert walk.end is None
    assert walk.runtime.waiting_messages(walk.workflow) == {"matter_withdrawal", "matter_objection"}
    # The last township leaving takes the matter out altogether.
    walk.send("matter_objection", {"objection": {"reason": "无法承担", "township": "chengguan"}})
    walk.do("decide_objection", exits, extra={"objection_others": 0})
    assert walk.end == "end_exited"


@modes
def test_an_objection_can_take_the_whole_matter_out(mode: str) -> None:
    walk = Walk(mode)
    walk.enter()
    walk.send("matter_objection", {"objection": {"reason": "无法律依据", "township": "donghe"}})
    matter_exits = {"decision": "matter_exits", "comment": "事项无法定依据，整体退出"}
    walk.do("decide_objection", matter_exits, extra={"objection_others": 1})
    assert walk.end == "end_exited"


def test_message_nobody_waits_for_is_a_conflict() -> None:
    walk = Walk(mode=False)
    with pytest.raises(Conflict):
        walk.send("matter_withdrawal", {"withdrawal": {"reason": "x"}})


def test_stored_state_has_no_embedded_spec_and_round_trips() -> None:
    walk = Walk(mode=False)
    walk.enter()
    state = walk.runtime.dumps(walk.workflow)
    stored = json.loads(state)
    assert "spec" not in stored and "subprocess_specs" not in stored
    assert b"matter_admission" not in state.encode()
    restored = walk.runtime.loads(DIAGRAM, state)
    assert json.loads(walk.runtime.dumps(restored)) == stored
    assert restored.spec is DIAGRAM.spec


def test_stored_state_is_what_spiffworkflows_own_serializer_writes() -> None:
    """The state is written with orjson: the same JSON as SpiffWorkflow's json writer, for
    every kind of value task data can hold, and it restores to the same workflow."""
    odd: dict[Any, Any] = {
        "文本": "乡镇“承接”事项\n",
        "when": datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        "how_long": datetime(2026, 12, 2, tzinfo=UTC) - datetime(2026, 12, 1, tzinfo=UTC),
        "codes": {"donghe"},
        "pair": ("a", 1),
        "ratio": 0.1,
        7: "a key that is not text",
        "nested": [{"x": None, "y": True, "at": datetime(2026, 1, 1, tzinfo=UTC)}],
    }
    # An expression may build integers up to 1,024 bits: past 64, the json module writes and
    # reads; so it does a lone surrogate, which Python's json takes from a client's escape.
    for data in (odd, {**odd, "big": 2**100}, {**odd, "text": "\ud800"}):
        walk = Walk("live")
        walk.workflow.data.update(data)
        ours = walk.runtime.dumps(walk.workflow)
        theirs = walk.runtime.serializer.serialize_json(walk.workflow)
        assert json.loads(ours) == json.loads(theirs)
        restored = walk.runtime.loads(DIAGRAM, ours)
        assert restored.data["when"] == odd["when"] and restored.data["how_long"] == odd["how_long"]
        assert restored.data["nested"] == odd["nested"]
        assert restored.data.get("big") == data.get("big")
        assert restored.data.get("text") == data.get("text")
        assert json.loads(walk.runtime.dumps(restored)) == json.loads(ours)
