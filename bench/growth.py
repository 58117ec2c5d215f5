"""Growth: inbox and search latency as stored instances pile up (10k → 100k → 1M).

Instances are bulk-seeded through the real schema (the same tables, indexes and constraints
the service uses), shaped like a county's years of history: most matters long decided, some
pending with an open task at one of the five steps.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from bench.common import actors, latency_summary, timed
from engine.models import Deployment, Instance, InstanceTownship, Organization, Task
from engine.services.context import Context
from engine.workflow.services import instances, tasks

BATCH = 20_000
# status, share of instances
STATUS_MIX = [
    ("pending", 0.10),
    ("in_force", 0.40),
    ("exited", 0.30),
    ("rejected", 0.15),
    ("withdrawn", 0.05),
]
PENDING_STEPS = [
    ("legal_review", "legal_reviewer"),
    ("review", "reviewer"),
    ("approve", "approver"),
    ("confirm_entry", "township"),
    ("revise", "applicant"),
]


@dataclass(frozen=True)
class CountyShape:
    """Who files in a county and where matters go: its id, filing departments, townships."""

    county_id: int
    applicants: list[int]
    townships: list[int]


def _demo_county(ctx: Context) -> list[CountyShape]:
    with ctx.db.read() as session:
        county = session.scalar(select(Organization.id).where(Organization.level == "county"))
        rows = session.execute(select(Organization.id, Organization.level, Organization.code))
        applicants, townships = [], []
        for org_id, level, code in rows:
            if level == "township":
                townships.append(org_id)
            elif code in {"nongye", "jiaoyu", "minzheng"}:
                applicants.append(org_id)
    assert county is not None
    return [CountyShape(county, applicants, townships)]


def seed(ctx: Context, target: int, state: bytes, rng: random.Random) -> int:
    """Add instances until `target` are stored; returns how many were added."""
    counties = _demo_county(ctx)
    with ctx.db.read() as session:
        have = session.scalar(select(func.count()).select_from(Instance)) or 0
        next_id = (session.scalar(select(func.max(Instance.id))) or 0) + 1
        next_task = (session.scalar(select(func.max(Task.id))) or 0) + 1
        deployment_id = session.scalar(select(Deployment.id).limit(1))
        creator = session.scalar(select(Organization.id).limit(1))
    epoch = datetime(2021, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 11, 1, tzinfo=UTC) - epoch).total_seconds()
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    added = 0
    while have + added < target:
        count = min(BATCH, target - have - added)
        rows, links, task_rows = [], [], []
        for _ in range(count):
            created = epoch + timedelta(seconds=rng.random() * span)
            status = rng.choices(statuses, weights)[0]
            county = counties[next_id % len(counties)]
            applicant = rng.choice(county.applicants)
            addressed = rng.sample(county.townships, rng.choice((1, 1, 2, 3)))
            rows.append(
                {
                    "id": next_id,
                    "deployment_id": deployment_id,
                    "process_id": "matter_admission",
                    "title": f"事项 {next_id}",
                    "status": status,
                    "state": state,
                    "serializer_version": "1.5",
                    "version": 6,
                    "created_by": creator,
                    "applicant_org_id": applicant,
                    "county_id": county.county_id,
                    "created_at": created,
                    "updated_at": created,
                    "ended_at": None,
                    "next_timer_at": None,
                    "trail_seq": 0,
                    "trail_head": "0" * 64,
                }
            )
            links.extend(
                {"instance_id": next_id, "org_id": org, "created_at": created} for org in addressed
            )
            finished = 5 if status != "pending" else rng.randint(0, 3)
            for step in range(finished + (1 if status == "pending" else 0)):
                bpmn_id, role = PENDING_STEPS[step % len(PENDING_STEPS)]
                open_task = status == "pending" and step == finished
                org = (
                    applicant
                    if role == "applicant"
                    else addressed[0]
                    if role == "township"
                    else None
                )
                at = created + timedelta(hours=step)
                task_rows.append(
                    {
                        "id": next_task,
                        "instance_id": next_id,
                        "spiff_task_id": f"seed-{next_task}",
                        "bpmn_id": bpmn_id,
                        "name": bpmn_id,
                        "lane": None,
                        "role": role,
                        "org_id": org,
                        "county_id": county.county_id,
                        "assignee_id": None,
                        "state": "open" if open_task else "completed",
                        "due_at": None,
                        "created_at": at,
                        "completed_at": None if open_task else at,
                        "completed_by": None,
                    }
                )
                next_task += 1
            next_id += 1
        with ctx.db.write() as session:
            session.execute(Instance.__table__.insert(), rows)
            session.execute(InstanceTownship.__table__.insert(), links)
            session.execute(Task.__table__.insert(), task_rows)
        added += count
    if added and ctx.db.engine.dialect.name == "postgresql":
        # Ids were given, not drawn: the sequences move past them for any filing after.
        with ctx.db.write() as session:
            session.execute(text("SELECT setval('instance_id_seq', :last)"), {"last": next_id - 1})
            session.execute(text("SELECT setval('task_id_seq', :last)"), {"last": next_task - 1})
    return added


Cases = dict[str, Callable[[], Any]]


def county_cases(ctx: Context) -> Cases:
    """The inbox and search use cases, as real callers of several roles of the demo county."""
    who = actors(ctx)
    flt = instances.InstanceFilter
    return {
        "inbox reviewer": lambda: tasks.inbox(ctx, who["bianban"]),
        "inbox township": lambda: tasks.inbox(ctx, who["donghe"]),
        "inbox applicant": lambda: tasks.inbox(ctx, who["nongye"]),
        "search auditor all": lambda: instances.search(ctx, who["jiwei"], flt()),
        "search auditor status": lambda: instances.search(ctx, who["jiwei"], flt(status="pending")),
        "search township": lambda: instances.search(ctx, who["donghe"], flt()),
        "search applicant": lambda: instances.search(ctx, who["nongye"], flt()),
        "search by township": lambda: instances.search(
            ctx, who["jiwei"], flt(township="xishan", page=3)
        ),
    }


def measure(ctx: Context, repeat: int, cases: Cases | None = None) -> dict[str, Any]:
    """p50/p99 of each case (the demo county's by default)."""
    cases = cases or county_cases(ctx)
    results = {}
    for name, call in cases.items():
        timed(call, 5)  # warm caches
        results[name] = latency_summary(timed(call, repeat))
    return results


def analyze(ctx: Context) -> None:
    """What a running deployment's maintenance has done by then: statistics, and on PostgreSQL
    the vacuum that lets an index answer a count without visiting the table's pages."""
    if ctx.db.engine.dialect.name == "postgresql":
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        return
    with ctx.db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def run(ctx: Context, sizes: list[int], repeat: int, state: bytes) -> dict[str, Any]:
    rng = random.Random(2026)
    curve: dict[str, Any] = {}
    for size in sizes:
        began = time.perf_counter()
        seed(ctx, size, state, rng)
        seeded = time.perf_counter() - began
        analyze(ctx)
        curve[str(size)] = {"seed_s": round(seeded, 1), **measure(ctx, repeat)}
    return curve
