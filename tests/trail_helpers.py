"""What the trail tests share: a signing key in settings, and an attacker's raw database access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, select, text, update

from engine.models import AuditEvent, Instance
from engine.services.context import Context
from engine.trail import signing
from engine.workflow import audit
from engine.workflow.audit import VERIFY_COLUMNS

ORIGIN = "zhunru.test/trail"


def configure_key(ctx: Context, directory: Path) -> signing.Signer:
    """Give the context a fresh signing key, as ZHUNRU_AUDIT_KEY_FILE would."""
    signer = signing.generate_signer(ORIGIN)
    path = directory / "audit.key"
    signing.write_signer(path, signer)
    ctx.settings = ctx.settings.with_overrides(audit_key_file=path, audit_origin=ORIGIN)
    return signer


@contextmanager
def attacker(ctx: Context) -> Iterator[Connection]:
    """Someone with database access: on PostgreSQL they must get past the append-only
    triggers, which a superuser can by acting as a replication replica."""
    with ctx.db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn


def chain(conn: Connection, instance_id: int | None) -> list[AuditEvent]:
    where = (
        AuditEvent.instance_id.is_(None)
        if instance_id is None
        else AuditEvent.instance_id == instance_id
    )
    query = select(AuditEvent.id, *VERIFY_COLUMNS).where(where).order_by(AuditEvent.seq)
    return list(conn.execute(query))  # type: ignore[arg-type]


def rehash(conn: Connection, instance_id: int, from_seq: int = 1) -> None:
    """Recompute every hash of a chain from `from_seq` on, as a careful forger would, and
    move the instance row's head along so nothing looks amiss there either."""
    prev, seq, head = audit.GENESIS, 0, audit.GENESIS
    for row in chain(conn, instance_id):
        event_id, fields = row[0], row[1:12]
        instance, seq, at, actor_id, org_id, role, action, task, payload, _, digest = fields
        if seq >= from_seq:
            text_ = audit.event_text(
                instance, seq, at, actor_id, org_id, role, action, task, payload
            )
            digest = audit.chain_hash(prev, text_)
            conn.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event_id)
                .values(prev_hash=prev, hash=digest)
            )
        prev, head = digest, digest
    conn.execute(
        update(Instance.__table__)
        .where(Instance.id == instance_id)
        .values(trail_seq=seq, trail_head=head)
    )
