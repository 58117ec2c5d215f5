"""The restricted evaluator: conditions work, escapes are refused before anything runs."""

from __future__ import annotations

import pytest

from engine.expressions import UnsafeExpression, check_expression, check_script, evaluate, execute

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os').system('id')",
    "review.__class__",
    "[c for c in ()]",
    "(lambda: 1)()",
    "getattr(review, 'x')",
    "open('/etc/passwd')",
    "_private",
    "review['__class__']",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_when_checked(source: str) -> None:
    with pytest.raises(UnsafeExpression):
        check_expression(source)


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_when_evaluated(source: str) -> None:
    with pytest.raises(UnsafeExpression):
        evaluate(source, {"review": {"decision": "pass"}})


def test_gateway_conditions_read_task_data() -> None:
    data = {"review": {"decision": "return", "reasons": ["no_basis"]}, "townships": ["a", "b"]}
    assert evaluate("review['decision'] == 'return'", data) is True
    assert evaluate("'no_basis' in review['reasons'] and len(townships) > 1", data) is True
    assert evaluate("review['decision'] == 'pass'", data) is False


def test_scripts_are_assignments_only() -> None:
    names = {"application": {"resources": {"funding_yuan": 100}}}
    execute("funded = application['resources']['funding_yuan'] > 0\ncount = 2 + 3", names)
    assert names["funded"] is True and names["count"] == 5
    for bad in ("import os", "x = 1; del x", "for i in range(3): pass", "x.y = 1"):
        with pytest.raises(UnsafeExpression):
            check_script(bad)
