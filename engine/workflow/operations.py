"""Operations: the vetted effects a diagram's service tasks name, and how their parameters read.

What a step does beyond the workflow (enter the register, tell the townships) is a BPMN service
task naming a registered operation, as SpiffArena writes it, so an auditor reading the diagram
sees it:

    <bpmn:serviceTask id="enter_register" name="登记借调人员">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="register.enter">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="township" type="str" value="application.township" />
            <spiffworkflow:parameter id="kind" type="str" value="&quot;secondment&quot;" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>

SpiffArena evaluates a parameter's value as Python. We never evaluate: a value is one of the
forms below, each meaning what SpiffArena would make of it, and anything else is refused when
the diagram is deployed.

- a string literal, `"…"` or `'…'` (no escapes): that text;
- a dotted data path, `application.township`: the workflow data's value there, by plain lookup,
  as it is (text, a number, a yes/no, or a whole form's answer such as `ft_decision`);
- an f-string whose braces hold only dotted data paths, `f"借调：{application.person_name}"`:
  the text with each path's value (text or a number) put in.

A data path the data lacks fails the operation, unless the parameter is one the operation may
go without: then it is left out (an application without an end date, say). Parameters are
declared `type="str"`, or with no type, as SpiffArena's modeler writes them.

The engine never runs a service task itself (engine/specs parses it as a step that completes
at once); the core runs the operation of each service task that completed during a command, in
that command's transaction (services/commands.save). What an operation records is recorded at
its service task; inside a multi-instance subprocess it runs once per item (each township).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.workflow.audit import Entry

if TYPE_CHECKING:
    from engine.workflow.context import Context
    from engine.workflow.services.commands import Loaded

# (session, ctx, loaded, parameters, now) → trail entries of what it did; may refuse with a
# domain error, which rolls the whole command back.
Run = Callable[[Session, "Context", "Loaded", dict[str, Any], datetime], list[Entry]]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
DATA_PATH = re.compile(rf"{_NAME}(?:\.{_NAME})*")
_LITERAL = re.compile(r"""("[^"]*"|'[^']*')""")
_FSTRING = re.compile(r"""f("[^"]*"|'[^']*')""")
TEMPLATE_HOLE = re.compile(r"\{([^{}]*)\}")
PARAMETER_TYPES = frozenset({"", "str"})
VALUE_MAX = 2000


class OperationFailed(Exception):
    """An operation could not read what its parameters name: the diagram's or the data's fault,
    not the caller's; the command opens an incident and stores nothing."""


@dataclass(frozen=True)
class Operation:
    """A registered operation: what it is called in diagrams, what it is called for people,
    the parameters it requires and those it may take."""

    name: str
    run: Run
    label: str
    required: frozenset[str]
    optional: frozenset[str]


_OPERATIONS: dict[str, Operation] = {}
_LOCK = threading.Lock()


def register_operation(
    name: str,
    run: Run,
    *,
    label: str,
    parameters: Collection[str] = (),
    optional: Collection[str] = (),
) -> None:
    """Offer `run` to diagrams as `name`; registering the same function again is harmless."""
    operation = Operation(name, run, label, frozenset(parameters), frozenset(optional))
    with _LOCK:
        known = _OPERATIONS.setdefault(name, operation)
    if known.run is not run:
        raise ValueError(f"operation {name!r} is already registered to {known.run!r}")


def known_operations() -> Mapping[str, Operation]:
    """Every registered operation by name."""
    return dict(_OPERATIONS)


def operation(name: str) -> Operation | None:
    return _OPERATIONS.get(name)


def value_problem(value: str) -> str | None:
    """Why a parameter's value is not one we read without evaluating it, or None."""
    text = value.strip()
    if _LITERAL.fullmatch(text) or DATA_PATH.fullmatch(text):
        return None
    if _FSTRING.fullmatch(text):
        holes = TEMPLATE_HOLE.findall(text[2:-1])
        bad = [hole for hole in holes if not DATA_PATH.fullmatch(hole.strip())]
        if bad or text[2:-1].count("{") != len(holes):
            return "f 字符串的花括号中只能是数据路径"
        return None
    return "应为带引号的文字、数据路径（如 application.township）或只含数据路径的 f 字符串"


def signature_problems(name: str, parameters: Mapping[str, tuple[str, str]]) -> list[str]:
    """What is wrong with a service task naming `name` with `parameters` (id → (type, value)):
    an unknown operation, unknown or missing parameters, values we would have to evaluate."""
    found = operation(name)
    if found is None:
        return [f"未知的操作 {name}"]
    problems = []
    unknown = sorted(set(parameters) - found.required - found.optional)
    missing = sorted(found.required - set(parameters))
    if unknown:
        problems.append(f"操作 {name} 没有参数：{'、'.join(unknown)}")
    if missing:
        problems.append(f"操作 {name} 缺少参数：{'、'.join(missing)}")
    for key, (kind, value) in sorted(parameters.items()):
        if kind not in PARAMETER_TYPES:
            problems.append(f"操作 {name} 的参数 {key} 类型应为 str")
        problem = value_problem(value)
        if problem is not None:
            problems.append(f"操作 {name} 的参数 {key}：{problem}")
    return problems


class _Missing(OperationFailed):
    """A data path the data does not hold."""


def value_at(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted `path` of workflow data, by plain lookup."""
    current: Any = data
    for part in path.strip().split("."):
        if not isinstance(current, Mapping) or part not in current:
            raise _Missing(f"数据中没有 {path.strip()}")
        current = current[part]
    return current


def lookup(data: Mapping[str, Any], path: str) -> str:
    """The text at a dotted `path` of workflow data (text, or a number written as text)."""
    current = value_at(data, path)
    if isinstance(current, bool) or not isinstance(current, str | int):
        raise OperationFailed(f"数据 {path.strip()} 不是文字")
    return str(current)


def resolve(value: str, data: Mapping[str, Any]) -> Any:
    """A parameter's value against the data of the task that names it."""
    text = value.strip()
    if _LITERAL.fullmatch(text):
        return text[1:-1]
    if _FSTRING.fullmatch(text):
        resolved = TEMPLATE_HOLE.sub(lambda hole: lookup(data, hole.group(1)), text[2:-1])
        return resolved[:VALUE_MAX]
    return value_at(data, text)


def resolve_all(
    parameters: Mapping[str, tuple[str, str]],
    data: Mapping[str, Any],
    optional: Collection[str] = (),
) -> dict[str, Any]:
    """Every parameter's value; an `optional` one whose data path is absent is left out."""
    resolved = {}
    for key, (_, value) in parameters.items():
        try:
            resolved[key] = resolve(value, data)
        except _Missing:
            if key not in optional:
                raise
    return resolved


def text(parameters: Mapping[str, Any], key: str, default: str = "") -> str:
    """A parameter an operation reads as text (a number is written as text; none, or a null in
    the data, is `default`)."""
    value = parameters.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise OperationFailed(f"参数 {key} 应为文字")
    return str(value)
