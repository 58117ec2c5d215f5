"""SQLAlchemy 2 typed models: deployments, instances, the inbox, the trail, the register."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # city | county | department | township | village
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    # The county (县、市、区) the organisation belongs to: itself for a county, None for a city
    # and the city's own offices. Set when it is added; it never moves to another county, so
    # every matter, list and number of a county stays that county's.
    county_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", name="fk_organization_county"), index=True
    )
    # A retired organisation keeps its rows and trail but takes no new people or matters.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class OrganizationHistory(Base):
    """What an organisation was called, and under whom it stood, until a rename or move: old
    records are read under the name they were made with."""

    __tablename__ = "organization_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    until: Mapped[datetime] = mapped_column()


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where notices reach this person by e-mail, when the county turns e-mail on ("": nowhere).
    email: Mapped[str] = mapped_column(String(254), default="")
    # Set by an administrator's issuing or resetting a password: the person must choose their
    # own before doing anything else.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # Raised whenever the password changes or the account is deactivated: tokens and console
    # sessions carry the epoch they were issued in, and older ones stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class SignInThrottle(Base):
    """Recent failed sign-ins under one username, and the lock they led to.

    Keyed by a keyed hash of the name as typed, existing or not: a lock then says nothing about
    whether the account exists, and names typed by mistake (often a password) are not stored.
    A row goes when its user signs in, or once it neither counts nor locks any more.
    """

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class Deployment(Base):
    """A diagram as deployed: the XML is stored once here, never in instances."""

    __tablename__ = "deployment"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        # At most one current version per process.
        Index(
            "uq_deployment_current",
            "process_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The version new instances start on (state "active"): the one an administrator activated
    # last. A deployment is a draft until first activated, and retired once another version is
    # activated after it. Running instances stay on the version they started on.
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", name="fk_deployment_activated_by")
    )
    # The package's other files (its JSON Schema forms) by name, as text; None for a bare
    # diagram. Stored with the XML so a version's forms are exactly those it was deployed with.
    files: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def state(self) -> str:
        if self.is_current:
            return "active"
        return "draft" if self.activated_at is None else "retired"


class Instance(Base):
    """One running or finished process. `state` is workflow state without its spec, compressed."""

    __tablename__ = "instance"
    __table_args__ = (
        # Lists are newest first, within a scope (applicant) or a filter (status).
        Index("ix_instance_created", "created_at", "id"),
        Index("ix_instance_applicant_created", "applicant_org_id", "created_at", "id"),
        Index("ix_instance_status_created", "status", "created_at", "id"),
        # A county office's reads: its county's instances, newest first.
        Index("ix_instance_county_created", "county_id", "created_at", "id"),
        Index("ix_instance_county_status_created", "county_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # The number people cite, per kind and year (准〔2026〕3号); "" on instances started before
    # numbering, which are shown by their id.
    number: Mapped[str] = mapped_column(String(60), default="")
    # pending | in_force | exited | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(20))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    serializer_version: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    applicant_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    # The county the instance belongs to (its filer's): only that county's people read it and
    # take its steps. None for a city office's own filings.
    county_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", name="fk_instance_county")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set while an administrator holds the instance: no command or timer runs on it.
    suspended_at: Mapped[datetime | None]
    # Accountability procedures belong to a case (and are scoped by it); admission has none.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("accountability_case.id"), index=True)
    # Head of this instance's trail chain, kept here so appending needs no extra read; the
    # events themselves stay the evidence (verification never trusts these two columns).
    trail_seq: Mapped[int] = mapped_column(Integer, default=0)
    trail_head: Mapped[str] = mapped_column(String(64), default="0" * 64)

    __mapper_args__ = {"version_id_col": version}


class InstanceTownship(Base):
    """Which townships an instance is addressed to: scopes township reads and filters."""

    __tablename__ = "instance_township"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    # The instance's creation time (never changes), so that a township's matters, newest
    # first, are read off one index instead of probing the newest matters of every township.
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_instance_township_org", "org_id", "instance_id"),
        Index("ix_instance_township_org_created", "org_id", "created_at", "instance_id"),
    )


class Task(Base):
    """Inbox projection of user tasks, rewritten in the same transaction as the instance."""

    __tablename__ = "task"
    __table_args__ = (
        # Inboxes read open tasks oldest first, by county and role (county offices) or by
        # organisation (townships, applicants); partial indexes keep them small as history
        # piles up, and the county keeps a county office's walk to its own county's tasks
        # however many counties share the database.
        Index(
            "ix_task_open_county_role",
            "county_id",
            "role",
            "created_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        # A city office's own queue (tasks of no county): PostgreSQL would read
        # `county_id IS NULL` off the index above but then sort what it found.
        Index(
            "ix_task_open_city_role",
            "role",
            "created_at",
            "id",
            postgresql_where=text("state = 'open' AND county_id IS NULL"),
            sqlite_where=text("state = 'open' AND county_id IS NULL"),
        ),
        Index(
            "ix_task_open_org",
            "org_id",
            "created_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index("ix_task_instance_state", "instance_id", "state"),
        # The worker's reminders look for open steps by how soon they fall due.
        Index(
            "ix_task_open_due",
            "due_at",
            postgresql_where=text("state = 'open' AND reminded_at IS NULL"),
            sqlite_where=text("state = 'open' AND reminded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    # None: any organisation holding `role` may take it (county-wide offices).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    # The instance's county (None: a city office's own filing); never changes.
    county_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", name="fk_task_county")
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # open | completed | cancelled
    state: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set when the step's deadline passed and it was escalated to the superior office.
    escalated_at: Mapped[datetime | None]
    # Set when whoever holds the step was reminded that its deadline is near (once).
    reminded_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only trail, hash-chained per instance (instance_id NULL: administrative chain)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq"),
        Index("ix_audit_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    role: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    task: Mapped[str | None] = mapped_column(String(100))
    payload_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Matter(Base):
    """The register of admitted matters of each township (one row per township and matter)."""

    __tablename__ = "matter"
    __table_args__ = (UniqueConstraint("instance_id", "township_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    township_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    term_type: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # 费随事转: what was promised to this township (its share of the matter's resources, never
    # the whole matter's figure once per township), what has arrived so far, and until when
    # the rest is due; a shortfall past that day is escalated once.
    funding_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    staff: Mapped[int] = mapped_column(Integer, default=0)
    powers: Mapped[str] = mapped_column(Text, default="")
    funding_source: Mapped[str] = mapped_column(String(40), default="")
    funding_paid_by: Mapped[date | None] = mapped_column(Date)
    funding_received_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    staff_received: Mapped[int] = mapped_column(Integer, default=0)
    powers_received: Mapped[bool] = mapped_column(Boolean, default=False)
    resources_received: Mapped[bool] = mapped_column(Boolean)
    shortfall_due: Mapped[date | None] = mapped_column(Date)
    shortfall_escalated_at: Mapped[datetime | None]
    # in_force | exited
    status: Mapped[str] = mapped_column(String(20))
    entered_at: Mapped[datetime]
    exited_at: Mapped[datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(40))


class ResourceDelivery(Base):
    """Resources on their way to a township for a matter on its register (费随事转): sent, as
    the applicant records it, or received, as the township records it — funding, staff, and
    whether the powers are in place. Only what the township received counts as arrived."""

    __tablename__ = "resource_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # sent | received
    # The day it was sent or received.
    received_on: Mapped[date] = mapped_column(Date)
    funding_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    staff: Mapped[int] = mapped_column(Integer, default=0)
    powers_in_place: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]


class NumberSequence(Base):
    """The last number issued of one kind of record in one year (engine/workflow/numbering)."""

    __tablename__ = "number_sequence"

    kind: Mapped[str] = mapped_column(String(100), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CalendarOverride(Base):
    """A county's own word on a day: working (调休 workday) or not (local holiday)."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class Notification(Base):
    """A message to an organisation, e.g. townships told that a matter has exited."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    # Set for a personal notice (e.g. a cadre told the result of their own case): only that
    # user of the organisation reads it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Set once the worker has queued the notice for the county's other channels (e-mail,
    # webhook); the command that wrote it never waits for them.
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_notification_undispatched",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )


class NoticeDelivery(Base):
    """One notice on its way by e-mail to one address, or to the county's webhook: sent by the
    worker, retried with growing pauses, given up after the last attempt."""

    __tablename__ = "notice_delivery"
    __table_args__ = (
        Index(
            "ix_notice_delivery_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    target: Mapped[str] = mapped_column(String(500))  # the address, or the webhook's URL
    # pending | sent | failed
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class NotificationRead(Base):
    """A person has read a notice (each person of an office keeps their own unread list)."""

    __tablename__ = "notification_read"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    read_at: Mapped[datetime]
