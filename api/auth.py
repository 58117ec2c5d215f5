"""Who is calling: bearer token → Actor, per request."""

from __future__ import annotations

from flask import current_app, g, request

from engine.authz import Actor
from engine.errors import Unauthenticated
from engine.services import accounts
from engine.services.context import Context


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
    g.actor = actor
    return actor
