"""The migration that brings in the current deployment keeps what was current before it: the
newest version of each process."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from engine import migrate
from tests.migration_scripts import revisions


def test_the_newest_version_of_each_process_becomes_current(tmp_path: Path) -> None:
    revision, before = revisions("current_deployment")
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, before)
    with engine.begin() as conn:
        for number, (process_id, version) in enumerate(
            [("matter_admission", 1), ("matter_admission", 2), ("clearance", 1)], start=1
        ):
            conn.execute(
                text(
                    "INSERT INTO deployment (process_id, name, version, sha256, xml, deployed_at)"
                    " VALUES (:p, :p, :v, :s, :x, '2026-01-01 00:00:00')"
                ),
                {"p": process_id, "v": version, "s": f"{number:064d}", "x": b"<x/>"},
            )
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT process_id, version, is_current FROM deployment ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("matter_admission", 1, 0),
        ("matter_admission", 2, 1),
        ("clearance", 1, 1),
    ]
    migrate.downgrade(engine, before)
    engine.dispose()
