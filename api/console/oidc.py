"""Sign-in to the console through the county's OpenID Connect provider (统一身份认证)."""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, abort, current_app, redirect, request, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from api.console.web import bp, context, render, safe_next, start_session
from engine.errors import Unauthenticated
from engine.services import accounts

_EXTENSION = "zhunru.oidc"
SCOPE = "openid profile"
PROVIDER_TIMEOUT_SECONDS = 10
UNREACHABLE = "统一身份认证平台暂时无法访问，请稍后再试，或使用用户名和密码登录。"
EXPIRED = "登录请求已过期或来源不明，请重新登录。"
CANCELLED = "您已在统一身份认证平台取消登录。"
REFUSED = "统一身份认证未能完成，请重试；如问题持续，请联系本单位管理员。"


def register_oidc(app: Flask) -> None:
    """The provider's client for this app, only when ZHUNRU_OIDC_ISSUER is set. Nothing is
    fetched here: the provider's metadata and keys are read on the first sign-in."""
    settings = app.extensions["zhunru"].settings
    if not settings.oidc_issuer:
        return
    app.extensions[_EXTENSION] = OAuth(app).register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        # state and nonce come with every request (the scope holds openid); PKCE on top.
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT_SECONDS,
        },
    )


def _client() -> Any:
    client = current_app.extensions.get(_EXTENSION)
    if client is None:
        abort(404)
    return client


def _callback_url() -> str:
    """What the provider sends the browser back to; registered with it as the redirect URI."""
    public = context().settings.public_url
    if public:
        return public + url_for("console.oidc_callback")
    return url_for("console.oidc_callback", _external=True)


def _refused(message: str, status: int) -> tuple[str, int]:
    return render(
        "login.html", status, next=session.get("oidc_next", ""), username="", error=message
    )


@bp.route("/oidc/login")
def oidc_login() -> Response | tuple[str, int]:
    """To the provider's sign-in page; `next` waits in the session for the way back."""
    client = _client()
    session["oidc_next"] = safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(_callback_url())
    except (requests.RequestException, AuthlibBaseError, JoseError, RuntimeError) as exc:
        current_app.logger.warning("OIDC provider unreachable: %r", exc)
        return _refused(UNREACHABLE, 502)


@bp.route("/oidc/callback")
def oidc_callback() -> Response | tuple[str, int]:
    """Back from the provider: the code for tokens, the ID token checked (signature, issuer,
    audience, expiry, nonce), its person mapped to an active account here by username."""
    client = _client()
    try:
        claims = _signed_in_claims(client)
    except OAuthError as exc:  # the provider's answer, or a state this browser never sent
        current_app.logger.warning("OIDC sign-in refused: %s %s", exc.error, exc.description)
        message = {"mismatching_state": EXPIRED, "access_denied": CANCELLED}.get(exc.error)
        return _refused(message or REFUSED, 401)
    except requests.RequestException as exc:
        current_app.logger.warning("OIDC provider unreachable: %r", exc)
        return _refused(UNREACHABLE, 502)
    except (AuthlibBaseError, JoseError, RuntimeError) as exc:
        current_app.logger.warning("OIDC sign-in refused: %r", exc)
        return _refused(REFUSED, 401)
    username = claims.get(context().settings.oidc_username_claim)
    try:
        actor = accounts.actor_for_external_sign_in(
            context(), username if isinstance(username, str) else ""
        )
    except Unauthenticated as exc:
        return _refused(exc.message, 401)
    target = session.get("oidc_next") or url_for("console.home")
    start_session(actor, external=True)
    return redirect(safe_next(target))


def _signed_in_claims(client: Any) -> dict[str, Any]:
    """The person's claims: the validated ID token's, and the userinfo endpoint's when the
    configured claim is not in the token (providers often keep profile claims there)."""
    token = client.authorize_access_token()
    claims = token.get("userinfo")
    if not claims:  # Authlib validates an ID token only when there is one: insist on it
        raise OAuthError(error="missing_id_token", description="no ID token in the answer")
    if context().settings.oidc_username_claim in claims:
        return dict(claims)
    more = client.userinfo(token=token)
    if more.get("sub") != claims["sub"]:  # OIDC Core 5.3.2: else the answer is not about them
        raise OAuthError(error="userinfo_mismatch", description="userinfo is about another sub")
    return {**more, **claims}
