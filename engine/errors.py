"""Domain errors. They carry no HTTP status; api/errors.py maps them in one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Base of every error a use case raises on purpose. `message` is for users (zh-CN)."""

    code = "domain_error"

    def __init__(self, message: str, errors: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, Any] = dict(errors or {})


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists."""

    code = "not_found"


class Unauthenticated(DomainError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller can see the object but may not perform this action on it."""

    code = "forbidden"


class Conflict(DomainError):
    """The action does not fit the object's current state, or a concurrent writer won."""

    code = "conflict"


class ProcedureFailed(Conflict):
    """The engine failed running the procedure; nothing changed and an incident was opened."""

    code = "procedure_failed"

    def __init__(self, message: str, incident_id: int) -> None:
        super().__init__(message, {"incident": [f"故障编号：{incident_id}"]})
        self.incident_id = incident_id


class InvalidInput(DomainError):
    """The input is malformed or breaks a rule; `errors` maps field names to messages."""

    code = "invalid_input"


class InvalidDiagram(InvalidInput):
    """A BPMN diagram cannot be parsed, validated, or contains disallowed code."""

    code = "invalid_diagram"


class ExpressionFailed(DomainError):
    """A diagram's condition, timer or script was stopped at run time: it hit a bound (text
    length, size of a value, repetition, time) or used syntax outside the whitelist. The
    command is rolled back; the diagram needs fixing, or an earlier version activating."""

    code = "expression_failed"


class TooManyAttempts(DomainError):
    """Refused for a while after too many failed attempts; `retry_after` is in seconds."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
