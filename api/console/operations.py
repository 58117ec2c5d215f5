"""运行维护: the platform administrator's page of incidents and stranded instances."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for

from api.console.labels import (
    INCIDENT_ACTION_LABELS,
    INCIDENT_KIND_LABELS,
    process_label,
    status_label,
)
from api.console.web import bp, context, me, render
from engine.workflow.services import incidents, stranded, timers


@bp.route("/operations")
def operations() -> tuple[str, int]:
    actor = me()
    return render(
        "operations.html",
        incidents=incidents.listing(context(), actor),
        stranded=stranded.find(context(), actor),
        kinds=INCIDENT_KIND_LABELS,
        actions=INCIDENT_ACTION_LABELS,
        process_label=process_label,
        status_label=status_label,
    )


@bp.route("/operations/incidents/<id:incident_id>/retry", methods=["POST"])
def retry_incident(incident_id: int) -> Response:
    timers.retry(context(), incident_id, me())
    flash(f"第 {incident_id} 号故障已重试成功。", "success")
    return redirect(url_for("console.operations"))


@bp.route("/operations/incidents/<id:incident_id>/resolve", methods=["POST"])
def resolve_incident(incident_id: int) -> Response:
    incidents.resolve(context(), incident_id, me())
    flash(f"第 {incident_id} 号故障已标记为处理完毕。", "success")
    return redirect(url_for("console.operations"))


@bp.route("/operations/stranded/<id:instance_id>/release", methods=["POST"])
def release_stranded(instance_id: int) -> Response:
    stranded.release(context(), instance_id, me())
    flash("滞留事项已恢复流转。", "success")
    return redirect(url_for("console.operations"))
