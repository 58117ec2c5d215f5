"""The accountability case (问责案件) and what it links to: see docs/accountability.md."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class AccountabilityCase(Base):
    """A case against a person or a unit; the procedures it spawns point at it (instance.case_id).

    Sensitive: read only by the handling organs, auditors and the person or unit concerned.
    """

    __tablename__ = "accountability_case"
    __table_args__ = (
        Index("ix_case_subject_user", "subject_user_id"),
        Index("ix_case_subject_org", "subject_org_id"),
        Index("ix_case_opened", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(40), unique=True)
    # person | unit
    subject_kind: Mapped[str] = mapped_column(String(10))
    # The person's account, when they have one (a unit has none: its users act for it).
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    subject_name: Mapped[str] = mapped_column(String(200))
    # The unit concerned, or the person's own organisation.
    subject_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    subject_position: Mapped[str] = mapped_column(String(200), default="")
    matter_reported: Mapped[str] = mapped_column(Text)
    # report (信访举报) | inspection (巡视巡察、审计等发现) | other
    source: Mapped[str] = mapped_column(String(20))
    # principal (主体) | supervisory (监督) | leadership (领导)
    responsibility_level: Mapped[str] = mapped_column(String(20))
    # For leadership responsibility: overall (全面) | main (主要) | important (重要)
    leadership_kind: Mapped[str | None] = mapped_column(String(20))
    # open | decided | untrue | not_proven
    status: Mapped[str] = mapped_column(String(20))
    # "" until verified: proven | untrue | partly_untrue | not_proven
    finding: Mapped[str] = mapped_column(String(20), default="")
    finding_note: Mapped[str] = mapped_column(Text, default="")
    harm: Mapped[bool] = mapped_column(Boolean, default=False)
    concluded_at: Mapped[datetime | None]
    # The handling organisation; and the organ that verified the report, which is the one
    # that clears the person (谁核实谁澄清).
    handling_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    verified_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    opened_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime]
    # Results of the procedures, recorded on the case as they are decided.
    tolerance_outcome: Mapped[str | None] = mapped_column(String(20))
    cleared_at: Mapped[datetime | None]
    clearance_method: Mapped[str | None] = mapped_column(String(20))
    # 问责决定: its outcome, document number and date (the case concludes with it).
    decision_outcome: Mapped[str | None] = mapped_column(String(30))
    decision_no: Mapped[str] = mapped_column(String(100), default="")
    decided_on: Mapped[date | None] = mapped_column(Date)
    # 应当澄清: what the untrue report affected, and until when the handling organ must propose
    # the clearance (escalated once when it has not).
    clearance_triggers: Mapped[list[str]] = mapped_column(JSON, default=list)
    clearance_proposal_due: Mapped[date | None] = mapped_column(Date)
    clearance_proposal_escalated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
