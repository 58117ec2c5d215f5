"""The trail's canonical event text is exactly canonical JSON, however the time is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.workflow.audit import canonical_json, event_text, verify

AT = datetime(2026, 11, 23, 9, 30, 1, 250000, tzinfo=UTC)
PAYLOADS = [
    {},
    {"name": "审核", "form": {"decision": "return", "comment": "请补充\n“依据”\\"}},
    {"nested": {"b": [1, 2.5, None, True], "a": "\u2028"}, "emoji": "🌾"},
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(
    "at", [AT, AT.astimezone(timezone(timedelta(hours=8))), AT.replace(tzinfo=None)]
)
def test_event_text_is_canonical_json(payload: dict, at: datetime) -> None:
    body = {
        "instance_id": 7,
        "seq": 3,
        "at": AT.isoformat(),
        "actor_id": None,
        "actor_org_id": 4,
        "role": "reviewer",
        "action": "task_completed",
        "task": None,
        "payload": payload,
    }
    text = event_text(
        7, 3, at, None, 4, "reviewer", "task_completed", None, canonical_json(payload)
    )
    assert text == canonical_json(body)


def test_verify_reports_gaps_and_broken_links_per_chain() -> None:
    from engine.workflow.audit import GENESIS, chain_hash

    def chain(instance_id: int, count: int) -> list[tuple]:
        rows, prev = [], GENESIS
        for seq in range(1, count + 1):
            text = event_text(instance_id, seq, AT, 1, 1, "r", "a", None, "{}")
            digest = chain_hash(prev, text)
            event_id = instance_id * 1000 + seq
            rows.append((instance_id, seq, AT, 1, 1, "r", "a", None, "{}", prev, digest, event_id))
            prev = digest
        return rows

    good = chain(1, 3) + chain(2, 3)
    assert list(verify(good)) == []
    missing_middle = chain(1, 3)[:1] + chain(1, 3)[2:] + chain(2, 3)
    problems = list(verify(missing_middle))
    assert {(p.instance_id, p.seq) for p in problems} == {(1, 3)}
