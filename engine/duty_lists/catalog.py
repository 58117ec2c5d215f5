"""Duty lists as rules: list types, effective lists, Chinese fuzzy matching, pre-checks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from rapidfuzz import fuzz, process

from config import Settings, SettingsError
from engine.errors import InvalidInput
from engine.workflow.workdays import local_date

# code → (level, label). Townships carry three lists; villages and communities three more.
LIST_TYPES: dict[str, tuple[str, str]] = {
    "basic": ("township", "基本履职事项"),
    "assisting": ("township", "配合履职事项"),
    "taken_back": ("township", "上级部门收回事项"),
    "own": ("village", "村（社区）依法履职事项"),
    "assist": ("village", "村（社区）协助事项"),
    "negative": ("village", "村（社区）负面清单"),
    # What a village may be asked to hang, run or certify (挂牌、工作机制、证明事项): an
    # addition passes the gate (bpmn/listing_admission); anything else is not asked of them.
    "signboard": ("village", "村（社区）挂牌清单"),
    "mechanism": ("village", "村（社区）工作机制清单"),
    "certificate": ("village", "村（社区）出具证明事项清单"),
}
LIST_LABELS = {code: label for code, (_, label) in LIST_TYPES.items()}
ITEM_STATUSES = {"active": "有效", "retired": "已废止"}
# The seven categories of the 襄城 township list (2021), used by the demo lists.
CATEGORIES = (
    "基层党建",
    "城乡建设",
    "经济发展",
    "村(社区)建设",
    "综合治理",
    "公共服务",
    "综合保障",
)

# Severity of a finding: info (shown), warning (reviewer should weigh it), blocking (refused).
SEVERITIES = ("info", "warning", "blocking")
RESOURCE_LABELS = {"funding_yuan": "经费", "staff": "人员", "powers": "权限"}

# Bracketed notes ("（试点）") and words that say nothing about which matter it is.
_BRACKETS = re.compile(r"[（(【\[〔][^）)】\]〕]*[）)】\]〕]")
_FILLERS = (
    "相关工作 有关工作 工作 事项 相关 有关 开展 日常 做好 负责 承担 协助 配合 进行 具体".split()
)


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Text reduced to what identifies a matter: no brackets, punctuation, spaces or fillers.
    (Remembered: a county's item names are normalized once per process, not per filing.)"""
    text = _BRACKETS.sub("", unicodedata.normalize("NFKC", text).lower())
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    core = kept
    for filler in _FILLERS:
        core = core.replace(filler, "")
    return core or kept


def similarity(a: str, b: str, min_chars: int) -> float:
    """0–100: how alike two normalized texts are.

    Chinese has no spaces, and each character carries meaning, so the base score is the
    character-level indel similarity. A text of at least `min_chars` found (almost) whole inside
    a longer one also scores high: "亲属关系证明" inside "为村民开具亲属关系证明".
    """
    if not a or not b:
        return 0.0
    score = fuzz.ratio(a, b)
    short, long = sorted((a, b), key=len)
    if min_chars <= len(short) < len(long):
        part = fuzz.partial_ratio(short, long)
        if part >= 90:
            score = max(score, part * 0.95)
    return score


def search_score(query: str, texts: Iterable[str], min_chars: int) -> float:
    """How well a search query fits an item: 100 for a plain substring, else fuzzy on names."""
    needle = unicodedata.normalize("NFKC", query).strip().lower()
    if not needle:
        return 100.0
    plain = [unicodedata.normalize("NFKC", t).lower() for t in texts]
    if any(needle in text for text in plain):
        return 100.0
    return max((similarity(normalize(needle), normalize(t), min_chars) for t in plain), default=0)


@dataclass(frozen=True)
class Thresholds:
    """Scores from which texts count as the same matter; from ZHUNRU_CATALOG_* settings."""

    item: int = 85
    negative: int = 90
    duplicate: int = 80
    min_chars: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        values = cls(
            item=settings.catalog_match_threshold,
            negative=settings.catalog_negative_threshold,
            duplicate=settings.catalog_duplicate_threshold,
            min_chars=settings.catalog_min_match_chars,
        )
        for name in ("item", "negative", "duplicate"):
            if not 1 <= getattr(values, name) <= 100:
                raise SettingsError(f"ZHUNRU_CATALOG_* thresholds must be 1-100 ({name})")
        if values.min_chars < 1:
            raise SettingsError("ZHUNRU_CATALOG_MIN_MATCH_CHARS must be at least 1")
        return values


class ListedItem(Protocol):
    id: int
    scope_org_id: int
    status: str
    effective_from: date | None
    effective_to: date | None


Item = TypeVar("Item", bound=ListedItem)


def local_today(now: datetime, timezone: str) -> date:
    """The calendar day in the county, which is what effective dates mean."""
    return local_date(now, timezone)


def in_effect(item: ListedItem, on: date) -> bool:
    return (
        item.status == "active"
        and (item.effective_from is None or item.effective_from <= on)
        and (item.effective_to is None or on <= item.effective_to)
    )


def belongs_to(
    item: ListedItem, county_id: int, township_id: int, removed: Collection[int]
) -> bool:
    """On a township's list: a template item it has not removed, or one of its own additions."""
    if item.scope_org_id == township_id:
        return True
    return item.scope_org_id == county_id and item.id not in removed


def effective_items(
    items: Iterable[Item], county_id: int, township_id: int, removed: Collection[int], on: date
) -> list[Item]:
    """A township's list on a day: template + its additions − its removals, items in effect."""
    return [
        item
        for item in items
        if belongs_to(item, county_id, township_id, removed) and in_effect(item, on)
    ]


@dataclass(frozen=True)
class ItemRef:
    id: int
    code: str
    name: str
    list_type: str
    category: str
    responsible_body: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "list_label": LIST_LABELS.get(self.list_type, self.list_type)}


@dataclass(frozen=True)
class MatterRef:
    """Another matter admitted (in_force) or pending for some of the same townships."""

    instance_id: int
    name: str
    status: str
    applicant_code: str
    applicant_name: str
    townships: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "townships": list(self.townships)}


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    message: str
    townships: tuple[str, ...] = ()
    score: int = 0
    item: ItemRef | None = None
    matter: MatterRef | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "townships": list(self.townships),
            "score": self.score,
            "item": self.item.to_dict() if self.item else None,
            "matter": self.matter.to_dict() if self.matter else None,
        }


@dataclass(frozen=True)
class PreCheck:
    """What an application runs into: duty lists, negative lists, other matters, resources."""

    findings: tuple[Finding, ...] = ()
    missing_resources: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return any(f.severity == "blocking" for f in self.findings)

    @property
    def needs_justification(self) -> bool:
        return bool(self.missing_resources)

    def refusal(self, justification: str = "") -> InvalidInput | None:
        """Why the application may not be filed as it is, or None."""
        if self.blocking:
            named = [f.message for f in self.findings if f.severity == "blocking"]
            return InvalidInput(f"申请不能提交：{named[0]}", {"name": named})
        if self.needs_justification and not justification.strip():
            missing = "、".join(self.missing_resources)
            message = f"未随事下放{missing}，须说明理由后才能提交（费随事转）"
            return InvalidInput(message, {"resources_justification": [message]})
        return None

    def raise_if_refused(self, justification: str = "") -> None:
        error = self.refusal(justification)
        if error is not None:
            raise error

    def to_dict(self) -> dict[str, Any]:
        return {
            "blocking": self.blocking,
            "needs_justification": self.needs_justification,
            "missing_resources": list(self.missing_resources),
            "findings": [f.to_dict() for f in self.findings],
        }


def missing_resources(resources: Mapping[str, Any]) -> list[str]:
    """Which of funding, staff and powers an application does not send down (费随事转)."""
    missing = []
    if not resources.get("funding_yuan"):
        missing.append(RESOURCE_LABELS["funding_yuan"])
    if not resources.get("staff"):
        missing.append(RESOURCE_LABELS["staff"])
    if not str(resources.get("powers") or "").strip():
        missing.append(RESOURCE_LABELS["powers"])
    return missing


@dataclass
class _Hit:
    kind: str
    item: ItemRef
    score: float
    townships: list[str] = field(default_factory=list)


_ITEM_KINDS = {"basic": "on_duty_list", "assisting": "on_duty_list", "taken_back": "taken_back"}
MAX_FINDINGS_PER_KIND = 5


def _item_kind(
    name: str, content: str, item: ItemRef, norm: str, t: Thresholds
) -> tuple[str | None, float]:
    """(kind, score) of one item against the application, or (None, 0)."""
    score = similarity(name, norm, t.min_chars)
    if item.list_type == "negative":
        if score >= t.negative:
            return "negative_list", score
        mention = similarity(norm, content, t.min_chars) if content else 0.0
        return ("negative_list_mention", mention) if mention >= t.negative else (None, 0)
    kind = _ITEM_KINDS.get(item.list_type)
    return (kind, score) if kind and score >= t.item else (None, 0)


def _close(query: str, texts: Sequence[str], cutoff: float) -> set[int]:
    """Positions in `texts` whose similarity() to `query` may reach `cutoff`, whatever the
    length rule: every text whose plain ratio reaches it, and every one whose partial ratio
    could (at least 90, and at least cutoff / 0.95). Found in rapidfuzz's own loop, so a list
    of hundreds of items costs two calls, not hundreds; similarity() then scores these few."""
    if not query or not texts:
        return set()
    ratio = process.extract(query, texts, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
    close = {found[2] for found in ratio}
    if cutoff <= 95:  # a partial match counts at most 95 (part * 0.95)
        partial = process.extract(
            query,
            texts,
            scorer=fuzz.partial_ratio,
            score_cutoff=max(90.0, cutoff / 0.95) - 1e-9,  # part * 0.95 ≥ cutoff, less rounding
            limit=None,
        )
        close |= {found[2] for found in partial}
    return close


def _judged(
    name: str, content: str, items: Sequence[ItemRef], t: Thresholds
) -> dict[int, tuple[str, float]]:
    """_item_kind of every item that is a hit, by item id; the others cannot be."""
    norms = [normalize(item.name) for item in items]
    negative = [at for at, item in enumerate(items) if item.list_type == "negative"]
    candidates = _close(name, norms, min(t.item, t.negative))
    # A negative-list item may instead be mentioned in the content (similarity is symmetric).
    candidates |= {negative[at] for at in _close(content, [norms[i] for i in negative], t.negative)}
    judged = {}
    for at in candidates:
        kind, score = _item_kind(name, content, items[at], norms[at], t)
        if kind is not None:
            judged[items[at].id] = (kind, score)
    return judged


def _item_hits(
    name: str, content: str, items_by_township: Mapping[str, Sequence[ItemRef]], t: Thresholds
) -> list[_Hit]:
    hits: dict[tuple[str, int], _Hit] = {}
    # Template items recur in every township: each is judged once.
    unique = {item.id: item for items in items_by_township.values() for item in items}
    judged = _judged(name, content, list(unique.values()), t)
    for township, items in items_by_township.items():
        for item in items:
            kind, score = judged.get(item.id, (None, 0.0))
            if kind is None:
                continue
            hit = hits.setdefault((kind, item.id), _Hit(kind, item, score))
            hit.townships.append(township)
    return sorted(hits.values(), key=lambda h: (-h.score, h.item.code))


def _named(codes: Iterable[str], names: Mapping[str, str]) -> str:
    return "、".join(names.get(code, code) for code in codes)


def _item_message(hit: _Hit, names: Mapping[str, str]) -> tuple[str, str]:
    """(severity, message) of a list match."""
    item, where = hit.item, _named(hit.townships, names)
    listed = f"{LIST_LABELS[item.list_type]}“{item.name}”（编码 {item.code}）"
    if hit.kind == "on_duty_list":
        return "info", f"已列入{where}的{listed}，属乡镇既有职责，无需准入"
    if hit.kind == "taken_back":
        return "warning", f"属{listed}，应由上级部门自行承担，不得交由{where}办理"
    if hit.kind == "negative_list":
        return "blocking", f"属于{listed}，不得准入"
    return "warning", f"申请内容涉及{listed}，请核实是否要求乡镇或村（社区）办理负面清单事项"


def _item_findings(
    name: str,
    content: str,
    items_by_township: Mapping[str, Sequence[ItemRef]],
    names: Mapping[str, str],
    t: Thresholds,
) -> list[Finding]:
    findings: list[Finding] = []
    per_kind: dict[str, int] = {}
    for hit in _item_hits(name, content, items_by_township, t):
        per_kind[hit.kind] = per_kind.get(hit.kind, 0) + 1
        if per_kind[hit.kind] > MAX_FINDINGS_PER_KIND:
            continue
        severity, message = _item_message(hit, names)
        findings.append(
            Finding(hit.kind, severity, message, tuple(hit.townships), round(hit.score), hit.item)
        )
    return findings


MATTER_STATUS_LABELS = {"in_force": "已准入", "pending": "正在申请"}


def _duplicate_findings(
    name: str,
    matters: Sequence[MatterRef],
    names: Mapping[str, str],
    t: Thresholds,
    content_words: str = "",
) -> list[Finding]:
    scored = [(similarity(name, normalize(m.name), t.min_chars), m) for m in matters]
    hits = sorted(
        ((s, m) for s, m in scored if s >= t.duplicate), key=lambda p: (-p[0], p[1].instance_id)
    )
    found = [
        Finding(
            "duplicate_matter",
            "warning",
            f"与{_named(m.townships, names)}{MATTER_STATUS_LABELS.get(m.status, m.status)}的事项"
            f"“{m.name}”（{m.applicant_name}，编号 {m.instance_id}）重复或相近",
            m.townships,
            round(score),
            matter=m,
        )
        for score, m in hits[:MAX_FINDINGS_PER_KIND]
    ]
    return found + _assessment_findings(hits, content_words, names)


# 郑州二七区: once a matter is admitted, the department may not separately assess, inspect or
# rank a township on it; an application that reads as such an assessment is flagged.
ASSESSMENT_WORDS = ("考核", "检查", "督查", "排名", "评比", "考评", "评估", "暗访")


def _assessment_findings(
    hits: list[tuple[float, MatterRef]], text: str, names: Mapping[str, str]
) -> list[Finding]:
    words = [w for w in ASSESSMENT_WORDS if w in text]
    if not words:
        return []
    return [
        Finding(
            "assessment_of_admitted",
            "warning",
            f"事项“{m.name}”已准入{_named(m.townships, names)}，准入后不得就该事项对乡镇另行"
            f"{'、'.join(words[:3])}（考核方式以准入时记录的为准）",
            m.townships,
            round(score),
            matter=m,
        )
        for score, m in hits[:MAX_FINDINGS_PER_KIND]
        if m.status == "in_force"
    ]


def precheck(
    application: Mapping[str, Any],
    items_by_township: Mapping[str, Sequence[ItemRef]],
    matters: Sequence[MatterRef],
    township_names: Mapping[str, str],
    thresholds: Thresholds,
) -> PreCheck:
    """Findings (a)–(e) for an application against each target township's effective list
    (`items_by_township`, by township code) and the matters admitted or pending there."""
    name = normalize(str(application.get("name") or ""))
    content = normalize(str(application.get("content") or ""))
    findings = _item_findings(name, content, items_by_township, township_names, thresholds)
    findings += _duplicate_findings(name, matters, township_names, thresholds, name + content)
    missing = missing_resources(application.get("resources") or {})
    if missing:
        findings.append(
            Finding(
                "resources_missing",
                "warning",
                f"未随事下放{'、'.join(missing)}（费随事转），申请单位须说明理由",
            )
        )
    return PreCheck(tuple(findings), tuple(missing))
