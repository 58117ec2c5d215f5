"""Use cases for the county's organisation tree and its people, kept by the platform's
administrators: add, rename, move and retire organisations (history keeps the old names); add
people, change their roles, deactivate them (their claimed tasks go back to their office) and
reset their passwords (changed by the person at the next sign-in)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.authz import ROLE_LABELS, Actor
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import (
    Instance,
    Organization,
    OrganizationHistory,
    SignInThrottle,
    Task,
    User,
)
from engine.security import hash_password
from engine.services import accounts
from engine.services.people_forms import (
    ORG_LEVEL_LABELS,
    PARENT_LEVELS,
    ROLE_LEVELS,
    OrganizationEditSchema,
    OrganizationSchema,
    UserEditSchema,
    UserSchema,
)
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.fields import load_input
from engine.workflow.services import commands
from engine.workflow.services.rows import update_row


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


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    org: str
    org_name: str
    roles: list[str]
    email: str
    active: bool
    must_change_password: bool
    claimed_tasks: int


@dataclass(frozen=True)
class IssuedPassword:
    """A password the system chose: shown once to the administrator, changed at first use."""

    user: UserView
    temporary_password: str


def require_admin(actor: Actor | None) -> None:
    """Only the platform's administrators keep organisations and people (None: the CLI)."""
    if actor is not None and not actor.has("admin"):
        raise Forbidden("只有平台管理员可以管理单位和人员")


# ---------------------------------------------------------------- organisations


def organizations(ctx: Context, actor: Actor | None) -> list[OrgView]:
    """The whole tree, each organisation after its parent (depth for indenting)."""
    require_admin(actor)
    with ctx.db.read() as session:
        return _tree(session)


def organization(ctx: Context, actor: Actor | None, code: str) -> OrgView:
    require_admin(actor)
    with ctx.db.read() as session:
        org = _org(session, code)
        return next(view for view in _tree(session) if view.id == org.id)


def _tree(session: Session) -> list[OrgView]:
    orgs = session.scalars(select(Organization).order_by(Organization.id)).all()
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
    for org in orgs:
        children.setdefault(org.parent_id, []).append(org)
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


def _org(session: Session, code: str, field: str | None = None) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        if field is not None:
            raise InvalidInput("单位不存在", {field: [f"没有编码为 {code} 的单位"]})
        raise NotFound("单位不存在")
    return org


def _parent_for(session: Session, level: str, parent_code: str | None) -> Organization | None:
    allowed = PARENT_LEVELS[level]
    if not parent_code:
        if None in allowed:
            return None
        wanted = "、".join(ORG_LEVEL_LABELS[lv] for lv in allowed if lv)
        raise InvalidInput(
            "请选择上级单位", {"parent": [f"{ORG_LEVEL_LABELS[level]}应隶属于{wanted}"]}
        )
    parent = _org(session, parent_code, "parent")
    if parent.level not in allowed:
        wanted = "、".join(ORG_LEVEL_LABELS[lv] for lv in allowed if lv) or "（无上级）"
        raise InvalidInput(
            "上级单位不合适",
            {"parent": [f"{ORG_LEVEL_LABELS[level]}应隶属于{wanted}，而非{parent.name}"]},
        )
    if not parent.active:
        raise InvalidInput("上级单位已撤销", {"parent": [f"{parent.name}已撤销"]})
    return parent


def create_organization(ctx: Context, actor: Actor | None, body: Any) -> OrgView:
    require_admin(actor)
    values = load_input(OrganizationSchema(), body, "单位信息填写有误")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        org = insert_organization(session, values, actor, now)
        return next(view for view in _tree(session) if view.id == org.id)


def insert_organization(
    session: Session, values: dict[str, Any], actor: Actor | None, now: datetime
) -> Organization:
    """Add one validated organisation in the caller's transaction (also the import's)."""
    if not values.get("code"):
        values = {**values, "code": f"{values['level']}-{secrets.token_hex(4)}"}
    if session.scalar(select(Organization.id).where(Organization.code == values["code"])):
        raise InvalidInput("单位编码已被使用", {"code": [f"编码 {values['code']} 已被使用"]})
    parent = _parent_for(session, values["level"], values.get("parent"))
    org = accounts.add_organization(
        session, values["code"], values["name"].strip(), values["level"], parent
    )
    _record(
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
        org = _org(session, code)
        changes: dict[str, Any] = {}
        name = values.get("name", org.name).strip()
        parent_id = org.parent_id
        if "parent" in values:
            parent = _parent_for(session, org.level, values["parent"])
            parent_id = parent.id if parent else None
            if parent is not None and _is_within(session, parent, org):
                raise InvalidInput("不能移到本单位的下级单位之下", {"parent": ["上级单位有误"]})
        if name != org.name or parent_id != org.parent_id:
            session.add(
                OrganizationHistory(
                    org_id=org.id, name=org.name, parent_id=org.parent_id, until=now
                )
            )
            if name != org.name:
                changes["name"] = {"from": org.name, "to": name}
            if parent_id != org.parent_id:
                changes["parent"] = {
                    "from": _code_of(session, org.parent_id),
                    "to": _code_of(session, parent_id),
                }
            org.name, org.parent_id = name, parent_id
        if "active" in values and values["active"] != org.active:
            _set_standing(session, org, values["active"])
            changes["active"] = org.active
        if changes:
            _record(session, actor, now, "organization_changed", {"code": org.code, **changes})
        session.flush()
        return next(view for view in _tree(session) if view.id == org.id)


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


def _code_of(session: Session, org_id: int | None) -> str | None:
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


# ---------------------------------------------------------------- people


def users(
    ctx: Context,
    actor: Actor | None,
    org: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> list[UserView]:
    """People, in one organisation or all, searched by name or username, active first."""
    require_admin(actor)
    with ctx.db.read() as session:
        query = select(User)
        if org:
            query = query.where(User.org_id == _org(session, org, "org").id)
        if q and q.strip():
            like = f"%{q.strip()}%"
            query = query.where(User.display_name.like(like) | User.username.like(like))
        query = query.order_by(User.active.desc(), User.org_id, User.id)
        rows = session.scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
        return _views(session, rows)


def user(ctx: Context, actor: Actor | None, username: str) -> UserView:
    require_admin(actor)
    with ctx.db.read() as session:
        return _views(session, [_user(session, username)])[0]


def _user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise NotFound("人员不存在")
    return found


def _views(session: Session, rows: Iterable[User]) -> list[UserView]:
    rows = list(rows)
    orgs = {
        o.id: o
        for o in session.scalars(
            select(Organization).where(Organization.id.in_({u.org_id for u in rows}))
        )
    }
    claimed = dict(
        session.execute(
            select(Task.assignee_id, func.count())
            .where(Task.assignee_id.in_([u.id for u in rows]), Task.state == "open")
            .group_by(Task.assignee_id)
        ).all()
    )
    return [
        UserView(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            org=orgs[u.org_id].code,
            org_name=orgs[u.org_id].name,
            roles=list(u.roles),
            email=u.email,
            active=u.active,
            must_change_password=u.must_change_password,
            claimed_tasks=claimed.get(u.id, 0),
        )
        for u in rows
    ]


def temporary_password(ctx: Context) -> str:
    """A password that meets the policy, of unambiguous characters, for handing over once."""
    groups = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "#%+=@")
    length = max(ctx.settings.password_min_length, 14)
    chars = [secrets.choice(group) for group in groups]
    chars += [secrets.choice("".join(groups)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def create_user(ctx: Context, actor: Actor | None, body: Any) -> IssuedPassword:
    require_admin(actor)
    values = load_input(UserSchema(), body, "人员信息填写有误")
    now = ctx.clock.now()
    password = temporary_password(ctx)
    with ctx.db.write() as session:
        created = insert_user(session, values, password, actor, now)
        return IssuedPassword(_views(session, [created])[0], password)


def insert_user(
    session: Session, values: dict[str, Any], password: str, actor: Actor | None, now: datetime
) -> User:
    """Add one validated person in the caller's transaction (also the import's)."""
    if session.scalar(select(User.id).where(User.username == values["username"])):
        raise InvalidInput(
            "用户名已被使用", {"username": [f"用户名 {values['username']} 已被使用"]}
        )
    org = _org(session, values["org"], "org")
    _check_fits(org, values["roles"])
    return accounts.add_user(
        session,
        username=values["username"],
        display_name=values["display_name"].strip(),
        password=password,
        org=org,
        roles=values["roles"],
        by=actor,
        at=now,
        email=values.get("email") or "",
        must_change_password=True,
    )


def _check_fits(org: Organization, roles: list[str]) -> None:
    if not org.active:
        raise InvalidInput("单位已撤销", {"org": [f"{org.name}已撤销，不能再添加或调入人员"]})
    misplaced = [r for r in roles if org.level not in ROLE_LEVELS[r]]
    if misplaced:
        names = "、".join(ROLE_LABELS[r] for r in misplaced)
        raise InvalidInput(
            "角色与单位不符",
            {"roles": [f"{ORG_LEVEL_LABELS[org.level]}的人员不能担任：{names}"]},
        )


def update_user(ctx: Context, actor: Actor | None, username: str, body: Any) -> UserView:
    """Change a person's name, organisation, roles, e-mail or standing. Whatever they can no
    longer do (deactivated, moved, a role taken away), their claimed tasks go back to the
    office's inbox, on each matter's trail. Administrators never lock themselves out."""
    require_admin(actor)
    values = load_input(UserEditSchema(), body, "人员信息填写有误", partial=True)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        person = _user(session, username)
        is_self = actor is not None and actor.user_id == person.id
        if is_self and (
            values.get("active") is False or "admin" not in values.get("roles", ["admin"])
        ):
            raise Forbidden("不能停用自己的账号或取消自己的管理员角色，请由其他管理员办理")
        org = (
            _org(session, values["org"], "org")
            if "org" in values
            else session.get(Organization, person.org_id)
        )
        assert org is not None
        roles = sorted(values.get("roles", person.roles))
        if org.id != person.org_id or set(roles) != set(person.roles):
            _check_fits(org, roles)
        changes: dict[str, Any] = {}
        if "display_name" in values and values["display_name"].strip() != person.display_name:
            person.display_name = changes["display_name"] = values["display_name"].strip()
        if org.id != person.org_id:
            changes["org"] = {"from": _code_of(session, person.org_id), "to": org.code}
            person.org_id = org.id
        if set(roles) != set(person.roles):
            changes["roles"] = {"from": sorted(person.roles), "to": roles}
            person.roles = roles
        if "email" in values:
            email = accounts.checked_email(values["email"]) if values["email"].strip() else ""
            if email != person.email:
                person.email, changes["email"] = email, True
        if "active" in values and values["active"] != person.active:
            person.active = changes["active"] = values["active"]
            person.session_epoch += 1
        if not changes:
            return _views(session, [person])[0]
        _record(session, actor, now, "user_changed", {"username": person.username, **changes})
        session.flush()
        _release_claims(session, ctx, person, actor, now)
        return _views(session, [person])[0]


def reset_password(ctx: Context, actor: Actor | None, username: str) -> IssuedPassword:
    """A new password chosen by the system, to be changed at the next sign-in; the person's
    sessions end and a sign-in lock on the name is lifted."""
    require_admin(actor)
    password = temporary_password(ctx)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        person = _user(session, username)
        person.password_hash = hash_password(password)
        person.must_change_password = True
        person.session_epoch += 1
        throttle = session.get(SignInThrottle, accounts.throttle_key(ctx, username))
        if throttle is not None:
            session.delete(throttle)
        _record(session, actor, now, "password_reset", {"username": username})
        session.flush()
        return IssuedPassword(_views(session, [person])[0], password)


def _release_claims(
    session: Session, ctx: Context, person: User, actor: Actor | None, now: datetime
) -> None:
    """Hand back the open tasks the person claimed but may no longer take."""
    claimed = session.scalars(
        select(Task)
        .where(Task.assignee_id == person.id, Task.state == "open")
        .order_by(Task.instance_id, Task.id)
    ).all()
    for task in claimed:
        keeps = (
            person.active
            and task.role in person.roles
            and (task.org_id is None or task.org_id == person.org_id)
        )
        if keeps:
            continue
        instance = session.get(Instance, task.instance_id, with_for_update=True)
        assert instance is not None
        update_row(session, task, assignee_id=None)
        commands.record(
            session,
            instance,
            actor,
            "admin",
            [
                audit.Entry(
                    "task_released",
                    task.bpmn_id,
                    {"name": task.name, "from": person.username},
                )
            ],
            now,
        )


def _record(
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
