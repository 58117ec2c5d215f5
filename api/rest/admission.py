"""GET /register (admitted matters) and GET /notifications."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.schemas import NotificationSchema, RegisterEntrySchema, RegisterQuerySchema
from engine.admission.services import matters

blp = Blueprint("townships", __name__, url_prefix="/api/v1", description="乡镇准入事项台账与通知")


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, RegisterEntrySchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The register of admitted matters (a township sees its own)."""
        return matters.register(context(), current_actor(), **query)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.response(200, NotificationSchema(many=True))
    def get(self) -> Any:
        """Notifications addressed to my organisation, newest first."""
        return matters.notifications(context(), current_actor())
