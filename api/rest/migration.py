"""Moving running instances to another version of their process (administrators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.schemas_migration import (
    BatchMigrationRequestSchema,
    MigratedSchema,
    MigrationCheckSchema,
    MigrationQuerySchema,
    MigrationReportSchema,
    MigrationRequestSchema,
)
from engine.workflow.services import migration

blp = Blueprint("migration", __name__, url_prefix="/api/v1", description="事项迁移（平台管理员）")


@blp.route("/instances/<id:instance_id>/migration")
class InstanceMigration(MethodView):
    @blp.arguments(MigrationQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, MigrationCheckSchema)
    def get(self, query: dict[str, Any], instance_id: int) -> Any:
        """Whether the instance can move to `to_version` of its process now, and why not: a
        step the new version changed or removed is already done or under way."""
        return migration.check(context(), instance_id, query["to_version"], current_actor())

    @blp.arguments(MigrationRequestSchema)
    @blp.response(200, MigratedSchema)
    def post(self, body: dict[str, Any], instance_id: int) -> Any:
        """Move the instance to `to_version` (409 with the reasons when it cannot): its state,
        open tasks and forms are the new version's from then on; recorded on its trail."""
        return migration.migrate(context(), instance_id, body["to_version"], current_actor())


@blp.route("/processes/<string:process_id>/migration")
class ProcessMigration(MethodView):
    @blp.arguments(BatchMigrationRequestSchema)
    @blp.response(200, MigrationReportSchema)
    def post(self, body: dict[str, Any], process_id: str) -> Any:
        """Move every running instance of `from_version` that can move to `to_version`, each
        on its own; the report lists those moved and, with reasons, those that cannot."""
        return migration.migrate_all(
            context(), process_id, body["from_version"], body["to_version"], current_actor()
        )
