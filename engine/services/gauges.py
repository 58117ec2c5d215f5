"""Gauges read from the database when /metrics is scraped: county-wide numbers, nothing per
organisation.

Why read at scrape time: every API process answers a scrape with the same numbers, so they are
right under any number of gunicorn workers (and on any machine) without shared memory, and the
engine needs no metrics library — `api/metrics.py` turns `read_all` into Prometheus gauges.

To expose a value: write `reader(session, now) -> float` (or, with `labels`, a dict from label
values to floats) and add a `Gauge` to `GAUGES`. Keep each reader to one indexed query: a
scrape runs them all, every 15-60 seconds, on every API process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Instance
from engine.models_ops import Incident, OpsReading
from engine.services import delivery
from engine.workflow.context import Context
from engine.workflow.services.stranded import READING as STRANDED_READING

Reading = float | Mapping[tuple[str, ...], float]


@dataclass(frozen=True)
class Gauge:
    name: str  # zhunru_…, Prometheus naming (unit as suffix: _seconds, _total is for counters)
    help: str
    read: Callable[[Session, datetime], Reading]
    labels: tuple[str, ...] = ()


def timer_lag_seconds(session: Session, now: datetime) -> float:
    """How long the oldest due timer has been waiting to fire (0 when none is due).

    A worker polls every few seconds, so a few seconds is normal; minutes mean no worker runs,
    or one instance's timer keeps failing. Suspended instances are held on purpose: not counted.
    """
    oldest = session.scalar(
        select(func.min(Instance.next_timer_at)).where(Instance.suspended_at.is_(None))
    )
    if oldest is None:
        return 0.0
    return max(0.0, (now - oldest).total_seconds())


def incidents_open(session: Session, _now: datetime) -> float:
    """Incidents no administrator has resolved yet (read along ix_incident_open)."""
    query = select(func.count()).select_from(Incident).where(Incident.resolved_at.is_(None))
    return float(session.scalar(query) or 0)


def instances_stranded(session: Session, _now: datetime) -> float:
    """Stranded instances left after the worker's last sweep (engine/services/stranded): the
    scan restores every live workflow, too slow for a scrape, so the worker stores the count."""
    reading = session.get(OpsReading, STRANDED_READING)
    return float(reading.value) if reading is not None else 0.0


GAUGES: tuple[Gauge, ...] = (
    Gauge(
        "zhunru_timer_lag_seconds",
        "Seconds the oldest due timer is overdue (instance.next_timer_at against the clock).",
        timer_lag_seconds,
    ),
    Gauge("zhunru_incidents_open", "Incidents not yet resolved.", incidents_open),
    Gauge(
        "zhunru_instances_stranded",
        "Stranded instances left after the worker's last sweep.",
        instances_stranded,
    ),
    Gauge(
        "zhunru_notice_deliveries_failed",
        "Notices by e-mail or webhook given up after their last attempt.",
        delivery.failed,
    ),
)


def read_all(ctx: Context, gauges: tuple[Gauge, ...] = GAUGES) -> list[tuple[Gauge, Reading]]:
    """Every gauge, read in one transaction at the context's clock."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        return [(gauge, gauge.read(session, now)) for gauge in gauges]
