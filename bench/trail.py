"""Trail: time each appended event adds, and how fast a million events verify."""

from __future__ import annotations

import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update

from bench import growth
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


def _bare_instances(ctx: Context, chains: int, state: bytes) -> list[int]:
    """`chains` stored instances without a trail of their own yet, seeding more if need be."""
    bare = select(Instance.id).where(Instance.trail_seq == 0).order_by(Instance.id).limit(chains)
    with ctx.db.read() as session:
        ids = list(session.scalars(bare))
        stored = session.scalar(select(func.count()).select_from(Instance)) or 0
    if len(ids) == chains:
        return ids
    growth.seed(ctx, stored + chains - len(ids), state, random.Random(len(ids)))
    with ctx.db.read() as session:
        return list(session.scalars(bare))


def seed(ctx: Context, events: int, state: bytes) -> int:
    """Write `events` valid events in chains of 20 onto stored instances (bulk, real schema),
    interleaved as a county's matters move on together: every chain's first event, then every
    chain's second, and so on, so that no two events of a chain are written side by side."""
    ids = _bare_instances(ctx, -(-events // EVENTS_PER_CHAIN), state)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    payload = canonical_json({"name": "审核", "form": {"decision": "pass", "comment": ""}})
    heads = dict.fromkeys(ids, GENESIS)
    rows: list[dict[str, Any]] = []
    written = 0
    for seq in range(1, EVENTS_PER_CHAIN + 1):
        for instance_id, prev in heads.items():
            at = base + timedelta(seconds=written)
            text = event_text(
                instance_id, seq, at, 2, 3, "reviewer", "task_completed", "review", payload
            )
            heads[instance_id] = digest = chain_hash(prev, text)
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
            written += 1
            if len(rows) >= BATCH:
                _write(ctx, AuditEvent.__table__.insert(), rows)
                rows = []
    if rows:
        _write(ctx, AuditEvent.__table__.insert(), rows)
    # The instance rows keep their chains' heads, as the service's own appends do.
    table = Instance.__table__
    recorded = update(table).where(table.c.id == bindparam("b_id"))
    recorded = recorded.values(trail_seq=EVENTS_PER_CHAIN, trail_head=bindparam("head"))
    marks = [{"b_id": instance_id, "head": head} for instance_id, head in heads.items()]
    for at in range(0, len(marks), BATCH):
        _write(ctx, recorded, marks[at : at + BATCH])
    return written


def _write(ctx: Context, statement: Any, rows: list[dict[str, Any]]) -> None:
    with ctx.db.write() as session:
        session.execute(statement, rows)


def verify_rate(ctx: Context) -> dict[str, Any]:
    """Two figures, end to end from the database: the hash chains alone (audit.verify over the
    rows chain by chain, as verification reads them), and everything `zhunru audit verify`
    checks (chains, chain heads on the instance rows, Merkle tree, checkpoints), with the
    memory that pass holds at its peak."""
    began = time.perf_counter()
    with ctx.db.read() as session:
        rows = trail_log.chain_rows(session)
        problems = list(audit.verify(rows, ended=lambda *_: None))
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
        "chains": report.chains,
        "problems": len(problems) + report.problem_count,
        "chains_seconds": round(chains_s, 2),
        "events_per_s": round(count / chains_s),
        "full_seconds": report.seconds,
        "full_events_per_s": round(report.events / report.seconds),
    }


def run(ctx: Context, events: int, state: bytes) -> dict[str, Any]:
    """Verify the log at half its size and at its whole size: the rate, and whether the
    memory verification holds grows with the log."""
    began = time.perf_counter()
    seeded = seed(ctx, events // 2, state)
    seed_s = time.perf_counter() - began
    half = verify_rate(ctx)
    began = time.perf_counter()
    seeded += seed(ctx, events - events // 2, state)
    seed_s += time.perf_counter() - began
    return {
        "append": append_cost(ctx, 300),
        "seeded_events": seeded,
        "seed_s": round(seed_s, 1),
        "half": half,
        "verify": verify_rate(ctx),
    }
