"""Exports of the trail for auditors: JSON Lines or CSV, with the checkpoint and inclusion proofs.

JSON Lines: the first line is the checkpoint ({"type": "checkpoint", "note": …}, note null
when none exists yet); then one line per event ({"type": "event", …}) carrying every field its
chain hash covers (`at` exactly as hashed), its `leaf_index` in the log and its RFC 9162
`inclusion_proof` (hex, leaf side first) under the checkpoint, or null for an event newer
than the checkpoint. tools/verify_export.py checks such a file offline.

CSV (UTF-8 with BOM, for spreadsheet programs): the same events, one row each, proofs as
space-separated hex, and a last row holding the checkpoint's signed note.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.errors import InvalidInput
from engine.models import AuditEvent
from engine.trail import checkpoints, signing, trail_log
from engine.trail.services.trail import require_auditor
from engine.trail.services.trail_search import EventQuery, TrailEvent, events_of, filtered
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.services import commands

FORMATS = ("jsonl", "csv")
MAX_EVENTS = 50_000
CSV_COLUMNS = [
    "record",
    "id",
    "leaf_index",
    "instance_id",
    "seq",
    "at",
    "actor",
    "actor_id",
    "organization_code",
    "organization_name",
    "actor_org_id",
    "role",
    "action",
    "task",
    "payload",
    "prev_hash",
    "hash",
    "inclusion_proof",
    "checkpoint",
]


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    content: str


@dataclass(frozen=True)
class _Sealed:
    """Events with their leaf positions and proofs under one checkpoint (if there is one)."""

    events: list[TrailEvent]
    note: str | None
    size: int
    root: str | None
    positions: dict[int, int]
    proofs: dict[int, list[str]]


def export_instance(ctx: Context, actor: Actor, instance_id: int, fmt: str) -> Export:
    """One matter's whole trail (auditors; others see 404 or 403 as for the trail itself)."""
    _check_format(fmt)
    with ctx.db.read() as session:
        commands.visible_instance(session, instance_id, actor, lock=False)
        require_auditor(actor)
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        ).all()
        sealed = _seal(session, ctx, list(rows))
    scope = {"instance_id": instance_id}
    return _render(sealed, fmt, f"trail-instance-{instance_id}", scope, ctx.clock.now())


def export_search(ctx: Context, actor: Actor, query: EventQuery, fmt: str) -> Export:
    """The events of a search, oldest first, up to MAX_EVENTS."""
    require_auditor(actor)
    _check_format(fmt)
    with ctx.db.read() as session:
        statement = filtered(session, ctx, query, actor)
        rows: list[AuditEvent] = []
        if statement is not None:
            rows = list(session.scalars(statement.order_by(AuditEvent.id).limit(MAX_EVENTS + 1)))
        if len(rows) > MAX_EVENTS:
            raise InvalidInput(f"导出最多 {MAX_EVENTS} 个事件，请缩小查询范围")
        sealed = _seal(session, ctx, rows)
    scope = {k: str(v) for k, v in query.__dict__.items() if v and k not in ("page", "per_page")}
    return _render(sealed, fmt, "trail-search", scope, ctx.clock.now())


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput("导出格式有误", {"format": [f"应为以下之一：{'、'.join(FORMATS)}"]})


def _seal(session: Session, ctx: Context, rows: list[AuditEvent]) -> _Sealed:
    events = events_of(session, ctx, rows)
    latest = checkpoints.latest(session)
    if latest is None:
        return _Sealed(events, None, 0, None, {}, {})
    try:
        body = signing.parse_checkpoint(signing.split_note(latest.note)[0])
    except signing.NoteError:
        body = None
    size = body.size if body is not None else latest.size
    scan = trail_log.scan_leaves(session, limit=size, wanted=[e.id for e in events])
    proofs = {
        event_id: [h.hex() for h in scan.tree.inclusion_proof(index, scan.tree.size)]
        for event_id, index in scan.positions.items()
    }
    return _Sealed(events, latest.note, size, latest.root, scan.positions, proofs)


def _event_record(event: TrailEvent, sealed: _Sealed) -> dict[str, Any]:
    """Every field the chain hash covers, as hashed, plus names and the proof."""
    org = event.organization
    return {
        "type": "event",
        "id": event.id,
        "leaf_index": sealed.positions.get(event.id),
        "instance_id": event.instance_id,
        "seq": event.seq,
        "at": audit.utc_text(event.at),
        "actor_id": event.actor_id,
        "actor_org_id": event.actor_org_id,
        "role": event.role,
        "action": event.action,
        "task": event.task,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "actor": event.actor,
        "organization": {"code": org.code, "name": org.name} if org else None,
        "inclusion_proof": sealed.proofs.get(event.id),
    }


def _render(sealed: _Sealed, fmt: str, stem: str, scope: dict[str, Any], now: datetime) -> Export:
    records = [_event_record(event, sealed) for event in sealed.events]
    if fmt == "jsonl":
        head = {
            "type": "checkpoint",
            "note": sealed.note,
            "size": sealed.size if sealed.note else None,
            "root": sealed.root,
            "exported_at": now.isoformat(),
            "scope": scope,
            "events": len(records),
        }
        lines = [json.dumps(r, ensure_ascii=False) for r in [head, *records]]
        return Export(f"{stem}.jsonl", "application/x-ndjson", "\n".join(lines) + "\n")
    return Export(f"{stem}.csv", "text/csv; charset=utf-8", _csv(records, sealed.note))


def _csv(records: Iterable[dict[str, Any]], note: str | None) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the Chinese text as UTF-8
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        org = record["organization"] or {}
        writer.writerow(
            {
                **{k: record[k] for k in CSV_COLUMNS if k in record},
                "record": "event",
                "organization_code": org.get("code"),
                "organization_name": org.get("name"),
                "payload": audit.canonical_json(record["payload"]),
                "inclusion_proof": " ".join(record["inclusion_proof"] or []),
            }
        )
    writer.writerow({"record": "checkpoint", "checkpoint": note or ""})
    return out.getvalue()
