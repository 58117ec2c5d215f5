"""Who is calling: bearer token → Actor, per request; and how often a client may fail to sign in."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many

from api.errors import body
from config import SettingsError
from engine.authz import Actor
from engine.errors import Forbidden, Unauthenticated
from engine.services import accounts
from engine.services.context import Context

# What a person whose password an administrator issued may call before choosing their own.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.Me", "auth.Password"})
# The views that take a password: the API's token endpoint and the console's sign-in form.
SIGN_IN_ENDPOINTS = ("auth.Token", "console.login")
# The view that takes an identity provider's answer (a GET): refusals count alike.
EXTERNAL_SIGN_IN_ENDPOINTS = ("console.oidc_callback",)
_EXTENSION = "zhunru.sign_in_limiter"


def context() -> Context:
    return current_app.extensions["zhunru"]


def current_actor() -> Actor:
    """The authenticated caller; raises Unauthenticated (401) without a valid bearer token."""
    actor = g.get("actor")
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("请先登录：缺少 Authorization: Bearer 令牌")
    actor = accounts.actor_for_token(context(), token.strip())
    if actor.password_change_due and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        raise Forbidden("请先修改密码：管理员设置的临时密码须由本人修改后才能办理业务")
    g.actor = actor
    return actor


def client_address() -> str:
    """The client's address: the peer's, or behind `trusted_proxy_hops` reverse proxies the
    entry they appended to X-Forwarded-For (entries further left are the client's to forge)."""
    hops = context().settings.trusted_proxy_hops
    if hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"


def protect_sign_in(app: Flask) -> None:
    """Limit failed sign-ins per client address on every view that takes a password.

    Flask-Limiter counts them in `ratelimit_storage_uri` (one limiter per app, so apps in one
    process never share counts); only failures (401) count, so an office whose users share one
    address is held back only by wrong passwords. Call after every blueprint is registered.
    """
    settings = app.extensions["zhunru"].settings
    try:
        parse_many(settings.login_address_limit)
    except ValueError as exc:
        raise SettingsError(
            f"ZHUNRU_LOGIN_ADDRESS_LIMIT is no rate limit: {settings.login_address_limit!r} "
            "(for example: 30 per 15 minutes)"
        ) from exc
    limiter = Limiter(
        key_func=client_address,
        storage_uri=settings.ratelimit_storage_uri,
        strategy="sliding-window-counter",
        key_prefix="zhunru-sign-in",
        headers_enabled=False,
        # A shared store that is briefly unreachable must not stop everyone signing in: the
        # error is logged and the address goes unchecked (the per-account lock still holds).
        swallow_errors=True,
    )
    limiter.init_app(app)
    for endpoints, method in ((SIGN_IN_ENDPOINTS, "POST"), (EXTERNAL_SIGN_IN_ENDPOINTS, "GET")):
        # One scope: a failed password and a refused provider answer count against one limit.
        shared = limiter.shared_limit(
            settings.login_address_limit,
            scope="sign-in",
            methods=[method],
            deduct_when=lambda response: response.status_code == 401,
            error_message=address_refusal_message,
        )
        for endpoint in endpoints:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    app.extensions[_EXTENSION] = limiter
    app.register_error_handler(RateLimitExceeded, address_refused)


def address_retry_after() -> int:
    """Seconds until the client address may try again (after RateLimitExceeded)."""
    limiter: Limiter = current_app.extensions[_EXTENSION]
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))


def address_refusal_message() -> str:
    minutes = math.ceil(address_retry_after() / 60)
    return f"来自本网络地址的登录失败次数过多，请于{minutes}分钟后再试。"


def address_refused(error: RateLimitExceeded) -> Response:
    """The API's answer to a held-back address: 429 in the usual error shape, with Retry-After."""
    response = current_app.json.response(body(429, error.description or ""))
    response.status_code = 429
    response.headers["Retry-After"] = str(address_retry_after())
    return response
