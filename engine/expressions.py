"""The restricted evaluator for diagram conditions and scripts: no exec, no eval, no dunders.

Diagrams are data, but their conditions are code. Python's own `eval`/`exec` cannot be made safe
(`().__class__.__base__.__subclasses__()` escapes any globals trick), so every expression is
checked against a whitelist of syntax when a diagram is deployed, and evaluated by simpleeval
over plain task data when it runs. Scripts are limited to lines of `name = expression`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from simpleeval import EvalWithCompoundTypes
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "any": any,
    "all": all,
    "sum": sum,
}
# Bound at run time to the clock, the working-day calendar and the locality's limits
# (engine/timers.py); named here so diagrams that call them pass the deploy-time check.
TIMER_FUNCTIONS = (
    "deadline",
    "days_after",
    "end_of_day",
    "term_next",
    "term_end",
    "next_reevaluation",
)
ALLOWED_CALLS = frozenset(FUNCTIONS) | frozenset(TIMER_FUNCTIONS)

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.Module,
    ast.Expr,
    ast.Assign,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.Compare,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.IfExp,
    ast.Call,
)


class UnsafeExpression(ValueError):
    """An expression or script uses syntax outside the whitelist."""


def _check_node(node: ast.AST, source: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise UnsafeExpression(f"不允许的语法 {type(node).__name__}：{source!r}")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise UnsafeExpression(f"不允许以下划线开头的名称 {node.id!r}：{source!r}")
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
        raise UnsafeExpression(f"不允许含双下划线的字符串：{source!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_CALLS:
            raise UnsafeExpression(f"只允许调用 {', '.join(sorted(ALLOWED_CALLS))}：{source!r}")
        if node.keywords:
            raise UnsafeExpression(f"不允许关键字参数：{source!r}")


def check_expression(source: str) -> None:
    """Raise UnsafeExpression unless `source` is one whitelisted expression."""
    _parse_expression(source)


def check_script(source: str) -> None:
    """Raise UnsafeExpression unless `source` is lines of `name = expression`."""
    _parse_script(source)


@lru_cache(maxsize=4096)
def _parse_expression(source: str) -> ast.Expression:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise UnsafeExpression(f"表达式语法错误：{source!r}") from exc
    for node in ast.walk(tree):
        _check_node(node, source)
    return tree


@lru_cache(maxsize=1024)
def _parse_script(source: str) -> tuple[tuple[str, ast.Expression], ...]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise UnsafeExpression(f"脚本语法错误：{source!r}") from exc
    assignments = []
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            raise UnsafeExpression(f"脚本只允许“名称 = 表达式”形式的赋值：{source!r}")
        for node in ast.walk(statement):
            _check_node(node, source)
        target = statement.targets[0]
        assert isinstance(target, ast.Name)
        assignments.append((target.id, ast.Expression(body=statement.value)))
    return tuple(assignments)


def evaluate(
    source: str, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] = FUNCTIONS
) -> Any:
    """Evaluate a whitelisted expression over `names` (task data)."""
    tree = _parse_expression(source)
    evaluator = EvalWithCompoundTypes(functions=dict(functions), names=dict(names))
    return evaluator.eval(source.strip(), previously_parsed=tree.body)


def execute(source: str, names: dict[str, Any]) -> None:
    """Run a script of assignments, writing each result into `names`."""
    for target, tree in _parse_script(source):
        evaluator = EvalWithCompoundTypes(functions=FUNCTIONS, names=dict(names))
        names[target] = evaluator.eval("", previously_parsed=tree.body)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment backed by the restricted evaluator."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__()
        self.functions = {**FUNCTIONS, **(functions or {})}

    def evaluate(self, expression, context, external_context=None):  # noqa: D401
        names = dict(external_context or {})
        names.update(context)
        return evaluate(expression, names, self.functions)

    def execute(self, script, context, external_context=None):
        execute(script, context)
        return True

    def call_service(self, context, **kwargs):
        raise UnsafeExpression("本系统不支持服务任务调用")


def script_engine(functions: Mapping[str, Callable[..., Any]] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine that never calls Python's eval or exec."""
    engine = PythonScriptEngine(environment=RestrictedEnvironment(functions))
    engine.validate = check_expression  # type: ignore[method-assign]
    return engine
