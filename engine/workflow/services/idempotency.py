"""Idempotency keys: a client may retry a POST and get the first result, with nothing done twice.

The key is the client's, per user. The first request claims it (a row with no result yet), runs,
and stores its status and body; a retry with the same key and the same request replays them; the
same key with another request is refused, and so is a retry while the first still runs. A
request that failed on the server (5xx) gives its key back so the retry can run.

If a process dies between the command's commit and storing its result, the claim stays without a
result: retries are refused with a message telling the client to look before filing again —
never run twice. Keys expire after `TTL`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from engine.errors import Conflict, InvalidInput
from engine.models_ops import IdempotentRequest
from engine.workflow.context import Context

TTL = timedelta(hours=24)
# A claim without a result this old was abandoned by a process that died mid-request.
ABANDONED = timedelta(minutes=5)
MAX_KEY = 200
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY or not all(33 <= ord(ch) <= 126 for ch in key):
        raise InvalidInput(
            "幂等键格式有误",
            {HEADER: [f"应为 1 至 {MAX_KEY} 个可见 ASCII 字符（不含空格）"]},
        )
    return key


def claim(ctx: Context, user_id: int, key: str, print_: str) -> Replay | None:
    """Claim `key` for this request, or return the first result to replay."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.scalar(
            select(IdempotentRequest)
            .where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
            .with_for_update()
        )
        if row is not None and row.created_at < now - TTL:
            session.delete(row)
            session.flush()
            row = None
        if row is not None:
            if row.fingerprint != print_:
                raise InvalidInput(
                    "该幂等键已用于另一个请求", {HEADER: ["同一幂等键只能用于同一请求"]}
                )
            if row.status is None:
                if row.created_at < now - ABANDONED:
                    raise Conflict(
                        "该请求此前可能已经处理，但结果未能保存；请先查看办理情况，"
                        "如需重新提交请使用新的幂等键"
                    )
                raise Conflict("相同的请求正在处理中，请稍后重试")
            return Replay(row.status, row.response or b"")
        session.add(IdempotentRequest(user_id=user_id, key=key, fingerprint=print_, created_at=now))
        try:
            session.flush()
        except IntegrityError as exc:  # the same key claimed at this very moment
            raise Conflict("相同的请求正在处理中，请稍后重试") from exc
    return None


def finish(ctx: Context, user_id: int, key: str, status: int, body: bytes) -> None:
    with ctx.db.write() as session:
        row = session.scalar(
            select(IdempotentRequest).where(
                IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
            )
        )
        if row is not None:
            row.status = status
            row.response = body


def release(ctx: Context, user_id: int, key: str) -> None:
    """The request failed on the server: give the key back so a retry runs."""
    with ctx.db.write() as session:
        session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.user_id == user_id,
                IdempotentRequest.key == key,
                IdempotentRequest.status.is_(None),
            )
        )
