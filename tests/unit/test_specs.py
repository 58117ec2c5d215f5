"""Diagrams are vetted when deployed: bad XML, hostile XML and code in diagrams are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidDiagram
from engine.specs import DiagramRegistry, parse_diagram, sha256_of

XML = (Path(__file__).parents[2] / "bpmn" / "matter_admission.bpmn").read_bytes()
CONDITION = b"review['decision'] == 'pass'"


def refused(xml: bytes) -> InvalidDiagram:
    with pytest.raises(InvalidDiagram) as caught:
        parse_diagram(xml)
    return caught.value


def test_the_admission_diagram_maps_every_lane_to_a_role() -> None:
    diagram = parse_diagram(XML)
    assert diagram.process_id == "matter_admission"
    assert sorted(diagram.lane_roles.values()) == [
        "applicant",
        "approver",
        "legal_reviewer",
        "reviewer",
        "township",
    ]


def test_every_flow_node_has_diagram_interchange() -> None:
    from lxml import etree

    root = etree.fromstring(XML)
    ns = {
        "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    }
    process = root.find("bpmn:process", ns)
    elements = {el.get("id") for el in process if el.get("id") and not el.tag.endswith("laneSet")}
    drawn = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", ns)}
    drawn |= {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", ns)}
    assert elements - drawn == set()


@pytest.mark.parametrize(
    "condition",
    [
        b"().__class__.__base__.__subclasses__()",
        b"__import__('os').system('touch /tmp/owned')",
        b"review.get('decision') == 'pass'",
    ],
)
def test_condition_with_code_is_refused(condition: bytes) -> None:
    error = refused(XML.replace(CONDITION, condition.replace(b"'", b"&apos;")))
    assert "不允许" in str(error.errors["xml"]) or "只允许" in str(error.errors["xml"])


def test_script_task_with_import_is_refused() -> None:
    script = (
        b'<bpmn:scriptTask id="sneaky" name="x"><bpmn:script>import os\nos.system("id")'
        b"</bpmn:script></bpmn:scriptTask>"
    )
    xml = XML.replace(b"</bpmn:process>", script + b"</bpmn:process>")
    assert "脚本" in str(refused(xml).errors["xml"])


def test_malformed_xml_is_a_clear_error() -> None:
    assert refused(XML[: len(XML) // 2]).message == "流程图不是合法的 XML"
    assert refused(b"").message == "流程图不是合法的 XML"


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<definitions>&lol2;</definitions>"
    )
    refused(bomb)


def test_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<definitions>&x;</definitions>"
    )
    refused(xxe)


def test_lane_without_a_known_role_is_refused() -> None:
    error = refused(XML.replace(b'id="lane_reviewer"', b'id="lane_boss"'))
    assert "lane_boss" in str(error.errors["xml"])


def test_broken_diagram_interchange_is_a_clear_error() -> None:
    xml = XML.replace(b'<dc:Bounds x="', b'<dc:Bounds x="wide', 1)
    error = refused(xml)
    assert error.errors["xml"]


def test_xsd_violations_are_reported() -> None:
    error = refused(XML.replace(b'isSequential="false"', b'isSequential="maybe"'))
    assert error.message == "流程图无法解析"


def test_registry_parses_each_diagram_once() -> None:
    registry = DiagramRegistry()
    loads = []

    def load() -> bytes:
        loads.append(1)
        return XML

    first = registry.get(sha256_of(XML), load)
    second = registry.get(sha256_of(XML), load)
    assert first is second and loads == [1]


def test_user_task_outside_every_lane_is_refused() -> None:
    xml = XML.replace(b"<bpmn:flowNodeRef>legal_review</bpmn:flowNodeRef>", b"", 1)
    assert "legal_review" in str(refused(xml).errors["xml"])
