"""What every benchmark section shares: the lifecycle, timing helpers, demo databases."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, select, text

from config import Settings
from devtools import pgserver
from engine.authz import Actor
from engine.demo import load_demo
from engine.models import User
from engine.services import accounts
from engine.services.context import Context, build_context, create_schema

PASSWORD = "bench-demo-password"
SECRET = "bench-secret-" + "b" * 40

APPLICATION: dict[str, Any] = {
    "name": "高标准农田建设项目日常巡查",
    "content": "每月对辖区内高标准农田建设项目开展一次巡查并报送台账",
    "basis": "《农田建设项目管理办法》（农业农村部令2019年第4号）",
    "reason": "项目点多面广，需乡镇协助日常巡查",
    "term_type": "short",
    "start_date": "2026-12-01",
    "end_date": "2027-06-30",
    "townships": ["chengguan", "donghe"],
    "resources": {"funding_yuan": 60000, "staff": 2, "powers": "项目现场巡查"},
    "assessment": "按季度报送巡查台账",
}
# (username, bpmn id, form): the five user tasks of one admission, in order.
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("sifa", "legal_review", {"opinion": "lawful"}),
    ("bianban", "review", {"decision": "pass"}),
    (
        "xianwei",
        "approve",
        {
            "decision": "pass",
            "meeting": "standing_committee",
            "meeting_date": "2024-12-30",
            "minutes_no": "县委常委会会议纪要〔2024〕31号",
        },
    ),
    ("chengguan", "confirm_entry", {"confirmed": True, "resources_received": True}),
    ("donghe", "confirm_entry", {"confirmed": True, "resources_received": True}),
]
USERS = ["nongye", *dict.fromkeys(u for u, _, _ in STEPS)]


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, secret_key=SECRET, demo_password=PASSWORD)


def demo_context(url: str) -> Context:
    ctx = build_context(settings_for(url))
    create_schema(ctx)
    load_demo(ctx, PASSWORD)
    return ctx


def actors(ctx: Context) -> dict[str, Actor]:
    """Demo actors straight from the database (sign-in cost is not what is measured), each
    with its county as a signed-in actor carries it."""
    with ctx.db.read() as session:
        names = list(session.scalars(select(User.username)))
    return {name: accounts.actor_of(ctx, name) for name in names}


def create_database(server: pgserver.PostgresServer, name: str) -> str:
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.url(name)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"),
        "samples": len(ms),
    }


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


@dataclass
class Target:
    name: str
    value: float
    target: str
    passed: bool

    def row(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.name}: {self.value:g} (target {self.target})"
