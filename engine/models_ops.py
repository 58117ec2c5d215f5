"""Operations' tables: incidents (the engine failed on an instance) and idempotent requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class Incident(Base):
    """The engine failed while running a command or a timer on an instance.

    The failed transaction was rolled back; this row, written in a transaction of its own, is
    what an administrator sees and acts on. A timer incident holds the instance's timers back
    (`retry_at`, with backoff) instead of retrying them in a hot loop.
    """

    __tablename__ = "incident"
    __table_args__ = (
        Index(
            "ix_incident_open",
            "opened_at",
            "id",
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
        Index("ix_incident_instance", "instance_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None when the instance could not even be started (the start was rolled back).
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    # command | timer
    kind: Mapped[str] = mapped_column(String(20))
    # What was being done: the command (start, complete, message…) and the step, if any.
    action: Mapped[str] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(100))
    # The cause, for administrators: exception type and message (never shown to users).
    cause: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime]
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_failed_at: Mapped[datetime]
    # Timers: when the worker may try again.
    retry_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # retried (the retry succeeded) | resolved (closed by an administrator) | terminated
    resolution: Mapped[str | None] = mapped_column(String(20))


class IdempotentRequest(Base):
    """A POST sent with an Idempotency-Key: its first result, replayed to retries."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotent_request_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(String(200))
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # None while the first request runs.
    status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)


class OpsReading(Base):
    """A figure too costly to compute at every metrics scrape, stored by whoever measured it
    (the worker's sweep of stranded instances), with when."""

    __tablename__ = "ops_reading"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[datetime]
