"""Console pages on accountability cases (问责案件): the list, one case, opening a case, recording
its finding, and the forms that start its procedures (容错纠错, 澄清正名).

A case is sensitive: every page reads it through the use cases, which answer "not found" to
anyone outside the handling organs, auditors and the person or unit concerned; the console shows
its 404 page for that, as for a matter.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from api.console import accountability_views, forms, lookups, schema_forms
from api.console.admission import form_again
from api.console.labels import CASE_ACTION_LABELS, CASE_STATUS_LABELS
from api.console.web import bp, context, me, render
from engine.accountability import cases as case_facts
from engine.accountability import forms_accountability as fa
from engine.accountability.case_forms import CaseDecisionSchema, CaseFindingSchema, CaseSchema
from engine.accountability.cases import BEFORE_DECISION
from engine.accountability.services import cases, procedures
from engine.accountability.services.cases import CaseDetail
from engine.authz import CASE_OPENING_ROLES, CASE_READERS
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.workflow.services.forms_view import start_form_of

PER_PAGE = 20
OPENING_ROLES = set(CASE_OPENING_ROLES)
OPEN_INTRO = (
    "问责启动时登记案件：问责对象为个人的，有本平台账号的填写账号；为单位的，选择该单位。"
    "核查终结后，由县纪委监委在案件页面记录核查结论。"
)
# A case action whose page starts a procedure: (process, origin of a clearance, path in the URL).
STARTS: dict[str, tuple[str, str | None]] = {
    "fault_tolerance": ("fault_tolerance", None),
    "clearance": ("clearance", "application"),
    "clearance_proposal": ("clearance", "proposal"),
}
START_PATHS = {
    "fault-tolerance": "fault_tolerance",
    "clearance": "clearance",
    "clearance-proposal": "clearance_proposal",
}
START_INTROS = {
    "fault_tolerance": (
        "书面申请容错纠错。县纪委监委受理后会同有关部门核实，由案件审理部门对照“三个区分开来”"
        "和本县容错情形作出认定，并书面告知本人和县委组织部。对认定结果不服的，可在申诉期内申诉。"
    ),
    "clearance": (
        "反映问题经核查失实、问题已了结并对本人造成不良影响的，可书面申请澄清正名。"
        "县纪委监委核查澄清条件，经审批后按批准的方式和范围澄清，并形成书面记录。"
    ),
    "clearance_proposal": (
        "承办部门在征求本人意见后提议澄清正名，此后与本人申请的办理程序相同。"
        "澄清范围只限核实为失实的问题。"
    ),
}


@bp.route("/cases")
def case_list() -> tuple[str, int]:
    """问责案件: the cases I may read (all of them for the handling organs and auditors)."""
    status = request.args.get("status") or None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    errors: dict[str, Any] = {}
    try:
        found = cases.list_cases(context(), me(), status=status, page=page, per_page=PER_PAGE)
    except InvalidInput as exc:
        found, errors = None, exc.errors
    return render(
        "accountability/cases.html",
        200 if not errors else 422,
        found=found,
        status=status or "",
        statuses=CASE_STATUS_LABELS,
        may_open=bool(me().roles & OPENING_ROLES),
        own_only=not me().roles & CASE_READERS,
        errors=errors,
    )


@bp.route("/cases/new", methods=["GET", "POST"])
def open_case() -> Response | tuple[str, int]:
    """登记问责案件: the discipline organ or the organisation department records a case."""
    if not me().roles & OPENING_ROLES:
        raise Forbidden("登记问责案件需要纪检监察机关或组织部门的承办角色")
    choices = {"subject_org": [(o.code, o.name) for o in lookups.organizations(context(), me())]}
    page = {
        "title": "登记问责案件",
        "case": None,
        "intro": OPEN_INTRO,
        "action": url_for("console.open_case"),
        "submit": "登记案件",
    }
    if request.method == "GET":
        fields = forms.describe(CaseSchema, {"source": "report"}, {}, choices)
        return render("accountability/case_form.html", fields=fields, summary=[], **page)
    body = forms.payload_from(CaseSchema, request.form)
    try:
        opened = cases.open_case(context(), body, me())
    except InvalidInput as exc:
        return form_again("accountability/case_form.html", CaseSchema, exc, choices, **page)
    except Forbidden as exc:  # 回避: a case about the caller or their own organisation
        subject = "subject_username" if body.get("subject_username") else "subject_org"
        refused = InvalidInput("不能登记该案件", {subject: [exc.message]})
        return form_again("accountability/case_form.html", CaseSchema, refused, choices, **page)
    flash(f"已登记问责案件{opened.case_no}（{opened.subject_name}）。", "success")
    return redirect(url_for("console.case_page", case_id=opened.id))


@bp.route("/cases/<id:case_id>")
def case_page(case_id: int) -> tuple[str, int]:
    """One case: its record, verification result, outcomes, procedures and what I may do."""
    case = cases.get_case(context(), case_id, me())
    actions = [
        (name, *CASE_ACTION_LABELS[name], _action_url(case_id, name)) for name in case.actions
    ]
    unmet = []
    if "clearance" in case.actions:  # the person is told before applying what may stand in the way
        unmet = fa.unmet_clearance_conditions(
            {"finding": case.finding, "concluded": case.concluded_at is not None, "harm": case.harm}
        )
    return render(
        "accountability/case.html",
        case=case,
        actions=actions,
        kind=case_facts.record_kind(case.status),
        clearance_unmet=unmet,
    )


def _action_url(case_id: int, action: str) -> str:
    if action in ("finding", "decision"):
        return url_for(f"console.case_{action}", case_id=case_id)
    path = next(path for path, name in START_PATHS.items() if name == action)
    return url_for("console.start_procedure", case_id=case_id, path=path)


@bp.route("/cases/<id:case_id>/finding", methods=["GET", "POST"])
def case_finding(case_id: int) -> Response | tuple[str, int]:
    """核查结论: the handling organ concludes the verification; the case takes its status."""
    return _case_form(case_id, "finding", CaseFindingSchema, cases.record_finding, "已记录核查结论")


@bp.route("/cases/<id:case_id>/decision", methods=["GET", "POST"])
def case_decision(case_id: int) -> Response | tuple[str, int]:
    """问责决定: the outcome, document number and date of a case whose report was proven."""
    return _case_form(
        case_id, "decision", CaseDecisionSchema, cases.record_decision, "已记录问责决定"
    )


def _case_form(
    case_id: int, action: str, schema: type, record: Any, done: str
) -> Response | tuple[str, int]:
    """A case-record form (finding, decision): drawn, then sent to its use case; the case
    page tells the case's new status."""
    case = _case_allowing(case_id, action)
    if isinstance(case, Response):
        return case
    page = {
        "title": CASE_ACTION_LABELS[action][0],
        "case": case,
        "intro": CASE_ACTION_LABELS[action][1],
        "action": url_for(f"console.case_{action}", case_id=case_id),
    }
    if request.method == "GET":
        fields = forms.describe(schema)
        return render("accountability/case_form.html", fields=fields, summary=[], **page)
    try:
        after = record(context(), case_id, forms.payload_from(schema, request.form), me())
    except InvalidInput as exc:
        return form_again("accountability/case_form.html", schema, exc, {}, **page)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.case_page", case_id=case_id))
    flash(f"{done}，案件状态：{CASE_STATUS_LABELS.get(after.status)}。", "success")
    return redirect(url_for("console.case_page", case_id=case_id))


@bp.route(
    "/cases/<id:case_id>/<any('fault-tolerance', clearance, 'clearance-proposal'):path>",
    methods=["GET", "POST"],
)
def start_procedure(case_id: int, path: str) -> Response | tuple[str, int]:
    """申请容错纠错, 申请澄清正名 or 提议澄清正名: the procedure's start form, with its case."""
    name = START_PATHS[path]
    case = _case_allowing(case_id, name)
    if isinstance(case, Response):
        return case
    process_id, origin = STARTS[name]
    # The current version's start form, its package's; the county's rules are its options.
    form = start_form_of(context(), process_id)
    choices = accountability_views.tolerance_choices(context().tolerance)
    fixed = {"case_id": str(case_id), **({"origin": origin} if origin else {})}
    shape: dict[str, Any] = {"hidden": set(fixed)}
    if origin == "application":
        shape["omit"] = {"person_consulted"}  # only a proposal consults the person
    page = {
        "title": CASE_ACTION_LABELS[name][0],
        "case": case,
        "intro": START_INTROS[name],
        "action": url_for("console.start_procedure", case_id=case_id, path=path),
        "submit": "提交" + ("提议" if origin == "proposal" else "申请"),
    }
    if request.method == "GET":
        fields = schema_forms.describe(
            form.json_schema, form.ui_schema, fixed, choices=choices, **shape
        )
        return render("accountability/case_form.html", fields=fields, summary=[], **page)
    try:
        body = schema_forms.payload_from(form.json_schema, request.form, form.ui_schema)
        started = procedures.start_process(context(), process_id, body, me())
    except InvalidInput as exc:
        return form_again("accountability/case_form.html", form, exc, choices, shape, **page)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.case_page", case_id=case_id))
    steps = "、".join(t.name for t in started.open_tasks) or "无"
    flash(f"{page['submit']}成功，当前环节：{steps}。", "success")
    return redirect(url_for("console.matter_page", instance_id=started.id))


def _case_allowing(case_id: int, action: str) -> CaseDetail | Response:
    """The case (404 if I may not read it), or back to it when this action is not open now."""
    case = cases.get_case(context(), case_id, me())
    if action not in case.actions:
        flash(f"当前不能{CASE_ACTION_LABELS[action][0]}：{_why_not(case, action)}", "error")
        return redirect(url_for("console.case_page", case_id=case_id))
    return case


def _why_not(case: CaseDetail, action: str) -> str:
    pending = {p.process_id for p in case.procedures if p.status == "pending"}
    if action == "fault_tolerance" and case.status not in BEFORE_DECISION:
        return "容错申请须在问责启动后、作出问责决定前提出，该案件已办结。"
    if action == "decision" and case.status != "proven":
        return "只有核查属实、尚未作出问责决定的案件可以记录问责决定。"
    if action == "fault_tolerance" and "fault_tolerance" in pending:
        return "该案件已有办理中的容错纠错申请。"
    if action.startswith("clearance") and case.cleared_at is not None:
        return "该案件已完成澄清正名。"
    if action.startswith("clearance") and "clearance" in pending:
        return "该案件已有办理中的澄清正名。"
    if action == "finding" and case.status != "open":
        return "该案件已有核查结论。"
    return "您的角色不能办理此项，或须回避。"
