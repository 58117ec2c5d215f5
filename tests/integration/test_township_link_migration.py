"""The township-link migration: every link takes its matter's filing time, so a township's
list keeps its order after the upgrade; the downgrade takes the column and index away."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from engine import migrate
from tests.integration.test_counties_migration import _insert
from tests.integration.test_task_county_migration import insert_instances, insert_organizations
from tests.migration_scripts import revisions

ORGS = [  # id, code, level, parent, county
    (1, "county", "county", None, 1),
    (2, "nongye", "department", 1, 1),
    (3, "chengguan", "township", 1, 1),
    (4, "beiling", "township", 1, 1),
]
FILED = {1: "2026-11-01 02:00:00", 2: "2026-11-03 09:30:00", 3: "2026-11-02 17:45:00"}
LINKS = [(1, 3), (1, 4), (2, 4), (3, 3)]
# A link to no matter, as an old SQLite file written without its foreign keys may hold: it
# addresses nothing a read can show, and goes.
ORPHAN = (99, 4)


def test_each_link_takes_its_matter_s_filing_time(tmp_path: Path) -> None:
    revision, before = revisions("township_link_created")
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, before)
    with engine.begin() as conn:
        insert_organizations(conn, ORGS)
        insert_instances(engine, conn, [(i, 2, 1, at) for i, at in FILED.items()])
        for instance_id, org_id in [*LINKS, ORPHAN]:
            _insert(conn, "instance_township", {"instance_id": instance_id, "org_id": org_id})
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        links = conn.execute(
            text("SELECT instance_id, org_id, created_at FROM instance_township")
        ).all()
    assert {(i, o): datetime.fromisoformat(str(at)) for i, o, at in links} == {
        (i, o): datetime.fromisoformat(FILED[i]) for i, o in LINKS
    }
    indexes = {index["name"] for index in inspect(engine).get_indexes("instance_township")}
    assert "ix_instance_township_org_created" in indexes
    columns = {c["name"]: c for c in inspect(engine).get_columns("instance_township")}
    assert columns["created_at"]["nullable"] is False

    migrate.downgrade(engine, before)
    assert "created_at" not in {c["name"] for c in inspect(engine).get_columns("instance_township")}
