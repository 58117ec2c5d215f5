"""报表: forms county departments make townships fill pass the gate (bpmn/report_form).

Filing, each field asked for is checked against the fields of the forms already in the county's
catalogue (一表通) — the same or a near-same Chinese wording, as the duty lists' pre-check
judges names — and what is found goes with the filing for 编办 to weigh. Approved, the form is in
the catalogue (`report_forms.register`) and its townships are told; one that repeats a form
already there is merged into it (`report_forms.merge`): its new fields are added, its townships
fill that form, and the asking department reads what they fill there instead of asking again.
A township fills each form once a period; every department the form is shared with reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.authz import COUNTY_WIDE_READERS, Actor
from engine.burden.models_burden import ReportForm, ReportFormParty, ReportSubmission
from engine.burden.services.gates import county_office, named_townships
from engine.duty_lists.catalog import Thresholds, normalize, similarity
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Organization
from engine.services.notices import tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.counties import org_in
from engine.workflow.fields import char_problem
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.processes import GENERIC, Start, register
from engine.workflow.services.commands import Loaded
from engine.workflow.specs import Diagram

PROCESS_ID = "report_form"
FREQUENCIES = {"once": "一次性", "monthly": "每月", "quarterly": "每季度", "yearly": "每年"}
PERIODS = {
    "once": (re.compile(r"^once$"), "once"),
    "monthly": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "如 2026-12"),
    "quarterly": (re.compile(r"^\d{4}Q[1-4]$"), "如 2026Q4"),
    "yearly": (re.compile(r"^\d{4}$"), "如 2026"),
}
QUARTERS = "一二三四"
VALUE_MAX = 500


def period_label(period: str) -> str:
    """A period as people write it: 2026年12月, 2026年第四季度, 2026年度, 一次性."""
    if period == "once":
        return "一次性"
    if re.fullmatch(r"\d{4}-\d{2}", period):
        return f"{period[:4]}年{int(period[5:])}月"
    if re.fullmatch(r"\d{4}Q[1-4]", period):
        return f"{period[:4]}年第{QUARTERS[int(period[5]) - 1]}季度"
    if re.fullmatch(r"\d{4}", period):
        return f"{period}年度"
    return period


def recent_periods(frequency: str, today: date) -> list[tuple[str, str]]:
    """The periods a township may be filling now, the latest first: (code, label)."""
    if frequency == "monthly":
        months = [(today.year, today.month - back) for back in range(6)]
        codes = [f"{y + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for y, m in months]
    elif frequency == "quarterly":
        quarter = (today.month - 1) // 3
        codes = [
            f"{today.year + (quarter - back) // 4}Q{(quarter - back) % 4 + 1}" for back in range(4)
        ]
    elif frequency == "yearly":
        codes = [str(today.year - back) for back in range(3)]
    else:
        codes = ["once"]
    return [(code, period_label(code)) for code in codes]


MAX_FINDINGS = 20


# --- filing: what the form repeats -------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    field: str  # the field asked for
    form_id: int  # the catalogue's form that has it
    form_name: str
    owner: str
    existing: str  # its wording there
    score: int


def overlaps(
    session: Session, ctx: Context, fields: list[str], county_id: int | None
) -> list[Overlap]:
    """Each field asked for that a form in the county's catalogue already collects, the same
    or nearly (best match per field and form)."""
    thresholds = Thresholds.from_settings(ctx.settings)
    forms = session.scalars(
        select(ReportForm).where(org_in(ReportForm.owner_org_id, county_id)).order_by(ReportForm.id)
    ).all()
    owners = ctx.names.orgs(session, [f.owner_org_id for f in forms])
    found: list[Overlap] = []
    for asked in fields:
        wanted = normalize(asked)
        for form in forms:
            best = max(
                (
                    (similarity(wanted, normalize(have), thresholds.min_chars), have)
                    for have in form.fields
                ),
                default=(0.0, ""),
            )
            if best[0] >= thresholds.duplicate:
                found.append(
                    Overlap(
                        asked,
                        form.id,
                        form.name,
                        owners[form.owner_org_id].name,
                        best[1],
                        round(best[0]),
                    )
                )
    return found[:MAX_FINDINGS]


def start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """As any package's start; what the form repeats goes with it (its data's `findings`, read
    beside the review, and the filing's trail)."""
    started = GENERIC.start(session, ctx, diagram, form, body, actor)
    fields = [str(f) for f in started.trail["form"].get("fields") or []]
    found = overlaps(session, ctx, fields, actor.county_id)
    findings = [
        {
            "severity": "warning",
            "message": (
                f"字段“{o.field}”在已有报表“{o.form_name}”（报表编号 {o.form_id}，{o.owner}）中已有"
                + ("" if o.existing == o.field else f"相近字段“{o.existing}”")
                + "，可共享，不必另行填报"
            ),
        }
        for o in found
    ]
    repeated = len({o.field for o in found})
    trail = {**started.trail, "overlap": {"fields": len(fields), "repeated": repeated}}
    return replace(started, data={**started.data, "findings": findings}, trail=trail)


# --- approved or merged ------------------------------------------------------------------------


def register_form(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """列入报表目录: the form, its townships told what to fill and how often."""
    fields = _fields(parameters)
    frequency = text(parameters, "frequency")
    if frequency not in FREQUENCIES:
        raise OperationFailed(f"填报频次无效：{frequency}")
    townships = named_townships(session, loaded.instance.county_id, parameters)
    form = ReportForm(
        instance_id=loaded.instance.id,
        owner_org_id=loaded.instance.applicant_org_id,
        name=text(parameters, "name")[:200],
        frequency=frequency,
        fields=fields,
        approved_at=now,
    )
    session.add(form)
    session.flush()
    for township in townships:
        session.add(ReportFormParty(form_id=form.id, org_id=township.id, part="township"))
    owner = ctx.names.orgs(session, [form.owner_org_id])[form.owner_org_id].name
    message = (
        f"{owner}的报表“{form.name}”已列入报表目录（报表编号 {form.id}），{FREQUENCIES[frequency]}"
        f"填报，共 {len(fields)} 项。每期只需填报一次。"
    )
    tell(
        session,
        [t.id for t in townships],
        loaded.instance.id,
        "report_form_registered",
        message,
        now,
    )
    return [Entry("report_form_registered", None, {"form_id": form.id, "fields": len(fields)})]


def merge(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """并入: the request's new fields join the catalogue's form, its townships fill that form,
    and the asking department reads what they fill there."""
    into = parameters.get("into")
    form = session.get(ReportForm, into, with_for_update=True) if isinstance(into, int) else None
    owner = session.get(Organization, form.owner_org_id) if form is not None else None
    if form is None or owner is None or owner.county_id != loaded.instance.county_id:
        raise InvalidInput("报表编号有误", {"merge_into": [f"报表目录中没有编号为 {into} 的报表"]})
    if form.owner_org_id == loaded.instance.applicant_org_id:
        raise InvalidInput(
            "报表编号有误", {"merge_into": ["这是申请部门自己的报表：请选择同意或不同意"]}
        )
    # A field the form has, the same or nearly (as found when filed), is read from there.
    thresholds = Thresholds.from_settings(ctx.settings)
    have = [normalize(f) for f in form.fields]
    added = [
        f
        for f in _fields(parameters)
        if not any(
            similarity(normalize(f), h, thresholds.min_chars) >= thresholds.duplicate for h in have
        )
    ]
    form.fields = [*form.fields, *added][:200]
    parties = {
        (p.org_id, p.part)
        for p in session.scalars(select(ReportFormParty).where(ReportFormParty.form_id == form.id))
    }
    department = loaded.instance.applicant_org_id
    if (department, "reader") not in parties:
        session.add(ReportFormParty(form_id=form.id, org_id=department, part="reader"))
    townships = named_townships(session, loaded.instance.county_id, parameters)
    for township in townships:
        if (township.id, "township") not in parties:
            session.add(ReportFormParty(form_id=form.id, org_id=township.id, part="township"))
    session.flush()
    names = ctx.names.orgs(session, [department, form.owner_org_id])
    more = f"，新增 {len(added)} 项：{'、'.join(added)}" if added else ""
    tell(
        session,
        [department],
        loaded.instance.id,
        "report_form_merged",
        f"报表“{loaded.instance.title.removeprefix('报表：')}”已并入{names[form.owner_org_id].name}的"
        f"“{form.name}”（报表编号 {form.id}）{more}；请从该报表读取乡镇填报的数据。",
        now,
    )
    if added:
        tell(
            session,
            [t.id for t in townships],
            loaded.instance.id,
            "report_form_merged",
            f"报表“{form.name}”（报表编号 {form.id}）增加 {len(added)} 项：{'、'.join(added)}。"
            "其他部门不再另行要求填报这些数据。",
            now,
        )
    return [Entry("report_form_merged", None, {"form_id": form.id, "added": len(added)})]


def _fields(parameters: dict[str, Any]) -> list[str]:
    fields = parameters.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise OperationFailed("fields 应为字段名的列表")
    return [f.strip()[:100] for f in fields if f.strip()]


# --- the catalogue, and filling a form ------------------------------------------------------------


@dataclass(frozen=True)
class FormInfo:
    id: int
    instance_id: int
    name: str
    owner: str
    frequency: str
    fields: list[str]
    townships: list[str]  # names
    readers: list[str]  # departments it is shared with (names)
    filled: dict[str, list[str]]  # period → the townships (names) that filled it


@dataclass(frozen=True)
class SubmissionInfo:
    id: int
    form_id: int
    township: str
    period: str
    values: dict[str, str]
    submitted_at: datetime


def catalogue(ctx: Context, actor: Actor) -> list[FormInfo]:
    """报表目录: a township the forms it fills, a department those it owns or reads, the county
    offices every form."""
    with ctx.db.read() as session:
        query = select(ReportForm)
        if actor.roles & COUNTY_WIDE_READERS and actor.county_id is not None:
            query = query.where(org_in(ReportForm.owner_org_id, actor.county_id))
        else:
            mine = select(ReportFormParty.form_id).where(ReportFormParty.org_id == actor.org_id)
            query = query.where(
                or_(ReportForm.owner_org_id == actor.org_id, ReportForm.id.in_(mine))
            )
        forms = session.scalars(query.order_by(ReportForm.id)).all()
        return [_info(session, ctx, f, actor) for f in forms]


def submit(ctx: Context, actor: Actor, form_id: int, period: Any, values: Any) -> SubmissionInfo:
    """A township fills the form for one period, once: every field, as text."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        form = session.get(ReportForm, form_id)
        if form is None or not _fills(session, form.id, actor):
            raise NotFound("报表不存在")
        pattern, example = PERIODS[form.frequency]
        if not isinstance(period, str) or not pattern.fullmatch(period):
            raise InvalidInput(
                "填报期次有误", {"period": [f"应为{FREQUENCIES[form.frequency]}的期次，{example}"]}
            )
        filled = _values(form.fields, values)
        row = ReportSubmission(
            form_id=form.id,
            township_org_id=actor.org_id,
            period=period,
            values=filled,
            submitted_by=actor.user_id,
            submitted_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError as exc:
            raise Conflict(
                f"本乡镇已填报“{form.name}”{period_label(period)}，每期只填一次"
            ) from exc
        return _submission(session, ctx, row)


def submissions(
    ctx: Context, actor: Actor, form_id: int, period: str | None = None
) -> list[SubmissionInfo]:
    """What townships filled: the form's owner, the departments it is shared with and the county
    offices read every township's; a township its own."""
    if period is not None and (problem := char_problem(period)):
        raise InvalidInput("筛选条件有误", {"period": [problem]})
    with ctx.db.read() as session:
        form = session.get(ReportForm, form_id)
        if form is None:
            raise NotFound("报表不存在")
        reads = (
            county_office(session, actor, form.owner_org_id)
            or form.owner_org_id == actor.org_id
            or _party(session, form.id, actor.org_id, "reader")
        )
        township = _fills(session, form.id, actor)
        if not reads and not township:
            raise NotFound("报表不存在")
        query = select(ReportSubmission).where(ReportSubmission.form_id == form.id)
        if not reads:
            query = query.where(ReportSubmission.township_org_id == actor.org_id)
        if period:
            query = query.where(ReportSubmission.period == period)
        rows = session.scalars(
            query.order_by(ReportSubmission.period.desc(), ReportSubmission.id)
        ).all()
        return [_submission(session, ctx, r) for r in rows]


def _values(fields: list[str], values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        raise InvalidInput("填报内容有误", {"values": ["应为“字段：内容”的对象"]})
    errors: dict[str, list[str]] = {}
    unknown = [k for k in values if k not in fields]
    if unknown:
        errors["values"] = [f"报表中没有这些字段：{'、'.join(str(k) for k in unknown)[:200]}"]
    filled: dict[str, str] = {}
    for name in fields:
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            errors[f"values.{name}"] = ["请填写"]
            continue
        text_value = str(value).strip()
        if not text_value:
            errors[f"values.{name}"] = ["请填写"]
        elif len(text_value) > VALUE_MAX or char_problem(text_value):
            errors[f"values.{name}"] = [f"不超过 {VALUE_MAX} 字，且不含控制字符"]
        filled[name] = text_value
    if errors:
        raise InvalidInput("填报内容有误", errors)
    return filled


def _fills(session: Session, form_id: int, actor: Actor) -> bool:
    return actor.has("township") and _party(session, form_id, actor.org_id, "township")


def _party(session: Session, form_id: int, org_id: int, part: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(ReportFormParty)
            .where(
                ReportFormParty.form_id == form_id,
                ReportFormParty.org_id == org_id,
                ReportFormParty.part == part,
            )
        )
    )


def _info(session: Session, ctx: Context, form: ReportForm, actor: Actor) -> FormInfo:
    parties = session.execute(
        select(ReportFormParty.org_id, ReportFormParty.part).where(
            ReportFormParty.form_id == form.id
        )
    ).all()
    orgs = ctx.names.orgs(session, [form.owner_org_id, *(org for org, _ in parties)])
    filled: dict[str, list[str]] = {}
    query = select(ReportSubmission.period, ReportSubmission.township_org_id).where(
        ReportSubmission.form_id == form.id
    )
    if actor.has("township"):
        query = query.where(ReportSubmission.township_org_id == actor.org_id)
    rows = session.execute(query.order_by(ReportSubmission.period.desc())).all()
    names = ctx.names.orgs(session, [t for _, t in rows])
    for period, township in rows:
        filled.setdefault(period, []).append(names[township].name)
    return FormInfo(
        id=form.id,
        instance_id=form.instance_id,
        name=form.name,
        owner=orgs[form.owner_org_id].name,
        frequency=form.frequency,
        fields=list(form.fields),
        townships=[orgs[o].name for o, part in parties if part == "township"],
        readers=[orgs[o].name for o, part in parties if part == "reader"],
        filled=filled,
    )


def _submission(session: Session, ctx: Context, row: ReportSubmission) -> SubmissionInfo:
    township = ctx.names.orgs(session, [row.township_org_id])[row.township_org_id]
    return SubmissionInfo(
        row.id, row.form_id, township.name, row.period, dict(row.values), row.submitted_at
    )


def counts(
    session: Session, township_ids: list[int], department_ids: list[int]
) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """For the burden picture: per township the forms it fills and their fields; per department
    the forms it owns in the catalogue."""
    forms: dict[int, int] = {}
    fields: dict[int, int] = {}
    if township_ids:
        for org, names in session.execute(
            select(ReportFormParty.org_id, ReportForm.fields)
            .join(ReportForm, ReportForm.id == ReportFormParty.form_id)
            .where(ReportFormParty.part == "township", ReportFormParty.org_id.in_(township_ids))
        ):
            forms[org] = forms.get(org, 0) + 1
            fields[org] = fields.get(org, 0) + len(names or [])
    owned: dict[int, int] = {}
    if department_ids:
        owned = dict(
            session.execute(
                select(ReportForm.owner_org_id, func.count())
                .where(ReportForm.owner_org_id.in_(department_ids))
                .group_by(ReportForm.owner_org_id)
            ).all()
        )
    return forms, fields, owned


REPORT_FORMS = replace(
    GENERIC, start=start, end_statuses=frozenset({"catalogued", "merged", "refused"})
)


def register_processes() -> None:
    register(PROCESS_ID, REPORT_FORMS)
    register_operation(
        "report_forms.register",
        register_form,
        label="列入报表目录并通知乡镇",
        parameters=("name", "fields", "frequency", "townships"),
    )
    register_operation(
        "report_forms.merge",
        merge,
        label="并入已有报表共享",
        parameters=("into", "fields", "townships"),
    )
