"""The burden gates: GET /meetings (the townships' calendar of required meetings), a
township's request to attend by video and the organiser's answer; GET /inspections (the
inspections approved on townships for a year) and the visits a department announces."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.rest import download
from api.schemas_burden import (
    InspectionQuerySchema,
    InspectionSchema,
    MatterRatingBodySchema,
    MatterRatingSchema,
    MeetingQuerySchema,
    MeetingSchema,
    RatingQuerySchema,
    RatingSummarySchema,
    ReportFormSchema,
    SubmissionBodySchema,
    SubmissionQuerySchema,
    SubmissionSchema,
    VideoAnswerSchema,
    VideoRequestSchema,
    VisitRequestSchema,
)
from engine.burden.services import (
    inspections,
    matter_ratings,
    meetings,
    ratings,
    report_forms,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
blp = Blueprint(
    "burden", __name__, url_prefix="/api/v1", description="会议、督查检查考核等减负事项"
)


@blp.route("/meetings")
class Meetings(MethodView):
    @blp.arguments(MeetingQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, MeetingSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Meetings townships must attend, by day: a township its own, an office those it
        called, the county offices every township's (or one's, with `township`)."""
        return meetings.calendar(context(), current_actor(), **query)


@blp.route("/meetings/<id:meeting_id>/video-request")
class VideoRequest(MethodView):
    @blp.arguments(VideoRequestSchema, unknown=RAISE)
    @blp.response(200, MeetingSchema)
    def post(self, body: dict[str, Any], meeting_id: int) -> Any:
        """申请视频参会: the township that must attend asks, with its reason (before the day)."""
        return meetings.request_video(context(), current_actor(), meeting_id, body["reason"])


@blp.route("/meetings/<id:meeting_id>/video-answer")
class VideoAnswer(MethodView):
    @blp.arguments(VideoAnswerSchema, unknown=RAISE)
    @blp.response(200, MeetingSchema)
    def post(self, body: dict[str, Any], meeting_id: int) -> Any:
        """The organiser grants (the township attends by video) or refuses, with a reason."""
        return meetings.answer_video(
            context(), current_actor(), meeting_id, body["grant"], body["reason"]
        )


@blp.route("/inspections")
class Inspections(MethodView):
    @blp.arguments(InspectionQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, InspectionSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The inspections approved for a year: a township those on it, a department its own,
        the county offices every township's (or one's, with `township`)."""
        return inspections.plans(context(), current_actor(), **query)


@blp.route("/inspections/<id:item_id>/visits")
class Visits(MethodView):
    @blp.arguments(VisitRequestSchema, unknown=RAISE)
    @blp.response(201, InspectionSchema)
    def post(self, body: dict[str, Any], item_id: int) -> Any:
        """The department announces a visit ahead of its day, within the approved number (a
        visit beyond it is 409); the township is told."""
        return inspections.announce_visit(
            context(), current_actor(), item_id, body["held_on"], body["note"]
        )


@blp.route("/instances/<id:instance_id>/rating")
class MatterRating(MethodView):
    @blp.response(200, MatterRatingSchema)
    def get(self, instance_id: int) -> Any:
        """The calling township's own rating of a matter on its register (404 before it rates)."""
        return matter_ratings.own_rating(context(), current_actor(), instance_id)

    @blp.arguments(MatterRatingBodySchema, unknown=RAISE)
    @blp.response(201, MatterRatingSchema)
    def post(self, body: dict[str, Any], instance_id: int) -> Any:
        """A township rates the department behind a matter on its register, once (`overall` and
        `resources` as the yearly rating form's choices, `comment`); a second rating is 409.
        The department reads only sums, in the yearly summary."""
        return matter_ratings.rate(context(), current_actor(), instance_id, body)


@blp.route("/reports/department-ratings")
class DepartmentRatings(MethodView):
    @blp.arguments(RatingQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, RatingSummarySchema)
    @blp.doc(
        responses={
            "200": {
                "description": "汇总，或其表格文件",
                "content": {
                    "application/json": {},
                    "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                },
            }
        }
    )
    def get(self, query: dict[str, Any]) -> Any:
        """考核评价: the townships' ratings of each department for a year with the needs it
        led (the assessing offices every department's; a department its own summary, when at
        least 3 townships rated it); `format=csv|xlsx` for the table to file."""
        fmt = query.pop("format")
        if fmt == "json":
            return ratings.summary(context(), current_actor(), **query)
        name, data = ratings.summary_file(context(), current_actor(), fmt, **query)
        media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
        return download(data, name, media)


@blp.route("/report-forms")
class ReportForms(MethodView):
    @blp.response(200, ReportFormSchema(many=True))
    def get(self) -> Any:
        """报表目录: a township the forms it fills, a department those it owns or reads (merged
        into), the county offices every form."""
        return report_forms.catalogue(context(), current_actor())


@blp.route("/report-forms/<id:form_id>/submissions")
class Submissions(MethodView):
    @blp.arguments(SubmissionQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, SubmissionSchema(many=True))
    def get(self, query: dict[str, Any], form_id: int) -> Any:
        """What townships filled: the owner, the departments it is shared with and the county
        offices every township's; a township its own."""
        return report_forms.submissions(context(), current_actor(), form_id, **query)

    @blp.arguments(SubmissionBodySchema, unknown=RAISE)
    @blp.response(201, SubmissionSchema)
    def post(self, body: dict[str, Any], form_id: int) -> Any:
        """A township fills the form for one period, once (a second time is 409)."""
        return report_forms.submit(
            context(), current_actor(), form_id, body["period"], body["values"]
        )
