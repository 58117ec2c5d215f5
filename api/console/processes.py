"""Console pages on deployed processes: what I may start, and the start form of a process whose
package brings its own (JSON Schema) form, posted to the same use case as the API."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from api.console import forms, lookups, schema_forms
from api.console.admission import PROCESS_ID, form_again
from api.console.web import bp, context, error_page, me, render
from engine.accountability.services import procedures
from engine.errors import Conflict, InvalidInput
from engine.workflow.fields import char_problem
from engine.workflow.schema_forms import SchemaForm
from engine.workflow.services.forms_view import start_form_of, startable


@bp.route("/processes")
def process_list() -> tuple[str, int]:
    """发起办理: the processes I may start (an admission application for applicants)."""
    # The application is offered once, with its own page (the townships to pick, the pre-check).
    offers = [o for o in startable(context(), me()) if o.process_id != PROCESS_ID]
    return render("processes.html", offers=offers)


@bp.route("/processes/<process_id>/start", methods=["GET", "POST"])
def start_process(process_id: str) -> Response | tuple[str, int]:
    """发起: the start form of the process's current version, drawn from its package."""
    if char_problem(process_id):
        return error_page(404)
    if process_id == PROCESS_ID:  # the application has its page, with the townships to pick
        return redirect(url_for("console.apply"))
    form = start_form_of(context(), process_id)
    if not isinstance(form, SchemaForm):
        # Built-in start forms have pages of their own: a case's procedures.
        return error_page(404, "该流程须从相应页面发起（问责案件的程序从案件页面发起）。")
    page = {
        "title": form.title or process_id,
        "intro": str(form.json_schema.get("description") or ""),
        "action": url_for("console.start_process", process_id=process_id),
    }
    # A field addressing a township is picked from the county's townships by name.
    choices = lookups.marked_choices(context(), me())
    if request.method == "GET":
        start = forms.flat_values(schema_forms.defaults(form.json_schema))
        fields = schema_forms.describe(form.json_schema, form.ui_schema, start, choices=choices)
        return render("process_start.html", fields=fields, summary=[], **page)
    try:
        body = schema_forms.payload_from(form.json_schema, request.form, form.ui_schema)
        started = procedures.start_process(context(), process_id, body, me())
    except InvalidInput as exc:
        return form_again("process_start.html", form, exc, choices, **page)
    except Conflict as exc:  # e.g. rated already: said on the form, what was typed kept
        flash(exc.message, "error")
        return form_again("process_start.html", form, InvalidInput(exc.message), choices, **page)
    steps = "、".join(t.name for t in started.open_tasks)
    flash(f"已提交，当前环节：{steps}。" if steps else "已提交，已办结。", "success")
    return redirect(url_for("console.matter_page", instance_id=started.id))
