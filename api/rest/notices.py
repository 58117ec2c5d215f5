"""GET /notifications and POST /notifications/read: the platform's notices to each person and
the offices they act for, whatever domain wrote them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.schemas import MarkedSchema, MarkReadSchema, NotificationQuerySchema, NotificationSchema
from engine.services import notices

blp = Blueprint("notices", __name__, url_prefix="/api/v1", description="通知：已读与未读")


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, NotificationSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Notices to me and to the office I act for, newest first (`unread=true`: only those
        I have not read)."""
        unread = query.get("unread") == "true"
        return notices.notifications(context(), current_actor(), unread=unread)


@blp.route("/notifications/read")
class NotificationsRead(MethodView):
    @blp.arguments(MarkReadSchema, unknown=RAISE)
    @blp.response(200, MarkedSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Mark notices read — those named, or all of mine; each person keeps their own."""
        marked = notices.mark_read(context(), current_actor(), body.get("ids"))
        return {"marked": marked}
