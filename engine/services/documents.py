"""Documents issued on instances (文书): 批复, 审批表, 认定书 … (config/documents.toml).

Issuing one is a command: in one transaction the kind's 文号 is taken from the county's
sequence for that kind and year (engine/workflow/numbering: never given twice, none skipped by
a rollback), the PDF is rendered with the number in it (the county's name, the parties, the
decision and its reasons, dates as 2026年12月21日, the CJK font embedded), stored under its
SHA-256, and the hash goes on the instance's trail. Reading it back is scoped like the
instance, and the bytes are checked against the hash before they are handed out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound, TemplateSyntaxError, meta, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from simpleeval import InvalidExpression
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.documents import DocumentKind, DocumentRules
from engine.authz import Actor
from engine.errors import Conflict, ExpressionFailed, Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent, Instance, Organization
from engine.models_documents import Attachment, IssuedDocument
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.expressions import UnsafeExpression, evaluate
from engine.workflow.numbering import next_in_sequence
from engine.workflow.processes import kind_of, start_event
from engine.workflow.services import commands
from engine.workflow.workdays import local_date, written_date

TEMPLATES = Path(__file__).with_name("document_templates")


@functools.cache
def _environment(layout_dir: Path | None) -> SandboxedEnvironment:
    """Layouts are looked up in the county's directory first, then among the shipped ones
    (so a county's layout may extend the shipped `_base.html`). Sandboxed: a layout reads the
    facts it is given and calls nothing else."""
    folders = [layout_dir, TEMPLATES] if layout_dir is not None else [TEMPLATES]
    environment = SandboxedEnvironment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["cn_day"] = _cn_day
    return environment


def _cn_day(value: Any) -> str:
    """An ISO date from a form (2026-12-21) as officials write it: 2026年12月21日."""
    try:
        return written_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    instance_id: int
    kind: str
    title: str
    number: str
    issued_at: datetime
    issued_by: str | None
    issuer_org: str | None
    sha256: str
    size: int


@dataclass(frozen=True)
class Offer:
    """A kind of document the caller may issue on the instance now."""

    kind: str
    title: str


@dataclass(frozen=True)
class InstanceDocuments:
    issued: list[DocumentInfo]
    can_issue: list[Offer]


@dataclass(frozen=True)
class DocumentFile:
    filename: str
    data: bytes
    sha256: str


def documents_of(ctx: Context, instance_id: int, actor: Actor) -> InstanceDocuments:
    """What has been issued on the instance, and what the caller may issue now."""
    with ctx.db.read() as session:
        instance, townships = commands.visible_instance(session, instance_id, actor, lock=False)
        issued = _issued(session, ctx, [instance.id])
        have = {doc.kind for doc in issued}
        kinds = [
            k
            for k in ctx.documents.of_process(instance.process_id)
            if k.key not in have and actor.roles & k.issuers
        ]
        offers: list[Offer] = []
        if kinds:
            data = _data(session, ctx, instance, townships)
            offers = [Offer(k.key, k.title) for k in kinds if _due(k, data)]
        return InstanceDocuments(issued, offers)


def issue(ctx: Context, instance_id: int, kind_key: str, actor: Actor) -> DocumentInfo:
    """Issue the instance's document of `kind_key` (once; a second request is a conflict)."""
    kind = ctx.documents.kinds.get(kind_key)
    if kind is None:
        known = "、".join(f"{k}（{v.title}）" for k, v in ctx.documents.kinds.items())
        raise InvalidInput("文书种类有误", {"kind": [f"应为以下之一：{known}"]})
    now = ctx.clock.now()
    with ctx.db.write() as session:
        instance, townships = commands.visible_instance(session, instance_id, actor, lock=True)
        if kind.process != instance.process_id:
            raise InvalidInput("文书种类有误", {"kind": [f"“{kind.title}”不适用于本事项"]})
        if not actor.roles & kind.issuers:
            raise Forbidden(f"您的账号不能出具“{kind.title}”")
        if session.scalar(
            select(IssuedDocument.id).where(
                IssuedDocument.instance_id == instance.id, IssuedDocument.kind == kind.key
            )
        ):
            raise Conflict(f"本事项已出具“{kind.title}”，可直接下载")
        loaded = commands.restore(session, ctx, instance, townships, command=False)
        data = ctx.runtime.data(loaded.workflow)
        if not _due(kind, data):
            raise Conflict(f"本事项尚未到可以出具“{kind.title}”的环节")
        county = _county_of(session, instance)
        year = local_date(now, ctx.settings.timezone).year
        number = ""
        if kind.numbered:
            sequence = f"doc:{county.code}:{kind.key}"
            short = ctx.documents.short_name(county.code, county.name)
            number = kind.number(short, year, next_in_sequence(session, sequence, year))
        facts = _facts(session, ctx, loaded, data, county, now)
        pdf = render_pdf(
            ctx.documents.layout_dir,
            kind.template,
            {**facts, "title": kind.title, "number": number, "issuer": actor.org_name},
        )
        digest = ctx.blobs.put(pdf)
        row = IssuedDocument(
            instance_id=instance.id,
            kind=kind.key,
            title=kind.title,
            number=number,
            year=year,
            issued_at=now,
            issued_by=actor.user_id,
            issuer_org_id=actor.org_id,
            sha256=digest,
            size=len(pdf),
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:  # issued by someone else a moment ago
            raise Conflict(f"本事项已出具“{kind.title}”，可直接下载") from exc
        payload = {"kind": kind.key, "title": kind.title, "number": number, "sha256": digest}
        role = next(iter(sorted(actor.roles & kind.issuers)))
        commands.record(
            session, instance, actor, role, [Entry("document_issued", None, payload)], now
        )
        return _issued(session, ctx, [instance.id], only=row.id)[0]


def document_file(ctx: Context, document_id: int, actor: Actor) -> DocumentFile:
    """The PDF as issued (checked against its hash), if the caller may read its instance."""
    with ctx.db.read() as session:
        row = session.get(IssuedDocument, document_id)
        if row is None:
            raise NotFound("文书不存在")
        commands.visible_instance(session, row.instance_id, actor, lock=False)
        name, digest = f"{row.title}-{row.number or row.id}.pdf", row.sha256
    return DocumentFile(name, ctx.blobs.get(digest), digest)


def _issued(
    session: Session, ctx: Context, instance_ids: list[int], only: int | None = None
) -> list[DocumentInfo]:
    query = select(IssuedDocument).where(IssuedDocument.instance_id.in_(instance_ids))
    if only is not None:
        query = query.where(IssuedDocument.id == only)
    rows = session.scalars(query.order_by(IssuedDocument.id)).all()
    users = ctx.names.users(session, [r.issued_by for r in rows])
    orgs = ctx.names.orgs(session, [r.issuer_org_id for r in rows])
    return [
        DocumentInfo(
            id=r.id,
            instance_id=r.instance_id,
            kind=r.kind,
            title=r.title,
            number=r.number,
            issued_at=r.issued_at,
            issued_by=users[r.issued_by].name if r.issued_by in users else None,
            issuer_org=orgs[r.issuer_org_id].name if r.issuer_org_id in orgs else None,
            sha256=r.sha256,
            size=r.size,
        )
        for r in rows
    ]


def _data(session: Session, ctx: Context, instance: Instance, townships: list[int]) -> Any:
    loaded = commands.restore(session, ctx, instance, townships, command=False)
    return ctx.runtime.data(loaded.workflow)


def _due(kind: DocumentKind, data: Mapping[str, Any]) -> bool:
    """Whether the kind's condition holds on the instance's data (a step not yet taken: no)."""
    try:
        return bool(evaluate(kind.when, data))
    except (InvalidExpression, KeyError, TypeError, IndexError, ExpressionFailed, UnsafeExpression):
        return False


def _county_of(session: Session, instance: Instance) -> Organization:
    """The county the instance belongs to: its applicant's, up the organisation tree."""
    org = session.get(Organization, instance.applicant_org_id)
    while org is not None and org.level != "county" and org.parent_id is not None:
        org = session.get(Organization, org.parent_id)
    assert org is not None
    return org


def _facts(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    data: Mapping[str, Any],
    county: Organization,
    now: datetime,
) -> dict[str, Any]:
    """What a document's layout may print: the county, the instance and its parties, the
    forms' values with the labels their forms give them, who did each step and when."""
    instance = loaded.instance
    zone = ctx.settings.timezone
    names = ctx.names
    orgs = names.orgs(session, [instance.applicant_org_id, *loaded.township_ids])
    # Who did each step, from the trail (the organisation they acted for at the time).
    done = session.execute(
        select(AuditEvent.task, AuditEvent.actor_id, AuditEvent.actor_org_id, AuditEvent.at)
        .where(AuditEvent.instance_id == instance.id, AuditEvent.action == "task_completed")
        .order_by(AuditEvent.seq)
    ).all()
    people = names.users(session, [row.actor_id for row in done])
    step_orgs = names.orgs(session, [row.actor_org_id for row in done])
    steps = {
        row.task: {
            "by": people[row.actor_id].name if row.actor_id in people else "",
            "org": step_orgs[row.actor_org_id].name if row.actor_org_id in step_orgs else "",
            "on": written_date(local_date(row.at, zone)),
        }
        for row in done
        if row.task
    }
    files = session.execute(
        select(Attachment.name, Attachment.task)
        .where(Attachment.instance_id == instance.id)
        .order_by(Attachment.id)
    ).all()
    first_step = start_event(loaded.diagram)[0]
    timers = {
        task.task_spec.bpmn_id: written_date(ctx.calendar.last_day(due))
        for task, due in ctx.runtime.waiting_timers(loaded.workflow)
        if task.task_spec.bpmn_id
    }
    return {
        "county": county.name,
        "issued_on": written_date(local_date(now, zone)),
        "matter": {
            "title": instance.title,
            "number": instance.number,
            "filed_on": written_date(local_date(instance.created_at, zone)),
            "applicant": orgs[instance.applicant_org_id].name,
            "townships": [orgs[t].name for t in loaded.township_ids if t in orgs],
        },
        "data": data,
        "label": _labeller(loaded.diagram, data, _county_lists(ctx)),
        "steps": steps,
        "timers": timers,
        "calendar_limits": ctx.steps.calendar_days(),
        "facts": kind_of(instance.process_id).facts(session, instance),
        # The files attached so far, by name, for a layout that lists its annexes (附件); and
        # those that came with the application itself (the applicant's own annexes).
        "attachments": [name for name, _ in files],
        "application_attachments": [name for name, step in files if step == first_step],
    }


def _county_lists(ctx: Context) -> Mapping[str, Mapping[str, str]]:
    """Values a form picks from the county's own lists (not named in the form itself)."""
    return {
        "circumstances": ctx.tolerance.circumstance_labels(),
        "exclusions": ctx.tolerance.exclusion_labels(),
    }


def _labeller(diagram: Any, data: Mapping[str, Any], lists: Mapping[str, Mapping[str, str]]) -> Any:
    """label(key, field): the value at data[key][field] as its form names it (通过, 县委常委会
    会议); a list's values joined with 、; a value no form names, as it is."""
    schemas: dict[str, Mapping[str, Any]] = {}
    for step, form in diagram.forms.items():
        schema = getattr(form, "json_schema", None) or {}
        schemas[schema.get("x-data-key") or step] = schema

    def label(key: str, field: str) -> str:
        value = (data.get(key) or {}).get(field)
        prop = ((schemas.get(key) or {}).get("properties") or {}).get(field) or {}
        choices = prop.get("oneOf") or (prop.get("items") or {}).get("oneOf") or []
        titles = {c.get("const"): c.get("title") for c in choices if isinstance(c, Mapping)}
        titles = {**lists.get(field, {}), **titles}
        if isinstance(value, bool):
            return titles.get(value) or ("是" if value else "否")
        if isinstance(value, list):
            return "、".join(str(titles.get(v, v)) for v in value)
        if value is None:
            return ""
        return str(titles.get(value, value))

    return label


def render_pdf(layout_dir: Path | None, template: str, facts: Mapping[str, Any]) -> bytes:
    """A document's layout filled in, as a PDF with its fonts embedded."""
    from weasyprint import HTML  # imported on first use: a second of start-up otherwise

    html = _environment(layout_dir).get_template(template).render(**facts)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def check_templates(rules: DocumentRules) -> list[str]:
    """What is wrong with the kinds' layouts — missing, or not a template — checked when the
    service starts, so a county's broken layout stops the start, not an issuing."""
    environment, problems = _environment(rules.layout_dir), []
    for kind in rules.kinds.values():
        wanted, seen = [kind.template], set()
        while wanted:  # the layout, and what it extends, includes or imports
            name = wanted.pop()
            seen.add(name)
            try:
                source = environment.loader.get_source(environment, name)[0]  # type: ignore[union-attr]
                found = meta.find_referenced_templates(environment.parse(source, name))
            except TemplateNotFound:
                problems.append(f"no layout {name} for {kind.key}")
                continue
            except TemplateSyntaxError as exc:
                problems.append(f"layout {name} line {exc.lineno}: {exc.message}")
                continue
            wanted += [n for n in found if n is not None and n not in seen]
    return problems
