"""Use cases for the county's people, kept by the platform's administrators: add people with a
system-issued password (changed by the person at first sign-in), change their names, offices
and roles, deactivate them (their claimed tasks go back to their office) and reset their
passwords."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.authz import ROLE_LABELS, Actor
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import Instance, Organization, SignInThrottle, Task, User
from engine.security import hash_issued_password
from engine.services import accounts
from engine.services.organizations import code_of, keeps, org_named, record, require_admin
from engine.services.people_forms import ORG_LEVEL_LABELS, ROLE_LEVELS, UserEditSchema, UserSchema
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.counties import org_in
from engine.workflow.fields import load_input
from engine.workflow.services import commands
from engine.workflow.services.rows import update_row


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
        if actor is not None and actor.county_id is not None:  # a county's administrators
            query = query.where(org_in(User.org_id, actor.county_id))
        if org:
            query = query.where(User.org_id == org_named(session, org, "org", actor=actor).id)
        if q and q.strip():
            like = f"%{q.strip()}%"
            query = query.where(User.display_name.like(like) | User.username.like(like))
        query = query.order_by(User.active.desc(), User.org_id, User.id)
        rows = session.scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
        return _views(session, rows)


def user(ctx: Context, actor: Actor | None, username: str) -> UserView:
    require_admin(actor)
    with ctx.db.read() as session:
        return _views(session, [_user(session, username, actor)])[0]


def _user(session: Session, username: str, actor: Actor | None) -> User:
    """The person `actor` keeps (another county's is as if absent)."""
    found = session.scalar(select(User).where(User.username == username))
    org = session.get(Organization, found.org_id) if found is not None else None
    if found is None or org is None or not keeps(actor, org):
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
    session: Session,
    values: dict[str, Any],
    password: str,
    actor: Actor | None,
    now: datetime,
) -> User:
    """Add one validated person in the caller's transaction (also the import's)."""
    if session.scalar(select(User.id).where(User.username == values["username"])):
        raise InvalidInput(
            "用户名已被使用", {"username": [f"用户名 {values['username']} 已被使用"]}
        )
    org = org_named(session, values["org"], "org", actor=actor)
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
        person = _user(session, username, actor)
        change_user(session, ctx, person, values, actor, now)
        return _views(session, [person])[0]


def change_user(
    session: Session,
    ctx: Context,
    person: User,
    values: dict[str, Any],
    actor: Actor | None,
    now: datetime,
) -> bool:
    """Apply validated changes in the caller's transaction (also the import's); on the trail,
    claimed tasks handed back as needed. Returns whether anything changed."""
    is_self = actor is not None and actor.user_id == person.id
    if is_self and (values.get("active") is False or "admin" not in values.get("roles", ["admin"])):
        raise Forbidden("不能停用自己的账号或取消自己的管理员角色，请由其他管理员办理")
    org = (
        org_named(session, values["org"], "org", actor=actor)
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
        changes["org"] = {"from": code_of(session, person.org_id), "to": org.code}
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
        return False
    record(session, actor, now, "user_changed", {"username": person.username, **changes})
    session.flush()
    _release_claims(session, ctx, person, actor, now)
    return True


def reset_password(ctx: Context, actor: Actor | None, username: str) -> IssuedPassword:
    """A new password chosen by the system, to be changed at the next sign-in; the person's
    sessions end and a sign-in lock on the name is lifted."""
    require_admin(actor)
    password = temporary_password(ctx)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        person = _user(session, username, actor)
        person.password_hash = hash_issued_password(password)
        person.must_change_password = True
        person.session_epoch += 1
        throttle = session.get(SignInThrottle, accounts.throttle_key(ctx, username))
        if throttle is not None:
            session.delete(throttle)
        record(session, actor, now, "password_reset", {"username": username})
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
