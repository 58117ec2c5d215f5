"""The documents Zhunru issues (文书), read from a TOML file (config/documents.toml): which
procedure each belongs to, when and by whom it is issued, how its 文号 is written. A county
varies them without a release."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDERS = frozenset({"county", "year", "n"})
_KEY = re.compile(r"[a-z][a-z0-9_]{1,39}")


class DocumentRulesError(ValueError):
    """The documents file is missing or malformed; the message names the file and the kind."""


@dataclass(frozen=True)
class DocumentKind:
    key: str
    title: str
    process: str
    when: str
    issuers: frozenset[str]
    template: str
    pattern: str = ""

    @property
    def numbered(self) -> bool:
        return bool(self.pattern)

    def number(self, county: str, year: int, n: int) -> str:
        return self.pattern.format(county=county, year=year, n=n)


@dataclass(frozen=True)
class DocumentRules:
    kinds: Mapping[str, DocumentKind] = field(default_factory=dict)
    # county organisation code → the short name its 文号 begin with
    county_short: Mapping[str, str] = field(default_factory=dict)
    # The county's own layouts (`layouts = "dir"`, beside the file): a layout found there is
    # used instead of the shipped one of that name, so a county changes a layout without a
    # release. None: the shipped layouts only.
    layout_dir: Path | None = None

    def of_process(self, process_id: str) -> list[DocumentKind]:
        return [kind for kind in self.kinds.values() if kind.process == process_id]

    def roles(self) -> set[str]:
        return {role for kind in self.kinds.values() for role in kind.issuers}

    def short_name(self, code: str, name: str) -> str:
        if code in self.county_short:
            return self.county_short[code]
        return re.sub(r"(自治县|县|市|区)$", "", name) or name


def _text(path: Path, where: str, entry: Mapping, key: str, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise DocumentRulesError(f"{path}: {where} {key} must be a non-empty string")
    return value.strip()


def _pattern(path: Path, where: str, pattern: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise DocumentRulesError(f"{path}: {where} pattern is malformed: {exc}") from exc
    unknown = names - PLACEHOLDERS
    if unknown:
        raise DocumentRulesError(
            f"{path}: {where} pattern names unknown placeholders {', '.join(sorted(unknown))}"
        )
    if pattern and not {"year", "n"} <= names:
        raise DocumentRulesError(f"{path}: {where} pattern must contain {{year}} and {{n}}")
    return pattern


def load_document_rules(path: Path) -> DocumentRules:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DocumentRulesError(f"{path}: documents file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DocumentRulesError(f"{path}: {exc}") from exc
    kinds = {}
    for key, entry in (document.get("kinds") or {}).items():
        where = f"[kinds.{key}]"
        if not _KEY.fullmatch(key) or not isinstance(entry, Mapping):
            raise DocumentRulesError(f"{path}: {where} is not a kind (lower-case name, a table)")
        issuers = entry.get("issuers")
        if (
            not isinstance(issuers, list)
            or not issuers
            or not all(isinstance(r, str) for r in issuers)
        ):
            raise DocumentRulesError(f"{path}: {where} issuers must be a list of roles")
        template = _text(path, where, entry, "template")
        if "/" in template or not template.endswith(".html"):
            raise DocumentRulesError(f"{path}: {where} template must be a file name ending .html")
        kinds[key] = DocumentKind(
            key=key,
            title=_text(path, where, entry, "title"),
            process=_text(path, where, entry, "process"),
            when=_text(path, where, entry, "when"),
            issuers=frozenset(issuers),
            template=template,
            pattern=_pattern(path, where, _text(path, where, entry, "pattern", required=False)),
        )
    shorts = {}
    for code, entry in (document.get("counties") or {}).items():
        shorts[code] = _text(path, f"[counties.{code}]", entry, "short")
    layout_dir = None
    if "layouts" in document:
        layout_dir = path.parent / _text(path, "", document, "layouts")
        if not layout_dir.is_dir():
            raise DocumentRulesError(f"{path}: layouts directory {layout_dir} not found")
    return DocumentRules(kinds, shorts, layout_dir)
