"""Documents issued on instances (文书) and the files attached to them, each kept in the blob
store under its SHA-256 (engine/services/blobs): the rows say what, by whom, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class IssuedDocument(Base):
    """One document issued on an instance: its 文号 (if its kind is numbered), and the hash of
    the PDF as issued — the filed copy is the issued one when the hashes agree."""

    __tablename__ = "issued_document"
    __table_args__ = (
        # One document of each kind per instance: issuing again hands back the same one.
        UniqueConstraint("instance_id", "kind", name="uq_issued_document_instance_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    # 清编准〔2026〕7号; "" for a kind that is not numbered (a form).
    number: Mapped[str] = mapped_column(String(100), default="")
    year: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column()
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    issuer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)


class Attachment(Base):
    """A file someone attached (the policy document a matter rests on, a funding estimate,
    minutes, evidence): uploaded first, then attached with a step — the application, a task's
    form — or on its own to a matter or case. Until then it is its uploader's alone."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None while uploaded and not yet attached to anything.
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"), index=True)
    # The step it came with (the diagram's start event or task id); None when added alone.
    task: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    # What its content is (never what its name says): pdf, ofd, docx, xlsx, png, …
    kind: Mapped[str] = mapped_column(String(20))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column()
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    uploader_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    attached_at: Mapped[datetime | None] = mapped_column()
