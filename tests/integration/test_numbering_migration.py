"""The numbering migration numbers the instances filed before it, per kind and year in the order
they were filed, and the sequences continue from there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from engine import migrate
from tests.migration_scripts import revisions

FILED = [  # (process, UTC filing time): the last one is already 2027 in China
    ("matter_admission", "2026-03-01 02:00:00"),
    ("fault_tolerance", "2026-04-01 02:00:00"),
    ("matter_admission", "2026-05-01 02:00:00"),
    ("matter_admission", "2026-12-31 17:00:00"),
]


def test_instances_filed_before_are_numbered_in_order(tmp_path: Path) -> None:
    revision, before = revisions("instance_numbers")
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, before)
    columns = {c["name"]: c for c in inspect(engine).get_columns("instance")}
    with engine.begin() as conn:
        for number, (process_id, at) in enumerate(FILED, start=1):
            values = {
                name: 0 if str(c["type"]).startswith(("INT", "BIG")) else ""
                for name, c in columns.items()
                if not c["nullable"] and name != "id"
            }
            values |= {"process_id": process_id, "created_at": at, "updated_at": at}
            values |= {"state": b"", "title": f"事项{number}"}
            names = ", ".join(values)
            conn.execute(
                text(
                    f"INSERT INTO instance ({names}) VALUES ({', '.join(':' + n for n in values)})"
                ),
                values,
            )
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        numbers = [r[0] for r in conn.execute(text("SELECT number FROM instance ORDER BY id"))]
        sequences = dict(
            ((kind, year), last)
            for kind, year, last in conn.execute(
                text("SELECT kind, year, last FROM number_sequence")
            )
        )
    assert numbers == ["准〔2026〕1号", "容〔2026〕1号", "准〔2026〕2号", "准〔2027〕1号"]
    assert sequences[("instance:matter_admission", 2026)] == 2
    migrate.downgrade(engine, before)
    engine.dispose()
