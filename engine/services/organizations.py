"""Use cases for the county's organisation tree, kept by the platform's administrators: add,
rename, move, retire and restore organisations; the history keeps what each was called and
under whom it stood, so older records read under the name they were made with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Organization, OrganizationHistory, User
from engine.services import accounts
from engine.services.people_forms import (
    ORG_LEVEL_LABELS,
    PARENT_LEVELS,
    OrganizationEditSchema,
    OrganizationSchema,
)
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.counties import administers
from engine.workflow.fields import load_input


@dataclass(frozen=True)
class FormerName:
    name: str
    parent: str | None
    until: datetime


@dataclass(frozen=True)
class OrgView:
    id: int
    code: str
    name: str
    level: str
    parent: str | None
    parent_name: str | None
    active: bool
    depth: int
    people: int
    former_names: list[FormerName]


def require_admin(actor: Actor | None) -> None:
    """Only the platform's administrators keep organisations and people (None: the CLI)."""
    if actor is not None and not actor.has("admin"):
        raise Forbidden("只有平台管理员可以管理单位和人员")


def record(
    session: Session, actor: Actor | None, now: datetime, action: str, payload: dict[str, Any]
) -> None:
    audit.append(
        session,
        instance_id=None,
        actor=actor,
        role="admin",
        entries=[audit.Entry(action, None, payload)],
        at=now,
    )


def organizations(ctx: Context, actor: Actor | None) -> list[OrgView]:
    """The whole tree, each organisation after its parent (depth for indenting)."""
    require_admin(actor)
    with ctx.db.read() as session:
        return _tree(session, actor)


def organization(ctx: Context, actor: Actor | None, code: str) -> OrgView:
    require_admin(actor)
    with ctx.db.read() as session:
        org = org_named(session, code, actor=actor)
        return next(view for view in _tree(session, actor) if view.id == org.id)


def _tree(session: Session, actor: Actor | None) -> list[OrgView]:
    every = session.scalars(select(Organization).order_by(Organization.id)).all()
    orgs = [org for org in every if keeps(actor, org)]
    people = dict(
        session.execute(
            select(User.org_id, func.count()).where(User.active.is_(True)).group_by(User.org_id)
        ).all()
    )
    by_id = {org.id: org for org in orgs}
    history: dict[int, list[FormerName]] = {}
    for row in session.scalars(
        select(OrganizationHistory).order_by(OrganizationHistory.until.desc())
    ):
        parent = by_id.get(row.parent_id) if row.parent_id else None
        history.setdefault(row.org_id, []).append(
            FormerName(row.name, parent.name if parent else None, row.until)
        )
    children: dict[int | None, list[Organization]] = {}
    for org in orgs:  # a county's administrators: their county is the top
        children.setdefault(org.parent_id if org.parent_id in by_id else None, []).append(org)
    ordered: list[OrgView] = []

    def visit(parent_id: int | None, depth: int) -> None:
        for org in sorted(children.get(parent_id, []), key=lambda o: (not o.active, o.id)):
            parent = by_id.get(org.parent_id) if org.parent_id else None
            ordered.append(
                OrgView(
                    id=org.id,
                    code=org.code,
                    name=org.name,
                    level=org.level,
                    parent=parent.code if parent else None,
                    parent_name=parent.name if parent else None,
                    active=org.active,
                    depth=depth,
                    people=people.get(org.id, 0),
                    former_names=history.get(org.id, []),
                )
            )
            visit(org.id, depth + 1)

    visit(None, 0)
    return ordered


def keeps(actor: Actor | None, org: Organization) -> bool:
    """Whether `actor`'s administration keeps `org` (its county's; the city's keep all)."""
    return administers(actor, org.county_id)


def org_named(
    session: Session, code: str, field: str | None = None, *, actor: Actor | None
) -> Organization:
    """The organisation of `code` that `actor` keeps; another county's is as if absent."""
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None or not keeps(actor, org):
        if field is not None:
            raise InvalidInput("单位不存在", {field: [f"没有编码为 {code} 的单位"]})
        raise NotFound("单位不存在")
    return org


def _parent_for(
    session: Session, level: str, parent_code: str | None, actor: Actor | None
) -> Organization | None:
    allowed = PARENT_LEVELS[level]
    if not parent_code:
        if None in allowed and (actor is None or actor.county_id is None):
            return None
        wanted = "、".join(ORG_LEVEL_LABELS[lv] for lv in allowed if lv)
        raise InvalidInput(
            "请选择上级单位", {"parent": [f"{ORG_LEVEL_LABELS[level]}应隶属于{wanted}"]}
        )
    parent = org_named(session, parent_code, "parent", actor=actor)
    if parent.level not in allowed:
        wanted = "、".join(ORG_LEVEL_LABELS[lv] for lv in allowed if lv)
        why = (
            f"{ORG_LEVEL_LABELS[level]}应隶属于{wanted}，而非{parent.name}"
            if wanted
            else f"{ORG_LEVEL_LABELS[level]}不设上级单位"
        )
        raise InvalidInput("上级单位不合适", {"parent": [why]})
    if not parent.active:
        raise InvalidInput("上级单位已撤销", {"parent": [f"{parent.name}已撤销"]})
    return parent


def create_organization(ctx: Context, actor: Actor | None, body: Any) -> OrgView:
    require_admin(actor)
    values = load_input(OrganizationSchema(), body, "单位信息填写有误")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        org = insert_organization(session, values, actor, now)
        return next(view for view in _tree(session, actor) if view.id == org.id)


def insert_organization(
    session: Session, values: dict[str, Any], actor: Actor | None, now: datetime
) -> Organization:
    """Add one validated organisation in the caller's transaction (also the import's)."""
    if not values.get("code"):
        values = {**values, "code": f"{values['level']}-{secrets.token_hex(4)}"}
    if session.scalar(select(Organization.id).where(Organization.code == values["code"])):
        raise InvalidInput("单位编码已被使用", {"code": [f"编码 {values['code']} 已被使用"]})
    parent = _parent_for(session, values["level"], values.get("parent"), actor)
    org = accounts.add_organization(
        session, values["code"], values["name"].strip(), values["level"], parent
    )
    record(
        session,
        actor,
        now,
        "organization_created",
        {"code": org.code, "name": org.name, "level": org.level, "parent": values.get("parent")},
    )
    return org


def update_organization(ctx: Context, actor: Actor | None, code: str, body: Any) -> OrgView:
    """Rename, move, retire (refused while people or sub-organisations are active) or restore."""
    require_admin(actor)
    values = load_input(OrganizationEditSchema(), body, "单位信息填写有误", partial=True)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        org = org_named(session, code, actor=actor)
        change_organization(session, org, values, actor, now)
        return next(view for view in _tree(session, actor) if view.id == org.id)


def change_organization(
    session: Session, org: Organization, values: dict[str, Any], actor: Actor | None, now: datetime
) -> bool:
    """Apply validated changes in the caller's transaction (also the import's); on the trail.
    Returns whether anything changed."""
    changes: dict[str, Any] = {}
    name = values.get("name", org.name).strip()
    parent_id = org.parent_id
    if "parent" in values:
        parent = _parent_for(session, org.level, values["parent"], actor)
        parent_id = parent.id if parent else None
        if parent is not None and _is_within(session, parent, org):
            raise InvalidInput("不能移到本单位的下级单位之下", {"parent": ["上级单位有误"]})
        if org.level != "county" and (parent.county_id if parent else None) != org.county_id:
            # Its matters, lists and numbers are its county's: they cannot follow it.
            raise InvalidInput(
                "不能跨县（市、区）调整隶属",
                {"parent": ["只能在本县（市、区）内调整隶属；跨县调整请撤销后在新县新增单位"]},
            )
    if name != org.name or parent_id != org.parent_id:
        session.add(
            OrganizationHistory(org_id=org.id, name=org.name, parent_id=org.parent_id, until=now)
        )
        if name != org.name:
            changes["name"] = {"from": org.name, "to": name}
        if parent_id != org.parent_id:
            changes["parent"] = {
                "from": code_of(session, org.parent_id),
                "to": code_of(session, parent_id),
            }
        org.name, org.parent_id = name, parent_id
    if "active" in values and values["active"] != org.active:
        _set_standing(session, org, values["active"])
        changes["active"] = org.active
    if changes:
        record(session, actor, now, "organization_changed", {"code": org.code, **changes})
        session.flush()
    return bool(changes)


def _set_standing(session: Session, org: Organization, active: bool) -> None:
    if not active:
        _check_retirable(session, org)
    elif org.parent_id is not None:
        parent = session.get(Organization, org.parent_id)
        if parent is not None and not parent.active:
            raise Conflict(f"上级单位{parent.name}已撤销，请先恢复上级单位")
    org.active = active


def _is_within(session: Session, org: Organization, ancestor: Organization) -> bool:
    seen = org
    while seen is not None:
        if seen.id == ancestor.id:
            return True
        seen = session.get(Organization, seen.parent_id) if seen.parent_id else None
    return False


def code_of(session: Session, org_id: int | None) -> str | None:
    org = session.get(Organization, org_id) if org_id else None
    return org.code if org else None


def _check_retirable(session: Session, org: Organization) -> None:
    people = session.scalar(
        select(func.count()).where(User.org_id == org.id, User.active.is_(True))
    )
    if people:
        raise Conflict(f"{org.name}还有 {people} 名在用人员，请先停用或调走他们再撤销")
    below = session.scalar(
        select(func.count()).where(Organization.parent_id == org.id, Organization.active.is_(True))
    )
    if below:
        raise Conflict(f"{org.name}还有 {below} 个下级单位未撤销")
