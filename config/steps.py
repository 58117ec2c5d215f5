"""The county's time limit for each human step and whom a late step is told to, read from a
TOML file (config/steps.toml): local rules differ, so they are configuration, not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_DAYS = 366


class StepRulesError(ValueError):
    """The rules file is missing or malformed; the message names the file and the step."""


@dataclass(frozen=True)
class StepRule:
    working_days: int | None = None
    calendar_days: int | None = None
    escalate_to: str | None = None


@dataclass(frozen=True)
class StepRules:
    rules: Mapping[str, StepRule] = field(default_factory=dict)

    def working_days(self) -> dict[str, int]:
        """step → working days, for the steps limited in working days."""
        return {s: r.working_days for s, r in self.rules.items() if r.working_days is not None}

    def calendar_days(self) -> dict[str, int]:
        """step → calendar days, for the steps (and periods) limited in calendar days."""
        return {s: r.calendar_days for s, r in self.rules.items() if r.calendar_days is not None}

    def escalate_to(self, step: str) -> str | None:
        rule = self.rules.get(step)
        return rule.escalate_to if rule is not None else None

    def roles(self) -> set[str]:
        """Every role a late step may be told to (checked against the known roles at start)."""
        return {r.escalate_to for r in self.rules.values() if r.escalate_to is not None}


def _days(path: Path, step: str, entry: dict, key: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise StepRulesError(f"{path}: [{step}] {key} must be a whole number from 1 to {MAX_DAYS}")
    return value


def load_step_rules(path: Path) -> StepRules:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StepRulesError(f"{path}: step rules file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StepRulesError(f"{path}: not valid TOML: {exc}") from exc
    rules = {}
    for step, entry in document.items():
        if not step.isidentifier() or not isinstance(entry, dict):
            raise StepRulesError(f"{path}: [{step}] must be a table named by a step id")
        unknown = sorted(set(entry) - {"working_days", "calendar_days", "escalate_to"})
        if unknown:
            raise StepRulesError(f"{path}: [{step}] has unknown keys: {', '.join(unknown)}")
        working = _days(path, step, entry, "working_days")
        calendar = _days(path, step, entry, "calendar_days")
        if working is not None and calendar is not None:
            raise StepRulesError(f"{path}: [{step}] takes working_days or calendar_days, not both")
        role = entry.get("escalate_to")
        if role is not None and (not isinstance(role, str) or not role.isidentifier()):
            raise StepRulesError(f"{path}: [{step}] escalate_to must be a role code")
        rules[step] = StepRule(working, calendar, role)
    return StepRules(rules)
