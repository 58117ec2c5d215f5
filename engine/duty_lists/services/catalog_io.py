"""Use cases moving duty lists in and out as CSV or XLSX: all rows of a file, or none of them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.duty_lists.catalog import local_today, normalize
from engine.duty_lists.catalog_files import COLUMNS, FORMATS, Row, read_rows, write
from engine.duty_lists.catalog_forms import ItemRowSchema, load
from engine.duty_lists.models_catalog import DutyItem
from engine.duty_lists.services.catalog import (
    apply_changes,
    in_county,
    readable_township,
    record,
    require_writer,
    selected_items,
    snapshot,
)
from engine.errors import InvalidInput
from engine.models import Organization
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.fields import char_problem

Progress = Callable[[int, int], None]
SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int


def export_items(
    ctx: Context, actor: Actor | None, fmt: str, township: str | None = None
) -> ExportFile:
    """A township's effective list, or (no township) every item of every list, as a file."""
    if fmt not in FORMATS:
        raise InvalidInput("导出格式有误", {"format": ["应为 csv 或 xlsx"]})
    with ctx.db.read() as session:
        org = readable_township(session, actor, township)
        items = selected_items(session, ctx, org, "active" if org else "all", actor)
        scopes = ctx.names.orgs(session, [i.scope_org_id for i in items])
        rows = [snapshot(i, scopes[i.scope_org_id].code) for i in items]
        label = org.code if org else "all"
    day = local_today(ctx.clock.now(), ctx.settings.timezone).isoformat()
    filename = f"duty-items-{label}-{day}.{fmt}"
    return ExportFile(filename, FORMATS[fmt], write(fmt, rows))


def import_items(
    ctx: Context,
    actor: Actor | None,
    filename: str,
    data: bytes,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update items by (scope, code). A bad row is reported with its line number and
    reason, and then nothing of the file is stored."""
    require_writer(actor)
    problem = char_problem(filename)
    if problem is not None:  # the name goes on the trail with the import
        raise InvalidInput("文件名有误", {"file": [f"文件名{problem}"]})
    rows = read_rows(filename, data)
    if not rows:
        raise InvalidInput("文件没有数据行", {"file": ["文件只有表头，没有可导入的事项"]})
    errors: dict[int, dict[str, Any]] = {}
    parsed = _validated(rows, errors)
    source = {"file": filename[-200:], "sha256": hashlib.sha256(data).hexdigest()}
    now = ctx.clock.now()
    with ctx.db.write() as session:
        audit.lock_admin_chain(session)
        scopes = _scopes(session, parsed, errors, actor)
        _unique_codes(parsed, errors)
        _refuse(errors)
        items = _existing(session, scopes)
        entries: list[audit.Entry] = []
        for done, (_, values) in enumerate(parsed, 1):
            content = {k: v for k, v in values.items() if k != "scope"}
            entry = _upsert(session, items, scopes[values["scope"]], content, now, source)
            if entry is not None:
                entries.append(entry)
            if progress is not None:
                progress(done, len(parsed))
        session.flush()
        _unique_names(parsed, scopes, items, errors)
        _refuse(errors)
        record(session, ctx, actor, entries, now)
    created = sum(1 for e in entries if e.action == "duty_item_created")
    return ImportResult(len(parsed), created, len(entries) - created, len(parsed) - len(entries))


def _validated(rows: list[Row], errors: dict[int, dict[str, Any]]) -> list[tuple[int, dict]]:
    parsed = []
    for row in rows:
        try:
            parsed.append((row.line, load(ItemRowSchema(), row.values)))
        except InvalidInput as exc:
            errors[row.line] = exc.errors
    return parsed


def _scopes(
    session: Session,
    parsed: list[tuple[int, dict]],
    errors: dict[int, dict[str, Any]],
    actor: Actor | None,
) -> dict[str, Organization]:
    """The counties and townships the rows name, of the caller's county only."""
    codes = {values["scope"] for _, values in parsed}
    found = {
        org.code: org
        for org in session.scalars(select(Organization).where(Organization.code.in_(codes)))
        if org.level in ("county", "township") and in_county(org, actor)
    }
    for line, values in parsed:
        if values["scope"] not in found:
            errors.setdefault(line, {})["scope"] = [f"未知县或乡镇：{values['scope']}"]
    return found


def _unique_codes(parsed: list[tuple[int, dict]], errors: dict[int, dict[str, Any]]) -> None:
    first: dict[tuple[str, str], int] = {}
    for line, values in parsed:
        key = (values["scope"], values["code"])
        if key in first:
            errors.setdefault(line, {})["code"] = [f"与第 {first[key]} 行编码重复"]
        first.setdefault(key, line)


def _existing(session: Session, scopes: dict[str, Organization]) -> dict[tuple[int, str], DutyItem]:
    ids = [org.id for org in scopes.values()]
    rows = session.scalars(select(DutyItem).where(DutyItem.scope_org_id.in_(ids)))
    return {(item.scope_org_id, item.code): item for item in rows}


def _upsert(
    session: Session,
    items: dict[tuple[int, str], DutyItem],
    scope: Organization,
    values: dict[str, Any],
    now: Any,
    source: dict[str, str],
) -> audit.Entry | None:
    item = items.get((scope.id, values["code"]))
    if item is None:
        item = DutyItem(scope_org_id=scope.id, created_at=now, updated_at=now, **values)
        session.add(item)
        session.flush()
        items[(scope.id, item.code)] = item
        return audit.Entry(
            "duty_item_created", None, {**snapshot(item, scope.code), "source": source}
        )
    changes = apply_changes(item, values)
    if not changes:
        return None
    item.updated_at = now
    payload = {"id": item.id, "scope": scope.code, "code": item.code, "changes": changes}
    return audit.Entry("duty_item_updated", None, {**payload, "source": source})


def _unique_names(
    parsed: list[tuple[int, dict]],
    scopes: dict[str, Organization],
    items: dict[tuple[int, str], DutyItem],
    errors: dict[int, dict[str, Any]],
) -> None:
    """After the file is applied, no list holds two active items of the same name."""
    lines = {(scopes[values["scope"]].id, values["code"]): line for line, values in parsed}
    holders: dict[tuple[int, str, str], DutyItem] = {}
    for item in sorted(items.values(), key=lambda i: i.id):
        if item.status != "active":
            continue
        key = (item.scope_org_id, item.list_type, normalize(item.name))
        other = holders.setdefault(key, item)
        line = lines.get((item.scope_org_id, item.code))
        if other is not item and line is not None:
            errors.setdefault(line, {})["name"] = [f"与清单中编码 {other.code} 的事项同名"]


def _refuse(errors: dict[int, dict[str, Any]]) -> None:
    if not errors:
        return
    shown = []
    for line in sorted(errors)[:SHOWN_PROBLEMS]:
        reasons = "；".join(
            f"{COLUMNS.get(field, field)}：{'、'.join(map(str, messages))}"
            for field, messages in errors[line].items()
        )
        shown.append(f"第 {line} 行（{reasons}）")
    more = f"等 {len(errors)} 行" if len(errors) > SHOWN_PROBLEMS else ""
    message = f"导入文件有误，未导入任何事项：{'，'.join(shown)}{more}"
    raise InvalidInput(message, {"rows": {str(line): errors[line] for line in sorted(errors)}})
