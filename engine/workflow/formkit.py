"""A form: a marshmallow schema, where its values go in workflow data, and its cross-checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from engine.errors import InvalidInput
from engine.workflow import fields as f

ToData = Callable[[dict[str, Any]], dict[str, Any]]

# Cross-checks of a form against what the service knows beyond the form itself (the case
# record, the workflow's data so far, the county's configured rules): field → messages.
Check = Callable[[dict[str, Any], Mapping[str, Any]], dict[str, list[str]]]


@dataclass(frozen=True)
class Form:
    schema: type[f.Schema]
    to_data: ToData | None = None
    check: Check | None = None

    def validate(self, payload: Any, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate client input; return JSON-ready values (dates as ISO strings).

        `context` feeds the form's cross-check, run only once the form itself is valid.
        """
        if not isinstance(payload, Mapping):
            raise InvalidInput("表单应为 JSON 对象", {"_schema": ["应为 JSON 对象"]})
        schema = self.schema()
        try:
            loaded = schema.load(payload)
        except ValidationError as exc:
            raise InvalidInput("表单填写有误", _as_dict(exc.messages)) from exc
        values = schema.dump(loaded)
        if self.check is not None:
            problems = self.check(values, context or {})
            if problems:
                raise InvalidInput("表单填写有误", problems)
        return values

    def data_for(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        return self.to_data(dict(values)) if self.to_data else {key: values}


def _as_dict(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}
