"""Parse and validate BPMN diagrams once; a registry of parsed specs keyed by the XML's sha256."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from engine.authz import ROLES
from engine.errors import InvalidDiagram
from engine.workflow.expressions import (
    LIMITS,
    UnsafeExpression,
    check_expression,
    check_script,
    static_int,
)
from engine.workflow.operations import signature_problems
from engine.workflow.packages import SPIFF_NS, Package, check_files, form_refs, none_start_id
from engine.workflow.schema_forms import build_form

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": SPIFF_NS}
MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
LANE_PREFIX = "lane_"

# Every place in BPMN that holds an expression SpiffWorkflow's BpmnParser hands to the engine
# (bpmn/parser/*.py): flow conditions, timers, loop cardinality and conditions, completion
# conditions (multi-instance and ad hoc), conditional events, message correlation retrieval
# (its first child, `formalExpression` as modellers write it or `messagePath` as the XSD does).
# loopDataInputRef / inputDataItem / … name data; they are not evaluated.
_EXPRESSION_XPATHS = (
    ".//bpmn:conditionExpression",
    ".//bpmn:timeDuration",
    ".//bpmn:timeDate",
    ".//bpmn:timeCycle",
    ".//bpmn:loopCardinality",
    ".//bpmn:loopCondition",
    ".//bpmn:completionCondition",
    ".//bpmn:condition",
    ".//bpmn:correlationPropertyRetrievalExpression/*",
    ".//bpmn:formalExpression",
    ".//bpmn:messagePath",
)
_SCRIPT_XPATHS = (".//bpmn:script",)

# The BPMN elements the runtime and the services run (and the inert ones modellers write):
# user tasks in lanes, restricted scripts, service tasks naming a registered operation
# (engine/operations), exclusive/parallel/event-based gateways, timer and message events, none
# throw events, multi-instance over a data list. Anything else (send, receive, business-rule,
# manual tasks, call activities, subprocesses, data objects and stores, signals, errors,
# conditional events, …) would reach the engine at run time and fail there, so it is refused
# when deployed. Only elements in the BPMN model namespace are checked; of extensionElements,
# only a service task's operator is read (by _operation_problems).
SUPPORTED_ELEMENTS = frozenset(
    {
        "definitions",
        "collaboration",
        "participant",
        "message",
        "process",
        "documentation",
        "extensionElements",
        "textAnnotation",
        "text",
        "association",
        "laneSet",
        "lane",
        "childLaneSet",
        "flowNodeRef",
        "sequenceFlow",
        "conditionExpression",
        "incoming",
        "outgoing",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "timerEventDefinition",
        "timeDate",
        "timeDuration",
        "timeCycle",
        "messageEventDefinition",
        "exclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "userTask",
        "scriptTask",
        "script",
        "serviceTask",
        # An embedded subprocess: steps that run together, once per item of a multi-instance
        # loop (each township confirms, then its register entry is made).
        "subProcess",
        "multiInstanceLoopCharacteristics",
        # Declares a process variable so a loopDataInputRef / loopDataOutputRef naming it
        # resolves in modelers; SpiffWorkflow's parser does not read it (no run-time effect).
        "property",
        "loopDataInputRef",
        "loopDataOutputRef",
        "inputDataItem",
        "outputDataItem",
        "loopCardinality",
        "completionCondition",
    }
)


class OperationTask(ServiceTask):
    """A service task as the runtime knows it: the operation it names and its parameters
    (id → (type, value), unresolved). The engine completes it at once and calls nothing
    (SpiffWorkflow's own service task asks the script engine to `call_service`); the core runs
    the operation once the command's engine steps are done (services/commands.save)."""

    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        operation: str = "",
        parameters: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.operation = operation
        self.parameters = {key: tuple(value) for key, value in (parameters or {}).items()}

    def _run_hook(self, task: Any) -> bool:
        return True


def operator_of(node: etree._Element) -> tuple[str, dict[str, tuple[str, str]]] | None:
    """The operation a serviceTask element names and its parameters (id → (type, value)), as
    SpiffArena writes them; None when it names none."""
    found = node.xpath("./bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
    if not found:
        return None
    parameters = {
        param.get("id", ""): (param.get("type", ""), param.get("value", ""))
        for param in found[0].xpath(
            "./spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS
        )
    }
    return found[0].get("id", ""), parameters


class _OperationTaskParser(TaskParser):
    def create_task(self) -> OperationTask:
        name, parameters = operator_of(self.node) or ("", {})
        return OperationTask(self.spec, self.bpmn_id, name, parameters, **self.bpmn_attributes)


class _Parser(BpmnParser):
    """BpmnParser with service tasks parsed as OperationTask."""

    OVERRIDE_PARSER_CLASSES = {full_tag("serviceTask"): (_OperationTaskParser, OperationTask)}


@dataclass(frozen=True)
class Diagram:
    """A parsed, validated diagram, shared read-only by every instance of its deployment."""

    process_id: str
    name: str
    sha256: str
    xml: bytes
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, Any]
    # lane name (as SpiffWorkflow reports it on a task) -> role code
    lane_roles: dict[str, str]
    # The package's forms by the id of the step that collects them (user tasks and the start
    # event); empty for a bare diagram stored before packages (see workflow/forms).
    forms: Mapping[str, Any] = field(default_factory=dict)
    # The id of the process's none start event (its start form's step id).
    start_id: str = ""
    # 回避: step id → the steps whose doer may not take it on the same instance (a user task's
    # `spiffworkflow:property name="recuseFrom"`, step ids separated by commas).
    recusals: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # What its instances' numbers start with (准 → 准〔2026〕3号): the process's
    # `spiffworkflow:property name="numberPrefix"`, else the platform's default.
    number_prefix: str = ""

    @cached_property
    def operates(self) -> bool:
        """Whether any service task names an operation: a diagram without one costs every
        command nothing looking for operations to run, and keeps its domain's legacy hooks."""
        return any(isinstance(task_spec, OperationTask) for task_spec in self.task_specs())

    def task_specs(self) -> list[Any]:
        """Every step of the process, those inside its subprocesses included."""
        return [
            task_spec
            for process_spec in (self.spec, *self.subprocess_specs.values())
            for task_spec in process_spec.task_specs.values()
        ]


def sha256_of(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


class _LockedValidator(BpmnValidator):
    """The BPMN XSD validator, built once per process under a lock and used under it.

    libxml2 initialises its schema types lazily and not thread-safely: two threads building a
    schema at once can fail ("not a built-in type"), and a process where that happened fails
    every later build. So the one validator is built before serving (`warm_up`), never
    concurrently, and validation itself (which shares the schema's error log) is serialised.
    """

    _lock = threading.Lock()

    def validate(self, bpmn: Any, filename: str | None = None) -> None:
        with self._lock:
            super().validate(bpmn, filename)


_VALIDATOR: list[BpmnValidator] = []
_VALIDATOR_LOCK = threading.Lock()


def _validator() -> BpmnValidator:
    if not _VALIDATOR:
        with _VALIDATOR_LOCK:
            if not _VALIDATOR:
                _VALIDATOR.append(_LockedValidator())
    return _VALIDATOR[0]


def warm_up() -> None:
    """Build what every process shares before it serves: call once at start, one thread."""
    _validator()


def _secure_parse(xml: bytes) -> etree._Element:
    if len(xml) > MAX_DIAGRAM_BYTES:
        raise InvalidDiagram("流程图文件过大", {"xml": [f"不能超过 {MAX_DIAGRAM_BYTES} 字节"]})
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(xml, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidDiagram("流程图不是合法的 XML", {"xml": [str(exc)]}) from exc
    if root.getroottree().docinfo.doctype:
        raise InvalidDiagram("流程图不得包含 DOCTYPE 声明", {"xml": ["不允许 DOCTYPE"]})
    return root


def _code_problems(root: etree._Element) -> list[str]:
    problems: list[str] = []
    for check, xpaths in ((check_expression, _EXPRESSION_XPATHS), (check_script, _SCRIPT_XPATHS)):
        for xpath in xpaths:
            for node in root.xpath(xpath, namespaces=NS):
                try:
                    check(node.text or "")
                except UnsafeExpression as exc:
                    problems.append(str(exc))
    for node in root.xpath(".//bpmn:loopCardinality", namespaces=NS):
        try:
            count = static_int(node.text or "")
        except UnsafeExpression:
            continue  # reported above
        if count is not None and count > LIMITS.loop_instances:
            problems.append(f"多实例数量 {count} 超过 {LIMITS.loop_instances}")
    return list(dict.fromkeys(problems))  # a correlation's formalExpression matches twice


def _element_problems(root: etree._Element) -> list[str]:
    """Unsupported BPMN elements by tag, with their ids; what is inside one is not reported
    again, and extensionElements are not looked into."""
    unsupported: dict[str, list[str]] = {}
    stack = [root]
    while stack:
        element = stack.pop()
        name = etree.QName(element)
        if name.namespace == NS["bpmn"]:
            # A service task runs only as the registered operation it names.
            nameless = name.localname == "serviceTask" and operator_of(element) is None
            # An event subprocess starts on an event inside its parent: not supported.
            by_event = element.get("triggeredByEvent") == "true"
            if name.localname not in SUPPORTED_ELEMENTS or nameless or by_event:
                unsupported.setdefault(name.localname, []).append(element.get("id") or "")
                continue
            if name.localname == "extensionElements":
                continue
        stack.extend(child for child in element if isinstance(child.tag, str))
    return [
        f"不支持的元素 {tag}" + (f"：{'、'.join(i for i in ids if i)}" if any(ids) else "")
        for tag, ids in sorted(unsupported.items())
    ]


def _operation_problems(root: etree._Element) -> list[str]:
    """Every service task names a registered operation with its parameters, each one a value
    read without evaluating it (engine/operations); none runs once per township."""
    problems = []
    for node in root.xpath(".//bpmn:serviceTask", namespaces=NS):
        step = f"步骤“{node.get('name') or node.get('id', '')}”（{node.get('id', '')}）"
        operator = operator_of(node)
        if operator is None:
            continue  # an unsupported element (_element_problems)
        problems += [f"{step}：{problem}" for problem in signature_problems(*operator)]
        if node.xpath("./bpmn:multiInstanceLoopCharacteristics", namespaces=NS):
            problems.append(f"{step}：操作步骤不能是多实例")
    return problems


def _vet(root: etree._Element) -> None:
    """Refuse code outside the whitelist or its bounds, elements the runtime cannot run and
    operations nobody registered; every problem is reported at once."""
    code, elements, operations = (
        _code_problems(root),
        _element_problems(root),
        _operation_problems(root),
    )
    if code:
        raise InvalidDiagram(
            "流程图包含不允许的表达式或脚本", {"xml": code + elements + operations}
        )
    if elements:
        raise InvalidDiagram("流程图包含本系统不支持的元素", {"xml": elements + operations})
    if operations:
        raise InvalidDiagram("流程图包含未知的操作或操作参数有误", {"xml": operations})


def _lane_roles(root: etree._Element) -> dict[str, str]:
    roles: dict[str, str] = {}
    for lane in root.xpath(".//bpmn:lane", namespaces=NS):
        lane_id = lane.get("id", "")
        role = lane_id.removeprefix(LANE_PREFIX)
        if not lane_id.startswith(LANE_PREFIX) or role not in ROLES:
            raise InvalidDiagram(
                "泳道编号须为 lane_<角色>",
                {"xml": [f"泳道 {lane_id!r} 不对应已知角色（{', '.join(sorted(ROLES))}）"]},
            )
        roles[lane.get("name") or lane_id] = role
    return roles


def user_task_ids(diagram: Diagram) -> set[str]:
    """The ids of the diagram's user tasks, those inside its subprocesses included."""
    return {
        task_spec.bpmn_id
        for task_spec in diagram.task_specs()
        if getattr(task_spec, "manual", False) and task_spec.bpmn_id
    }


def _inherit_lanes(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> None:
    """A step inside a subprocess sits in the subprocess's lane, unless a lane names it: lanes
    hold a process's own nodes (bpmn-js lists no subprocess's children in them)."""
    for task_spec in spec.task_specs.values():
        inner = subprocess_specs.get(getattr(task_spec, "spec", None) or "")
        if not isinstance(task_spec, SubWorkflowTask) or inner is None:
            continue
        for child in inner.task_specs.values():
            if child.lane is None:
                child.lane = task_spec.lane
        _inherit_lanes(inner, subprocess_specs)


def _check_user_task_lanes(spec: BpmnProcessSpec, lane_roles: dict[str, str]) -> None:
    """Every user task must sit in a lane: the lane says which role may take it."""
    missing = sorted(
        task_spec.bpmn_id
        for task_spec in spec.task_specs.values()
        if getattr(task_spec, "manual", False)
        and task_spec.bpmn_id
        and task_spec.lane not in lane_roles
    )
    if missing:
        raise InvalidDiagram("用户任务须位于某个泳道中", {"xml": [f"不在泳道中的任务：{missing}"]})


def _wire_loops(spec: BpmnProcessSpec) -> None:
    """Connect every loop or multi-instance task to its child's completion now.

    SpiffWorkflow connects a multi-instance child's completion to its parent's merge only when a
    running workflow first creates a child. State restored into a spec no workflow had run yet
    (a fresh process, after a restart) then completed the child without merging it: the parent
    stayed STARTED and the instance was stranded. Wired at parse time, a spec behaves the same
    whatever the process ran before.
    """
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def _package_forms(root: etree._Element, files: Mapping[str, bytes]) -> dict[str, Any]:
    """The forms the diagram's steps name, built from the package's files."""
    refs = form_refs(root)
    check_files(refs, files)
    return {
        step: build_form(ref.schema, files[ref.schema], files[ref.ui] if ref.ui else None)
        for step, ref in refs.items()
    }


def parse_diagram(xml: bytes, files: Mapping[str, bytes] | None = None) -> Diagram:
    """Parse, validate and vet one diagram with exactly one executable process, and build the
    forms its steps name from the package's `files`."""
    package = Package(xml, dict(files or {}))
    root = _secure_parse(xml)
    _vet(root)
    lane_roles = _lane_roles(root)
    forms = _package_forms(root, package.files)
    parser = _Parser(validator=_validator())
    try:
        parser.add_bpmn_xml(root)
        process_ids = parser.get_process_ids()
        if len(process_ids) != 1:
            raise InvalidDiagram(
                "流程图须恰好包含一个可执行流程", {"xml": [f"找到 {len(process_ids)} 个"]}
            )
        process_id = process_ids[0]
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        _inherit_lanes(spec, subprocess_specs)
        for process_spec in (spec, *subprocess_specs.values()):
            _check_user_task_lanes(process_spec, lane_roles)
            _wire_loops(process_spec)
    except InvalidDiagram:
        raise
    except Exception as exc:  # SpiffWorkflow raises plain exceptions on malformed diagrams
        raise InvalidDiagram("流程图无法解析", {"xml": [f"{type(exc).__name__}: {exc}"]}) from exc
    return Diagram(
        process_id=process_id,
        name=spec.description or process_id,
        sha256=package.sha256,
        xml=xml,
        spec=spec,
        subprocess_specs=subprocess_specs,
        lane_roles=lane_roles,
        forms=forms,
        start_id=none_start_id(root),
        recusals=_recusals(root, {t.name for t in _all_task_specs(spec, subprocess_specs)}),
        number_prefix=_number_prefix(root),
    )


RECUSE_FROM = "recuseFrom"
NUMBER_PREFIX = "numberPrefix"
NUMBER_PREFIX_MAX = 10


def _number_prefix(root: etree._Element) -> str:
    found = root.xpath(
        "./bpmn:process/bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
        f"[@name='{NUMBER_PREFIX}']/@value",
        namespaces=NS,
    )
    prefix = str(found[0]).strip() if found else ""
    if len(prefix) > NUMBER_PREFIX_MAX or any(c in prefix for c in "〔〕<>&\"'"):
        raise InvalidDiagram(
            "编号前缀设置有误",
            {"xml": [f"{NUMBER_PREFIX} 应为不超过 {NUMBER_PREFIX_MAX} 个字的文字"]},
        )
    return prefix


def _all_task_specs(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, Any]) -> list[Any]:
    return [t for s in (spec, *subprocess_specs.values()) for t in s.task_specs.values()]


def _recusals(root: etree._Element, steps: set[str]) -> dict[str, frozenset[str]]:
    """Each user task's recuseFrom steps, each of which must be a step of the diagram."""
    found: dict[str, frozenset[str]] = {}
    for task in root.iterfind(".//bpmn:userTask", NS):
        for prop in task.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
            f"[@name='{RECUSE_FROM}']",
            namespaces=NS,
        ):
            named = frozenset(p.strip() for p in prop.get("value", "").split(",") if p.strip())
            unknown = sorted(named - steps)
            if unknown or not named:
                where = f"步骤 {task.get('id')} 的 {RECUSE_FROM}"
                problem = f"{where} 应为本流程的步骤：{', '.join(unknown)}"
                raise InvalidDiagram("回避设置有误", {"xml": [problem]})
            found[task.get("id", "")] = named
    return found


def parse_package(package: Package) -> Diagram:
    return parse_diagram(package.xml, package.files)


class DiagramRegistry:
    """Parsed diagrams by sha256: each XML is parsed once per process, however many instances."""

    def __init__(self) -> None:
        self._by_sha: dict[str, Diagram] = {}
        self._lock = threading.Lock()

    def get(self, sha256: str, load: Any) -> Diagram:
        """Return the parsed diagram for `sha256`, calling `load()` (the diagram's XML or its
        whole Package) only on a miss."""
        diagram = self._by_sha.get(sha256)
        if diagram is None:
            with self._lock:  # parsed once, by one thread; a failed parse caches nothing
                diagram = self._by_sha.get(sha256)
                if diagram is None:
                    loaded = load()
                    package = loaded if isinstance(loaded, Package) else Package(loaded)
                    diagram = self._by_sha[sha256] = parse_package(package)
        return diagram

    def add(self, diagram: Diagram) -> Diagram:
        with self._lock:
            return self._by_sha.setdefault(diagram.sha256, diagram)
