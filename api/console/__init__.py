"""The web console (zh-CN): server-rendered pages that call the same use cases as the API."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import Flask

from engine.services.context import Context


def register_console(app: Flask, api_prefix: str = "/api/v1") -> None:
    """Mount the console at "/" with signed session cookies and CSRF protection on its forms."""
    from api.console import (  # noqa: F401 (routes)
        audit_pages,
        case_pages,
        matter_pages,
        operations_pages,
        pages,
    )
    from api.console.web import bp, csrf, not_found_outside_api

    ctx: Context = app.extensions["zhunru"]
    # Its own key, derived from the service secret: cookies and bearer tokens never share one.
    secret = ctx.settings.require_secret().encode()
    app.secret_key = hmac.new(secret, b"zhunru console session", hashlib.sha256).hexdigest()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=ctx.settings.token_ttl_seconds),
        # The API's bearer-token routes take no cookies; only console forms are checked.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A token lives as long as the session that holds it.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.register_error_handler(404, not_found_outside_api(api_prefix))
