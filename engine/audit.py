"""The trail: append-only events, hash-chained per instance, and verification of the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.models import AuditEvent

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_body(event: AuditEvent) -> dict[str, Any]:
    """Everything a stored event's hash covers, besides the previous hash."""
    return _body(
        event.instance_id,
        event.seq,
        event.at,
        event.actor_id,
        event.actor_org_id,
        event.role,
        event.action,
        event.task,
        json.loads(event.payload_json),
    )


def _body(
    instance_id: int | None,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_org_id: int | None,
    role: str | None,
    action: str,
    task: str | None,
    payload: Any,
) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(),
        "actor_id": actor_id,
        "actor_org_id": actor_org_id,
        "role": role,
        "action": action,
        "task": task,
        "payload": payload,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


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
        payload = entry.payload or {}
        body = _body(
            instance_id, seq, at, actor_id, actor_org_id, role, entry.action, entry.task, payload
        )
        digest = chain_hash(prev_hash, body)
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
                "payload_json": canonical_json(payload),
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
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(chain)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify_chain(events: list[AuditEvent]) -> list[ChainProblem]:
    """Check one chain in seq order: numbering, links and hashes."""
    problems: list[ChainProblem] = []
    prev_hash = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            problems.append(ChainProblem(event.seq, f"序号不连续，应为 {expected_seq}"))
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(event.seq, "前序哈希不匹配"))
        if chain_hash(event.prev_hash, event_body(event)) != event.hash:
            problems.append(ChainProblem(event.seq, "事件内容与哈希不符"))
        prev_hash = event.hash
    return problems
