"""The restricted evaluator for diagram conditions and scripts: no exec, no eval, no dunders.

Diagrams are data, but their conditions are code. Python's own `eval`/`exec` cannot be made safe
(`().__class__.__base__.__subclasses__()` escapes any globals trick), so every expression is
checked against a whitelist of syntax when a diagram is deployed, and evaluated by simpleeval
over plain task data when it runs. Scripts are limited to lines of `name = expression`.

Whitelisted syntax can still build huge values (`[1] * 100000000`, `'a' * 1000000000`, an
integer squared over and over) or run long, so everything is bounded (`Limits`): the text of
an expression or script, the nesting of its syntax, the size of every value it builds (checked
before a repetition or concatenation builds it), the magnitude of integers and the wall time of
one evaluation. Constant cases are refused when the diagram is deployed; at run time a bound hit
raises `ExpressionFailed`, a domain error, and the command changes nothing.
"""

from __future__ import annotations

import ast
import gc
import math
import operator as op
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from simpleeval import EvalWithCompoundTypes
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import DomainError, ExpressionFailed


@dataclass(frozen=True)
class Limits:
    """What one expression or script may be, build and take."""

    expression_chars: int = 1_000  # text of one condition, timer, cardinality, correlation
    script_chars: int = 10_000  # text of one script
    depth: int = 40  # nesting of its syntax tree
    size: int = 100_000  # items + characters of any value it builds, nested values included
    int_bits: int = 1_024  # magnitude of any integer it builds (about 308 digits)
    seconds: float = 1.0  # work time of one evaluation, or of one whole script (see _work_time)
    loop_instances: int = 1_000  # instances a loopCardinality may ask for
    round_digits: int = 100  # ndigits of round()


LIMITS = Limits()


# What an expression's time bound counts: the CPU time of the thread evaluating it, less the
# garbage collector's pauses in that thread. Not the wall clock: a loaded machine, another
# thread, a wait on the database or a full collection of a large heap (which took over a second
# in a long test run) are none of the diagram's doing, and must not fail a command that
# passes on a quiet one. The pauses are timed only while the thread evaluates (a collection
# runs every few hundred allocations; timing them all cost the command path about 2%).
_GC = threading.local()


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if not getattr(_GC, "evaluating", 0):
        return
    if phase == "start":
        _GC.began = time.thread_time()
    elif hasattr(_GC, "began"):
        _GC.paused = getattr(_GC, "paused", 0.0) + time.thread_time() - _GC.began
        del _GC.began


gc.callbacks.append(_on_gc)


def _work_time() -> float:
    return time.thread_time() - getattr(_GC, "paused", 0.0)


class _Budget:
    """One evaluation's time bound, checked at every node of its syntax tree.

    The thread's CPU clock is a system call; the wall clock is not, and never runs slower than
    the work time above. So each check reads the wall clock, and only when that passes its
    mark is the work time read: past the bound, the evaluation stops; short of it, the mark
    moves on by what is left.
    """

    __slots__ = ("mark", "until")

    def __init__(self, seconds: float) -> None:
        self.until = _work_time() + seconds
        self.mark = time.perf_counter() + seconds

    def spent(self) -> bool:
        left = self.until - _work_time()
        if left <= 0:
            return True
        self.mark = time.perf_counter() + left
        return False


@contextmanager
def _evaluating() -> Iterator[None]:
    _GC.evaluating = getattr(_GC, "evaluating", 0) + 1
    try:
        yield
    finally:
        _GC.evaluating -= 1


class UnsafeExpression(ValueError):
    """An expression or script uses syntax outside the whitelist or breaks a bound."""


def _too_big(what: str, source: str) -> ExpressionFailed:
    shown = source if len(source) <= 200 else source[:200] + "…"
    return ExpressionFailed(
        "流程图中的表达式或脚本超出运行限制，本次操作未生效，请联系管理员检查流程图",
        {"expression": [f"{what}：{shown!r}"]},
    )


def _measure(value: Any, limit: int) -> int:
    """Items + characters in `value`, nested values included; stops counting past `limit`."""
    used = 0
    stack = [value]
    while stack and used <= limit:
        item = stack.pop()
        used += 1
        if isinstance(item, str | bytes):
            used += len(item)
        elif isinstance(item, dict):
            used += len(item)
            if used <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            used += len(item)
            if used <= limit:
                stack.extend(item)
    return used


def _int_bits(value: Any, limit: int) -> int:
    """The largest integer's bit length in `value` (walks no more than `limit` items)."""
    bits, seen, stack = 0, 0, [value]
    while stack and seen <= limit:
        item = stack.pop()
        seen += 1
        if isinstance(item, int):
            bits = max(bits, item.bit_length())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return bits


def _round(number: Any, ndigits: Any = None) -> Any:
    """round(), but ndigits is bounded: round(5, -10**7) would compute 10**10000000."""
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > LIMITS.round_digits:
        raise _too_big(f"round() 的位数不能超过 {LIMITS.round_digits}", f"round(…, {ndigits!r})")
    return round(number, ndigits)


def _sum(values: Any, start: Any = 0) -> Any:
    """sum() of numbers only: over lists it concatenates, quadratic in time and memory."""
    items = list(values)
    if not all(isinstance(v, int | float) for v in (start, *items)):
        raise _too_big("sum() 只能对数字求和", "sum(…)")
    return sum(items, start)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "any": any,
    "all": all,
    "sum": _sum,
}
# Bound at run time to the clock, the working-day calendar and the locality's limits
# (engine/workflow/time_functions.py); named here so diagrams that call them pass the
# deploy-time check.
TIMER_FUNCTIONS = (
    "deadline",
    "days_after",
    "end_of_day",
    "term_next",
    "term_end",
    "next_reevaluation",
    "working_days_from_today",
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
# Nodes whose value is newly built, so its size is checked once built.
_BUILDING = (ast.BinOp, ast.UnaryOp, ast.Call, ast.List, ast.Tuple, ast.Dict, ast.Set)


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


def _check_depth(tree: ast.AST, source: str, limits: Limits) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.depth:
            raise UnsafeExpression(f"嵌套层次超过 {limits.depth} 层：{_short(source)!r}")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _short(source: str) -> str:
    return source if len(source) <= 200 else source[:200] + "…"


class _Size:
    """A value known before running only by its size (a literal string, list, tuple, …)."""

    def __init__(self, items: int) -> None:
        self.items = items


def _static(node: ast.AST, source: str, limits: Limits) -> int | _Size | None:
    """What a constant part of an expression amounts to: an int, a sized sequence, or None
    (unknown before running). Raises UnsafeExpression when it already breaks a bound."""
    if isinstance(node, ast.Constant):
        return _static_constant(node.value, source, limits)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        inner = [_static(element, source, limits) for element in node.elts]
        return _Size(1 + sum(i.items if isinstance(i, _Size) else 1 for i in inner))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _static(node.operand, source, limits)
        return -operand if isinstance(node.op, ast.USub) and isinstance(operand, int) else operand
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            if isinstance(node.left.value, str | bytes):
                raise UnsafeExpression(f"不允许用 % 格式化字符串：{_short(source)!r}")
        left, right = _static(node.left, source, limits), _static(node.right, source, limits)
        return _static_binop(node.op, left, right, source, limits)
    return None


def _static_constant(value: Any, source: str, limits: Limits) -> int | _Size | None:
    if isinstance(value, bool) or not isinstance(value, int | str | bytes):
        return None
    if isinstance(value, int):
        if value.bit_length() > limits.int_bits:
            raise UnsafeExpression(f"整数超过 {limits.int_bits} 位：{_short(source)!r}")
        return value
    return _Size(1 + len(value))


def _static_binop(
    operator: ast.operator, left: Any, right: Any, source: str, limits: Limits
) -> int | _Size | None:
    if isinstance(operator, ast.Mult):
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > limits.int_bits:
                raise UnsafeExpression(f"整数超过 {limits.int_bits} 位：{_short(source)!r}")
            return left * right
        sized, times = (left, right) if isinstance(left, _Size) else (right, left)
        if isinstance(sized, _Size) and isinstance(times, int):
            if sized.items * max(times, 0) > limits.size:
                raise UnsafeExpression(
                    f"重复生成的值超过 {limits.size} 个元素或字符：{_short(source)!r}"
                )
            return _Size(sized.items * max(times, 0))
        return None
    if isinstance(operator, ast.Add | ast.Sub) and isinstance(left, int) and isinstance(right, int):
        return left + right if isinstance(operator, ast.Add) else left - right
    if isinstance(operator, ast.Add) and isinstance(left, _Size) and isinstance(right, _Size):
        return _Size(left.items + right.items)
    return None


def _vet(tree: ast.AST, source: str, limits: Limits) -> None:
    _check_depth(tree, source, limits)
    for node in ast.walk(tree):
        _check_node(node, source)
        if isinstance(node, ast.BinOp | ast.Constant):
            _static(node, source, limits)


def check_expression(source: str, limits: Limits = LIMITS) -> None:
    """Raise UnsafeExpression unless `source` is one whitelisted expression within bounds."""
    _parse_expression(source, limits)


def check_script(source: str, limits: Limits = LIMITS) -> None:
    """Raise UnsafeExpression unless `source` is lines of `name = expression` within bounds."""
    _parse_script(source, limits)


def static_int(source: str) -> int | None:
    """The integer a checked expression always evaluates to, if it is a constant one."""
    value = _static(_parse_expression(source, LIMITS).body, source, LIMITS)
    return value if isinstance(value, int) else None


@lru_cache(maxsize=4096)
def _parse_expression(source: str, limits: Limits) -> ast.Expression:
    if len(source) > limits.expression_chars:
        raise UnsafeExpression(
            f"表达式超过 {limits.expression_chars} 个字符（{len(source)}）：{_short(source)!r}"
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeExpression(f"表达式语法错误：{_short(source)!r}") from exc
    _vet(tree, source, limits)
    return tree


@lru_cache(maxsize=1024)
def _parse_script(source: str, limits: Limits) -> tuple[tuple[str, ast.Expression], ...]:
    if len(source) > limits.script_chars:
        raise UnsafeExpression(
            f"脚本超过 {limits.script_chars} 个字符（{len(source)}）：{_short(source)!r}"
        )
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeExpression(f"脚本语法错误：{_short(source)!r}") from exc
    assignments = []
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            raise UnsafeExpression(f"脚本只允许“名称 = 表达式”形式的赋值：{_short(source)!r}")
        _vet(statement, source, limits)
        target = statement.targets[0]
        assert isinstance(target, ast.Name)
        assignments.append((target.id, ast.Expression(body=statement.value)))
    return tuple(assignments)


class _BoundedEval(EvalWithCompoundTypes):
    """simpleeval with every value it builds measured, repetition checked before it runs, no
    string formatting with %, no power, and its time bound checked at every node."""

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        names: dict[str, Any],
        limits: Limits,
        source: str,
        budget: _Budget,
    ) -> None:
        operators = {
            ast.Add: self._add,
            ast.Sub: op.sub,
            ast.Mult: self._mult,
            ast.Div: op.truediv,
            ast.FloorDiv: op.floordiv,
            ast.Mod: self._mod,
            ast.Eq: op.eq,
            ast.NotEq: op.ne,
            ast.Gt: op.gt,
            ast.Lt: op.lt,
            ast.GtE: op.ge,
            ast.LtE: op.le,
            ast.Not: op.not_,
            ast.USub: op.neg,
            ast.UAdd: op.pos,
            ast.In: lambda x, y: op.contains(y, x),
            ast.NotIn: lambda x, y: not op.contains(y, x),
            ast.Is: lambda x, y: x is y,
            ast.IsNot: lambda x, y: x is not y,
        }
        super().__init__(operators=operators, functions=dict(functions), names=names)
        self.limits = limits
        self.source = source
        self.budget = budget

    def _eval(self, node: ast.AST) -> Any:
        if time.perf_counter() > self.budget.mark and self.budget.spent():
            raise _too_big(f"求值超过 {self.limits.seconds} 秒", self.source)
        value = super()._eval(node)
        if isinstance(node, _BUILDING):
            self._check_built(value)
        return value

    def _check_built(self, value: Any) -> None:
        # 1e308 * 10 is infinity: no number a form could hold, and none stored JSON writes.
        if type(value) is float and not math.isfinite(value):
            raise _too_big("计算结果不是有限的数", self.source)
        if _measure(value, self.limits.size) > self.limits.size:
            raise _too_big(f"生成的值超过 {self.limits.size} 个元素或字符", self.source)
        if _int_bits(value, self.limits.size) > self.limits.int_bits:
            raise _too_big(f"整数超过 {self.limits.int_bits} 位", self.source)

    def _mult(self, a: Any, b: Any) -> Any:
        for sized, times in ((a, b), (b, a)):
            if isinstance(times, int) and isinstance(sized, str | bytes | list | tuple):
                if _measure(sized, self.limits.size) * max(times, 0) > self.limits.size:
                    raise _too_big(f"重复生成的值超过 {self.limits.size} 个元素或字符", self.source)
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > self.limits.int_bits:
                raise _too_big(f"整数超过 {self.limits.int_bits} 位", self.source)
        return a * b

    def _add(self, a: Any, b: Any) -> Any:
        if isinstance(a, str | bytes | list | tuple) and isinstance(b, str | bytes | list | tuple):
            size = _measure(a, self.limits.size) + _measure(b, self.limits.size)
            if size > self.limits.size:
                raise _too_big(f"生成的值超过 {self.limits.size} 个元素或字符", self.source)
        return a + b

    def _mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str | bytes):  # '%0999999999d' % 1 is a gigabyte
            raise _too_big("不允许用 % 格式化字符串", self.source)
        return a % b


def evaluate(
    source: str,
    names: Mapping[str, Any],
    functions: Mapping[str, Callable[..., Any]] = FUNCTIONS,
    limits: Limits = LIMITS,
    evaluators: _Evaluators | None = None,
) -> Any:
    """Evaluate a whitelisted expression over `names` (task data), within `limits`; with
    `evaluators`, on this thread's evaluator of them instead of a new one."""
    tree = _parse_expression(source, limits)
    # Collections count as pauses from before the bound starts: building an evaluator
    # allocates, and a full collection may fall right there.
    with _evaluating():
        budget = _Budget(limits.seconds)
        evaluator = evaluators.take() if evaluators is not None else None
        if evaluator is None:
            evaluator = _BoundedEval(functions, dict(names), limits, source, budget)
        else:
            evaluator.names, evaluator.source, evaluator.budget = dict(names), source, budget
        try:
            return evaluator.eval(source.strip(), previously_parsed=tree.body)
        finally:
            evaluator.names = {}
            if evaluators is not None:
                evaluators.give_back(evaluator)


class _Evaluators(threading.local):
    """One evaluator per thread over the same functions and limits, reused from one expression
    to the next: building one (and collecting it, a cycle of bound methods) cost more than
    most expressions. An expression evaluated while the thread's one is busy gets its own.
    One per RestrictedEnvironment, so always over its functions and limits."""

    def __init__(self) -> None:
        self.idle: _BoundedEval | None = None

    def take(self) -> _BoundedEval | None:
        """The thread's idle evaluator, or None (the caller builds one and gives it back)."""
        evaluator, self.idle = self.idle, None
        return evaluator

    def give_back(self, evaluator: _BoundedEval) -> None:
        self.idle = evaluator


def execute(
    source: str,
    names: dict[str, Any],
    functions: Mapping[str, Callable[..., Any]] = FUNCTIONS,
    limits: Limits = LIMITS,
) -> None:
    """Run a script of assignments, writing each result into `names`; one deadline for all."""
    with _evaluating():
        budget = _Budget(limits.seconds)
        for target, tree in _parse_script(source, limits):
            evaluator = _BoundedEval(functions, dict(names), limits, source, budget)
            names[target] = evaluator.eval("", previously_parsed=tree.body)


def _refused(exc: UnsafeExpression) -> ExpressionFailed:
    """A diagram deployed before a rule existed can still hold what the rule refuses."""
    return ExpressionFailed(
        "流程图中的表达式或脚本不被允许，本次操作未生效，请联系管理员检查流程图",
        {"expression": [str(exc)]},
    )


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment backed by the restricted evaluator."""

    def __init__(
        self, functions: Mapping[str, Callable[..., Any]] | None = None, limits: Limits = LIMITS
    ) -> None:
        super().__init__()
        self.functions = {**FUNCTIONS, **(functions or {})}
        self.limits = limits
        self.evaluators = _Evaluators()

    def evaluate(self, expression, context, external_context=None):  # noqa: D401
        names = dict(external_context or {})
        names.update(context)
        try:
            return evaluate(expression, names, self.functions, self.limits, self.evaluators)
        except UnsafeExpression as exc:
            raise _refused(exc) from exc

    def execute(self, script, context, external_context=None):
        try:
            execute(script, context, self.functions, self.limits)
        except UnsafeExpression as exc:
            raise _refused(exc) from exc
        return True

    def call_service(self, context, **kwargs):
        raise ExpressionFailed(
            "本系统不支持服务任务调用", {"expression": ["流程图中含有服务任务，请联系管理员"]}
        )


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine over the restricted environment. SpiffWorkflow wraps every error of
    an expression or script in its own exception; a domain error (a bound hit, a refusal) is
    passed through as it is, so the caller gets its message instead of an engine failure."""

    environment: RestrictedEnvironment

    def validate(self, expression: str) -> None:
        check_expression(expression, self.environment.limits)

    def evaluate(self, task, expression, external_context=None):
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except DomainError:
            raise
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}'", task=task, exception=exc
            ) from exc
        spec = task.task_spec
        if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality:
            limit = self.environment.limits.loop_instances
            if isinstance(value, int) and value > limit:
                raise _too_big(f"多实例数量超过 {limit}", expression)
        return value

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except DomainError:
            raise
        except Exception as exc:
            raise self.create_task_exec_exception(task, script, exc) from exc


def script_engine(
    functions: Mapping[str, Callable[..., Any]] | None = None, limits: Limits = LIMITS
) -> PythonScriptEngine:
    """A SpiffWorkflow script engine that never calls Python's eval or exec."""
    return RestrictedScriptEngine(environment=RestrictedEnvironment(functions, limits))
