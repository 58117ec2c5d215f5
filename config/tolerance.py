"""The county's fault-tolerance rules (容错情形 and 不予容错情形), read from a TOML file.

The list differs by locality, so it is configuration: a county edits its file and restarts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

EFFECTS = ("exempt", "reduced")


class ToleranceRulesError(ValueError):
    """The rules file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    effect: str = ""


@dataclass(frozen=True)
class ToleranceRules:
    circumstances: tuple[Rule, ...]
    exclusions: tuple[Rule, ...]

    def circumstance_labels(self) -> dict[str, str]:
        return {rule.code: rule.label for rule in self.circumstances}

    def exclusion_labels(self) -> dict[str, str]:
        return {rule.code: rule.label for rule in self.exclusions}


def _rules(path: Path, entries: object, kind: str, with_effect: bool) -> tuple[Rule, ...]:
    if not isinstance(entries, list) or not entries:
        raise ToleranceRulesError(f"{path}: at least one [[{kind}]] entry is required")
    rules, seen = [], set()
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ToleranceRulesError(f"{path}: [[{kind}]] #{number} is not a table")
        code, label = entry.get("code"), entry.get("label")
        if not isinstance(code, str) or not code.isidentifier() or len(code) > 60:
            raise ToleranceRulesError(f"{path}: [[{kind}]] #{number}: code must be an identifier")
        if not isinstance(label, str) or not label.strip():
            raise ToleranceRulesError(f"{path}: [[{kind}]] {code}: label is required")
        if code in seen:
            raise ToleranceRulesError(f"{path}: [[{kind}]] {code} appears twice")
        seen.add(code)
        effect = entry.get("effect", "")
        if with_effect and effect not in EFFECTS:
            raise ToleranceRulesError(
                f"{path}: [[{kind}]] {code}: effect must be one of {', '.join(EFFECTS)}"
            )
        rules.append(Rule(code, label.strip(), effect))
    return tuple(rules)


def load_tolerance_rules(path: Path) -> ToleranceRules:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ToleranceRulesError(f"{path}: {exc}") from exc
    return ToleranceRules(
        circumstances=_rules(path, data.get("circumstance"), "circumstance", True),
        exclusions=_rules(path, data.get("exclusion"), "exclusion", False),
    )
