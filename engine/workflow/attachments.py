"""Attachments go with a step: a request that starts an instance or completes a task may name
files its caller uploaded beforehand (`"attachments": [ids]` beside the form's fields). They
are bound to the instance in the step's transaction and described — name, kind, size,
SHA-256 — in the step's trail event, so the trail proves which file came with which step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.errors import InvalidInput
from engine.models_documents import Attachment
from engine.workflow.services.rows import update_row

FIELD = "attachments"
MAX_PER_STEP = 20


def split_body(body: Any) -> tuple[Any, list[int]]:
    """The form's fields, and the attachment ids the request names (none when it names none)."""
    if not isinstance(body, dict) or FIELD not in body:
        return body, []
    ids = body[FIELD]
    if (
        not isinstance(ids, list)
        or len(ids) > MAX_PER_STEP
        or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31 for i in ids)
    ):
        raise InvalidInput(
            "附件有误", {FIELD: [f"应为已上传附件的编号列表，每步最多 {MAX_PER_STEP} 个"]}
        )
    return {k: v for k, v in body.items() if k != FIELD}, list(dict.fromkeys(ids))


def described(row: Attachment) -> dict[str, Any]:
    """What the trail says of a file: enough to find it and to prove it is the one."""
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "size": row.size,
        "sha256": row.sha256,
    }


def bind(
    session: Session,
    actor: Actor,
    ids: list[int],
    instance_id: int,
    task: str | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Attach the caller's uploaded, not yet attached files to the instance with this step."""
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.scalars(
            select(Attachment).where(Attachment.id.in_(ids)).with_for_update()
        )
    }
    unusable = [
        str(i)
        for i in ids
        if i not in rows or rows[i].instance_id is not None or rows[i].uploaded_by != actor.user_id
    ]
    if unusable:
        raise InvalidInput(
            "附件有误",
            {FIELD: [f"附件 {'、'.join(unusable)} 不存在、不是您上传的，或已随其他步骤提交"]},
        )
    for i in ids:
        update_row(session, rows[i], instance_id=instance_id, task=task, attached_at=now)
    return [described(rows[i]) for i in ids]
