"""Diagrams are vetted when deployed: bad XML, hostile XML and code in diagrams are refused."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.errors import InvalidDiagram
from engine.workflow.packages import Package
from engine.workflow.specs import DiagramRegistry, parse_diagram, parse_package, sha256_of
from tests.packages import shipped, shipped_diagram

PACKAGE = shipped("matter_admission")
XML, FILES = PACKAGE.xml, PACKAGE.files
CONDITION = b"review['decision'] == 'pass'"


def refused(xml: bytes) -> InvalidDiagram:
    with pytest.raises(InvalidDiagram) as caught:
        parse_diagram(xml, FILES)
    return caught.value


def test_the_admission_diagram_maps_every_lane_to_a_role() -> None:
    diagram = parse_diagram(XML, FILES)
    assert diagram.process_id == "matter_admission"
    assert sorted(diagram.lane_roles.values()) == [
        "applicant",
        "approver",
        "legal_reviewer",
        "reviewer",
        "township",
    ]


NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
NOT_DRAWN = ("laneSet", "property", "multiInstanceLoopCharacteristics", "extensionElements")


@pytest.mark.parametrize(
    "name", ["matter_admission", "fault_tolerance", "clearance", "secondment_admission"]
)
def test_every_flow_node_has_diagram_interchange(name: str) -> None:
    """Every node and flow is drawn, those inside a subprocess too (a modeler would lose or
    misplace what is not)."""
    root = etree.fromstring(shipped(name).xml)
    containers = root.xpath("bpmn:process | .//bpmn:subProcess", namespaces=NS)
    elements = {
        el.get("id")
        for container in containers
        for el in container
        if el.get("id") and not el.tag.endswith(NOT_DRAWN)
    }
    drawn = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert elements and elements - drawn == set()


EFFECTS = {
    "matter_admission": {
        "enter_register": "register.enter",
        "notify_exit": "register.exit",
        "notify_returned": "applicant.notify",
        "notify_rejected_review": "applicant.notify",
        "notify_rejected_approval": "applicant.notify",
        "notify_incoming": "townships.notify",
        "notify_entered": "applicant.notify",
        "enter_upheld": "register.enter",
        "drop_township": "townships.drop",
        "notify_objection_kept": "townships.notify",
        "township_exits": "register.exit",
        "notify_objection_raised": "applicant.notify",
        "notify_declined": "applicant.notify",
        "notify_reevaluation": "applicant.notify",
    },
    "fault_tolerance": {
        "tell_tolerance_refused": "case.refuse_tolerance",
        "tell_tolerance_accepted": "case.accept_tolerance",
        "record_tolerance_outcome": "case.record_tolerance_outcome",
        "record_appeal_decision": "case.record_appeal_decision",
    },
    "clearance": {
        "tell_ineligible": "case.refuse_clearance",
        "tell_approval_refused": "case.refuse_clearance",
        "tell_clearance_approved": "case.approve_clearance",
        "record_clearance": "case.record_clearance",
    },
    "secondment_admission": {
        "notify_township": "townships.notify",
        "enter_register": "register.enter",
        "exit_register": "register.exit",
    },
}


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_what_a_shipped_procedure_does_beyond_the_workflow_is_a_service_task(name: str) -> None:
    """An auditor reading a diagram sees every effect: the register entry and exit, the case
    outcome, each written notice, as a service task naming its operation."""
    root = etree.fromstring(shipped(name).xml)
    found = {
        task.get("id"): operator.get("id")
        for task in root.iterfind(".//bpmn:serviceTask", NS)
        for operator in task.iterfind(".//spiffworkflow:serviceTaskOperator", NS)
    }
    assert found == EFFECTS[name]
    assert shipped_diagram(name).operates


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

    def load() -> object:
        loads.append(1)
        return PACKAGE

    first = registry.get(sha256_of(XML), load)
    second = registry.get(sha256_of(XML), load)
    assert first is second and loads == [1]


def test_user_task_outside_every_lane_is_refused() -> None:
    xml = XML.replace(b"<bpmn:flowNodeRef>legal_review</bpmn:flowNodeRef>", b"", 1)
    assert "legal_review" in str(refused(xml).errors["xml"])


PAYLOAD = "__import__('os').system('id')"
EXPRESSION_PLACES = {
    "conditional event": (
        '<bpmn:intermediateCatchEvent id="wait_until"><bpmn:conditionalEventDefinition>'
        "<bpmn:condition>{}</bpmn:condition>"
        "</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>"
    ),
    "standard loop condition": (
        '<bpmn:userTask id="again"><bpmn:standardLoopCharacteristics>'
        "<bpmn:loopCondition>{}</bpmn:loopCondition>"
        "</bpmn:standardLoopCharacteristics></bpmn:userTask>"
    ),
    "timer cycle": (
        '<bpmn:intermediateCatchEvent id="every"><bpmn:timerEventDefinition>'
        "<bpmn:timeCycle>{}</bpmn:timeCycle></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    ),
    "timer duration": (
        '<bpmn:intermediateCatchEvent id="after"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>{}</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    ),
    "multi-instance cardinality and completion": (
        '<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics>'
        "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
        "<bpmn:completionCondition>{}</bpmn:completionCondition>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
    ),
    "ad hoc completion": (
        '<bpmn:adHocSubProcess id="adhoc"><bpmn:completionCondition>{}</bpmn:completionCondition>'
        "</bpmn:adHocSubProcess>"
    ),
}
CORRELATION = (
    '<bpmn:correlationProperty id="cp" name="cp">'
    '<bpmn:correlationPropertyRetrievalExpression messageRef="msg_objection">'
    "<bpmn:{tag}>{expression}</bpmn:{tag}>"
    "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"
)


def _with(fragment: str) -> bytes:
    return XML.replace(b"</bpmn:process>", fragment.encode() + b"</bpmn:process>")


@pytest.mark.parametrize("place", sorted(EXPRESSION_PLACES))
def test_code_is_refused_wherever_the_engine_evaluates_an_expression(place: str) -> None:
    error = refused(_with(EXPRESSION_PLACES[place].format(PAYLOAD.replace("'", "&apos;"))))
    assert error.message == "流程图包含不允许的表达式或脚本"
    assert "__import__" in str(error.errors["xml"])


@pytest.mark.parametrize("tag", ["formalExpression", "messagePath"])
def test_code_in_a_message_correlation_is_refused(tag: str) -> None:
    fragment = CORRELATION.format(tag=tag, expression=PAYLOAD.replace("'", "&apos;"))
    xml = XML.replace(b"</bpmn:process>", b"</bpmn:process>" + fragment.encode())
    assert "__import__" in str(refused(xml).errors["xml"])


@pytest.mark.parametrize(
    "script",
    ["x = [1] * 100000000", "x = 'a' * 1000000000", "x = 2 ** 10**8", "x = 10**9"],
)
def test_scripts_that_would_build_huge_values_are_refused(script: str) -> None:
    task = f'<bpmn:scriptTask id="big"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
    error = refused(_with(task))
    assert script.split(" * ")[-1].split(" ** ")[-1] in str(error.errors["xml"])


def test_overlong_expressions_are_refused() -> None:
    long = " or ".join(["review[&apos;decision&apos;] == &apos;pass&apos;"] * 40)
    error = refused(XML.replace(CONDITION, long.encode()))
    assert "字符" in str(error.errors["xml"])


def test_a_huge_constant_loop_cardinality_is_refused() -> None:
    fragment = EXPRESSION_PLACES["multi-instance cardinality and completion"].replace(
        ">3<", ">1000000<"
    )
    error = refused(_with(fragment.format("True")))
    assert "多实例数量 1000000" in str(error.errors["xml"])


@pytest.mark.parametrize(
    "element",
    [
        '<bpmn:serviceTask id="send_mail" name="发邮件" />',
        '<bpmn:sendTask id="notify" />',
        '<bpmn:receiveTask id="await_reply" />',
        '<bpmn:businessRuleTask id="decide" />',
        '<bpmn:callActivity id="call_other" calledElement="clearance" />',
        '<bpmn:manualTask id="by_hand" />',
        '<bpmn:transaction id="inner" />',
        '<bpmn:adHocSubProcess id="ad_hoc" />',
        '<bpmn:subProcess id="on_event" triggeredByEvent="true" />',
        '<bpmn:dataStoreReference id="store_ref" />',
        '<bpmn:inclusiveGateway id="some_of" />',
    ],
)
def test_elements_the_runtime_cannot_run_are_refused_by_name(element: str) -> None:
    error = refused(_with(element))
    assert error.message == "流程图包含本系统不支持的元素"
    tag = element.split()[0].removeprefix("<bpmn:")
    element_id = element.split('id="')[1].split('"')[0]
    assert f"不支持的元素 {tag}：{element_id}" in error.errors["xml"]


def test_unsupported_elements_and_bad_code_are_reported_together() -> None:
    xml = _with(
        '<bpmn:serviceTask id="send_mail" />'
        + EXPRESSION_PLACES["conditional event"].format(PAYLOAD.replace("'", "&apos;"))
    )
    problems = str(refused(xml).errors["xml"])
    assert "__import__" in problems
    assert "serviceTask" in problems and "conditionalEventDefinition" in problems
    assert "不支持的元素 condition'" not in problems  # what is inside is not reported again


def test_extension_elements_are_not_read() -> None:
    extension = (
        b'<bpmn:extensionElements><vendor:anything xmlns:vendor="urn:vendor" />'
        b"</bpmn:extensionElements>"
    )
    gateway = '<bpmn:exclusiveGateway id="gw_revise" name="重新提交？">'.encode()
    head, tail = XML.split(gateway, 1)
    xml = head + gateway + extension + tail
    assert parse_diagram(xml, FILES).process_id == "matter_admission"


@pytest.mark.parametrize("name", ["matter_admission", "fault_tolerance", "clearance"])
def test_the_shipped_diagrams_pass_every_check(name: str) -> None:
    assert shipped_diagram(name).process_id == name


def test_a_recusal_must_name_a_step_of_the_diagram() -> None:
    """回避 is the diagram's: `recuseFrom` on a user task names steps of the same process."""
    package = shipped("fault_tolerance")
    assert shipped_diagram("fault_tolerance").recusals == {
        "ft_appeal_decide": frozenset({"ft_decide"})
    }
    bad = package.xml.replace(
        b'name="recuseFrom" value="ft_decide"', b'name="recuseFrom" value="ft_nowhere"'
    )
    with pytest.raises(InvalidDiagram) as refused:
        parse_package(Package(bad, package.files))
    assert "ft_nowhere" in refused.value.errors["xml"][0]
