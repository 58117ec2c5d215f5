"""POST /auth/token and GET /me."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import context, current_actor
from api.schemas import MeSchema, TokenRequestSchema, TokenSchema
from api.schemas_people import PasswordChangeSchema
from engine.services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与当前用户")


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    def post(self, credentials: dict[str, Any]) -> Any:
        """Sign in: exchange username and password for a bearer token."""
        return accounts.authenticate(context(), credentials["username"], credentials["password"])


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """The signed-in user, organisation and roles."""
        return current_actor()


@blp.route("/me/password")
class Password(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Change one's own password (also the forced change after an administrator issued
        one). Every other session ends; the answer is a fresh token."""
        return accounts.change_password(
            context(), current_actor(), body["current_password"], body["new_password"]
        )
