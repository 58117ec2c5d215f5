"""The trail read whole: its chains for audit.verify, and the Merkle tree of the log in id order.

Verification reads millions of rows, so the scans here go to the driver's own cursor (a
server-side cursor on PostgreSQL) and skip SQLAlchemy's per-row type processing; the SQL
itself is still compiled from the models.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, Instance
from engine.trail import merkle
from engine.workflow.audit import VERIFY_COLUMNS

BATCH = 10_000
Progress = Callable[[int], None]


def _no_progress(_done: int) -> None:
    return None


def _batches(session: Session, query: Select[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of `query` in batches, from the driver's cursor inside the session's transaction."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        # A named cursor streams from the server instead of loading every row first.
        cursor = raw.cursor(name=f"trail_{uuid.uuid4().hex}")  # type: ignore[union-attr]
    else:
        cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        if connection.dialect.name == "postgresql":
            yield from _fetched_ahead(cursor)
        else:
            while batch := cursor.fetchmany(BATCH):
                yield batch
    finally:
        cursor.close()


def _fetched_ahead(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    """The server's batches, each fetched on another thread while this one works on the last:
    about half a fetch is waiting for the server, which then overlaps the checking. Only that
    thread uses the cursor until it has stopped."""
    ready: queue.Queue[list[tuple[Any, ...]] | BaseException] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                batch = cursor.fetchmany(BATCH)
                ready.put(batch)
                if not batch:
                    return
        except BaseException as exc:  # handed to the reading thread, raised there
            ready.put(exc)

    worker = threading.Thread(target=fetch, name="trail-fetch", daemon=True)
    worker.start()
    try:
        while (batch := ready.get()) != []:
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        stop.set()
        while worker.is_alive():  # a reader that stopped early: let a waiting put through
            with contextlib.suppress(queue.Empty):
                ready.get_nowait()
            worker.join(0.01)


def _rows(session: Session, query: Select[Any]) -> Generator[tuple[Any, ...], None, None]:
    """Rows one by one. A generator (not a chain of them), so closing it closes the cursor and
    stops the fetching thread: callers close it inside the session (contextlib.closing)."""
    for batch in _batches(session, query):
        yield from batch


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def chain_rows(
    session: Session, progress: Progress = _no_progress
) -> Generator[tuple[Any, ...], None, None]:
    """Every event as a row of audit.VERIFY_COLUMNS, chain by chain: ordered by (instance_id,
    seq), which the unique index on them gives without a sort, so audit.verify keeps nothing
    per chain. The administrative chain (no instance) comes first on SQLite, last on
    PostgreSQL. `at` comes as the driver gives it (SQLite's stored text or a naive UTC
    datetime), both of which audit.verify reads.
    """
    query = select(*VERIFY_COLUMNS).order_by(AuditEvent.instance_id, AuditEvent.seq)
    for batch in _batches(session, query):
        yield from batch
        progress(len(batch))


@dataclass
class LeafScan:
    """The Merkle tree of a prefix of the log, and the leaf index of each wanted event."""

    tree: merkle.Tree
    positions: dict[int, int] = field(default_factory=dict)


def scan_leaves(session: Session, limit: int | None = None, wanted: Iterable[int] = ()) -> LeafScan:
    """The Merkle tree of the first `limit` events (all by default) in id order."""
    query = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)
    if limit is not None:
        query = query.limit(limit)
    wanted_ids = set(wanted)
    scan = LeafScan(merkle.Tree())
    for batch in _batches(session, query):
        if wanted_ids:
            offset = scan.tree.size
            scan.positions.update(
                (row[0], offset + i) for i, row in enumerate(batch) if row[0] in wanted_ids
            )
        scan.tree.extend_leaf_hashes(_leaf_hashes([row[1] for row in batch]))
    return scan


def log_roots(
    session: Session,
    limit: int | None = None,
    sizes: Iterable[int] = (),
    progress: Progress = _no_progress,
) -> merkle.Frontier:
    """The Merkle tree's roots over the first `limit` events (all by default) in the order
    written (id), and over the first `sizes` of them, from one pass over their stored hashes
    that holds only the tree's right edge."""
    query = select(AuditEvent.hash).order_by(AuditEvent.id).limit(limit)
    frontier = merkle.Frontier(sizes)
    for batch in _batches(session, query):
        frontier.extend_leaf_hashes(_leaf_hashes([row[0] for row in batch]))
        progress(len(batch))
    return frontier


def _leaf_hashes(digests: list[str]) -> list[bytes]:
    """Leaf hashes of stored chain hashes; a stored value that is not hex still takes its place."""
    sha256, from_hex, prefix = hashlib.sha256, bytes.fromhex, merkle.LEAF_PREFIX
    try:
        return [sha256(prefix + from_hex(digest)).digest() for digest in digests]
    except (TypeError, ValueError):
        return [sha256(prefix + _leaf_data(digest)).digest() for digest in digests]


def _leaf_data(digest: object) -> bytes:
    try:
        return bytes.fromhex(str(digest))
    except ValueError:
        return str(digest).encode()


def instance_heads(session: Session) -> Generator[tuple[int, int, str], None, None]:
    """(instance id, trail_seq, trail_head) as each instance row records its chain's head, in
    id order."""
    return _rows(
        session, select(Instance.id, Instance.trail_seq, Instance.trail_head).order_by(Instance.id)
    )


def event_ids_at(session: Session, positions: Iterable[int]) -> dict[int, int]:
    """Event ids at a few leaf positions (0-based) of today's log."""
    found = {}
    for position in set(positions):
        event_id = session.scalar(
            select(AuditEvent.id).order_by(AuditEvent.id).offset(position).limit(1)
        )
        if event_id is not None:
            found[position] = event_id
    return found


def event_id_of(session: Session, instance_id: int | None, seq: int) -> int | None:
    chain = (
        AuditEvent.instance_id.is_(None)
        if instance_id is None
        else AuditEvent.instance_id == instance_id
    )
    return session.scalar(select(AuditEvent.id).where(chain, AuditEvent.seq == seq).limit(1))
