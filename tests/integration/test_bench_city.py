"""`make bench`'s city of ten counties is seeded by the database server itself (fifty million
task rows at ten million matters). What the city's views are timed on must be the shape the
benchmark's docstring claims, or the figures mean nothing: each matter within one county
(its filer, its townships, its tasks), the status mix, one open task per pending matter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bench import city
from bench.common import APPLICATION, actors
from engine.models import Instance
from engine.services.context import Context
from engine.workflow.services import instances

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

SEEDED = 8_000


def _one(ctx: Context, sql: str) -> int:
    with ctx.db.read() as session:
        return session.execute(text(sql)).scalar_one()


def test_the_city_is_seeded_county_by_county_in_the_shape_the_views_are_timed_on(
    ctx: Context,
) -> None:
    counties = city.seed_counties(ctx)
    assert len(counties) == city.COUNTIES
    assert all(shape.applicants and shape.townships for shape in counties)
    who = actors(ctx)
    auditor, pending_only = who["jiwei"], instances.InstanceFilter(status="pending")
    pending_before = instances.search(ctx, auditor, pending_only).total
    with ctx.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Instance)) or 0
    assert city.seed(ctx, before + SEEDED, counties) == SEEDED
    seeded = f"i.title LIKE '事项 %' AND i.id > {before}"

    # Every matter stays inside its county: its filer, each township, each task's office.
    assert not _one(
        ctx,
        f"SELECT count(*) FROM instance i JOIN organization o ON o.id = i.applicant_org_id "
        f"WHERE {seeded} AND o.county_id IS DISTINCT FROM i.county_id",
    )
    assert not _one(
        ctx,
        f"SELECT count(*) FROM instance i JOIN instance_township l ON l.instance_id = i.id "
        f"JOIN organization o ON o.id = l.org_id WHERE {seeded} "
        f"AND (o.county_id IS DISTINCT FROM i.county_id OR o.level <> 'township')",
    )
    assert not _one(
        ctx,
        f"SELECT count(*) FROM task t JOIN instance i ON i.id = t.instance_id "
        f"WHERE {seeded} AND t.role = 'township' AND NOT EXISTS (SELECT 1 FROM "
        f"instance_township l WHERE l.instance_id = i.id AND l.org_id = t.org_id)",
    )
    assert not _one(
        ctx,
        f"SELECT count(*) FROM task t JOIN instance i ON i.id = t.instance_id "
        f"WHERE {seeded} AND t.county_id IS DISTINCT FROM i.county_id",
    )
    # Each matter goes to one, two or three townships; the counties share the matters evenly.
    assert (
        _one(
            ctx,
            f"SELECT count(*) FROM (SELECT i.id FROM instance i JOIN instance_township l "
            f"ON l.instance_id = i.id WHERE {seeded} GROUP BY i.id "
            f"HAVING count(*) BETWEEN 1 AND 3) x",
        )
        == SEEDED
    )
    per_county = _one(
        ctx,
        f"SELECT max(n) - min(n) FROM (SELECT count(*) n FROM instance i WHERE {seeded} "
        f"GROUP BY i.county_id) x",
    )
    assert per_county <= 1
    # About one in ten pending, each with exactly one open task; the rest went through five.
    pending = _one(ctx, f"SELECT count(*) FROM instance i WHERE {seeded} AND status = 'pending'")
    assert 0.07 * SEEDED < pending < 0.13 * SEEDED
    assert not _one(
        ctx,
        f"SELECT count(*) FROM instance i WHERE {seeded} AND (SELECT count(*) FROM task t "
        f"WHERE t.instance_id = i.id AND t.state = 'open') <> "
        f"CASE WHEN i.status = 'pending' THEN 1 ELSE 0 END",
    )
    # Every county has matters pending at each of those steps (about twenty each here), so
    # every county office's inbox has something to find.
    assert (
        _one(
            ctx,
            f"SELECT count(DISTINCT (i.county_id, t.bpmn_id)) FROM instance i JOIN task t "
            f"ON t.instance_id = i.id WHERE {seeded} AND t.state = 'open'",
        )
        == city.COUNTIES * 4
    )
    assert not _one(
        ctx,
        f"SELECT count(*) FROM instance i WHERE {seeded} AND i.status <> 'pending' AND "
        f"(SELECT count(*) FROM task t WHERE t.instance_id = i.id AND t.state = 'completed') <> 5",
    )

    # The views read what their callers may: the county's auditor every pending matter of the
    # county, the city's office none of the counties' matters.
    in_county = _one(
        ctx,
        f"SELECT count(*) FROM instance i WHERE {seeded} AND i.status = 'pending' "
        f"AND i.county_id = {auditor.county_id}",
    )
    found = instances.search(ctx, auditor, pending_only)
    assert found.total - pending_before == in_county > 0
    assert instances.search(ctx, who["shi_bianban"], instances.InstanceFilter()).total == 0
    for case in city.cases(ctx).values():
        case()
    # A matter filed after the seed is numbered on (the seed gave ids rather than drawing them).
    filed = instances.start(ctx, "matter_admission", APPLICATION, who["nongye"])
    assert filed.id > before + SEEDED
