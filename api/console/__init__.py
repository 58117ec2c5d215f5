"""The web console (zh-CN): server-rendered pages that call the same use cases as the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from flask import Flask, request
from werkzeug.wrappers import Response

from engine.services.context import Context
from engine.workflow.diagram_svg import STYLE as DIAGRAM_STYLE


def _style_hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


# The console's pages load their one script and one stylesheet from /console-static and have
# no inline script or style attribute; the only inline style is the <style> of the diagram SVG,
# allowed by its hash. `data:` images: the page's empty favicon.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        f"style-src 'self' {_style_hash(DIAGRAM_STYLE)}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
# On every response, API included. same-origin (not no-referrer): Flask-WTF checks the Referer
# of form posts made over HTTPS.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def register_console(app: Flask, api_prefix: str = "/api/v1") -> None:
    """Mount the console at "/" with signed session cookies and CSRF protection on its forms."""
    from api.console import (  # noqa: F401 (routes)
        accountability,
        admission,
        attachments,
        burden,
        deployments,
        documents,
        duty_lists,
        oidc,
        operations,
        pages,
        people,
        processes,
        trail,
    )
    from api.console.web import bp, csrf, not_found_outside_api

    ctx: Context = app.extensions["zhunru"]
    # Its own key, derived from the service secret: cookies and bearer tokens never share one.
    secret = ctx.settings.require_secret().encode()
    app.secret_key = hmac.new(secret, b"zhunru console session", hashlib.sha256).hexdigest()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=ctx.settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=ctx.settings.token_ttl_seconds),
        # The API's bearer-token routes take no cookies; only console forms are checked.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A token lives as long as the session that holds it.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.register_blueprint(bp)
    oidc.register_oidc(app)
    app.register_error_handler(404, not_found_outside_api(api_prefix))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        """Headers set here rather than by flask-talisman: it covers a whole app and would also
        put its policy on the API's Swagger UI (a CDN script and inline code), and it redirects
        to https itself, which the TLS-terminating proxy in front of us already does."""
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not (request.path == api_prefix or request.path.startswith(api_prefix + "/")):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
