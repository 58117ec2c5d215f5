"""Numbers people cite: each kind of record numbered per year, 准〔2026〕3号.

A sequence row per (kind, year) is incremented in the transaction that issues the number, by
one upsert that locks the row: two transactions issuing at once queue on it, so no number is
given twice; one that rolls back rolls its increment back, so none is skipped. A procedure's
prefix is its diagram's (`spiffworkflow:property name="numberPrefix"` on the process), so a
county's new procedure numbers its records with no release.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.models import NumberSequence

DEFAULT_PREFIX = "事"


def next_in_sequence(session: Session, kind: str, year: int) -> int:
    """The next number of `kind` in `year` (1 for the first), taken in the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = NumberSequence.__table__
    statement = (
        insert(table)
        .values(kind=kind, year=year, last=1)
        .on_conflict_do_update(index_elements=["kind", "year"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return int(session.execute(statement).scalar_one())


def written_number(prefix: str, year: int, number: int) -> str:
    """A number as an office writes it: 准〔2026〕3号."""
    return f"{prefix or DEFAULT_PREFIX}〔{year}〕{number}号"
