"""The task-county migration: every task row, open or done, takes its instance's county, so a
county office's inbox shows after the upgrade what it showed before; the downgrade gives the
old index back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

from engine import migrate
from tests.integration.test_counties_migration import _filler, _insert
from tests.migration_scripts import revisions

ORGS = [  # id, code, level, parent, county
    (1, "qingjiang", "city", None, None),
    (2, "county", "county", 1, 2),
    (3, "nongye", "department", 2, 2),
    (4, "qingyuan", "county", 1, 4),
    (5, "qy_nongye", "department", 4, 4),
    (6, "shi_bianban", "department", 1, None),
]
# instance id, filer, county
INSTANCES = [(1, 3, 2), (2, 5, 4), (3, 6, None)]
TASKS = [  # id, instance, state
    (1, 1, "completed"),
    (2, 1, "open"),
    (3, 2, "open"),
    (4, 3, "open"),
]


def insert_organizations(
    conn: Any, orgs: list[tuple[int, str, str, int | None, int | None]]
) -> None:
    """(id, code, level, parent, county) rows, at a revision where organisations have counties."""
    for org_id, code, level, parent, county in orgs:
        _insert(
            conn,
            "organization",
            {
                "id": org_id,
                "code": code,
                "name": code,
                "level": level,
                "parent_id": parent,
                "county_id": county,
            },
        )


def insert_instances(engine: Any, conn: Any, rows: list[tuple[int, int, int | None, str]]) -> None:
    """(id, filing organisation, county, filed at) admission matters."""
    for instance_id, filer, county, at in rows:
        values = _filler(engine, "instance") | {
            "id": instance_id,
            "process_id": "matter_admission",
            "applicant_org_id": filer,
            "county_id": county,
            "created_at": at,
            "updated_at": at,
            "state": b"",
            "title": "事项",
        }
        _insert(conn, "instance", values)


def test_each_task_takes_its_instance_s_county(tmp_path: Path) -> None:
    revision, before = revisions("task_county")
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, before)
    at = "2026-11-01 02:00:00"
    with engine.begin() as conn:
        insert_organizations(conn, ORGS)
        insert_instances(engine, conn, [(i, filer, county, at) for i, filer, county in INSTANCES])
        for task_id, instance_id, state in TASKS:
            values = _filler(engine, "task") | {
                "id": task_id,
                "instance_id": instance_id,
                "spiff_task_id": f"t{task_id}",
                "role": "reviewer",
                "state": state,
                "created_at": at,
            }
            _insert(conn, "task", values)
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        counties = dict(conn.execute(text("SELECT id, county_id FROM task")).all())
    assert counties == {1: 2, 2: 2, 3: 4, 4: None}
    indexes = {index["name"] for index in inspect(engine).get_indexes("task")}
    assert {"ix_task_open_county_role", "ix_task_open_city_role"} <= indexes
    assert "ix_task_open_role" not in indexes
    migrate.downgrade(engine, before)
    assert "county_id" not in {c["name"] for c in inspect(engine).get_columns("task")}
    indexes = {index["name"] for index in inspect(engine).get_indexes("task")}
    assert "ix_task_open_role" in indexes
    assert not {"ix_task_open_county_role", "ix_task_open_city_role"} & indexes
    engine.dispose()
