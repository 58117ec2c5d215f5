"""Use cases on duty lists: read a township's effective list, search, create, edit, retire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import COUNTY_WIDE_READERS, ROLE_LABELS, Actor, same_county
from engine.duty_lists.catalog import (
    CATEGORIES,
    LIST_LABELS,
    LIST_TYPES,
    Thresholds,
    belongs_to,
    in_effect,
    local_today,
    normalize,
    search_score,
)
from engine.duty_lists.catalog_forms import (
    ITEM_FIELDS,
    ItemEditSchema,
    ItemSchema,
    RetireSchema,
    load,
)
from engine.duty_lists.models_catalog import DutyItem, DutyItemRemoval
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Organization
from engine.services.directory import OrgRef
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.counties import org_in
from engine.workflow.services.views import Page

WRITERS = ("admin", "reviewer")
# Offices that read every township's list: the county offices, applicants, auditors, admins.
ALL_LISTS_READERS = COUNTY_WIDE_READERS | {"applicant", "admin"}
ITEM_STATUS_FILTERS = ("active", "retired", "all")
MAX_PER_PAGE = 200
SEARCH_THRESHOLD = 60
# Any fixed number: PostgreSQL writers of the administrative trail queue on this lock.
_CODE_PREFIX = {"basic": "JB", "assisting": "PH", "taken_back": "SH", "own": "LZ"}
_CODE_PREFIX |= {"assist": "XZ", "negative": "FM", "signboard": "GP", "mechanism": "JZ"}
_CODE_PREFIX |= {"certificate": "ZM"}


@dataclass(frozen=True)
class ItemInfo:
    id: int
    code: str
    scope: OrgRef
    template: bool
    level: str
    list_type: str
    list_label: str
    category: str
    name: str
    description: str
    responsible_body: str
    cooperating_department: str
    basis: str
    status: str
    effective_from: date | None
    effective_to: date | None
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class ItemFilter:
    township: str | None = None
    list_type: str | None = None
    q: str | None = None
    status: str = "active"
    page: int = 1
    per_page: int = 50


def require_writer(actor: Actor | None) -> None:
    """Admins and the gatekeeper maintain lists; None is the platform itself (CLI, demo)."""
    if actor is not None and not actor.roles & set(WRITERS):
        labels = "或".join(f"“{ROLE_LABELS[r]}”" for r in WRITERS)
        raise Forbidden(f"维护职责清单需要{labels}角色")


def writer_role(actor: Actor | None) -> str | None:
    if actor is None:
        return None
    return "admin" if actor.has("admin") else "reviewer"


def record(
    session: Session, ctx: Context, actor: Actor | None, entries: list[audit.Entry], at: datetime
) -> None:
    if entries:
        audit.append(
            session, instance_id=None, actor=actor, role=writer_role(actor), entries=entries, at=at
        )


def org_by_code(
    session: Session, code: str, field: str, levels: tuple[str, ...], actor: Actor | None
) -> Organization:
    """The county or township of `code`, of the caller's county (`actor` None: the platform's
    CLI, any county's); another county's is as unknown as a code nobody has."""
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None or org.level not in levels or not in_county(org, actor):
        wanted = "县或乡镇" if "county" in levels else "乡镇"
        raise InvalidInput("单位代码有误", {field: [f"未知{wanted}：{code}"]})
    return org


def in_county(org: Organization, actor: Actor | None) -> bool:
    return actor is None or same_county(actor, org.county_id)


def county_of(session: Session, org_id: int) -> Organization:
    """The county an organisation belongs to (its list template's scope)."""
    org = session.get(Organization, org_id)
    for _ in range(10):
        if org is None or org.level == "county":
            break
        org = session.get(Organization, org.parent_id) if org.parent_id else None
    if org is None:
        raise NotFound("未找到所属县")
    return org


def the_county(session: Session, actor: Actor | None) -> Organization:
    if actor is not None:
        return county_of(session, actor.org_id)
    counties = session.scalars(select(Organization).where(Organization.level == "county")).all()
    if len(counties) != 1:
        raise InvalidInput("请指明适用范围", {"scope": ["有多个县，须写明县或乡镇代码"]})
    return counties[0]


def readable_township(
    session: Session, actor: Actor | None, code: str | None
) -> Organization | None:
    """The township whose list the caller asks for (None: every list), if they may read it.
    `actor` None is the platform itself (CLI)."""
    if actor is None or actor.roles & ALL_LISTS_READERS:
        return org_by_code(session, code, "township", ("township",), actor) if code else None
    if actor.has("township"):
        if code not in (None, actor.org_code):
            raise Forbidden("乡镇只能查看本乡镇的职责清单")
        own = session.get(Organization, actor.org_id)
        assert own is not None
        return own
    raise Forbidden("无权查看职责清单")


def selected_items(
    session: Session,
    ctx: Context,
    township: Organization | None,
    status: str,
    actor: Actor | None = None,
) -> list[DutyItem]:
    """A township's list (template + additions − removals), or every item of every list (of
    the caller's county; `actor` None: the platform's, every county's)."""
    query = select(DutyItem)
    if township is None and actor is not None:
        query = query.where(org_in(DutyItem.scope_org_id, actor.county_id))
    if township is not None:
        county = county_of(session, township.id)
        query = query.where(DutyItem.scope_org_id.in_([county.id, township.id]))
    items = list(session.scalars(query))
    if township is not None:
        removed = set(
            session.scalars(
                select(DutyItemRemoval.item_id).where(
                    DutyItemRemoval.township_org_id == township.id
                )
            )
        )
        items = [i for i in items if belongs_to(i, county.id, township.id, removed)]
    today = local_today(ctx.clock.now(), ctx.settings.timezone)
    if status == "active":
        items = [i for i in items if (in_effect(i, today) if township else i.status == "active")]
    elif status == "retired":
        items = [i for i in items if i.status == "retired"]
    return sorted(items, key=_order)


def _order(item: DutyItem) -> tuple[Any, ...]:
    kinds = list(LIST_TYPES)
    category = CATEGORIES.index(item.category) if item.category in CATEGORIES else len(CATEGORIES)
    return (item.scope_org_id, kinds.index(item.list_type), category, item.category, item.code)


def infos(session: Session, ctx: Context, items: list[DutyItem]) -> list[ItemInfo]:
    orgs = ctx.names.orgs(session, [i.scope_org_id for i in items])
    levels = dict(
        session.execute(
            select(Organization.id, Organization.level).where(
                Organization.id.in_({i.scope_org_id for i in items})
            )
        ).all()
    )
    return [
        ItemInfo(
            id=i.id,
            code=i.code,
            scope=orgs[i.scope_org_id],
            template=levels.get(i.scope_org_id) == "county",
            level=LIST_TYPES[i.list_type][0],
            list_type=i.list_type,
            list_label=LIST_LABELS[i.list_type],
            category=i.category,
            name=i.name,
            description=i.description,
            responsible_body=i.responsible_body,
            cooperating_department=i.cooperating_department,
            basis=i.basis,
            status=i.status,
            effective_from=i.effective_from,
            effective_to=i.effective_to,
            updated_at=i.updated_at,
            version=i.version,
        )
        for i in items
    ]


def list_items(ctx: Context, actor: Actor, flt: ItemFilter) -> Page:
    """A township's effective list (or, for county offices, every list), searched and paged."""
    if flt.list_type is not None and flt.list_type not in LIST_TYPES:
        raise InvalidInput("筛选条件有误", {"list_type": [f"应为 {', '.join(LIST_TYPES)} 之一"]})
    if flt.status not in ITEM_STATUS_FILTERS:
        raise InvalidInput("筛选条件有误", {"status": ["应为 active、retired 或 all"]})
    page, per_page = max(1, flt.page), max(1, min(flt.per_page, MAX_PER_PAGE))
    with ctx.db.read() as session:
        township = readable_township(session, actor, flt.township)
        items = selected_items(session, ctx, township, flt.status, actor)
        if flt.list_type:
            items = [i for i in items if i.list_type == flt.list_type]
        if flt.q and flt.q.strip():
            items = _searched(items, flt.q, Thresholds.from_settings(ctx.settings).min_chars)
        shown = items[(page - 1) * per_page : page * per_page]
        return Page(infos(session, ctx, shown), len(items), page, per_page)


def _searched(items: list[DutyItem], q: str, min_chars: int) -> list[DutyItem]:
    scored = [
        (search_score(q, (i.name, i.category, i.description, i.code), min_chars), i) for i in items
    ]
    hits = [(s, i) for s, i in scored if s >= SEARCH_THRESHOLD]
    return [i for _, i in sorted(hits, key=lambda p: -p[0])]


def snapshot(item: DutyItem, scope_code: str) -> dict[str, Any]:
    """An item's content as it goes into the trail."""
    return {"id": item.id, "scope": scope_code, "code": item.code, **_content(item)}


def _content(item: DutyItem) -> dict[str, Any]:
    values = {key: getattr(item, key) for key in ("code", *ITEM_FIELDS)}
    values["status"] = item.status
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def check_unique(session: Session, scope_id: int, values: dict[str, Any], item_id: int = 0) -> None:
    """No two items of one scope share a code, nor a name within one list."""
    same_scope = select(DutyItem).where(DutyItem.scope_org_id == scope_id, DutyItem.id != item_id)
    for other in session.scalars(same_scope.where(DutyItem.code == values["code"])):
        raise InvalidInput("编码重复", {"code": [f"编码 {other.code} 已被“{other.name}”使用"]})
    name = normalize(values["name"])
    siblings = session.scalars(same_scope.where(DutyItem.list_type == values["list_type"]))
    for other in siblings:
        if other.status == "active" and normalize(other.name) == name:
            raise InvalidInput("事项重复", {"name": [f"本清单已有同名事项（编码 {other.code}）"]})


def next_code(session: Session, scope_id: int, list_type: str) -> str:
    used = set(session.scalars(select(DutyItem.code).where(DutyItem.scope_org_id == scope_id)))
    number = len(used) + 1
    while f"{_CODE_PREFIX[list_type]}-{number:04d}" in used:
        number += 1
    return f"{_CODE_PREFIX[list_type]}-{number:04d}"


def create_item(ctx: Context, actor: Actor, body: Any) -> ItemInfo:
    """新增: an item on the county template, or (scope = a township) on one township's list."""
    require_writer(actor)
    values = load(ItemSchema(), body)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        audit.lock_admin_chain(session)
        code = values.pop("scope")
        scope = org_by_code(session, code, "scope", ("township",), actor) if code else None
        scope = scope or the_county(session, actor)
        values["code"] = values["code"] or next_code(session, scope.id, values["list_type"])
        check_unique(session, scope.id, values)
        item = DutyItem(scope_org_id=scope.id, status="active", created_at=now, updated_at=now)
        for key, value in values.items():
            setattr(item, key, value)
        session.add(item)
        session.flush()
        created = audit.Entry("duty_item_created", None, snapshot(item, scope.code))
        record(session, ctx, actor, [created], now)
        return infos(session, ctx, [item])[0]


def _visible_item(session: Session, item_id: int, actor: Actor | None) -> DutyItem:
    """An item of the caller's county's lists (another county's is as if absent)."""
    item = session.get(DutyItem, item_id)
    scope = session.get(Organization, item.scope_org_id) if item is not None else None
    if item is None or scope is None or not in_county(scope, actor):
        raise NotFound("清单事项不存在")
    return item


def apply_changes(item: DutyItem, values: dict[str, Any]) -> dict[str, Any]:
    """Set the values that differ; return {field: {from, to}} for the trail."""
    before = _content(item)
    for key, value in values.items():
        setattr(item, key, value)
    after = _content(item)
    return {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}


def get_item(ctx: Context, actor: Actor, item_id: int) -> ItemInfo:
    """One item as those who keep the lists see it (to edit it)."""
    require_writer(actor)
    with ctx.db.read() as session:
        return infos(session, ctx, [_visible_item(session, item_id, actor)])[0]


def edit_item(ctx: Context, actor: Actor, item_id: int, body: Any) -> ItemInfo:
    """修改: change an item's content; its list and scope stay."""
    require_writer(actor)
    values = load(ItemEditSchema(), body, partial=True)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        audit.lock_admin_chain(session)
        item = _visible_item(session, item_id, actor)
        merged = {**_content(item), "code": item.code, **values}
        if merged["effective_from"] and merged["effective_to"]:
            if str(merged["effective_to"]) < str(merged["effective_from"]):
                raise InvalidInput("日期有误", {"effective_to": ["失效日期不能早于生效日期"]})
        check_unique(session, item.scope_org_id, merged, item.id)
        changes = apply_changes(item, values)
        if changes:
            item.updated_at = now
            session.flush()
            scope = ctx.names.orgs(session, [item.scope_org_id])[item.scope_org_id].code
            payload = {"id": item.id, "scope": scope, "code": item.code, "changes": changes}
            record(session, ctx, actor, [audit.Entry("duty_item_updated", None, payload)], now)
        return infos(session, ctx, [item])[0]


def retire_item(ctx: Context, actor: Actor, item_id: int, body: Any) -> ItemInfo:
    """废止 an item everywhere, or (township given) take a template item off that township."""
    require_writer(actor)
    values = load(RetireSchema(), body)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        audit.lock_admin_chain(session)
        item = _visible_item(session, item_id, actor)
        township = values["township"]
        scope = ctx.names.orgs(session, [item.scope_org_id])[item.scope_org_id].code
        payload = {"id": item.id, "scope": scope, "code": item.code, "reason": values["reason"]}
        if township and township != scope:
            org = org_by_code(session, township, "township", ("township",), actor)
            _remove_for(session, item, org, values["reason"], now)
            entry = audit.Entry("duty_item_removed", None, {**payload, "township": org.code})
        else:
            if item.status == "retired":
                raise Conflict("该事项已废止")
            item.status, item.updated_at = "retired", now
            session.flush()
            entry = audit.Entry("duty_item_retired", None, payload)
        record(session, ctx, actor, [entry], now)
        return infos(session, ctx, [item])[0]


def _remove_for(
    session: Session, item: DutyItem, township: Organization, reason: str, now: datetime
) -> None:
    if county_of(session, township.id).id != item.scope_org_id:
        raise InvalidInput("该事项不在该乡镇清单中", {"township": ["只能移除本县清单模板中的事项"]})
    removal = session.scalar(
        select(DutyItemRemoval).where(
            DutyItemRemoval.item_id == item.id, DutyItemRemoval.township_org_id == township.id
        )
    )
    if removal is not None:
        raise Conflict(f"该事项已从{township.name}清单中移除")
    session.add(
        DutyItemRemoval(item_id=item.id, township_org_id=township.id, reason=reason, removed_at=now)
    )
    session.flush()
