"""The trail: append-only events, hash-chained per instance, and verification of the chains.

An event's hash is SHA-256 over the previous hash followed by the event's canonical JSON (keys
sorted, no spaces, UTF-8 kept). `payload_json` is stored already canonical, so the canonical text
of a stored event can be rebuilt from its columns without re-parsing the payload — which is what
makes verification fast enough for millions of events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.models import AuditEvent

GENESIS = "0" * 64
ADMIN_CHAIN_LOCK = 0x7A68756E  # "zhun": the advisory lock key of the administrative chain
_START = (0, GENESIS)  # a chain's place before its first event
_NO_CHAIN = object()
_MEMO_LIMIT = 100_000  # distinct (action, actor, organisation) parts kept while verifying
_quote = encode_basestring  # json's own C string encoder, as json.dumps(ensure_ascii=False) uses


def _dump(value: str | int | None) -> str:
    if value is None:
        return "null"
    return _quote(value) if isinstance(value, str) else str(value)


def utc_text(at: datetime | str) -> str:
    """ISO 8601 in UTC with offset; a naive value is UTC already (as databases return it).

    Also takes the text SQLite stores ("YYYY-MM-DD HH:MM:SS.ffffff", naive UTC): verification
    reads it raw, which is several times cheaper than building a datetime per event.
    """
    if isinstance(at, str):
        if len(at) == 26 and at[10] == " " and at[19] == ".":
            fraction = "" if at.endswith("000000") else at[19:]
            return f"{at[:10]}T{at[11:19]}{fraction}+00:00"
        at = datetime.fromisoformat(at)
    if at.tzinfo is UTC:  # as the models return it: isoformat already ends in +00:00
        return at.isoformat()
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat() + "+00:00"


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_text(
    instance_id: int | None,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_org_id: int | None,
    role: str | None,
    action: str,
    task: str | None,
    payload_json: str,
) -> str:
    """canonical_json of the event's fields, built from a payload that is canonical already."""
    role_text, task_text = _role_task(role, task)
    return (
        f"{_who(action, actor_id, actor_org_id)}{utc_text(at)}"
        f'","instance_id":{_dump(instance_id)},"payload":{payload_json}'
        f"{role_text}{seq}{task_text}"
    )


# The canonical text in three parts, so that verify() can build the parts that repeat across
# events (who did what, in which role) once instead of once per event.
def _who(action: str, actor_id: int | None, actor_org_id: int | None) -> str:
    """Everything before the time: action, actor, organisation."""
    return (
        f'{{"action":{_dump(action)},"actor_id":{_dump(actor_id)},'
        f'"actor_org_id":{_dump(actor_org_id)},"at":"'
    )


def _role_task(role: str | None, task: str | None) -> tuple[str, str]:
    """What goes before and after the sequence number."""
    return f',"role":{_dump(role)},"seq":', f',"task":{_dump(task)}}}'


def chain_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One thing to record: what happened, at which step, with what details."""

    action: str
    task: str | None = None
    payload: dict[str, Any] | None = None


# The administrative chain (events of no instance) has one head: its writers take turns.
ADMIN_CHAIN_LOCK = 4_801_001


def lock_admin_chain(session: Session) -> None:
    """Wait for the administrative chain (PostgreSQL advisory lock for the transaction; SQLite
    writers already queue with BEGIN IMMEDIATE). Take it before reading what the append depends
    on, e.g. the next deployment version."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHAIN_LOCK})


def append(
    session: Session,
    *,
    instance_id: int | None,
    actor: Actor | None,
    role: str | None,
    entries: list[Entry],
    at: datetime,
    head: tuple[int, str] | None = None,
) -> tuple[int, str]:
    """Append events to one chain in the caller's transaction, as one batched insert.

    The caller holds the instance's lock, so nobody else appends to that chain until it
    commits. The administrative chain (instance_id None) has no row to lock: on PostgreSQL a
    transaction-scoped advisory lock queues its writers (SQLite writers are serialized anyway).
    `head` is the chain's last (seq, hash) when the caller keeps it (instances do); otherwise
    it is read here. Returns the new head.
    """
    if instance_id is None and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHAIN_LOCK})
    seq, prev_hash = head if head is not None else chain_head(session, instance_id)
    actor_id = actor.user_id if actor else None
    actor_org_id = actor.org_id if actor else None
    rows = []
    for entry in entries:
        seq += 1
        payload_json = canonical_json(entry.payload or {})
        canonical = event_text(
            instance_id,
            seq,
            at,
            actor_id,
            actor_org_id,
            role,
            entry.action,
            entry.task,
            payload_json,
        )
        digest = chain_hash(prev_hash, canonical)
        rows.append(
            {
                "instance_id": instance_id,
                "seq": seq,
                "at": at,
                "actor_id": actor_id,
                "actor_org_id": actor_org_id,
                "role": role,
                "action": entry.action,
                "task": entry.task,
                "payload_json": payload_json,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    if rows:
        session.execute(AuditEvent.__table__.insert(), rows)
    return seq, prev_hash


def chain_head(session: Session, instance_id: int | None) -> tuple[int, str]:
    """The last (seq, hash) of a chain, or (0, GENESIS) for an empty one."""
    chain = (
        AuditEvent.instance_id.is_(None)
        if instance_id is None
        else AuditEvent.instance_id == instance_id
    )
    newest = select(AuditEvent.seq, AuditEvent.hash).where(chain).order_by(AuditEvent.seq.desc())
    last = session.execute(newest.limit(1)).first()
    return (last[0], last[1]) if last else (0, GENESIS)


@dataclass(frozen=True)
class ChainProblem:
    instance_id: int | None
    seq: int
    problem: str


# Columns in the order verify() reads them.
VERIFY_COLUMNS = (
    AuditEvent.instance_id,
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor_org_id,
    AuditEvent.role,
    AuditEvent.action,
    AuditEvent.task,
    AuditEvent.payload_json,
    AuditEvent.prev_hash,
    AuditEvent.hash,
    AuditEvent.id,  # the order written: a chain's events were written in seq order
)


ChainEnded = Callable[[int | None, int, str], None]


class _Ends:
    """verify()'s places for rows grouped by chain: a chain that ends is handed on, none kept."""

    def __init__(self, ended: ChainEnded) -> None:
        self.ended = ended

    def get(self, _chain: object, start: tuple[int, str]) -> tuple[int, str]:
        return start

    def __setitem__(self, chain: Any, place: tuple[int, str]) -> None:
        if chain is not _NO_CHAIN:
            self.ended(chain, *place)

    def pop(self, _chain: object, _default: object) -> None:
        return None


def _places(heads: dict[Any, tuple[int, str]] | None, ended: ChainEnded | None) -> Any:
    """Where verify() keeps each chain's place: handed on (`ended`), or kept (`heads`)."""
    if heads is not None and ended is not None:
        raise ValueError("verify() keeps heads or hands them on, not both")
    return _Ends(ended) if ended is not None else ({} if heads is None else heads)


def verify(  # noqa: C901 (the hot loop of verification, kept in one frame)
    rows: Iterable[tuple[Any, ...]],
    heads: dict[int | None, tuple[int, str]] | None = None,
    ended: ChainEnded | None = None,
) -> Iterator[ChainProblem]:
    """Check chains given as rows of VERIFY_COLUMNS, each chain's rows in seq order.

    Rows may come in the order they were written (by id) with chains interleaved: every
    chain keeps its own place, and `heads`, if given, receives each chain's last (seq, hash).
    Or, with `ended`, they come grouped by chain (ordered by instance_id, seq): then nothing
    is kept per chain, and `ended(instance_id, seq, hash)` hears each chain's last event as
    the rows move past it; a chain that came back later would start again from seq 1, and be
    reported broken. Within each chain: numbering from 1 without gaps, written in that order
    (ids rising), each link to the previous hash, and each hash over the event's own
    content. Yields one problem per broken event. `at` may be a datetime or SQLite's stored
    text. This loop is the hot path of verifying millions of events: the repeating parts of
    the canonical text are built once and memoized.
    """
    last = _places(heads, ended)
    who: dict[tuple[Any, ...], str] = {}
    role_task: dict[tuple[Any, ...], tuple[str, str]] = {}
    # The current chain's place is kept in locals, and in `last` only when the chain changes.
    chain: Any = _NO_CHAIN
    last_seq, prev_hash, chain_text, last_at, at_text = 0, GENESIS, "", None, ""
    last_id = 0
    sha256 = hashlib.sha256
    for (
        instance_id,
        seq,
        at,
        actor_id,
        org_id,
        role,
        action,
        task,
        payload,
        prev,
        digest,
        id_,
    ) in rows:
        if instance_id != chain:
            last[chain] = (last_seq, prev_hash)
            chain, chain_text = instance_id, _dump(instance_id)
            last_seq, prev_hash = last.get(chain, _START)
            last_id = 0  # read in id order, a chain's run of rows is in id order by itself
        if seq != last_seq + 1:
            yield ChainProblem(instance_id, seq, f"序号不连续，应为 {last_seq + 1}")
        if id_ <= last_id:
            yield ChainProblem(instance_id, seq, "写入顺序与序号不符：事件被调换了位置")
        last_id = id_
        if prev != prev_hash:
            yield ChainProblem(instance_id, seq, "前序哈希不匹配")
        head = who.get((action, actor_id, org_id))
        if head is None:
            head = who[(action, actor_id, org_id)] = _who(action, actor_id, org_id)
        around_seq = role_task.get((role, task))
        if around_seq is None:
            around_seq = role_task[(role, task)] = _role_task(role, task)
        if at != last_at:  # a command's events share one time
            last_at, at_text = at, utc_text(at)
        text = (
            f'{prev}{head}{at_text}","instance_id":{chain_text},"payload":{payload}'
            f"{around_seq[0]}{seq}{around_seq[1]}"
        )
        if sha256(text.encode()).hexdigest() != digest:
            yield ChainProblem(instance_id, seq, "事件内容与哈希不符")
        last_seq, prev_hash = seq, digest
        if len(who) > _MEMO_LIMIT:
            who.clear()
    last[chain] = (last_seq, prev_hash)
    last.pop(_NO_CHAIN, None)


def verify_chain(events: list[AuditEvent]) -> list[ChainProblem]:
    """Check one chain of loaded events (in seq order)."""
    rows = [tuple(getattr(e, c.key) for c in VERIFY_COLUMNS) for e in events]
    return list(verify(rows))
