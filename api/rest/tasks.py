"""GET /tasks (my inbox), POST /tasks/{id}/claim, POST /tasks/{id}/complete."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.body import json_body
from api.rest import FORM_BODY
from api.schemas import InboxQuerySchema, InstanceDetailSchema, TaskSchema
from engine.workflow.services import tasks

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="待办任务")


@blp.route("/tasks")
class Inbox(MethodView):
    @blp.arguments(InboxQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, TaskSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """My inbox: open tasks I may take, oldest first."""
        return tasks.inbox(context(), current_actor(), **query)


@blp.route("/tasks/<id:task_id>/claim")
class Claim(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: int) -> Any:
        """Claim a task so colleagues do not work on it at the same time."""
        return tasks.claim(context(), task_id, current_actor())


@blp.route("/tasks/<id:task_id>/complete")
class Complete(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "description": "the form of the task's step (bpmn_id)",
            "content": {"application/json": {"schema": FORM_BODY}},
        }
    )
    @blp.response(200, InstanceDetailSchema)
    def post(self, task_id: int) -> Any:
        """Complete a task with its form; the process moves on."""
        return tasks.complete(context(), task_id, json_body(), current_actor())
