"""The trail: append-only events, hash-chained per instance, and verification of the chains.

An event's hash is SHA-256 over the previous hash followed by the event's canonical JSON (keys
sorted, no spaces, UTF-8 kept). `payload_json` is stored already canonical, so the canonical text
of a stored event can be rebuilt from its columns without re-parsing the payload — which is what
makes verification fast enough for millions of events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.models import AuditEvent

GENESIS = "0" * 64
_quote = encode_basestring  # json's own C string encoder, as json.dumps(ensure_ascii=False) uses


def _dump(value: str | int | None) -> str:
    if value is None:
        return "null"
    return _quote(value) if isinstance(value, str) else str(value)


def _utc_text(at: datetime) -> str:
    """ISO 8601 in UTC with offset; a naive value is UTC already (as databases return it)."""
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
    return (
        f'{{"action":{_dump(action)},"actor_id":{_dump(actor_id)},'
        f'"actor_org_id":{_dump(actor_org_id)},"at":"{_utc_text(at)}",'
        f'"instance_id":{_dump(instance_id)},"payload":{payload_json},'
        f'"role":{_dump(role)},"seq":{seq},"task":{_dump(task)}}}'
    )


def chain_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One thing to record: what happened, at which step, with what details."""

    action: str
    task: str | None = None
    payload: dict[str, Any] | None = None


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

    The caller holds the instance's lock (or, for the administrative chain, a write
    transaction), so nobody else appends to this chain until it commits. `head` is the chain's
    last (seq, hash) when the caller keeps it (instances do); otherwise it is read here.
    Returns the new head.
    """
    seq, prev_hash = head if head is not None else chain_head(session, instance_id)
    actor_id = actor.user_id if actor else None
    actor_org_id = actor.org_id if actor else None
    rows = []
    for entry in entries:
        seq += 1
        payload_json = canonical_json(entry.payload or {})
        text = event_text(
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
        digest = chain_hash(prev_hash, text)
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
)


def verify(rows: Iterable[tuple[Any, ...]]) -> Iterator[ChainProblem]:
    """Check chains given as rows of VERIFY_COLUMNS, ordered by (instance_id, seq).

    Within each chain: numbering from 1 without gaps, each link to the previous hash, and each
    hash over the event's own content. Yields one problem per broken event.
    """
    chain: object = object()
    expected_seq, prev_hash = 1, GENESIS
    for instance_id, seq, at, actor_id, org_id, role, action, task, payload, prev, digest in rows:
        if instance_id != chain:
            chain, expected_seq, prev_hash = instance_id, 1, GENESIS
        if seq != expected_seq:
            yield ChainProblem(instance_id, seq, f"序号不连续，应为 {expected_seq}")
        if prev != prev_hash:
            yield ChainProblem(instance_id, seq, "前序哈希不匹配")
        text = event_text(instance_id, seq, at, actor_id, org_id, role, action, task, payload)
        if chain_hash(prev, text) != digest:
            yield ChainProblem(instance_id, seq, "事件内容与哈希不符")
        expected_seq, prev_hash = seq + 1, digest


def verify_chain(events: list[AuditEvent]) -> list[ChainProblem]:
    """Check one chain of loaded events (in seq order)."""
    rows = [tuple(getattr(e, c.key) for c in VERIFY_COLUMNS) for e in events]
    return list(verify(rows))
