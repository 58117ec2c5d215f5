"""The process table without a database: lookup, registration, the generic kind's rules."""

from __future__ import annotations

import pytest

from engine.workflow.processes import (
    ENDED,
    GENERIC,
    ProcessKind,
    end_status,
    kind_of,
    register,
    start_event,
)
from engine.workflow.specs import parse_diagram

UNLANED_START = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs_unlaned" targetNamespace="http://zhunru.test/unlaned">
  <bpmn:process id="notice" name="通知" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_reviewer" name="审核">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="review" />
    <bpmn:userTask id="review" name="审核">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end_done" />
    <bpmn:endEvent id="end_done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_a_process_nobody_registered_is_generic_and_a_domain_cannot_take_anothers() -> None:
    assert kind_of("no_such_process_anywhere") is GENERIC
    kind = ProcessKind(end_statuses=frozenset({"rejected"}))
    register("test_only_process", kind)
    register("test_only_process", kind)  # again: nothing changes
    assert kind_of("test_only_process") is kind
    with pytest.raises(ValueError):
        register("test_only_process", ProcessKind())


def test_end_events_name_only_statuses_a_domain_gave_meaning_to() -> None:
    assert end_status("end_rejected_review", {"rejected"}) == "rejected"
    assert end_status("end_approved", {"rejected"}) == ENDED
    assert end_status("finish", {"rejected"}) == ENDED
    assert GENERIC.status(None, set(), {"review"}) == "pending"


def test_the_start_event_is_found_in_the_spec_when_the_diagram_does_not_name_it() -> None:
    diagram = parse_diagram(UNLANED_START)
    assert start_event(diagram) == ("begin", None)  # outside any lane: the applicant starts
