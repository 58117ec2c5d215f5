"""Tables of duty lists: a county template of items, township additions, township removals."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.models import Base, Organization


class DutyItem(Base):
    """One item of a duty list (职责清单).

    `scope_org_id` says whose list it is: the county organisation (the template every township
    of the county inherits) or one township (an addition for that township only).
    """

    __tablename__ = "duty_item"
    __table_args__ = (
        UniqueConstraint("scope_org_id", "code"),
        Index("ix_duty_item_scope_type", "scope_org_id", "list_type", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    code: Mapped[str] = mapped_column(String(40))
    # township: basic | assisting | taken_back; village: own | assist | negative
    list_type: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    responsible_body: Mapped[str] = mapped_column(String(200), default="")
    cooperating_department: Mapped[str] = mapped_column(String(200), default="")
    basis: Mapped[str] = mapped_column(Text, default="")
    # active | retired
    status: Mapped[str] = mapped_column(String(20), default="active")
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class DutyItemRemoval(Base):
    """A template item that one township does not carry (e.g. no forest, no forest fire duty)."""

    __tablename__ = "duty_item_removal"
    __table_args__ = (UniqueConstraint("item_id", "township_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("duty_item.id"))
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    removed_at: Mapped[datetime]


class DutyListStamp(Base):
    """The state of a county's duty lists, as a random stamp drawn anew in the transaction of
    every change to its items or removals: a process holding the county's lists in memory
    reuses them while the stamp it read them under is still the stored one."""

    __tablename__ = "duty_list_stamp"

    county_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))


@event.listens_for(Session, "before_flush")
def _new_stamp(session: Session, flush_context: Any, instances: Any) -> None:
    """Every flush that adds, changes or deletes a county's items or removals draws the county a
    new stamp, in the same transaction: whatever path wrote the lists, no process keeps reading
    the old ones, and a change rolled back takes its stamp with it."""
    scopes = {
        obj.scope_org_id if isinstance(obj, DutyItem) else obj.township_org_id
        for obj in chain(session.new, session.dirty, session.deleted)
        if isinstance(obj, DutyItem | DutyItemRemoval)
    }
    if not scopes:
        return
    with session.no_autoflush:
        counties = set(
            session.scalars(
                select(Organization.county_id).where(
                    Organization.id.in_(scopes), Organization.county_id.is_not(None)
                )
            )
        )
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = DutyListStamp.__table__
    for county_id in sorted(counties):  # in one order: two writers never lock crosswise
        stamp = secrets.token_hex(16)
        session.execute(
            insert(table)
            .values(county_id=county_id, stamp=stamp)
            .on_conflict_do_update(index_elements=["county_id"], set_={"stamp": stamp})
        )
