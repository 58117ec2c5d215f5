"""The rating scale a county gave itself: the yearly rating form's dimensions and the points of
each choice (`x-points` on the form's choices), read from the active version of the package, so a
county changes its scale without a release. Every rating (yearly, per matter) is on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.workflow.context import Context
from engine.workflow.forms import form_for_start
from engine.workflow.services.deployments import current_deployment, diagram_of

PROCESS_ID = "department_rating"
DIMENSIONS = ("responsiveness", "burden", "resources", "service", "overall")


@dataclass(frozen=True)
class Choice:
    code: str
    title: str
    points: int


def scale(session: Session, ctx: Context) -> dict[str, tuple[str, list[Choice]]]:
    """The active rating form's dimensions: each one's title and its choices with their points
    (a choice without `x-points` counts for nothing and is not offered)."""
    form = form_for_start(diagram_of(session, ctx, current_deployment(session, PROCESS_ID).id))
    properties: Mapping[str, Any] = (form.json_schema or {}).get("properties") or {}
    found: dict[str, tuple[str, list[Choice]]] = {}
    for name in DIMENSIONS:
        spec = properties.get(name) or {}
        choices = [
            Choice(str(c.get("const")), str(c.get("title") or c.get("const")), c["x-points"])
            for c in spec.get("oneOf") or []
            if isinstance(c, Mapping) and isinstance(c.get("x-points"), int)
        ]
        found[name] = (str(spec.get("title") or name), choices)
    return found
