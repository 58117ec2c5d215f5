"""Trail: time each appended event adds, and how fast a million events verify."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update

from bench.common import actors
from engine.models import AuditEvent, Instance
from engine.services.context import Context
from engine.trail import trail_log
from engine.trail.services import trail as trail_service
from engine.workflow import audit
from engine.workflow.audit import GENESIS, Entry, canonical_json, chain_hash, event_text

EVENTS_PER_CHAIN = 20
BATCH = 20_000


def append_cost(ctx: Context, commands: int) -> dict[str, Any]:
    """µs per event for a command's typical three events (hashing plus the batched insert)."""
    who = actors(ctx)["bianban"]
    with ctx.db.read() as session:
        instance_id = session.scalar(select(func.min(Instance.id)))
    entries = [
        Entry("task_completed", "review", {"name": "审核", "form": {"decision": "pass"}}),
        Entry("task_opened", "approve", {"name": "审批", "role": "approver"}),
        Entry("status_changed", None, {"from": "pending", "to": "pending"}),
    ]
    spent = 0.0
    with ctx.db.write() as session:
        head = audit.chain_head(session, instance_id)
        for _ in range(commands):
            began = time.perf_counter()
            head = audit.append(
                session,
                instance_id=instance_id,
                actor=who,
                role="reviewer",
                entries=entries,
                at=datetime.now(UTC),
                head=head,
            )
            spent += time.perf_counter() - began
        session.rollback()
    return {"us_per_event": round(spent / (commands * len(entries)) * 1e6, 1)}


def seed(ctx: Context, events: int) -> int:
    """Write `events` valid events in chains of 20 onto existing instances (bulk, real schema)."""
    chains = -(-events // EVENTS_PER_CHAIN)
    with ctx.db.read() as session:
        # Seeded instances without a trail of their own yet.
        ids = list(
            session.scalars(
                select(Instance.id)
                .where(Instance.trail_seq == 0)
                .order_by(Instance.id)
                .limit(chains)
            )
        )
    if len(ids) < chains:
        raise RuntimeError(f"need {chains} instances to hang {events} events on")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    written = 0
    for instance_id in ids:
        prev = GENESIS
        for seq in range(1, EVENTS_PER_CHAIN + 1):
            at = base + timedelta(seconds=instance_id * 60 + seq)
            payload = canonical_json({"name": "审核", "form": {"decision": "pass", "comment": ""}})
            text = event_text(
                instance_id, seq, at, 2, 3, "reviewer", "task_completed", "review", payload
            )
            digest = chain_hash(prev, text)
            rows.append(
                {
                    "instance_id": instance_id,
                    "seq": seq,
                    "at": at,
                    "actor_id": 2,
                    "actor_org_id": 3,
                    "role": "reviewer",
                    "action": "task_completed",
                    "task": "review",
                    "payload_json": payload,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
            written += 1
        # The instance row keeps its chain head, as the service's own appends do.
        heads.append({"b_id": instance_id, "seq": EVENTS_PER_CHAIN, "head": prev})
        if len(rows) >= BATCH:
            _write(ctx, rows, heads)
            rows, heads = [], []
    if rows:
        _write(ctx, rows, heads)
    return written


def _write(ctx: Context, rows: list[dict[str, Any]], heads: list[dict[str, Any]]) -> None:
    table = Instance.__table__
    with ctx.db.write() as session:
        session.execute(AuditEvent.__table__.insert(), rows)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(trail_seq=bindparam("seq"), trail_head=bindparam("head")),
            heads,
        )


def verify_rate(ctx: Context) -> dict[str, Any]:
    """Two figures, end to end from the database: the hash chains alone (audit.verify over the
    rows in the order written), and everything `zhunru audit verify` checks (chains, Merkle tree,
    chain heads on the instance rows, checkpoints)."""
    began = time.perf_counter()
    with ctx.db.read() as session:
        rows, _ = trail_log.log_rows(session)
        problems = list(audit.verify(rows))
        count = trail_log.count(session)
    chains_s = time.perf_counter() - began
    report = trail_service.verify_log(ctx, [])
    # Memory, in a second run (tracing slows it): what the pass holds at its peak.
    tracemalloc.start()
    trail_service.verify_log(ctx, [])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "full_peak_mb": round(peak / 2**20, 1),
        "events": count,
        "problems": len(problems) + report.problem_count,
        "chains_seconds": round(chains_s, 2),
        "events_per_s": round(count / chains_s),
        "full_seconds": report.seconds,
        "full_events_per_s": round(report.events / report.seconds),
    }


def run(ctx: Context, events: int) -> dict[str, Any]:
    began = time.perf_counter()
    seeded = seed(ctx, events)
    seed_s = time.perf_counter() - began
    return {
        "append": append_cost(ctx, 300),
        "seeded_events": seeded,
        "seed_s": round(seed_s, 1),
        "verify": verify_rate(ctx),
    }
