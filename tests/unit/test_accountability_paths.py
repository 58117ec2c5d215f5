"""Every path of fault_tolerance and clearance at engine level, each also with a state round trip
per step; the diagrams' structure, deployability and drawing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.accountability.forms_accountability import APPEAL_FORM
from engine.errors import Conflict, InvalidDiagram, InvalidInput, NotFound
from engine.workflow.clock import ManualClock
from engine.workflow.diagram_svg import read_plane, render_svg
from engine.workflow.forms import form_for_start, form_for_task, ship_from
from engine.workflow.runtime import Runtime
from engine.workflow.services.deployments import _check_forms
from engine.workflow.specs import Diagram, parse_diagram, user_task_ids
from engine.workflow.time_functions import TimerRules
from engine.workflow.workdays import WorkingCalendar
from tests import accountability_factories as af
from tests.engine_modes import carry, modes
from tests.packages import shipped_diagram

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
XML = {
    name: (BPMN_DIR / name / f"{name}.bpmn").read_bytes()
    for name in ("fault_tolerance", "clearance")
}
# The shipped packages: each diagram with its JSON Schema forms.
DIAGRAMS = {name: shipped_diagram(name) for name in XML}
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
SVG = "{http://www.w3.org/2000/svg}"

# Monday 10:00 in the county (Asia/Shanghai), in a week without holidays. SpiffWorkflow still
# compares due times with the wall clock before our clock decides, so the test clock must not
# lie in the past: a timer due "earlier" than the wall clock would fire on its own.
START = datetime(2099, 3, 2, 2, 0, tzinfo=UTC)
LIMITS = {"cl_carry_out": 5}
CALENDAR_LIMITS = {"appeal_window": 15, "ft_appeal_decide": 30}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Walk:
    """Drives one workflow as the service would: forms validated with their context (case,
    task data, county rules, today); the state is carried between steps as `mode` says."""

    def __init__(
        self, process: str, payload: dict[str, Any], case: dict[str, Any], mode: str
    ) -> None:
        self.diagram: Diagram = DIAGRAMS[process]
        self.clock = ManualClock(START)
        self.calendar = WorkingCalendar()
        rules = TimerRules(
            self.clock, self.calendar, limits=LIMITS, calendar_limits=CALENDAR_LIMITS
        )
        self.runtime = Runtime(rules.functions())
        self.mode = mode
        self.case = case
        form = self.diagram.forms[self.diagram.start_id]
        values = form.validate(payload, self.context({}))
        # The service seeds the case facts beside the application.
        data = {**form.data_for("application", values), "case": case}
        self.workflow = self.runtime.start(self.diagram, data)
        self._checkpoint()

    @property
    def today(self) -> date:
        return self.calendar.local(self.clock.now()).date()

    def context(self, data: dict[str, Any]) -> dict[str, Any]:
        return af.context(case=self.case, data=data, today=self.today)

    def _checkpoint(self) -> None:
        self.workflow = carry(self.runtime, self.diagram, self.workflow, self.mode)

    def ready(self) -> list[str]:
        return sorted(view.bpmn_id for view in self.runtime.ready_user_tasks(self.workflow))

    def role_of(self, bpmn_id: str) -> str:
        views = [v for v in self.runtime.ready_user_tasks(self.workflow) if v.bpmn_id == bpmn_id]
        return self.diagram.lane_roles[views[0].lane]

    def do(self, bpmn_id: str, payload: dict[str, Any]) -> None:
        views = [v for v in self.runtime.ready_user_tasks(self.workflow) if v.bpmn_id == bpmn_id]
        assert views, f"{bpmn_id} is not ready; ready: {self.ready()}"
        task = self.runtime.get_task(self.workflow, views[0].spiff_task_id)
        form = self.diagram.forms[bpmn_id]
        values = form.validate(payload, self.context(views[0].data))
        self.runtime.complete(self.workflow, task, form.data_for(bpmn_id, values))
        self._checkpoint()

    def appeal(self, payload: dict[str, Any]) -> None:
        values = APPEAL_FORM.validate(payload)
        self.runtime.send_message(self.workflow, "ft_appeal", APPEAL_FORM.data_for("", values))
        self._checkpoint()

    def advance_to(self, moment: datetime) -> list[str]:
        """Move the clock and fire what is due, as the timer service does."""
        self.clock.advance(moment - self.clock.now())
        fired = self.runtime.fire_due_timers(self.workflow, self.clock.now())
        self._checkpoint()
        return fired

    def timers(self) -> dict[str, datetime]:
        return {
            task.task_spec.bpmn_id: due for task, due in self.runtime.waiting_timers(self.workflow)
        }

    def completed(self) -> list[str]:
        return self.runtime.completed_ids(self.workflow)

    @property
    def data(self) -> dict[str, Any]:
        return self.runtime.data(self.workflow)

    @property
    def end(self) -> str | None:
        return self.runtime.reached_end(self.workflow)


def tolerance(mode: str) -> Walk:
    return Walk("fault_tolerance", af.ft_application(), af.open_case(), mode)


def decided(mode: str, **decision: Any) -> Walk:
    walk = tolerance(mode)
    walk.do("ft_accept", af.ACCEPT)
    walk.do("ft_verify", af.ft_verification())
    walk.do("ft_decide", af.ft_decision(today=walk.today, **decision))
    return walk


# --- 容错纠错 -----------------------------------------------------------------------------------


@modes
def test_application_refused_at_acceptance(mode: str) -> None:
    walk = tolerance(mode)
    assert walk.ready() == ["ft_accept"]
    assert walk.role_of("ft_accept") == "discipline"
    assert walk.data["application"]["circumstances"] == ["reform_first_try", "losses_recovered"]
    assert walk.data["case"]["status"] == "open"
    walk.do("ft_accept", af.refuse_acceptance())
    assert walk.end == "end_refused"
    assert walk.ready() == [] and walk.timers() == {}
    assert walk.data["ft_accept"]["decision"] == "refuse"
    assert "ft_verify" not in walk.completed()


@modes
def test_reduced_without_appeal_is_filed_once_the_window_closes(mode: str) -> None:
    walk = tolerance(mode)
    walk.do("ft_accept", af.ACCEPT)
    assert walk.ready() == ["ft_verify"] and walk.role_of("ft_verify") == "discipline"
    walk.do("ft_verify", af.ft_verification())
    assert walk.ready() == ["ft_decide"] and walk.role_of("ft_decide") == "case_review"
    walk.do("ft_decide", af.ft_decision("reduced", today=walk.today))
    assert walk.data["ft_decision"]["outcome"] == "reduced"
    # Decided on Monday 2 March: 15 calendar days run to the 17th; the window closes as the
    # 18th begins in the county (16:00 UTC on the 17th).
    assert walk.ready() == []
    assert walk.runtime.waiting_messages(walk.workflow) == {"ft_appeal"}
    assert walk.timers() == {"gw_appeal": utc(2099, 3, 17, 16)}
    assert walk.runtime.next_due(walk.workflow) == utc(2099, 3, 17, 16)
    assert walk.advance_to(utc(2099, 3, 17, 15, 59)) == []
    assert walk.runtime.waiting_messages(walk.workflow) == {"ft_appeal"}
    # The event-based gateway holds its timer's due time, so the gateway is what fires.
    assert walk.advance_to(utc(2099, 3, 17, 16)) == ["gw_appeal"]
    assert "timer_appeal_window" in walk.completed() and "catch_appeal" not in walk.completed()
    assert walk.ready() == ["ft_file"] and walk.role_of("ft_file") == "discipline"
    with pytest.raises(Conflict):  # the window is closed
        walk.appeal(af.ft_appeal())
    walk.do("ft_file", af.ft_filing(today=walk.today))
    assert walk.end == "end_concluded"
    data = walk.data
    assert data["ft_filing"]["filed_with"] == "中共清河县委"
    assert "ft_appeal" not in data and "appeal" not in data and "ft_rectify" not in data


@modes
@pytest.mark.parametrize(
    ("decision", "outcome"), [(af.appeal_changed("exempt"), "exempt"), (af.appeal_upheld(), None)]
)
def test_appeal_is_decided_then_filed(
    mode: str, decision: dict[str, Any], outcome: str | None
) -> None:
    walk = decided(mode)
    walk.advance_to(utc(2099, 3, 12, 2))  # ten days later, within the window
    walk.appeal(af.ft_appeal())
    assert walk.ready() == ["ft_appeal_decide"]
    assert walk.role_of("ft_appeal_decide") == "case_review"
    assert walk.runtime.waiting_messages(walk.workflow) == set()  # one appeal only
    # 30 calendar days from the appeal (12 March): due as 12 April begins in the county.
    assert walk.timers() == {"deadline_ft_appeal_decide": utc(2099, 4, 11, 16)}
    assert walk.data["appeal"] == {"reason": af.ft_appeal()["reason"]}
    walk.do("ft_appeal_decide", decision)
    assert walk.ready() == ["ft_file"] and walk.timers() == {}
    walk.do("ft_file", af.ft_filing(today=walk.today))
    assert walk.end == "end_concluded"
    data = walk.data
    assert data["ft_appeal"]["decision"] == decision["decision"]
    assert data["ft_appeal"]["outcome"] == outcome
    assert data["ft_decision"]["outcome"] == "reduced"  # the first decision is kept as it was


@modes
def test_rectification_sent_back_once_then_closed(mode: str) -> None:
    walk = decided(mode, rectification=True)
    deadline = walk.data["ft_decision"]["rectification_deadline"]
    assert deadline == "2099-04-01"
    assert walk.ready() == ["ft_rectify"] and walk.role_of("ft_rectify") == "cadre"
    # The rectification deadline passes as the day after it begins in the county.
    assert walk.timers() == {
        "gw_appeal": utc(2099, 3, 17, 16),
        "deadline_ft_rectify": utc(2099, 4, 1, 16),
    }
    assert walk.advance_to(utc(2099, 3, 18)) == ["gw_appeal"]
    assert walk.ready() == ["ft_rectify"]  # the join waits for the correction
    walk.do("ft_rectify", af.ft_rectification(today=walk.today))
    assert walk.ready() == ["ft_supervise"] and walk.role_of("ft_supervise") == "discipline"
    walk.do("ft_supervise", af.supervise_continue())
    assert walk.ready() == ["ft_rectify"]
    assert walk.timers() == {"deadline_ft_rectify": utc(2099, 4, 1, 16)}
    walk.do("ft_rectify", af.ft_rectification(today=walk.today, report="管理办法已通过"))
    walk.do("ft_supervise", af.SUPERVISE_CLOSED)
    assert walk.ready() == ["ft_file"]
    walk.do("ft_file", af.ft_filing(today=walk.today))
    assert walk.end == "end_concluded"
    assert walk.completed().count("ft_rectify") == 2
    assert walk.completed().count("ft_supervise") == 2
    assert walk.data["ft_rectify"]["report"] == "管理办法已通过"
    assert walk.data["ft_supervise"]["decision"] == "closed"
    assert not any(step.startswith("end_escalated") for step in walk.completed())


@modes
def test_overdue_rectification_and_appeal_decision_escalate_and_stay_open(
    mode: str,
) -> None:
    walk = decided(mode, rectification=True)
    walk.advance_to(utc(2099, 3, 7, 2))
    walk.appeal(af.ft_appeal())  # on 7 March: decision due as 7 April begins
    assert walk.timers() == {
        "deadline_ft_rectify": utc(2099, 4, 1, 16),
        "deadline_ft_appeal_decide": utc(2099, 4, 6, 16),
    }
    assert walk.advance_to(utc(2099, 4, 1, 16)) == ["deadline_ft_rectify"]
    assert "escalate_ft_rectify" in walk.completed()
    assert "end_escalated_ft_rectify" in walk.completed()
    assert walk.ready() == ["ft_appeal_decide", "ft_rectify"]
    assert walk.end is None and not walk.workflow.completed
    assert walk.advance_to(utc(2099, 4, 6, 16)) == ["deadline_ft_appeal_decide"]
    assert "end_escalated_ft_appeal_decide" in walk.completed()
    assert walk.ready() == ["ft_appeal_decide", "ft_rectify"]
    assert walk.timers() == {}  # each deadline escalates once
    walk.do("ft_appeal_decide", af.appeal_upheld())
    walk.do("ft_rectify", af.ft_rectification(today=walk.today))
    walk.do("ft_supervise", af.SUPERVISE_CLOSED)
    walk.do("ft_file", af.ft_filing(today=walk.today))
    assert walk.end == "end_concluded"


def test_not_granted_still_opens_the_appeal_window() -> None:
    walk = decided(False, outcome="not_granted")
    assert walk.runtime.waiting_messages(walk.workflow) == {"ft_appeal"}
    walk.appeal(af.ft_appeal("请求重新认定"))
    walk.do("ft_appeal_decide", af.appeal_changed("lighter"))
    walk.do("ft_file", af.ft_filing(today=walk.today))
    assert walk.end == "end_concluded"
    assert walk.data["ft_appeal"]["outcome"] == "lighter"


# --- 澄清正名 -----------------------------------------------------------------------------------


def clearance(mode: str, case: dict[str, Any] | None = None, **application: Any) -> Walk:
    return Walk("clearance", af.cl_application(**application), case or af.untrue_case(), mode)


@modes
def test_not_proven_case_is_ineligible_and_refused(mode: str) -> None:
    case = af.untrue_case(status="not_proven", finding="not_proven")
    walk = clearance(mode, case)
    assert walk.ready() == ["cl_eligibility"] and walk.role_of("cl_eligibility") == "discipline"
    walk.do("cl_eligibility", af.ineligible(["not_proven", "not_untrue"]))
    assert walk.end == "end_refused"
    assert walk.data["cl_eligibility"]["grounds"] == ["not_proven", "not_untrue"]
    assert "cl_approve" not in walk.completed()


@modes
def test_eligible_but_approval_refused(mode: str) -> None:
    walk = clearance(mode, origin="proposal", person_consulted=True)
    walk.do("cl_eligibility", af.eligible())
    assert walk.ready() == ["cl_approve"] and walk.role_of("cl_approve") == "case_review"
    walk.do("cl_approve", af.approval_refused())
    assert walk.end == "end_refused"
    assert walk.data["cl_approval"]["decision"] == "refuse"
    assert walk.timers() == {}


@modes
def test_cleared_at_a_meeting(mode: str) -> None:
    walk = clearance(mode)
    walk.do("cl_eligibility", af.eligible())
    walk.advance_to(utc(2099, 3, 4, 2))  # approved on Wednesday 4 March
    walk.do("cl_approve", af.approved("meeting", scope=af.FALSE_POINTS[:1]))
    assert walk.ready() == ["cl_carry_out"] and walk.role_of("cl_carry_out") == "discipline"
    # Five working days after Wednesday: Thu, Fri, Mon, Tue, Wed 11 March; due as the 12th begins.
    assert walk.timers() == {"deadline_cl_carry_out": utc(2099, 3, 11, 16)}
    walk.do("cl_carry_out", af.carried_out("meeting", af.FALSE_POINTS[:1], today=walk.today))
    assert walk.end == "end_cleared"
    data = walk.data
    assert data["cl_result"]["method"] == "meeting"
    assert data["cl_result"]["points_cleared"] == af.FALSE_POINTS[:1]
    assert "cl_referral" not in data and "cl_refer" not in walk.completed()


@modes
def test_malicious_accusation_is_referred_then_cleared(mode: str) -> None:
    walk = clearance(mode)
    walk.do("cl_eligibility", af.eligible())
    walk.do("cl_approve", af.approved("written"))
    walk.do("cl_carry_out", af.carried_out("written", malicious=True, today=walk.today))
    assert walk.ready() == ["cl_refer"] and walk.role_of("cl_refer") == "discipline"
    assert walk.end is None
    walk.do("cl_refer", af.referral())
    assert walk.end == "end_cleared"
    assert walk.data["cl_referral"]["referred_to"] == "police"
    assert walk.data["cl_result"]["malicious_accusation"] is True


@modes
def test_overdue_clearance_escalates_and_stays_open(mode: str) -> None:
    walk = clearance(mode)
    walk.do("cl_eligibility", af.eligible())
    walk.do("cl_approve", af.approved("circular"))
    # Approved Monday 2 March: due as Tuesday 10 March begins (16:00 UTC on the 9th).
    assert walk.timers() == {"deadline_cl_carry_out": utc(2099, 3, 9, 16)}
    assert walk.advance_to(utc(2099, 3, 9, 15, 59)) == []
    assert walk.advance_to(utc(2099, 3, 9, 16)) == ["deadline_cl_carry_out"]
    assert "end_escalated_cl_carry_out" in walk.completed()
    assert walk.ready() == ["cl_carry_out"] and walk.end is None
    walk.do("cl_carry_out", af.carried_out("circular", today=walk.today))
    assert walk.end == "end_cleared"


def test_carry_out_deadline_counts_working_days_across_a_holiday() -> None:
    """Checked against the calendar rather than a literal: 1 October is National Day."""
    walk = clearance(False)
    walk.do("cl_eligibility", af.eligible())
    walk.advance_to(utc(2099, 9, 30, 2))
    walk.do("cl_approve", af.approved())
    due = walk.timers()["deadline_cl_carry_out"]
    assert due == walk.calendar.deadline(utc(2099, 9, 30, 2), 5)
    # Without the National Day holidays it would be due as Thursday 8 October begins.
    assert due > utc(2099, 10, 7, 16)


# --- the diagrams themselves --------------------------------------------------------------------

EXPECTED = {
    "fault_tolerance": {
        "name": "容错纠错",
        "tasks": {
            "ft_accept": "discipline",
            "ft_verify": "discipline",
            "ft_decide": "case_review",
            "ft_appeal_decide": "case_review",
            "ft_rectify": "cadre",
            "ft_supervise": "discipline",
            "ft_file": "discipline",
        },
        "ends": {
            "end_refused",
            "end_concluded",
            "end_escalated_ft_appeal_decide",
            "end_escalated_ft_rectify",
        },
        "deadlines": {
            "ft_appeal_decide": "days_after('ft_appeal_decide')",
            "ft_rectify": "end_of_day(ft_decision['rectification_deadline'])",
        },
        "messages": {"ft_appeal"},
    },
    "clearance": {
        "name": "澄清正名",
        "tasks": {
            "cl_eligibility": "discipline",
            "cl_approve": "case_review",
            "cl_carry_out": "discipline",
            "cl_refer": "discipline",
        },
        "ends": {"end_refused", "end_cleared", "end_escalated_cl_carry_out"},
        "deadlines": {"cl_carry_out": "deadline('cl_carry_out')"},
        "messages": set(),
    },
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def drawn(svg: str) -> set[str]:
    """Ids of the elements drawn in well-formed SVG."""
    root = etree.fromstring(svg.encode())
    return {g.get("data-element-id") for g in root.iter(f"{SVG}g") if g.get("data-element-id")}


def _root(process: str) -> etree._Element:
    return etree.fromstring(XML[process])


@pytest.mark.parametrize("process", sorted(XML))
def test_diagram_is_deployable_with_a_form_for_every_step(process: str) -> None:
    diagram = DIAGRAMS[process]
    _check_forms(diagram)  # raises InvalidDiagram when a step has no form
    assert diagram.process_id == process and diagram.name == EXPECTED[process]["name"]
    assert user_task_ids(diagram) == set(EXPECTED[process]["tasks"])
    assert set(diagram.lane_roles.values()) == {"cadre", "discipline", "case_review"}


@pytest.mark.parametrize("process", sorted(XML))
def test_each_task_sits_in_its_roles_lane(process: str) -> None:
    lanes = {
        ref.text: lane.get("id").removeprefix("lane_")
        for lane in _root(process).iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    assert {task: lanes[task] for task in EXPECTED[process]["tasks"]} == EXPECTED[process]["tasks"]
    assert lanes["start_apply"] == "cadre"
    nodes = {n.get("id") for n in _root(process).iterfind("bpmn:process/*", NS)} - {None}
    flows = {f.get("id") for f in _root(process).iterfind("bpmn:process/bpmn:sequenceFlow", NS)}
    assert set(lanes) == nodes - flows - {f"LaneSet_{process}"}  # every flow node in one lane


@pytest.mark.parametrize("process", sorted(XML))
def test_ends_deadlines_and_messages_follow_the_contract(process: str) -> None:
    root, expected = _root(process), EXPECTED[process]
    ends = {e.get("id") for e in root.iterfind(".//bpmn:endEvent", NS)}
    assert ends == expected["ends"]
    boundaries = {b.get("attachedToRef"): b for b in root.iterfind(".//bpmn:boundaryEvent", NS)}
    assert set(boundaries) == set(expected["deadlines"])
    flows = {
        f.get("sourceRef"): f.get("targetRef") for f in root.iterfind(".//bpmn:sequenceFlow", NS)
    }
    for step, expression in expected["deadlines"].items():
        boundary = boundaries[step]
        assert boundary.get("id") == f"deadline_{step}"
        assert boundary.get("cancelActivity") == "false"  # the task stays open
        assert boundary.findtext(".//bpmn:timeDate", namespaces=NS) == expression
        assert flows[f"deadline_{step}"] == f"escalate_{step}"
        assert flows[f"escalate_{step}"] == f"end_escalated_{step}"
    messages = {m.get("name") for m in root.iterfind("bpmn:message", NS)}
    assert messages == expected["messages"]


def test_appeal_window_is_the_only_timer_of_its_event_based_gateway() -> None:
    root = _root("fault_tolerance")
    targets = [
        f.get("targetRef")
        for f in root.iterfind(".//bpmn:sequenceFlow", NS)
        if f.get("sourceRef") == "gw_appeal"
    ]
    assert sorted(targets) == ["catch_appeal", "timer_appeal_window"]
    timer = root.find(".//bpmn:intermediateCatchEvent[@id='timer_appeal_window']", NS)
    assert timer.findtext(".//bpmn:timeDate", namespaces=NS) == "days_after('appeal_window')"


@pytest.mark.parametrize("process", sorted(XML))
def test_every_element_has_a_chinese_name(process: str) -> None:
    root = _root(process)
    named = [
        *root.iterfind(".//bpmn:participant", NS),
        *root.iterfind("bpmn:process", NS),
        *root.iterfind(".//bpmn:lane", NS),
        *(
            e
            for e in root.iterfind("bpmn:process/*", NS)
            if e.get("id") is not None and not e.tag.endswith("laneSet")
        ),
    ]
    conditional = {
        f.get("id")
        for f in root.iterfind(".//bpmn:sequenceFlow", NS)
        if f.find("bpmn:conditionExpression", NS) is not None
    }
    unnamed = [
        e.get("id")
        for e in named
        if not CJK.search(e.get("name") or "")
        and (not e.tag.endswith("sequenceFlow") or e.get("id") in conditional)
    ]
    assert unnamed == []


@pytest.mark.parametrize("process", sorted(XML))
def test_every_shape_and_flow_of_the_interchange_is_drawn(process: str) -> None:
    xml, root = XML[process], _root(process)
    plane = read_plane(xml)
    ids = {s.element.id for s in plane.shapes} | {e.element.id for e in plane.edges}
    assert set(drawn(render_svg(xml))) == ids
    # Full interchange: the pool, every lane, flow node and sequence flow has its shape or edge.
    model = {
        e.get("id")
        for e in (
            *root.iterfind(".//bpmn:participant", NS),
            *root.iterfind(".//bpmn:lane", NS),
            *root.iterfind("bpmn:process/*", NS),
        )
        if e.get("id") is not None  # the process's own properties (extensionElements)
    } - {f"LaneSet_{process}"}
    assert model == ids
    assert len([s for s in plane.shapes if s.element.kind == "lane"]) == 3


@pytest.mark.parametrize("process", sorted(XML))
def test_lanes_are_horizontal_bands_and_nodes_sit_inside_theirs(process: str) -> None:
    plane = read_plane(XML[process])
    lanes = sorted((s for s in plane.shapes if s.element.kind == "lane"), key=lambda s: s.box.y)
    for upper, lower in zip(lanes, lanes[1:], strict=False):
        assert upper.box.y + upper.box.h == lower.box.y and upper.box.x == lower.box.x
    member = {
        ref.text: lane.get("id")
        for lane in _root(process).iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    band = {s.element.id: s.box for s in lanes}
    for shape in plane.shapes:
        if shape.element.id in member:
            lane, box = band[member[shape.element.id]], shape.box
            assert lane.y <= box.y and box.y + box.h <= lane.y + lane.h, shape.element.id
            assert lane.x < box.x and box.x + box.w <= lane.x + lane.w, shape.element.id


@pytest.mark.parametrize("process", sorted(XML))
def test_without_its_forms_the_diagram_is_refused_and_only_legacy_versions_borrow(
    process: str,
) -> None:
    """Nothing is built into the service: a diagram naming no forms is refused at deployment.
    Only a version stored before packages (a bare diagram of a process the service ships)
    takes its steps' forms from the shipped package; any other has none to take."""
    forms = rb"\s*<spiffworkflow:properties>.*?</spiffworkflow:properties>"
    formless = re.sub(forms, b"", XML[process], flags=re.S)
    bare = parse_diagram(formless)
    with pytest.raises(InvalidDiagram) as refused:
        _check_forms(bare)
    missing = refused.value.errors["xml"]
    assert f"流程 {process} 没有申请表单" in missing
    assert {f"任务 {step} 没有表单定义" for step in user_task_ids(bare)} <= set(missing)

    ship_from(BPMN_DIR)
    shipped = DIAGRAMS[process]
    assert form_for_start(bare).json_schema == shipped.forms[shipped.start_id].json_schema
    step = sorted(user_task_ids(bare))[0]
    assert form_for_task(bare, step).json_schema == shipped.forms[step].json_schema
    stranger = parse_diagram(formless.replace(f'id="{process}"'.encode(), b'id="not_shipped"'))
    with pytest.raises(NotFound):
        form_for_start(stranger)
    with pytest.raises(InvalidInput):
        form_for_task(stranger, step)
