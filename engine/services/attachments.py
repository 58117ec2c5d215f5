"""Attachments (附件): the policy document a matter rests on, the funding estimate, minutes,
evidence. A file is uploaded first — checked from its content (engine/services/file_kinds)
and kept under its SHA-256 — and is its uploader's alone until it goes with a step
(engine/workflow/attachments) or is added to a matter or case on its own here; from then on
it is read like the instance it belongs to, and its hash is on the instance's trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.authz import TASK_ROLES, Actor
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Instance, Task
from engine.models_documents import Attachment, IssuedDocument
from engine.services.file_kinds import KINDS, filed_name, identify
from engine.workflow import attachments as step_files
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.processes import kind_of
from engine.workflow.services import commands
from engine.workflow.services.tasks import check_may_take

# An upload not submitted with any step within this many days is forgotten (the worker);
# one person holds at most MAX_PENDING such uploads at a time.
UNSUBMITTED_DAYS = 7
MAX_PENDING = 50


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    instance_id: int | None
    task: str | None  # the diagram's step it came with, if any
    step: str  # that step as users name it ("" for a supplement added on its own)
    name: str
    kind: str
    label: str  # the kind as users name it: PDF 文件, Word 文档, 图片 …
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str  # the uploader's display name
    organization: str  # the uploader's organisation
    attached_at: datetime | None


@dataclass(frozen=True)
class StoredFile:
    filename: str
    media_type: str
    data: bytes
    sha256: str


def max_bytes(ctx: Context) -> int:
    return ctx.settings.attachment_max_mb * 1024 * 1024


def upload(ctx: Context, actor: Actor, name: str, data: bytes) -> AttachmentInfo:
    """Keep an uploaded file for the caller to attach with a step (its id goes in the step's
    `attachments`). Refused — nothing stored — when too large, empty, of a kind not taken,
    or broken."""
    _may_upload(actor)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        waiting = session.scalar(
            select(func.count()).where(
                Attachment.uploaded_by == actor.user_id, Attachment.instance_id.is_(None)
            )
        )
    if waiting >= MAX_PENDING:
        raise Conflict(
            f"您已有 {waiting} 个上传后未提交的附件，请先随申请或办理提交，"
            f"未提交的附件 {UNSUBMITTED_DAYS} 天后自动清除"
        )
    row = _stored(ctx, actor, name, data, now)
    with ctx.db.write() as session:
        session.add(row)
        session.flush()
        return _infos(session, ctx, [row])[0]


def add(ctx: Context, actor: Actor, instance_id: int, name: str, data: bytes) -> AttachmentInfo:
    """Add a file to a live matter or case on its own (补充材料), on its trail as
    `attachment_added`: by its applicant, or by whoever may take one of its open steps."""
    _may_upload(actor)
    now = ctx.clock.now()
    with ctx.db.read() as session:  # nothing is stored for someone who may not add here
        instance, _ = commands.visible_instance(session, instance_id, actor, lock=False)
        _participant_role(session, instance, actor)
    row = _stored(ctx, actor, name, data, now)  # checked before the instance is locked
    with ctx.db.write() as session:
        instance, _ = commands.visible_instance(session, instance_id, actor, lock=True)
        role = _participant_role(session, instance, actor)
        row.instance_id, row.attached_at = instance.id, now
        session.add(row)
        session.flush()
        entry = Entry("attachment_added", None, {step_files.FIELD: [step_files.described(row)]})
        commands.record(session, instance, actor, role, [entry], now)
        return _infos(session, ctx, [row])[0]


def attachments_of(ctx: Context, actor: Actor, instance_id: int) -> list[AttachmentInfo]:
    """The files attached to an instance the caller may see, oldest first."""
    with ctx.db.read() as session:
        commands.visible_instance(session, instance_id, actor, lock=False)
        rows = session.scalars(
            select(Attachment).where(Attachment.instance_id == instance_id).order_by(Attachment.id)
        ).all()
        return _infos(session, ctx, list(rows))


def pending(ctx: Context, actor: Actor) -> list[AttachmentInfo]:
    """The caller's uploads not yet attached to anything, newest first."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Attachment)
            .where(Attachment.uploaded_by == actor.user_id, Attachment.instance_id.is_(None))
            .order_by(Attachment.id.desc())
            .limit(100)
        ).all()
        return _infos(session, ctx, list(rows))


def attachment_file(ctx: Context, actor: Actor, attachment_id: int) -> StoredFile:
    """The file as uploaded (checked against its hash): its uploader's while unattached,
    then readable by whoever may read its instance; anyone else gets 404."""
    with ctx.db.read() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound("附件不存在")
        if row.instance_id is None:
            if row.uploaded_by != actor.user_id:
                raise NotFound("附件不存在")
        else:
            commands.visible_instance(session, row.instance_id, actor, lock=False)
        found = StoredFile(row.name, row.media_type, b"", row.sha256)
    return StoredFile(found.filename, found.media_type, ctx.blobs.get(found.sha256), found.sha256)


def discard_unsubmitted(ctx: Context) -> int:
    """Forget uploads nobody submitted with a step within UNSUBMITTED_DAYS (a form given up,
    a page closed), and their files when nothing else names the same bytes: a periodic job
    of the worker. Returns how many uploads were forgotten."""
    now = ctx.clock.now()
    cutoff = now - timedelta(days=UNSUBMITTED_DAYS)
    with ctx.db.write() as session:
        stale = session.execute(
            select(Attachment.id, Attachment.sha256)
            .where(Attachment.instance_id.is_(None), Attachment.uploaded_at < cutoff)
            .limit(1000)
            .with_for_update(skip_locked=True)
        ).all()
        if not stale:
            return 0
        session.execute(delete(Attachment).where(Attachment.id.in_([row.id for row in stale])))
        digests = {row.sha256 for row in stale}
        named = set(
            session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests)))
        )
        named |= set(
            session.scalars(select(IssuedDocument.sha256).where(IssuedDocument.sha256.in_(digests)))
        )
    # After the commit: a file is removed only if nothing names it and it was not stored
    # again since the cutoff (a new upload of the same bytes refreshes it first).
    for digest in digests - named:
        ctx.blobs.discard(digest, cutoff.timestamp())
    return len(stale)


def _may_upload(actor: Actor) -> None:
    if not actor.roles & TASK_ROLES:
        raise Forbidden("您的账号不办理业务，不能上传附件")


def _stored(ctx: Context, actor: Actor, name: str, data: bytes, now: datetime) -> Attachment:
    """Check the file and put it in the blob store; the row is the caller's to add."""
    if len(data) > max_bytes(ctx):
        raise InvalidInput(
            "附件过大",
            {"file": [f"文件超过 {ctx.settings.attachment_max_mb} MB 的上限，请压缩或拆分后上传"]},
        )
    kind = identify(data)
    digest = ctx.blobs.put(data)
    return Attachment(
        name=filed_name(name, kind),
        kind=kind.key,
        media_type=kind.media_type,
        sha256=digest,
        size=len(data),
        uploaded_at=now,
        uploaded_by=actor.user_id,
        uploader_org_id=actor.org_id,
    )


def _participant_role(session: Session, instance: Instance, actor: Actor) -> str:
    """The role in which the caller adds a file: applicant, or one of an open step's."""
    if instance.ended_at is not None:
        raise Conflict("本事项已办结，不能再添加附件")
    if instance.applicant_org_id == actor.org_id:
        return next(iter(sorted(actor.roles & TASK_ROLES)))
    party = kind_of(instance.process_id).party(session, instance)
    for task in session.scalars(
        select(Task).where(Task.instance_id == instance.id, Task.state == "open")
    ):
        try:
            check_may_take(session, task, instance, actor, party)
        except Forbidden:
            continue
        return task.role
    raise Forbidden("只有本事项的申请单位或当前环节的办理人可以添加附件")


def may_add(ctx: Context, actor: Actor, instance_id: int) -> bool:
    """Whether the caller may add a supplement to the instance now (for offering the form)."""
    if not actor.roles & TASK_ROLES:
        return False
    with ctx.db.read() as session:
        try:
            instance, _ = commands.visible_instance(session, instance_id, actor, lock=False)
            _participant_role(session, instance, actor)
        except (Forbidden, Conflict, NotFound):
            return False
    return True


def _step_names(session: Session, rows: list[Attachment]) -> dict[tuple[int, str], str]:
    """(instance, step id) → the step's name, for the steps files came with."""
    wanted = {(r.instance_id, r.task) for r in rows if r.instance_id and r.task}
    if not wanted:
        return {}
    found = session.execute(
        select(Task.instance_id, Task.bpmn_id, Task.name).where(
            Task.instance_id.in_({i for i, _ in wanted}),
            Task.bpmn_id.in_({t for _, t in wanted}),
        )
    )
    return {(i, t): name for i, t, name in found}


def _infos(session: Session, ctx: Context, rows: list[Attachment]) -> list[AttachmentInfo]:
    users = ctx.names.users(session, [r.uploaded_by for r in rows])
    orgs = ctx.names.orgs(session, [r.uploader_org_id for r in rows])
    steps = _step_names(session, rows)
    return [
        AttachmentInfo(
            id=r.id,
            instance_id=r.instance_id,
            task=r.task,
            # A step with no task row is the start event: the application (or filing).
            step=steps.get((r.instance_id, r.task), "申请") if r.task and r.instance_id else "",
            name=r.name,
            kind=r.kind,
            label=KINDS[r.kind].label if r.kind in KINDS else r.kind,
            size=r.size,
            sha256=r.sha256,
            uploaded_at=r.uploaded_at,
            uploaded_by=users[r.uploaded_by].name if r.uploaded_by in users else "",
            organization=orgs[r.uploader_org_id].name if r.uploader_org_id in orgs else "",
            attached_at=r.attached_at,
        )
        for r in rows
    ]
