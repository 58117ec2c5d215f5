"""Use cases for organisations, users and sign-in."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from marshmallow import ValidationError
from marshmallow.validate import Email
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.authz import ROLES, Actor
from engine.errors import InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from engine.models import Organization, SignInThrottle, User
from engine.security import (
    hash_issued_password,
    hash_password,
    issue_token,
    read_token,
    verify_password,
)
from engine.workflow import audit
from engine.workflow.context import Context
from engine.workflow.fields import char_problem

ORG_LEVELS = ("city", "county", "department", "township", "village")
# A person the identity provider knows but this platform does not (or not by that name).
NOT_ENROLLED = "您的统一身份认证账号未在本平台开通，请联系本单位管理员。"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    token_type: str
    expires_in: int
    username: str
    organization: str
    roles: list[str]
    # The password was issued or reset by an administrator: change it before anything else.
    must_change_password: bool = False


def _actor(session: Session, user: User, org: Organization | None = None) -> Actor:
    org = org or session.get(Organization, user.org_id)
    assert org is not None
    return Actor(
        user_id=user.id,
        username=user.username,
        org_id=org.id,
        org_code=org.code,
        org_name=org.name,
        county_id=org.county_id,
        city_id=city_of(session, org),
        roles=frozenset(user.roles),
        display_name=user.display_name,
        password_change_due=user.must_change_password,
    )


def city_of(session: Session, org: Organization) -> int | None:
    """The city whose offices an organisation is: itself, or the city a city department stands
    under. None for every organisation of a county (they act within it; no lookup needed)."""
    if org.level == "city":
        return org.id
    if org.county_id is not None or org.parent_id is None:
        return None
    parent = session.get(Organization, org.parent_id)
    return parent.id if parent is not None and parent.level == "city" else None


def actor_of(ctx: Context, username: str) -> Actor:
    """The actor of an existing user, for work done in their name outside a request (the demo)."""
    with ctx.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"用户 {username} 不存在")
        return _actor(session, user)


def authenticate(ctx: Context, username: str, password: str) -> IssuedToken:
    """Exchange a username and password for a bearer token.

    Failed sign-ins under a name are counted in the database (so every process sees them); past
    the limit the name is locked for a while and even the right password is refused with
    `TooManyAttempts`. Unknown names are counted and locked alike: the answers never tell
    whether an account exists.
    """
    now = ctx.clock.now()
    key = throttle_key(ctx, username)
    with ctx.db.read() as session:
        throttle = session.get(SignInThrottle, key)
        _refuse_if_locked(throttle, now)
        had_failures = throttle is not None
        # No account is named with a control character (the text rule), and PostgreSQL cannot
        # even compare one holding NUL: such a name is simply unknown.
        named = char_problem(username) is None
        user = session.scalar(select(User).where(User.username == username)) if named else None
        # Verify against something even for unknown users, so timing does not reveal them.
        valid = verify_password(user.password_hash if user else _dummy_hash(), password)
        actor = _actor(session, user) if user is not None and valid and user.active else None
        epoch = user.session_epoch if user is not None else 0
    if actor is None:
        _count_failure(ctx, key, now)
        raise Unauthenticated("用户名或密码错误")
    if had_failures:
        _forget_failures(ctx, key, now)
    return _issued(ctx, actor, epoch, now)


def _issued(ctx: Context, actor: Actor, epoch: int, now: datetime) -> IssuedToken:
    token = issue_token(
        actor.user_id,
        ctx.settings.require_secret(),
        ctx.settings.token_ttl_seconds,
        now,
        epoch,
    )
    return IssuedToken(
        access_token=token,
        token_type="Bearer",
        expires_in=ctx.settings.token_ttl_seconds,
        username=actor.username,
        organization=actor.org_code,
        roles=sorted(actor.roles),
        must_change_password=actor.password_change_due,
    )


def actor_for_external_sign_in(ctx: Context, username: str) -> Actor:
    """The active user whom an identity provider the county trusts (OpenID Connect) vouched
    for under `username`. No password is checked and the sign-in lock is not consulted: that
    lock guards against guessing passwords here, and the provider did the authenticating."""
    # A name holding control characters names no account (and PostgreSQL cannot compare NUL).
    if not username or char_problem(username) is not None:
        raise Unauthenticated(NOT_ENROLLED)
    with ctx.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise Unauthenticated(NOT_ENROLLED)
        if not user.active:
            raise Unauthenticated("您在本平台的账号已停用，请联系本单位管理员。")
        return _actor(session, user)


def throttle_key(ctx: Context, username: str) -> str:
    secret = ctx.settings.require_secret().encode()
    return hmac.new(secret, b"sign-in:" + username.encode(), hashlib.sha256).hexdigest()


def _refuse_if_locked(throttle: SignInThrottle | None, now: datetime) -> None:
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return
    seconds = math.ceil((throttle.locked_until - now).total_seconds())
    minutes = math.ceil(seconds / 60)
    raise TooManyAttempts(
        f"登录失败次数过多，账号已暂时锁定，请于{minutes}分钟后再试；"
        "如忘记密码，请联系本单位管理员。",
        retry_after=seconds,
    )


def _locked_row(session: Session, key: str, now: datetime) -> SignInThrottle:
    """The name's row, created if absent, locked against other processes until commit."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInThrottle)
        .values(key=key, failures=0, window_start=now, last_failure_at=now, locked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.get(SignInThrottle, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def _count_failure(ctx: Context, key: str, now: datetime) -> None:
    """Count a failed sign-in; the one that reaches the limit locks the name."""
    settings = ctx.settings
    window = timedelta(minutes=settings.login_failure_window_minutes)
    with ctx.db.write() as session:
        row = _locked_row(session, key, now)
        if row.locked_until is not None and row.locked_until > now:
            pass  # locked by a concurrent attempt meanwhile; refused below
        else:
            if row.locked_until is not None or now - row.window_start >= window:
                row.failures, row.window_start, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= settings.login_max_failures:
                row.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
        row.last_failure_at = now
        session.flush()
        # Rows that neither count nor lock any more go, so guessed names do not pile up.
        horizon = now - max(window, timedelta(minutes=settings.login_lockout_minutes))
        session.execute(
            delete(SignInThrottle).where(
                SignInThrottle.last_failure_at < horizon,
                or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until <= now),
            )
        )
        locked = row if row.locked_until is not None and row.locked_until > now else None
    _refuse_if_locked(locked, now)


def _forget_failures(ctx: Context, key: str, now: datetime) -> None:
    """A successful sign-in clears the count, unless a concurrent failure locked the name."""
    with ctx.db.write() as session:
        row = session.get(SignInThrottle, key, with_for_update=True, populate_existing=True)
        if row is None:
            return
        if row.locked_until is not None and row.locked_until > now:
            locked = row
        else:
            session.delete(row)
            locked = None
    _refuse_if_locked(locked, now)


def actor_for_token(ctx: Context, token: str) -> Actor:
    """The caller behind a bearer token, with roles as they are now in the database."""
    user_id, epoch = read_token(token, ctx.settings.require_secret(), ctx.clock.now())
    return actor_for_session(ctx, user_id, epoch)


def session_epoch(ctx: Context, user_id: int) -> int:
    """The user's current session epoch, for a console session to carry."""
    with ctx.db.read() as session:
        user = session.get(User, user_id)
        if user is None:
            raise Unauthenticated("登录凭证无效或已过期，请重新登录")
        return user.session_epoch


def actor_for_session(ctx: Context, user_id: int, epoch: int) -> Actor:
    """The user of a token or console session issued in `epoch`, with roles as they are now;
    a deactivated user, or a session from before a password change, is signed out."""
    with ctx.db.read() as session:
        found = session.execute(_USER_AND_ORG, {"user_id": user_id}).first()
        if found is None or not found[0].active or found[0].session_epoch != epoch:
            raise Unauthenticated("登录凭证无效或已过期，请重新登录")
        return _actor(session, *found)


# Every request's caller, user and office in one statement (built once).
_USER_AND_ORG = (
    select(User, Organization)
    .join(Organization, Organization.id == User.org_id)
    .where(User.id == bindparam("user_id"))
)


def password_problems(ctx: Context, password: str, username: str) -> list[str]:
    """What the county's password policy finds wrong with a new password (none: it passes)."""
    settings = ctx.settings
    problems = []
    if len(password) < settings.password_min_length:
        problems.append(f"密码至少 {settings.password_min_length} 个字符")
    if len(password) > 128:
        problems.append("密码最多 128 个字符")
    kinds = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < settings.password_min_classes:
        problems.append(
            f"密码须包含大写字母、小写字母、数字、符号中的至少 {settings.password_min_classes} 类"
        )
    if username and username.lower() in password.lower():
        problems.append("密码不得包含用户名")
    if char_problem(password) is not None:
        problems.append("密码不得包含控制字符")
    return problems


def checked_password(ctx: Context, password: str, username: str, field: str) -> str:
    problems = password_problems(ctx, password, username)
    if problems:
        raise InvalidInput("新密码不符合密码规则", {field: problems})
    return password


def change_password(ctx: Context, actor: Actor, current: str, new: str) -> IssuedToken:
    """The person sets their own password (also the forced change after an administrator
    issued one). Every other session of theirs ends; the answer carries a fresh token."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = session.get(User, actor.user_id, with_for_update=True)
        if user is None or not user.active:
            raise Unauthenticated("登录凭证无效或已过期，请重新登录")
        if not verify_password(user.password_hash, current):
            raise InvalidInput("当前密码不正确", {"current_password": ["当前密码不正确"]})
        checked_password(ctx, new, user.username, "new_password")
        if current == new:
            raise InvalidInput("新密码不能与当前密码相同", {"new_password": ["请设置不同的新密码"]})
        user.password_hash = hash_password(new)
        user.must_change_password = False
        user.session_epoch += 1
        audit.append(
            session,
            instance_id=None,
            actor=actor,
            role=None,
            entries=[audit.Entry("password_changed", None, {"username": user.username})],
            at=now,
        )
        session.flush()
        return _issued(ctx, _actor(session, user), user.session_epoch, now)


def add_organization(
    session: Session, code: str, name: str, level: str, parent: Organization | None
) -> Organization:
    if level not in ORG_LEVELS:
        raise InvalidInput("单位层级无效", {"level": [f"应为 {', '.join(ORG_LEVELS)} 之一"]})
    org = Organization(
        code=code,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        county_id=parent.county_id if parent is not None and level != "county" else None,
    )
    session.add(org)
    session.flush()
    if level == "county":
        org.county_id = org.id
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
    email: str = "",
    must_change_password: bool = False,
) -> User:
    unknown = set(roles) - ROLES
    if unknown:
        raise InvalidInput("角色无效", {"roles": [f"未知角色：{', '.join(sorted(unknown))}"]})
    user = User(
        username=username,
        display_name=display_name,
        # A password the system issued (to be changed) is random: the light hash suffices.
        password_hash=(hash_issued_password if must_change_password else hash_password)(password),
        org_id=org.id,
        roles=sorted(roles),
        active=True,
        email=checked_email(email) if email else "",
        must_change_password=must_change_password,
        session_epoch=0,
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


def checked_email(address: str) -> str:
    try:
        return str(Email(error="电子邮箱地址无效")(address.strip()))
    except ValidationError as exc:
        raise InvalidInput("电子邮箱地址无效", {"email": exc.messages}) from exc


def set_email(ctx: Context, username: str, address: str) -> None:
    """Where notices reach the person by e-mail ("" stops e-mail to them); on the trail."""
    address = checked_email(address) if address.strip() else ""
    with ctx.db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound("用户不存在")
        user.email = address
        audit.append(
            session,
            instance_id=None,
            actor=None,
            role="admin",
            entries=[audit.Entry("user_email_set", None, {"username": username})],
            at=ctx.clock.now(),
        )
