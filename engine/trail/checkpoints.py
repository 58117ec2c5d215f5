"""Signed checkpoints: create one over all events, store it, check stored and held ones.

A checkpoint is a C2SP signed note over (size, RFC 6962 root) of the first `size` events in id
order. That prefix must never change once signed, so the size is fixed while no writer is
half-way: on PostgreSQL a SHARE lock on audit_event waits for open appends to commit (their
ids were taken under the lock they hold) and holds off new ones only for that moment; on
SQLite writers are serialized and take ids in commit order. The tree is then built outside any
write lock, and a new checkpoint is refused unless the log still reproduces the last good one,
so the service never signs a rewritten history.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from config import Settings
from engine.db import Database
from engine.errors import Conflict
from engine.trail import merkle, signing, trail_log
from engine.trail.models_trail import Checkpoint


@dataclass(frozen=True)
class CheckpointInfo:
    id: int
    size: int
    root: str
    note: str
    created_at: datetime


def info(row: Checkpoint) -> CheckpointInfo:
    return CheckpointInfo(row.id, row.size, row.root, row.note, row.created_at)


def signer(settings: Settings) -> signing.Signer:
    if settings.audit_key_file is None:
        raise Conflict("未配置审计签名密钥（ZHUNRU_AUDIT_KEY_FILE），可用 zhunru audit keygen 生成")
    if not settings.audit_key_file.exists():
        raise Conflict(
            f"审计签名私钥文件 {settings.audit_key_file} 不存在，可用 zhunru audit keygen 生成"
        )
    try:
        return signing.read_signer(settings.audit_key_file)
    except signing.NoteError as exc:
        raise Conflict(str(exc)) from exc


def verifiers(settings: Settings, extra: Iterable[str] = ()) -> list[signing.Verifier]:
    """The keys checkpoints may be signed with: the signer's own, retired ones, and `extra`."""
    key_file = settings.audit_key_file
    try:
        found = [signing.parse_verifier(key) for key in [*settings.audit_verifier_keys, *extra]]
        if key_file is not None and key_file.exists():
            found.append(signing.read_signer(key_file).verifier)
    except signing.NoteError as exc:
        raise Conflict(f"签名或验证密钥有误：{exc}") from exc
    return found


def latest(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)).first()


def stored(session: Session) -> list[Checkpoint]:
    return list(session.scalars(select(Checkpoint).order_by(Checkpoint.id)))


def _settled_size(db: Database) -> int:
    """How many events exist once no append is half-way (see the module docstring)."""
    with db.write() as session:
        if not db.is_sqlite:
            session.execute(text("LOCK TABLE audit_event IN SHARE MODE"))
        return trail_log.count(session)


def _last_good(
    rows: list[Checkpoint], keys: list[signing.Verifier], origin: str
) -> signing.CheckpointBody | None:
    for row in reversed(rows):
        try:
            return signing.open_checkpoint(row.note, keys, origin)
        except signing.NoteError:
            continue
    return None


def create(db: Database, settings: Settings, now: datetime) -> CheckpointInfo:
    """Sign and store a checkpoint over every event; the latest one if nothing was added."""
    key = signer(settings)
    keys = verifiers(settings)
    size = _settled_size(db)
    with db.read() as session:
        rows = stored(session)
        if rows and rows[-1].size == size:
            return info(rows[-1])
        previous = _last_good(rows, keys, settings.audit_origin)
        log = trail_log.log_roots(session, size, [previous.size] if previous else [])
    if log.size != size:
        raise Conflict("审计记录在签发检查点期间减少，拒绝签发")
    if previous is not None and (
        previous.size > size or log.roots.get(previous.size) != previous.root
    ):
        raise Conflict("审计记录与上一个有效检查点不一致，拒绝签发新检查点；请先运行审计核验")
    body = signing.CheckpointBody(settings.audit_origin, size, log.root())
    note = signing.sign_checkpoint(body, key)
    with db.write() as session:
        if not db.is_sqlite:  # one checkpoint writer at a time keeps sizes ascending by id
            session.execute(text("LOCK TABLE checkpoint IN SHARE ROW EXCLUSIVE MODE"))
        newest = latest(session)
        if newest is not None and newest.size >= size:
            return info(newest)
        row = Checkpoint(size=size, root=body.root.hex(), note=note, created_at=now)
        session.add(row)
        session.flush()
        return info(row)


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something wrong with a checkpoint; `span` is the leaf positions [start, end) suspected."""

    subject: str
    message: str
    checkpoint_id: int | None = None
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class _Anchor:
    subject: str
    body: signing.CheckpointBody
    checkpoint_id: int | None


def _open_all(
    notes: list[tuple[str, str, int | None]], keys: list[signing.Verifier], origin: str
) -> tuple[list[_Anchor], list[Finding]]:
    anchors, findings = [], []
    for subject, note, checkpoint_id in notes:
        try:
            body = signing.open_checkpoint(note, keys, origin)
        except signing.NoteError as exc:
            findings.append(Finding(subject, str(exc), checkpoint_id))
            continue
        anchors.append(_Anchor(subject, body, checkpoint_id))
    return anchors, findings


def _columns_agree(rows: list[Checkpoint], anchors: list[_Anchor]) -> list[Finding]:
    by_id = {row.id: row for row in rows}
    findings = []
    for anchor in anchors:
        row = by_id.get(anchor.checkpoint_id or 0)
        if row is not None and (row.size, row.root) != (anchor.body.size, anchor.body.root.hex()):
            message = "表中的大小或根哈希与签名文本不符（签名文本为准）"
            findings.append(Finding(anchor.subject, message, row.id))
    return findings


def _reproduces(log: merkle.Frontier, body: signing.CheckpointBody) -> bool:
    return log.roots.get(body.size) == body.root  # recorded only for sizes the log reached


def _against_log(anchors: list[_Anchor], log: merkle.Frontier) -> list[Finding]:
    """Each checkpoint must be reproduced by today's log; if not, say where to look."""
    good = [a for a in anchors if _reproduces(log, a.body)]
    findings = []
    for anchor in anchors:
        if anchor in good:
            continue
        size = anchor.body.size
        start = max((a.body.size for a in good if a.body.size < size), default=0)
        if size > log.size:
            message = (
                f"检查点覆盖 {size} 个事件，今日日志只有 {log.size} 个：事件被删除或日志被截断"
            )
        else:
            message = f"今日日志的前 {size} 个事件与检查点不符：事件被改动、删除、插入或重排"
        forks = [a.subject for a in good if a.body.size >= size and a.checkpoint_id]
        if forks and anchor.checkpoint_id is None:
            message += f"；而{forks[0]}与今日日志一致，签名密钥可能已被滥用（分叉视图）"
        findings.append(Finding(anchor.subject, message, anchor.checkpoint_id, (start, size)))
    return findings


def _consecutive(anchors: list[_Anchor], log: merkle.Frontier) -> list[Finding]:
    """Each stored checkpoint must extend the one before it (RFC 9162 consistency).

    When today's log reproduces the later one, the earlier one is consistent with it exactly
    when today's log reproduces it too: a consistency proof drawn from today's tree rebuilds
    the earlier root from today's leaves. So the roots at both sizes decide it.
    """
    findings = []
    for before, after in itertools.pairwise(a for a in anchors if a.checkpoint_id is not None):
        old, new = before.body, after.body
        if new.size < old.size:
            message = f"大小从 {old.size} 回退到 {new.size}：日志不应缩短"
            findings.append(Finding(after.subject, message, after.checkpoint_id, None))
            continue
        if not _reproduces(log, new):
            continue  # today's log cannot speak for either; _against_log reports it
        if not _reproduces(log, old):
            message = f"与上一个检查点（{before.subject}）不一致：一致性证明不成立"
            findings.append(Finding(after.subject, message, after.checkpoint_id, (0, old.size)))
    return findings


def sizes(rows: list[Checkpoint], held: list[str]) -> set[int]:
    """The log sizes the checkpoints name (read before the pass over the log, which records
    its root at each; a note that cannot be read names none)."""
    found = {row.size for row in rows}
    for note in [row.note for row in rows] + held:
        with contextlib.suppress(signing.NoteError, ValueError):
            found.add(signing.parse_checkpoint(signing.split_note(note)[0]).size)
    return found


def check(
    rows: list[Checkpoint],
    held: list[str],
    log: merkle.Frontier,
    keys: list[signing.Verifier],
    origin: str,
) -> list[Finding]:
    """Stored checkpoints (signature, columns, consistency with the previous one) and the
    checkpoints auditors hold, each against today's log (its roots at their sizes: `sizes`)."""
    notes = [(f"检查点 #{row.id}", row.note, row.id) for row in rows]
    notes += [(f"所持检查点 {i}", note, None) for i, note in enumerate(held, start=1)]
    anchors, findings = _open_all(notes, keys, origin)
    findings += _columns_agree(rows, anchors)
    findings += _against_log(anchors, log)
    findings += _consecutive(anchors, log)
    return findings


def count_since(session: Session, size: int) -> int:
    return max(0, trail_log.count(session) - size)
