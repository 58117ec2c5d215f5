"""The trail: append-only events, hash-chained per instance, and verification of the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
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
    """Everything an event's hash covers, besides the previous hash."""
    return {
        "instance_id": event.instance_id,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_org_id": event.actor_org_id,
        "role": event.role,
        "action": event.action,
        "task": event.task,
        "payload": json.loads(event.payload_json),
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def append(
    session: Session,
    *,
    instance_id: int | None,
    actor: Actor | None,
    action: str,
    at: datetime,
    role: str | None = None,
    task: str | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the instance's chain, in the caller's transaction."""
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = AuditEvent(
        instance_id=instance_id,
        seq=seq,
        at=at,
        actor_id=actor.user_id if actor else None,
        actor_org_id=actor.org_id if actor else None,
        role=role,
        action=action,
        task=task,
        payload_json=canonical_json(payload or {}),
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event_body(event))
    session.add(event)
    session.flush()
    return event


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
