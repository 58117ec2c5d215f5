"""A city in one deployment: inbox and search latency for the city's office and a township as
a city's ten counties pile up matters (issue 17: 10M instances on PostgreSQL).

The demo city (清江市 over the demo county and 清源县, with the city's offices) gains eight
counties of 50 townships and 5 filing departments each; instances are bulk-seeded evenly over
the ten counties through the real schema, shaped as in `bench.growth`.

The state column of these instances carries a placeholder of a few bytes rather than a real
workflow state (about 6.5 KB each: 65 GB at ten million, more than this machine's disk holds).
PostgreSQL keeps a value that large out of line, in its TOAST table, with an 18-byte pointer
in the row, and no inbox or search reads the state, so the rows the views scan are of the
same size either way.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select, text

from bench import growth
from bench.common import PASSWORD, actors
from engine.demo_city import CITY, load_demo_city
from engine.models import Deployment, Instance, Organization
from engine.services.accounts import add_organization
from engine.services.context import Context
from engine.workflow.services import instances, tasks

COUNTIES, TOWNSHIPS, DEPARTMENTS = 10, 50, 5
PLACEHOLDER_STATE = b"seeded, no state"


def seed_counties(ctx: Context) -> list[growth.CountyShape]:
    """The demo city with ten counties (once; again changes nothing), as shapes to seed."""
    load_demo_city(ctx, PASSWORD)
    with ctx.db.write() as session:
        city = session.scalar(select(Organization).where(Organization.code == CITY[0]))
        assert city is not None
        for n in range(1, COUNTIES - 1):
            if session.scalar(select(Organization.id).where(Organization.code == f"city-c{n}")):
                continue
            county = add_organization(session, f"city-c{n}", f"基准{n}县", "county", city)
            for d in range(DEPARTMENTS):
                add_organization(
                    session, f"city-c{n}-d{d}", f"基准{n}县第{d}局", "department", county
                )
            for t in range(TOWNSHIPS):
                add_organization(
                    session, f"city-c{n}-t{t}", f"基准{n}县第{t}镇", "township", county
                )
    return _shapes(ctx)


def _shapes(ctx: Context) -> list[growth.CountyShape]:
    demo = {"nongye", "jiaoyu", "minzheng", "qy_nongye"}
    shapes: dict[int, growth.CountyShape] = {}
    with ctx.db.read() as session:
        rows = session.execute(
            select(Organization.id, Organization.level, Organization.code, Organization.county_id)
            .where(Organization.county_id.is_not(None))
            .order_by(Organization.id)
        )
        for org_id, level, code, county_id in rows:
            shape = shapes.setdefault(county_id, growth.CountyShape(county_id, [], []))
            if level == "township":
                shape.townships.append(org_id)
            elif code in demo or (code.startswith("city-c") and level == "department"):
                shape.applicants.append(org_id)
    return list(shapes.values())


def cases(ctx: Context) -> growth.Cases:
    """The city office's inbox and search, a township's of the demo county and of 清源县, and
    the demo county's own offices, each as a real signed-in caller."""
    who = actors(ctx)
    flt = instances.InstanceFilter
    return {
        "city office inbox": lambda: tasks.inbox(ctx, who["shi_bianban"]),
        "city office search": lambda: instances.search(ctx, who["shi_bianban"], flt()),
        "inbox township": lambda: tasks.inbox(ctx, who["donghe"]),
        "search township": lambda: instances.search(ctx, who["donghe"], flt()),
        "inbox township, second county": lambda: tasks.inbox(ctx, who["qy_hekou"]),
        "search township, second county": lambda: instances.search(ctx, who["qy_hekou"], flt()),
        "inbox county reviewer": lambda: tasks.inbox(ctx, who["bianban"]),
        "search county auditor status": lambda: instances.search(
            ctx, who["jiwei"], flt(status="pending")
        ),
        "search by township": lambda: instances.search(
            ctx, who["jiwei"], flt(township="xishan", page=3)
        ),
    }


BATCH = 500_000
# The shape of `bench.growth`'s seed, written by the server (ten million instances come with
# fifty million task rows: building them in Python would take most of an hour). Matters fall
# to counties in turn; one in ten is pending at one of the first four steps with its task
# open, the rest went through five; each goes to one township (half of them), two or three,
# consecutive on its county's list from a point the instance's id hashes to. (Hashed, not
# multiplied: a multiple of the id taken modulo 4 follows its parity, and so the county: the
# demo county's matters were never pending at review.)
_COUNTIES = text(
    "CREATE TEMP TABLE seed_county (idx int PRIMARY KEY, county_id int, applicants int[],"
    " townships int[]) ON COMMIT PRESERVE ROWS"
)
_STEPS = text(
    "CREATE TEMP TABLE seed_step (idx int PRIMARY KEY, bpmn_id text, role text)"
    " ON COMMIT PRESERVE ROWS"
)
_INSTANCES = text(
    """
    INSERT INTO instance (id, deployment_id, process_id, title, status, state,
        serializer_version, version, created_by, applicant_org_id, county_id, created_at,
        updated_at, trail_seq, trail_head)
    SELECT g.id, :deployment, 'matter_admission', '事项 ' || g.id,
        CASE WHEN g.r < 0.10 THEN 'pending' WHEN g.r < 0.50 THEN 'in_force'
             WHEN g.r < 0.80 THEN 'exited' WHEN g.r < 0.95 THEN 'rejected'
             ELSE 'withdrawn' END,
        :state, '1.5', 6, :creator,
        c.applicants[1 + floor(g.a * cardinality(c.applicants))::int], c.county_id,
        g.created, g.created, 0, repeat('0', 64)
    FROM (SELECT id, random() AS r, random() AS a,
                 timestamp '2021-01-01' + random() * interval '2130 days' AS created
          FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS id) g
    JOIN seed_county c ON c.idx = g.id % :counties
    """
)
_HASHED = """
    JOIN seed_county c ON c.idx = i.id % :counties
    CROSS JOIN LATERAL (SELECT abs(hashint8extended(i.id, 1) % 1000003)::int AS start,
        (ARRAY[1, 1, 2, 3])[1 + abs(hashint8extended(i.id, 2) % 4)] AS addressed,
        CASE WHEN i.status = 'pending' THEN abs(hashint8extended(i.id, 3) % 4)::int ELSE 5 END
            AS finished) h
"""
_LINKS = text(
    """
    INSERT INTO instance_township (instance_id, org_id, created_at)
    SELECT i.id, c.townships[1 + (h.start + j) % cardinality(c.townships)], i.created_at
    FROM instance i"""
    + _HASHED
    + """
    CROSS JOIN LATERAL generate_series(0, h.addressed - 1) j
    WHERE i.id BETWEEN :lo AND :hi
    """
)
_TASKS = text(
    """
    INSERT INTO task (instance_id, spiff_task_id, bpmn_id, name, role, org_id, county_id,
        state, created_at, completed_at)
    SELECT i.id, 'seed-' || i.id || '-' || j, s.bpmn_id, s.bpmn_id, s.role,
        CASE s.role WHEN 'applicant' THEN i.applicant_org_id
             WHEN 'township' THEN c.townships[1 + h.start % cardinality(c.townships)] END,
        i.county_id,
        CASE WHEN i.status = 'pending' AND j = h.finished THEN 'open' ELSE 'completed' END,
        i.created_at + j * interval '1 hour',
        CASE WHEN i.status = 'pending' AND j = h.finished THEN NULL
             ELSE i.created_at + j * interval '1 hour' END
    FROM instance i"""
    + _HASHED
    + """
    CROSS JOIN LATERAL generate_series(0, h.finished - 1 + (i.status = 'pending')::int) j
    JOIN seed_step s ON s.idx = j % 5
    WHERE i.id BETWEEN :lo AND :hi
    """
)


def seed(ctx: Context, target: int, counties: list[growth.CountyShape]) -> int:
    """Add instances until `target` are stored (PostgreSQL); returns how many were added."""
    with ctx.db.read() as session:
        have = session.scalar(select(func.count()).select_from(Instance)) or 0
        next_id = (session.scalar(select(func.max(Instance.id))) or 0) + 1
        deployment = session.scalar(select(Deployment.id).limit(1))
        creator = session.scalar(select(Organization.id).limit(1))
    common = {"counties": len(counties), "deployment": deployment, "creator": creator}
    added = 0
    with ctx.db.engine.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS seed_county, seed_step"))  # a failed run's
        conn.execute(_COUNTIES)
        conn.execute(_STEPS)
        conn.execute(
            text("INSERT INTO seed_county VALUES (:idx, :county, :applicants, :townships)"),
            [
                {
                    "idx": idx,
                    "county": shape.county_id,
                    "applicants": shape.applicants,
                    "townships": shape.townships,
                }
                for idx, shape in enumerate(counties)
            ],
        )
        conn.execute(
            text("INSERT INTO seed_step VALUES (:idx, :bpmn_id, :role)"),
            [
                {"idx": idx, "bpmn_id": bpmn_id, "role": role}
                for idx, (bpmn_id, role) in enumerate(growth.PENDING_STEPS)
            ],
        )
        conn.commit()
        while have + added < target:
            count = min(BATCH, target - have - added)
            bounds = {"lo": next_id, "hi": next_id + count - 1, **common}
            conn.execute(_INSTANCES, {**bounds, "state": PLACEHOLDER_STATE})
            conn.execute(_LINKS, bounds)
            conn.execute(_TASKS, bounds)
            conn.commit()
            next_id += count
            added += count
        conn.execute(text("DROP TABLE seed_county, seed_step"))
        # Ids were given, not drawn: the sequence moves past them for any filing after.
        conn.execute(text("SELECT setval('instance_id_seq', :last)"), {"last": next_id - 1})
        conn.commit()
    return added


def run(ctx: Context, sizes: list[int], repeat: int) -> dict[str, Any]:
    """At each size: seed up to it, let maintenance catch up, time each case."""
    counties = seed_counties(ctx)
    assert len(counties) == COUNTIES, len(counties)
    views = cases(ctx)
    curve: dict[str, Any] = {}
    for size in sizes:
        began = time.perf_counter()
        seed(ctx, size, counties)
        seeded = time.perf_counter() - began
        growth.analyze(ctx)
        curve[str(size)] = {"seed_s": round(seeded, 1), **growth.measure(ctx, repeat, views)}
    return {"counties": len(counties), "curve": curve}
