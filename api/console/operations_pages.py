"""运行维护: the platform administrator's page of incidents and stranded instances."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for

from api.console.labels import process_label, status_label
from api.console.web import bp, context, me, render
from engine.services import incidents, stranded, timers

KIND_LABELS = {"command": "办理时出错", "timer": "定时任务出错"}
ACTION_LABELS = {
    "start": "提交申请",
    "complete": "办理环节",
    "release": "恢复滞留流程",
    "fire_timers": "到期处理",
    "matter_withdrawal": "撤回",
    "matter_objection": "提出异议",
    "ft_appeal": "提出申诉",
}


@bp.route("/operations")
def operations() -> tuple[str, int]:
    actor = me()
    return render(
        "operations.html",
        incidents=incidents.listing(context(), actor),
        stranded=stranded.find(context(), actor),
        kinds=KIND_LABELS,
        actions=ACTION_LABELS,
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
