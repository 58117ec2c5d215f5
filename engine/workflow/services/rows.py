"""Hot-path writes as plain UPDATE statements, mirrored on the loaded objects.

Commands load rows through the ORM (identity map, relationships, typed attributes) but write the
few rows they change with single statements: a unit-of-work flush costs more than the rest of a
command's SQL together. `set_committed_value` keeps the loaded objects truthful for the response
without marking them dirty, so nothing is written twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.db import STALE
from engine.errors import Conflict
from engine.models import Instance


def update_row(session: Session, row: Any, **values: Any) -> None:
    """UPDATE one row by id with a plain statement and mirror the values on the loaded object
    without marking it dirty: no unit-of-work flush on the hot path."""
    table = type(row).__table__
    session.execute(update(table).where(table.c.id == row.id).values(**values))
    for key, value in values.items():
        set_committed_value(row, key, value)


def update_instance(session: Session, instance: Instance, **values: Any) -> None:
    """UPDATE the instance if nobody else did since it was read (optimistic lock), else Conflict."""
    table = Instance.__table__
    version = instance.version
    result = session.execute(
        update(table)
        .where(table.c.id == instance.id, table.c.version == version)
        .values(version=version + 1, **values)
    )
    if result.rowcount != 1:
        raise Conflict(STALE)
    for key, value in {**values, "version": version + 1}.items():
        set_committed_value(instance, key, value)
