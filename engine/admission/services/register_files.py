"""准入事项台账 as files an office keeps: a printable PDF (the shipped or the county's layout
`register.html`, like any document) and an Excel or CSV table, of exactly the rows the
caller may read (engine/admission/services/matters.register)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.admission.services.matters import RegisterEntry, register
from engine.authz import Actor
from engine.errors import InvalidInput
from engine.services.documents import render_pdf
from engine.tables import Sheet, write
from engine.workflow.context import Context
from engine.workflow.workdays import local_date, written_date

FORMATS = ("pdf", "xlsx", "csv")
TERMS = {"short": "短期", "long": "长期"}
STATES = {"in_force": "在册", "exited": "已退出"}
SHEET = Sheet(
    title="准入事项台账",
    columns={
        "township": "乡镇（街道）",
        "name": "事项名称",
        "term": "期限类型",
        "period": "起止时间",
        "funding_received": "到位经费（元）",
        "funding": "承诺经费（元）",
        "staff_received": "到位人员（名）",
        "staff": "承诺人员（名）",
        "powers": "下放权限",
        "resources": "资源到位",
        "status": "状态",
        "entered_on": "进入日期",
        "exit": "退出",
    },
    required=(),
)


@dataclass(frozen=True)
class RegisterFile:
    filename: str
    media_type: str
    data: bytes


def register_file(
    ctx: Context,
    actor: Actor,
    fmt: str,
    township: str | None = None,
    status: str | None = None,
) -> RegisterFile:
    if fmt not in FORMATS:
        raise InvalidInput("导出格式有误", {"format": [f"应为以下之一：{'、'.join(FORMATS)}"]})
    entries = register(ctx, actor, township=township, status=status)
    rows = [_row(ctx, e) for e in entries]
    if fmt == "pdf":
        named = {r["township"] for r in rows}
        scope = actor.org_name if actor.has("township") else ""
        if township and len(named) == 1:
            scope = next(iter(named))
        facts = {
            "title": "准入事项台账",
            "scope": scope,
            "status": STATES.get(status or "", ""),
            "rows": rows,
            "issuer": actor.org_name,
            "issued_on": written_date(local_date(ctx.clock.now(), ctx.settings.timezone)),
        }
        pdf = render_pdf(ctx.documents.layout_dir, "register.html", facts)
        return RegisterFile(f"{scope}准入事项台账.pdf", "application/pdf", pdf)
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    return RegisterFile(f"准入事项台账.{fmt}", media, write(SHEET, fmt, rows))


def _row(ctx: Context, e: RegisterEntry) -> dict[str, Any]:
    zone = ctx.settings.timezone
    end = written_date(e.end_date) if e.end_date else "长期"
    exited = ""
    if e.exited_at is not None:
        exited = f"{written_date(local_date(e.exited_at, zone))}，{e.exit_reason or ''}".rstrip(
            "，"
        )
    resources = "是" if e.resources_received else "否"
    if not e.resources_received and e.shortfall_due:
        resources += f"（须于{written_date(e.shortfall_due)}前补齐）"
    return {
        "township": e.township.name,
        "name": e.name,
        "term": TERMS.get(e.term_type, e.term_type),
        "period": f"{written_date(e.start_date)}至{end}",
        "funding_received": e.funding_received_yuan,
        "funding": e.funding_yuan,
        "staff_received": e.staff_received,
        "staff": e.staff,
        "powers": e.powers + ("（已下放）" if e.powers and e.powers_received else ""),
        "resources": resources,
        "status": STATES.get(e.status, e.status),
        "entered_on": written_date(local_date(e.entered_at, zone)),
        "exit": exited,
    }
