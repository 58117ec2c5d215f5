"""audit.verify's fast path: stored SQLite time text and memoized parts give the same hashes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.workflow.audit import GENESIS, chain_hash, event_text, utc_text, verify

TIMES = [
    datetime(2026, 11, 23, 9, 30, 1, 250000, tzinfo=UTC),
    datetime(2026, 11, 23, 9, 30, 1, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("at", TIMES)
def test_sqlite_stored_text_reads_as_the_datetime(at: datetime) -> None:
    stored = at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy writes it
    assert utc_text(stored) == utc_text(at) == utc_text(at.replace(tzinfo=None))
    assert utc_text(stored.replace(" ", "T")[:19]) == utc_text(at.replace(microsecond=0))


def test_verify_accepts_raw_rows_with_repeating_parts() -> None:
    rows, prev = [], GENESIS
    for seq in range(1, 7):
        at = TIMES[seq % 2]
        stored = at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        role, task = ("reviewer", "review") if seq % 3 else (None, None)
        payload = f'{{"n":{seq}}}'
        text = event_text(9, seq, at, seq % 2 or None, 4, role, "task_completed", task, payload)
        digest = chain_hash(prev, text)
        rows.append(
            (
                9,
                seq,
                stored,
                seq % 2 or None,
                4,
                role,
                "task_completed",
                task,
                payload,
                prev,
                digest,
                seq,
            )
        )
        prev = digest
    assert list(verify(rows)) == []
    tampered = list(rows)
    tampered[3] = (*rows[3][:3], 2, *rows[3][4:])  # another actor
    assert [(p.seq, p.problem) for p in verify(tampered)] == [(4, "事件内容与哈希不符")]


def chain(instance_id: int | None, count: int) -> list[tuple]:
    """A valid chain of `count` rows of VERIFY_COLUMNS."""
    rows, prev = [], GENESIS
    for seq in range(1, count + 1):
        text = event_text(instance_id, seq, TIMES[0], 1, 1, "r", "a", None, "{}")
        digest = chain_hash(prev, text)
        event_id = (instance_id or 0) * 1000 + seq  # written in seq order
        rows.append(
            (instance_id, seq, TIMES[0], 1, 1, "r", "a", None, "{}", prev, digest, event_id)
        )
        prev = digest
    return rows


def test_verify_reads_chains_interleaved_in_the_order_written() -> None:
    first, second, admin = chain(1, 4), chain(2, 3), chain(None, 2)
    written = [first[0], second[0], admin[0], first[1], first[2], second[1], admin[1]]
    written += [second[2], first[3]]
    heads: dict = {}
    assert list(verify(written, heads)) == []
    assert heads == {1: (4, first[3][10]), 2: (3, second[2][10]), None: (2, admin[1][10])}
    swapped = [*written[:3], written[4], written[3], *written[5:]]
    assert [(p.instance_id, p.seq) for p in verify(swapped)][:1] == [(1, 3)]


def test_verify_reads_chains_grouped_keeping_none_and_hearing_each_end() -> None:
    first, second, admin = chain(1, 4), chain(2, 3), chain(None, 2)
    ends: list[tuple] = []
    assert list(verify([*admin, *first, *second], ended=lambda *end: ends.append(end))) == []
    assert ends == [(None, 2, admin[1][10]), (1, 4, first[3][10]), (2, 3, second[2][10])]
    # Grouped reading keeps no chain's place: one that comes back starts again, and is broken.
    again = [*first[:2], *second, *first[2:]]
    assert [(p.instance_id, p.seq) for p in verify(again, ended=lambda *_: None)][:1] == [(1, 3)]
