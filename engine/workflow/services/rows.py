"""Hot-path writes as plain UPDATE statements, mirrored on the loaded objects.

Commands load rows through the ORM (identity map, relationships, typed attributes) but write the
few rows they change with single statements: a unit-of-work flush costs more than the rest of a
command's SQL together. `set_committed_value` keeps the loaded objects truthful for the response
without marking them dirty, so nothing is written twice. Each statement is built once per
table and set of columns and then only bound: building one costs more than running it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.db import STALE
from engine.errors import Conflict
from engine.models import Instance


@lru_cache(maxsize=256)
def _update_by_id(table: Table, columns: tuple[str, ...], versioned: bool) -> Update:
    """UPDATE `table` SET `columns` WHERE id (and, `versioned`, the version read) match."""
    statement = update(table).where(table.c.id == bindparam("row_id"))
    if versioned:
        statement = statement.where(table.c.version == bindparam("row_version"))
    return statement.values({column: bindparam(f"new_{column}") for column in columns})


def _bound(values: dict[str, Any], **where: Any) -> dict[str, Any]:
    return {**where, **{f"new_{column}": value for column, value in values.items()}}


def update_row(session: Session, row: Any, **values: Any) -> None:
    """UPDATE one row by id with a plain statement and mirror the values on the loaded object
    without marking it dirty: no unit-of-work flush on the hot path."""
    statement = _update_by_id(type(row).__table__, tuple(values), False)
    session.execute(statement, _bound(values, row_id=row.id))
    for key, value in values.items():
        set_committed_value(row, key, value)


def update_instance(session: Session, instance: Instance, **values: Any) -> None:
    """UPDATE the instance if nobody else did since it was read (optimistic lock), else Conflict."""
    version = instance.version
    values = {**values, "version": version + 1}
    statement = _update_by_id(Instance.__table__, tuple(values), True)
    result = session.execute(statement, _bound(values, row_id=instance.id, row_version=version))
    if result.rowcount != 1:
        raise Conflict(STALE)
    for key, value in values.items():
        set_committed_value(instance, key, value)
