"""Service tasks name registered operations: vetted when deployed (unknown operations, unknown or
missing parameters, values that would need evaluating are refused, naming the step), and their
parameters are read by plain lookup, never evaluated."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import InvalidDiagram
from engine.workflow import operations
from engine.workflow.operations import OperationFailed, resolve, resolve_all, text
from engine.workflow.specs import OperationTask, parse_diagram


def _noop(*_: Any) -> list:
    return []


@pytest.fixture(autouse=True)
def registered() -> None:
    operations.register_operation(
        "test.note", _noop, label="记一笔", parameters=("township",), optional=("text",)
    )


def diagram(operator: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_op" targetNamespace="http://zhunru.test/op">
  <bpmn:process id="op_test" name="操作测试" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="note" />
    <bpmn:serviceTask id="note" name="登记">
      <bpmn:extensionElements>{operator}</bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="note" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>""".encode()


def operator(name: str, **parameters: str) -> str:
    params = "".join(
        f'<spiffworkflow:parameter id="{key}" type="str" value="{value}" />'
        for key, value in parameters.items()
    )
    return (
        f'<spiffworkflow:serviceTaskOperator id="{name}">'
        f"<spiffworkflow:parameters>{params}</spiffworkflow:parameters>"
        "</spiffworkflow:serviceTaskOperator>"
    )


def refused(xml: bytes) -> list[str]:
    with pytest.raises(InvalidDiagram) as caught:
        parse_diagram(xml)
    return caught.value.errors["xml"]


def test_a_known_operation_is_parsed_as_a_step_the_engine_does_not_call_out_from() -> None:
    parsed = parse_diagram(
        diagram(operator("test.note", township="application.township", text="&quot;hi&quot;"))
    )
    spec = parsed.spec.task_specs["note"]
    assert isinstance(spec, OperationTask) and spec.operation == "test.note"
    assert spec.parameters["township"] == ("str", "application.township")
    assert spec._run_hook(None) is True  # completes at once; no script engine, no call_service


def test_an_unknown_operation_is_refused_naming_the_step() -> None:
    problems = refused(diagram(operator("http/GetRequestV2", url="&quot;https://x&quot;")))
    assert problems == ["步骤“登记”（note）：未知的操作 http/GetRequestV2"]


def test_unknown_and_missing_parameters_are_refused() -> None:
    problems = refused(diagram(operator("test.note", town="application.township")))
    assert "步骤“登记”（note）：操作 test.note 没有参数：town" in problems
    assert "步骤“登记”（note）：操作 test.note 缺少参数：township" in problems


@pytest.mark.parametrize(
    "value",
    [
        "__import__('os').system('touch /tmp/owned')",
        "().__class__.__base__",
        "application['township']",
        "'a' + 'b'",
        "f&quot;{application.township.__class__}&quot;x",
        "f&quot;{open('/etc/passwd')}&quot;",
    ],
)
def test_values_that_would_need_evaluating_are_refused(value: str) -> None:
    problems = refused(diagram(operator("test.note", township=value)))
    assert len(problems) == 1 and "参数 township" in problems[0]


def test_a_service_task_naming_no_operation_is_an_unsupported_element() -> None:
    assert refused(diagram("")) == ["不支持的元素 serviceTask：note"]


def test_values_are_literals_data_paths_or_fstrings_of_data_paths() -> None:
    data = {"application": {"person_name": "张三", "days": 30, "township": "xishan"}}
    assert resolve('"借调期满"', data) == "借调期满"
    assert resolve("'{not a hole}'", data) == "{not a hole}"
    assert resolve("application.township", data) == "xishan"
    assert resolve('f"借调：{application.person_name}（{application.days}天）"', data) == (
        "借调：张三（30天）"
    )
    with pytest.raises(OperationFailed, match="数据中没有 application.missing"):
        resolve("application.missing", data)
    # A data path gives its value as it is (a whole answer, a number); a hole needs text.
    assert resolve("application", data) is data["application"]
    assert resolve("application.days", data) == 30
    with pytest.raises(OperationFailed, match="不是文字"):
        resolve('f"{application}"', data)


def test_a_parameter_the_operation_may_go_without_is_left_out_when_the_data_lacks_it() -> None:
    parameters = {"name": ("str", "application.name"), "end_date": ("str", "application.end")}
    data = {"application": {"name": "护林防火"}}
    assert resolve_all(parameters, data, optional={"end_date"}) == {"name": "护林防火"}
    with pytest.raises(OperationFailed, match="数据中没有 application.end"):
        resolve_all(parameters, data)
    with pytest.raises(OperationFailed, match="数据中没有 application.name"):
        resolve_all(parameters, {"application": {"end": "2027-01-01"}}, optional={"end_date"})
    assert text({"end_date": None}, "end_date") == "" and text({"n": 3}, "n") == "3"
    with pytest.raises(OperationFailed, match="参数 flag 应为文字"):
        text({"flag": True}, "flag")
