"""The diagram drawn from its interchange: every shape and flow, and where the matter stands."""

from __future__ import annotations

from lxml import etree

from engine.workflow.diagram_svg import read_plane, render_svg
from tests.packages import BPMN

XML = (BPMN / "matter_admission" / "matter_admission.bpmn").read_bytes()
SVG = "{http://www.w3.org/2000/svg}"


def drawn(svg: str) -> dict[str, str]:
    """element id → class attribute of its group, from well-formed SVG."""
    root = etree.fromstring(svg.encode())
    return {
        g.get("data-element-id"): g.get("class", "")
        for g in root.iter(f"{SVG}g")
        if g.get("data-element-id")
    }


def test_every_shape_and_flow_of_the_interchange_is_drawn() -> None:
    plane = read_plane(XML)
    groups = drawn(render_svg(XML))
    ids = {s.element.id for s in plane.shapes} | {e.element.id for e in plane.edges}
    assert set(groups) == ids
    assert {"review", "confirm_entry", "lane_township", "f_review_pass"} <= ids


def test_completed_steps_current_tasks_and_taken_flows_are_marked() -> None:
    done = {"start_apply", "legal_review", "gw_legal"}
    svg = render_svg(XML, completed=done, current={"review"})
    groups = drawn(svg)
    assert "bpmn-current" in groups["review"]
    assert "bpmn-done" in groups["legal_review"]
    assert "bpmn-done" in groups["f_legal_to_review"]  # from a completed step to the current one
    assert "bpmn-done" not in groups["f_legal_needs_change"]  # the way not taken
    assert "bpmn-done" not in groups["f_review"] and "bpmn-current" not in groups["approve"]
    assert "当前环节：审核" in etree.fromstring(svg.encode()).get("aria-label")


def test_names_are_escaped_and_a_diagram_without_interchange_still_draws() -> None:
    xml = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC">
  <bpmn:process id="p"><bpmn:userTask id="t" name="A &amp; &lt;B&gt;"/></bpmn:process>
  <bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">
    <bpmndi:BPMNShape bpmnElement="t"><dc:Bounds x="0" y="0" width="100" height="80"/>
    </bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""
    svg = render_svg(xml, current={"t"})
    assert "A &amp; &lt;B&gt;" in svg
    assert drawn(svg) == {"t": "bpmn-userTask bpmn-current"}
    bare = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
    assert drawn(render_svg(bare)) == {}


def test_a_subprocess_is_a_frame_under_its_steps_and_effects_are_marked() -> None:
    """Each township's confirmation and register entry are drawn inside the loop over the
    townships, above its frame (nothing hidden under it); the loop shows its multi-instance
    bars and the register entry the cog of a service task."""
    svg = render_svg(XML, current={"confirm_entry", "enter_townships"})
    root = etree.fromstring(svg.encode())
    groups = [g for g in root.iter(f"{SVG}g") if g.get("data-element-id")]
    order = [g.get("data-element-id") for g in groups]
    frame = order.index("enter_townships")
    assert frame < order.index("confirm_entry") and frame < order.index("enter_register")
    assert frame < order.index("f_confirmed")  # the flows inside are drawn over the frame
    by_id = {g.get("data-element-id"): g for g in groups}
    assert "bpmn-current" in by_id["confirm_entry"].get("class")
    bars = by_id["enter_townships"].findall(f"{SVG}path")
    assert len(bars) == 1 and bars[0].get("d").count("V") == 3  # upright: side by side
    assert by_id["enter_register"].find(f"{SVG}circle") is not None  # the cog
    assert by_id["confirm_entry"].find(f"{SVG}circle") is None
