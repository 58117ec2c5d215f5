"""What the burden gates keep beyond the workflow: the meetings townships must attend, the
inspections approved on them and each visit announced."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class RequiredMeeting(Base):
    """One township's place at an approved county meeting: on its calendar, counted against
    the monthly limit while it must be there in person."""

    __tablename__ = "required_meeting"
    __table_args__ = (
        UniqueConstraint("instance_id", "township_org_id", name="uq_required_meeting_township"),
        Index("ix_required_meeting_township_day", "township_org_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    organiser_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    name: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[str] = mapped_column(String(5))  # 09:30, local time
    minutes: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(String(200))  # who must come: 分管副镇长1名
    # in_person, or video (approved as a video meeting, or this township's request granted)
    mode: Mapped[str] = mapped_column(String(20))
    # A township's request to attend by video, and the organiser's answer.
    video_request: Mapped[str | None] = mapped_column(Text)
    video_requested_at: Mapped[datetime | None] = mapped_column()
    video_answer: Mapped[str | None] = mapped_column(String(20))  # granted | refused
    video_answered_at: Mapped[datetime | None] = mapped_column()
    scheduled_at: Mapped[datetime] = mapped_column()


class InspectionItem(Base):
    """One township's place in an approved inspection, check or assessment (督查检查考核) of a
    department for a year: how often it may be visited, by what method. The department's
    annual plan is its items of a year; an item approved outside the plan says so."""

    __tablename__ = "inspection_item"
    __table_args__ = (
        UniqueConstraint("instance_id", "township_org_id", name="uq_inspection_item_township"),
        Index("ix_inspection_item_township_year", "township_org_id", "year"),
        Index("ix_inspection_item_department_year", "department_org_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    department_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # supervision | inspection | assessment
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))  # on_site | materials | online
    times: Mapped[int] = mapped_column(Integer)  # visits a year this township may receive
    months: Mapped[str] = mapped_column(String(40), default="")  # planned months: "3,9"
    out_of_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_at: Mapped[datetime] = mapped_column()


class InspectionVisit(Base):
    """A visit the department announced under an approved item: on the township's calendar,
    counted against the item's times."""

    __tablename__ = "inspection_visit"
    __table_args__ = (Index("ix_inspection_visit_item_day", "item_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inspection_item.id"))
    held_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    announced_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    announced_at: Mapped[datetime] = mapped_column()


class TownshipNeed(Base):
    """A need a township raised (基层吹哨), as the social-work department graded and routed it
    and as the lead department answered and the township rated the answer (部门报到)."""

    __tablename__ = "township_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), unique=True)
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    grade: Mapped[str] = mapped_column(String(20))  # township | county | city
    lead_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    routed_at: Mapped[datetime] = mapped_column()
    due_on: Mapped[date | None] = mapped_column(Date)  # the last working day to answer
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_late: Mapped[bool] = mapped_column(Boolean, default=False)
    times_answered: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(20))  # satisfied | basic | unsatisfied
    rated_at: Mapped[datetime | None] = mapped_column()


class NeedDepartment(Base):
    """A department a need is routed to: the lead one, which answers, or a supporting one."""

    __tablename__ = "need_department"
    __table_args__ = (
        UniqueConstraint("instance_id", "org_id", name="uq_need_department"),
        Index("ix_need_department_org", "org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    part: Mapped[str] = mapped_column(String(10))  # lead | support


class DepartmentRating(Base):
    """A township's rating of a county department for a year (考核评价权): once per year and
    department, final once given; each dimension as the form's choice code."""

    __tablename__ = "department_rating"
    __table_args__ = (
        UniqueConstraint(
            "year", "township_org_id", "department_org_id", name="uq_department_rating"
        ),
        Index("ix_department_rating_department_year", "department_org_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    department_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    responsiveness: Mapped[str] = mapped_column(String(20))
    burden: Mapped[str] = mapped_column(String(20))
    resources: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(20))
    overall: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column()


class MatterRating(Base):
    """A township's rating of the department that pushed an admitted matter down to it (考核评价
    权, per matter): once per matter and township, final once given. Like the annual rating,
    the department reads only sums, never who rated how."""

    __tablename__ = "matter_rating"
    __table_args__ = (
        UniqueConstraint("matter_instance_id", "township_org_id", name="uq_matter_rating"),
        Index("ix_matter_rating_department_rated", "department_org_id", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    department_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    # Choice codes of the annual rating form's dimensions of the same names.
    overall: Mapped[str] = mapped_column(String(20))
    resources: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    rated_at: Mapped[datetime] = mapped_column()


class ReportForm(Base):
    """A form townships fill for the county (报表), approved through the gate: its fields (the
    owner's and those merged in from other departments), how often it is filled."""

    __tablename__ = "report_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), unique=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(20))  # once | monthly | quarterly | yearly
    fields: Mapped[list[str]] = mapped_column()
    approved_at: Mapped[datetime] = mapped_column()


class ReportFormParty(Base):
    """Who fills a form (a township) and who reads what townships filled (a department whose
    request was merged into it: it reads the shared form instead of asking again)."""

    __tablename__ = "report_form_party"
    __table_args__ = (
        UniqueConstraint("form_id", "org_id", "part", name="uq_report_form_party"),
        Index("ix_report_form_party_org", "org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_form.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    part: Mapped[str] = mapped_column(String(10))  # township | reader


class ReportSubmission(Base):
    """What a township filled in a form for one period: once, read by every department the
    form is shared with."""

    __tablename__ = "report_submission"
    __table_args__ = (
        UniqueConstraint("form_id", "township_org_id", "period", name="uq_report_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_form.id"), index=True)
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    period: Mapped[str] = mapped_column(String(10))  # 2026-12, 2026Q4, 2026, once
    values: Mapped[dict[str, Any]] = mapped_column()
    submitted_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column()
