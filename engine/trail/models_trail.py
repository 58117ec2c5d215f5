"""The trail's tables beyond audit_event: signed checkpoints, and append-only guards.

On PostgreSQL, triggers refuse UPDATE, DELETE and TRUNCATE on `audit_event` and `checkpoint`;
`create_schema` installs them with the tables (SQLAlchemy DDL events). They stop the
application and anyone with ordinary write access; the tables' owner (or a superuser) can still
disable them, which is why the evidence is the hash chain, the signed checkpoints and the
checkpoints auditors keep — the triggers only make tampering deliberate. Run the service as a
role that does not own these tables to make it harder still.

SQLite cannot enforce this: it has no roles, and anyone who can write the file can drop a
trigger or edit pages directly, so no triggers are installed there; tampering is detected by
verification, never prevented.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, Connection, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import AuditEvent, Base


class Checkpoint(Base):
    """A signed tree head over the first `size` events in id order (C2SP signed note)."""

    __tablename__ = "checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    # Hex of the RFC 6962 root; the note is the evidence, these two columns are for queries.
    root: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


# Auditors search by organisation over a date range; by actor uses ix_audit_actor_at.
Index("ix_audit_org_at", AuditEvent.__table__.c.actor_org_id, AuditEvent.__table__.c.at)

APPEND_ONLY_TABLES = ("audit_event", "checkpoint")

_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION zhunru_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计记录只能追加，不能修改或删除（表 %%，操作 %%）', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def _triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION zhunru_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION zhunru_append_only()",
    ]


def trigger_names(table: str) -> set[str]:
    return {f"{table}_append_only", f"{table}_no_truncate"}


def install_append_only(connection: Connection) -> None:
    """Install (or re-install) the triggers on an existing PostgreSQL database, e.g. from a
    migration: `create_all` only fires them for tables it creates."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text(_REFUSE_FUNCTION.replace("%%", "%")))
    for table in APPEND_ONLY_TABLES:
        for name in sorted(trigger_names(table)):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for statement in _triggers(table):
            connection.execute(text(statement))


for _table in (AuditEvent.__table__, Checkpoint.__table__):
    for _statement in [_REFUSE_FUNCTION, *_triggers(_table.name)]:
        event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
