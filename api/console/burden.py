"""会议日历 in the console: the meetings townships must attend, a township's request to attend
by video, the organiser's answer; 督查检查计划: the inspections approved on townships for a
year, and the visits a department announces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from api.console import lookups
from api.console.web import bp, context, error_page, me, render
from api.rest import download
from api.rest.burden import XLSX
from engine.burden.services import inspections, meetings, ratings, report_forms
from engine.errors import Conflict, InvalidInput, NotFound
from engine.workflow.workdays import written_date

WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Kept:
    """What a person typed into a row's inline form that was refused: shown again in that
    row's form, with why, instead of being lost on the way back to the list."""

    row_id: int
    values: dict[str, str]
    error: str


def _kept(row_id: int, exc: InvalidInput | Conflict | NotFound) -> Kept:
    return Kept(row_id, {k: v for k, v in request.form.items() if k != "csrf_token"}, _why(exc))


@bp.route("/meetings")
def meeting_calendar(kept: Kept | None = None) -> tuple[str, int]:
    """会议日历: from today (or the chosen day) for 90 days, by day."""
    errors: dict[str, Any] = {}
    township = request.args.get("township") or None
    try:
        start = _day(request.args.get("start"), "start")
        end = _day(request.args.get("end"), "end")
        found = meetings.calendar(context(), me(), township=township, start=start, end=end)
    except InvalidInput as exc:
        found, errors = [], exc.errors
    days: dict[date, list[meetings.MeetingInfo]] = {}
    for meeting in found:
        days.setdefault(meeting.held_on, []).append(meeting)
    return render(
        "burden/meetings.html",
        200 if not errors and kept is None else 422,
        kept=kept,
        days=days,
        weekday=lambda d: f"星期{WEEKDAYS[d.weekday()]}",
        modes=meetings.MODES,
        townships=lookups.townships(context(), me(), retired_too=True),
        township=township or "",
        start=request.args.get("start", ""),
        end=request.args.get("end", ""),
        errors=errors,
    )


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("日期有误", {field: ["应为日期"]}) from exc


@bp.route("/meetings/<id:meeting_id>/video-request", methods=["POST"])
def meeting_video_request(meeting_id: int) -> Response | tuple[str, int]:
    try:
        meetings.request_video(context(), me(), meeting_id, request.form.get("reason", ""))
    except (InvalidInput, Conflict, NotFound) as exc:
        return meeting_calendar(_kept(meeting_id, exc))
    else:
        flash("已申请视频参会，召集单位答复后会通知您。", "success")
    return redirect(url_for("console.meeting_calendar"))


@bp.route("/meetings/<id:meeting_id>/video-answer", methods=["POST"])
def meeting_video_answer(meeting_id: int) -> Response | tuple[str, int]:
    grant = request.form.get("grant") == "yes"
    try:
        meetings.answer_video(context(), me(), meeting_id, grant, request.form.get("reason", ""))
    except (InvalidInput, Conflict, NotFound) as exc:
        return meeting_calendar(_kept(meeting_id, exc))
    else:
        flash("已同意视频参会。" if grant else "已答复：请现场参会。", "success")
    return redirect(url_for("console.meeting_calendar"))


@bp.route("/inspections")
def inspection_plans(kept: Kept | None = None) -> tuple[str, int]:
    """督查检查计划: a year's approved inspections, by department, with their visits."""
    errors: dict[str, Any] = {}
    township = request.args.get("township") or None
    year_text = request.args.get("year", "") or (kept.values.get("year", "") if kept else "")
    try:
        year = int(year_text) if year_text else None
    except ValueError:
        year, errors = None, {"year": ["应为年份，如 2027"]}
    found: list[inspections.InspectionInfo] = []
    if not errors:
        try:
            found = inspections.plans(context(), me(), year=year, township=township)
        except InvalidInput as exc:
            errors = exc.errors
    this_year = context().calendar.local(context().clock.now()).year
    return render(
        "burden/inspections.html",
        200 if not errors and kept is None else 422,
        kept=kept,
        items=found,
        kinds=inspections.KINDS,
        methods=inspections.METHODS,
        townships=lookups.townships(context(), me(), retired_too=True),
        township=township or "",
        year=year or this_year,
        years=range(this_year - 2, this_year + 2),
        errors=errors,
    )


@bp.route("/inspections/<id:item_id>/visits", methods=["POST"])
def inspection_visit(item_id: int) -> Response | tuple[str, int]:
    year = request.form.get("year", "")
    try:
        day = _day(request.form.get("held_on"), "held_on")
        if day is None:
            raise InvalidInput("请选择检查日期", {"held_on": ["请选择检查日期"]})
        found = inspections.announce_visit(
            context(), me(), item_id, day, request.form.get("note", "")
        )
    except (InvalidInput, Conflict, NotFound) as exc:
        return inspection_plans(_kept(item_id, exc))
    else:
        flash(
            f"已通知{found.township_name}：{written_date(day)}开展检查。",
            "success",
        )
    return redirect(url_for("console.inspection_plans", year=year or None))


@bp.route("/ratings")
def department_ratings() -> Response | tuple[str, int]:
    """部门考核评价: the townships' ratings of the departments for a year, as a table, and its
    Excel file to file."""
    year_text = request.args.get("year", "")
    fmt = request.args.get("format", "")
    errors: dict[str, Any] = {}
    found = None
    try:
        year = int(year_text) if year_text else None
    except ValueError:
        year, errors = None, {"year": ["应为年份，如 2026"]}
    if not errors:
        try:
            if fmt:
                name, data = ratings.summary_file(context(), me(), fmt, year)
                media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
                return download(data, name, media)
            found = ratings.summary(context(), me(), year)
        except InvalidInput as exc:
            errors = exc.errors
    this_year = context().calendar.local(context().clock.now()).year
    return render(
        "burden/ratings.html",
        200 if not errors else 422,
        summary=found,
        year=year or this_year,
        years=range(this_year - 2, this_year + 1),
        minimum=ratings.MIN_RATERS,
        errors=errors,
    )


@bp.route("/report-forms")
def report_form_list() -> tuple[str, int]:
    """报表目录: the forms townships fill for the county, who reads them, what was filled."""
    return render(
        "burden/report_forms.html",
        forms=report_forms.catalogue(context(), me()),
        frequencies=report_forms.FREQUENCIES,
        period_label=report_forms.period_label,
    )


@bp.route("/report-forms/<id:form_id>", methods=["GET", "POST"])
def report_form_page(form_id: int) -> Response | tuple[str, int]:
    """One form: a township fills it for a period; its readers see every township's filling."""
    found = next((f for f in report_forms.catalogue(context(), me()) if f.id == form_id), None)
    if found is None:
        return error_page(404, "报表不存在，或不由本单位填报、读取。")
    errors: dict[str, Any] = {}
    if request.method == "POST":
        values = {name: request.form.get(f"field-{i}", "") for i, name in enumerate(found.fields)}
        try:
            report_forms.submit(context(), me(), form_id, request.form.get("period", ""), values)
        except (InvalidInput, NotFound) as exc:
            errors = exc.errors if isinstance(exc, InvalidInput) else {"period": [exc.message]}
        except Conflict as exc:
            errors = {"period": [exc.message]}
        else:
            period = report_forms.period_label(request.form.get("period", ""))
            flash(f"已填报“{found.name}”{period}。", "success")
            return redirect(url_for("console.report_form_page", form_id=form_id))
    filled = report_forms.submissions(context(), me(), form_id)
    return render(
        "burden/report_form.html",
        200 if not errors else 422,
        form=found,
        filled=filled,
        errors=errors,
        posted=request.form,
        frequencies=report_forms.FREQUENCIES,
        periods=report_forms.recent_periods(
            found.frequency, context().calendar.local(context().clock.now()).date()
        ),
        period_label=report_forms.period_label,
    )


def _why(exc: InvalidInput | Conflict | NotFound) -> str:
    return "；".join(str(m) for ms in exc.errors.values() for m in ms) or exc.message
