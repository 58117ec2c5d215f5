"""Use cases for organisations, users and sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.authz import ROLES, Actor
from engine.errors import InvalidInput, NotFound, Unauthenticated
from engine.models import Organization, User
from engine.security import hash_password, issue_token, read_token, verify_password
from engine.services.context import Context

ORG_LEVELS = ("county", "department", "township", "village")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    token_type: str
    expires_in: int
    username: str
    organization: str
    roles: list[str]


def _actor(session: Session, user: User) -> Actor:
    org = session.get(Organization, user.org_id)
    assert org is not None
    return Actor(
        user_id=user.id,
        username=user.username,
        org_id=org.id,
        org_code=org.code,
        org_name=org.name,
        roles=frozenset(user.roles),
    )


def actor_of(ctx: Context, username: str) -> Actor:
    """The actor of an existing user, for work done in their name outside a request (the demo)."""
    with ctx.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"用户 {username} 不存在")
        return _actor(session, user)


def authenticate(ctx: Context, username: str, password: str) -> IssuedToken:
    """Exchange a username and password for a bearer token."""
    with ctx.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        # Verify against something even for unknown users, so timing does not reveal them.
        valid = verify_password(user.password_hash if user else _dummy_hash(), password)
        if user is None or not valid or not user.active:
            raise Unauthenticated("用户名或密码错误")
        actor = _actor(session, user)
    token = issue_token(
        actor.user_id,
        ctx.settings.require_secret(),
        ctx.settings.token_ttl_seconds,
        ctx.clock.now(),
    )
    return IssuedToken(
        access_token=token,
        token_type="Bearer",
        expires_in=ctx.settings.token_ttl_seconds,
        username=actor.username,
        organization=actor.org_code,
        roles=sorted(actor.roles),
    )


def actor_for_token(ctx: Context, token: str) -> Actor:
    """The caller behind a bearer token, with roles as they are now in the database."""
    user_id = read_token(token, ctx.settings.require_secret(), ctx.clock.now())
    with ctx.db.read() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthenticated("登录凭证无效或已过期，请重新登录")
        return _actor(session, user)


def add_organization(
    session: Session, code: str, name: str, level: str, parent: Organization | None
) -> Organization:
    if level not in ORG_LEVELS:
        raise InvalidInput("单位层级无效", {"level": [f"应为 {', '.join(ORG_LEVELS)} 之一"]})
    org = Organization(code=code, name=name, level=level, parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    return org


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    org: Organization,
    roles: list[str],
    by: Actor | None,
    at: datetime,
) -> User:
    unknown = set(roles) - ROLES
    if unknown:
        raise InvalidInput("角色无效", {"roles": [f"未知角色：{', '.join(sorted(unknown))}"]})
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        org_id=org.id,
        roles=sorted(roles),
        active=True,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        instance_id=None,
        actor=by,
        role="admin" if by else None,
        entries=[
            audit.Entry(
                "user_created",
                None,
                {"username": username, "org": org.code, "roles": sorted(roles)},
            )
        ],
        at=at,
    )
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("zhunru-timing-equaliser")
