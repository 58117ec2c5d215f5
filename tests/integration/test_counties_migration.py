"""The counties migration: a deployment that served one county keeps working as that county —
every organisation below it and every instance belongs to it, and its numbers continue."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from engine import migrate
from tests.migration_scripts import revisions

ORGS = [  # id, code, level, parent
    (1, "county", "county", None),
    (2, "nongye", "department", 1),
    (3, "chengguan", "township", 1),
    (4, "dongcun", "village", 3),
]


def _insert(conn, table: str, values: dict) -> None:
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _filler(engine, table: str) -> dict:
    """Values for a table's required columns the test does not care about."""
    return {
        c["name"]: 0 if str(c["type"]).startswith(("INT", "BIG", "BOOL")) else ""
        for c in inspect(engine).get_columns(table)
        if not c["nullable"] and c["name"] != "id" and c.get("default") is None
    }


def test_one_county_s_rows_become_that_county_s(tmp_path: Path) -> None:
    revision, before = revisions("counties")
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, before)
    with engine.begin() as conn:
        for org_id, code, level, parent in ORGS:
            _insert(
                conn,
                "organization",
                {"id": org_id, "code": code, "name": code, "level": level, "parent_id": parent},
            )
        at = "2026-11-01 02:00:00"
        values = _filler(engine, "instance") | {
            "process_id": "matter_admission",
            "applicant_org_id": 2,
            "created_at": at,
            "updated_at": at,
            "state": b"",
            "title": "事项",
            "number": "准〔2026〕7号",
        }
        _insert(conn, "instance", values)
        _insert(
            conn, "number_sequence", {"kind": "instance:matter_admission", "year": 2026, "last": 7}
        )
        _insert(conn, "number_sequence", {"kind": "doc:county:notice", "year": 2026, "last": 3})
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        counties = dict(conn.execute(text("SELECT code, county_id FROM organization")).all())
        instance_county = conn.execute(text("SELECT county_id FROM instance")).scalar_one()
        sequences = dict(conn.execute(text("SELECT kind, last FROM number_sequence")).all())
    assert counties == {"county": 1, "nongye": 1, "chengguan": 1, "dongcun": 1}
    assert instance_county == 1
    # The county's next matter is its 8th of the year, as it would have been.
    assert sequences == {"instance:matter_admission:1": 7, "doc:county:notice": 3}
    migrate.downgrade(engine, before)
    assert "county_id" not in {c["name"] for c in inspect(engine).get_columns("instance")}
    engine.dispose()
