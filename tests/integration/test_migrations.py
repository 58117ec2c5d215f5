"""The Alembic migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from engine import migrate


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    else:
        server = request.getfixturevalue("postgres")
        name = f"zhunru_mig_{os.getpid()}_{time.monotonic_ns()}"
        admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        engine = create_engine(server.url(name))
    yield engine
    engine.dispose()


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(empty_engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.differences(empty_engine) == []
    tables = set(inspect(empty_engine).get_table_names())
    assert {"instance", "task", "audit_event", "deployment", "calendar_override"} <= tables

    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}


def test_upgrade_twice_changes_nothing(empty_engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.differences(empty_engine) == []
