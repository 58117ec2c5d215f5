"""Console pages: sign in and out, my inbox, notifications, the township register, dashboard."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, session, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from api.console import charts, lookups
from api.console.labels import REGISTER_STATUS_LABELS
from api.console.web import bp, context, me, render, safe_next, sign_in_refused, start_session
from api.rest import download
from api.rest.burden import XLSX
from engine.admission.services import burden, matters, register_files
from engine.authz import TASK_ROLES
from engine.errors import InvalidInput, TooManyAttempts, Unauthenticated
from engine.services import accounts, notices
from engine.services.directory import OrgRef
from engine.workflow.services import tasks

INBOX_PER_PAGE = 50
OUTCOMES = (
    ("pending", "办理中"),
    ("in_force", "在册"),
    ("exited", "已退出"),
    ("rejected", "不予准入"),
    ("withdrawn", "已撤回"),
)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """登录: the same check as the API's token endpoint; the session then holds the user id."""
    target = request.values.get("next", "")
    if request.method == "GET":
        return render("login.html", next=target, username="", error="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        issued = accounts.authenticate(context(), username, password)
        actor = accounts.actor_for_token(context(), issued.access_token)
    except TooManyAttempts as exc:
        return sign_in_refused(exc.message, exc.retry_after)
    except Unauthenticated as exc:
        return render("login.html", 401, next=target, username=username, error=exc.message)
    start_session(actor)
    return redirect(safe_next(target))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    flash("您已安全退出。", "success")
    return redirect(url_for("console.login"))


@bp.route("/")
def home() -> Response:
    actor = me()
    if actor.county_id is None and actor.city_id is not None:  # a city's office
        return redirect(url_for("console.dashboard"))
    if actor.roles & TASK_ROLES:
        return redirect(url_for("console.inbox"))
    if actor.has("auditor"):
        return redirect(url_for("console.trail_search"))
    if actor.roles == {"admin"}:  # administrators read no matters
        return redirect(url_for("console.operations"))
    return redirect(url_for("console.matter_list"))


@bp.route("/inbox")
def inbox() -> tuple[str, int]:
    """我的待办: open tasks I may take, oldest first."""
    page = max(1, request.args.get("page", 1, type=int) or 1)
    items = tasks.inbox(context(), me(), page=page, per_page=INBOX_PER_PAGE)
    applicants = lookups.applicants_of(context(), sorted({t.instance_id for t in items}))
    return render(
        "inbox.html",
        items=items,
        applicants=applicants,
        page=page,
        more=len(items) == INBOX_PER_PAGE,
    )


@bp.route("/tasks/<id:task_id>/claim", methods=["POST"])
def claim(task_id: int) -> Response:
    """认领, then straight to the task's form."""
    claimed = tasks.claim(context(), task_id, me())
    flash(f"已认领“{claimed.name}”，其他同事将不能同时办理。", "success")
    return redirect(
        url_for("console.task_form", instance_id=claimed.instance_id, task_id=claimed.id)
    )


@bp.route("/notifications")
def notifications() -> tuple[str, int]:
    return render("notifications.html", items=notices.notifications(context(), me()))


@bp.route("/notifications/read", methods=["POST"])
def notifications_read() -> Response:
    """全部标为已读: the signed-in person's notices, for them only."""
    marked = notices.mark_read(context(), me())
    flash(f"已将 {marked} 条通知标为已读。", "success")
    return redirect(url_for("console.notifications"))


@bp.route("/register")
def township_register() -> tuple[str, int]:
    """准入事项台账: the matters admitted to townships, as far as I may read them."""
    township = request.args.get("township") or None
    status = request.args.get("status") or None
    errors: dict[str, Any] = {}
    try:
        entries = matters.register(context(), me(), township=township, status=status)
    except InvalidInput as exc:
        entries, errors = [], exc.errors
    return render(
        "admission/register.html",
        200 if not errors else 422,
        entries=entries,
        townships=lookups.townships(context(), me(), retired_too=True),
        township=township or "",
        status=status or "",
        statuses=REGISTER_STATUS_LABELS,
        errors=errors,
    )


@bp.route("/register/export")
def township_register_export() -> Response:
    """The register as shown (same filters) as a printable PDF, or an Excel table."""
    found = register_files.register_file(
        context(),
        me(),
        request.args.get("format", "pdf"),
        township=request.args.get("township") or None,
        status=request.args.get("status") or None,
    )
    return download(found.data, found.filename, found.media_type)


@bp.route("/dashboard/export")
def dashboard_export() -> Response | tuple[str, int]:
    """The burden report of a year as an Excel workbook, with the lists behind its numbers."""
    try:
        year = int(request.args.get("year", "")) if request.args.get("year") else None
        county = request.args.get("county") or None
        found = burden.report(context(), me(), year=year, details=True, county=county)
    except (ValueError, InvalidInput):
        flash("年度或县（市、区）有误：年度应为年份，如 2026", "error")
        return redirect(url_for("console.dashboard"))
    name = f"乡镇负担-{found.period_start:%Y}年.xlsx"
    return download(burden.to_xlsx(found), name, XLSX)


@bp.route("/dashboard")
def dashboard() -> Response | tuple[str, int]:
    """负担看板: the burden report as charts, each with its numbers in a table."""
    county = request.args.get("county") or None
    try:
        report = burden.report(context(), me(), county=county)
    except InvalidInput:
        flash("所选县（市、区）不在查看范围内", "error")
        return redirect(url_for("console.dashboard"))
    # A city office's picture spans counties, whose townships may share a name (城关镇).
    spans = len({row.county for row in [*report.townships, *report.departments]}) > 1

    def named(county: OrgRef | None, org: OrgRef) -> str:
        return f"{county.name}{org.name}" if spans and county is not None else org.name

    township_names = [named(t.county, t.township) for t in report.townships]
    department_names = [named(d.county, d.department) for d in report.departments]
    in_force = charts.bar_chart(
        "各乡镇在册准入事项数",
        township_names,
        [t.matters_in_force for t in report.townships],
        "在册事项",
    )
    overdue = charts.bar_chart(
        "各乡镇超期环节数",
        township_names,
        [t.overdue_steps for t in report.townships],
        "超期环节",
    )
    meetings = charts.stacked_bar_chart(
        "各乡镇本年须参加的县级会议",
        township_names,
        [
            charts.Series("现场参加", [t.meetings_in_person for t in report.townships]),
            charts.Series("视频参加", [t.meetings_video for t in report.townships]),
        ],
    )
    checks = charts.stacked_bar_chart(
        "各乡镇本年批准的督查检查考核次数",
        township_names,
        [
            charts.Series("已通知的检查", [t.inspection_visits for t in report.townships]),
            charts.Series(
                "尚可安排",
                [t.inspection_times - t.inspection_visits for t in report.townships],
            ),
        ],
    )
    raised = charts.stacked_bar_chart(
        "各乡镇本年吹哨",
        township_names,
        [
            charts.Series("已反馈", [t.needs_answered for t in report.townships]),
            charts.Series(
                "尚未反馈", [t.needs_raised - t.needs_answered for t in report.townships]
            ),
        ],
    )
    outcomes = charts.stacked_bar_chart(
        "各部门申请的办理结果",
        department_names,
        [
            charts.Series(label, [getattr(d, key) for d in report.departments])
            for key, label in OUTCOMES
        ],
    )
    return render(
        "dashboard.html",
        report=report,
        named=named,
        counties=lookups.counties(context(), me()),
        county=county,
        outcomes=OUTCOMES,
        in_force_chart=Markup(in_force),
        meetings_chart=Markup(meetings),
        inspections_chart=Markup(checks),
        needs_chart=Markup(raised),
        overdue_chart=Markup(overdue),
        outcome_chart=Markup(outcomes),
    )
