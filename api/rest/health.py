"""GET /health: for load balancers and process managers; no authentication."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import context
from engine.services import health

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="运行状态")


@blp.route("/health")
class Health(MethodView):
    @blp.response(200)
    def get(self) -> Any:
        """Liveness and database reachability."""
        return health.check(context())
