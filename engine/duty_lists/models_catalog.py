"""Tables of duty lists: a county template of items, township additions, township removals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


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
