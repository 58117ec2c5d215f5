"""The migration that tracks 费随事转 splits the entries made before it: each township's row had
carried the whole matter's funding and staff, and now carries its share; what had arrived
follows the old yes/no."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from engine import migrate
from tests.migration_scripts import revisions


def test_old_entries_are_split_among_the_matters_townships(tmp_path: Path) -> None:
    revision, before = revisions("resources_follow")
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, before)
    with engine.begin() as conn:
        for org in (10, 11, 12):  # addressed to three townships; the third has not confirmed
            conn.execute(text(f"INSERT INTO instance_township VALUES (1, {org})"))
        for org, received in ((10, True), (11, False)):
            conn.execute(
                text(
                    "INSERT INTO matter (instance_id, township_org_id, name, term_type,"
                    " start_date, funding_yuan, staff, resources_received, status, entered_at)"
                    " VALUES (1, :org, '巡查', 'long', '2026-01-01', 60001, 2, :received,"
                    " 'in_force', '2026-01-02 00:00:00')"
                ),
                {"org": org, "received": received},
            )
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT township_org_id, funding_yuan, staff, funding_received_yuan,"
                " staff_received, powers_received FROM matter ORDER BY township_org_id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(10, 20001, 1, 20001, 1, 1), (11, 20000, 1, 0, 0, 0)]
    migrate.downgrade(engine, before)
    engine.dispose()
