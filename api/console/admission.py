"""Console pages on matters: search, apply, one matter with its diagram and trail, task forms.

A "matter" page serves every process instance: admission matters, and the fault-tolerance and
clearance procedures of an accountability case (which also show their case's facts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response as FlaskResponse
from flask import flash, redirect, request, url_for
from markupsafe import Markup
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from api.console import accountability_views, forms, lookups, schema_forms
from api.console.attachments import with_uploads
from api.console.labels import (
    STATUS_LABELS,
    action_label,
    exit_label,
    field_label,
    status_label,
    step_label,
    value_label,
)
from api.console.web import bp, context, error_page, me, my_task_ids, render
from api.schemas import DeliveryBodySchema
from engine.accountability import forms_accountability as fa
from engine.accountability.services import cases, procedures
from engine.accountability.services.cases import CaseDetail
from engine.admission.services import burden, resources
from engine.authz import require_role
from engine.burden.services import matter_ratings
from engine.duty_lists.services import precheck
from engine.errors import Conflict, DomainError, InvalidInput
from engine.services import attachments, documents
from engine.workflow import forms as engine_forms
from engine.workflow.diagram_svg import read_plane, render_svg
from engine.workflow.fields import char_problem
from engine.workflow.schema_forms import SchemaForm
from engine.workflow.services import instances, tasks
from engine.workflow.services.forms_view import (
    InstanceForms,
    instance_forms,
    start_form_of,
    task_form_of,
)
from engine.workflow.services.instances import TrailEntry
from engine.workflow.services.views import InstanceDetail
from engine.workflow.workdays import written_date

PROCESS_ID = "matter_admission"
# Steps whose page shows the pre-check against duty lists and other matters.
JUDGING_STEPS = {"legal_review", "review", "approve", "decide_objection", "reevaluate"}
SEVERITY_LABELS = {"blocking": "不得准入", "warning": "请注意", "info": "提示"}
PER_PAGE = 20
# Instance-level actions the diagram allows: (action, use case, button text, what it means).
ACTIONS = {
    "withdraw": (
        instances.withdraw,
        "撤回事项（退出）",
        "撤回后，事项从各乡镇台账退出，并通知各乡镇。",
    ),
    "object": (instances.object_to, "提出异议", "异议将由县委编办审核，决定事项退出或维持。"),
    "appeal": (
        procedures.appeal,
        "提出申诉",
        "对容错认定结果不服的，可在申诉期内提出申诉，由县纪委监委案件审理部门复核；"
        "申诉期间不停止认定结果的执行。",
    ),
}
# Trail entries that carry someone's decision, and the schema of those that are no task's form.
DECISION_ACTIONS = {"task_completed", "withdrawal_requested", "objection_raised", "appeal_lodged"}
ACTION_SCHEMAS: dict[str, type] = {
    "withdrawal_requested": engine_forms.ReasonSchema,
    "objection_raised": engine_forms.ReasonSchema,
    "appeal_lodged": fa.AppealSchema,
}


@bp.route("/matters")
def matter_list() -> tuple[str, int]:
    """事项查询: the matters I may see, newest first."""
    query = {k: request.args.get(k) or None for k in ("status", "township", "applicant")}
    page = max(1, request.args.get("page", 1, type=int) or 1)
    errors: dict[str, Any] = {k: [p] for k, v in query.items() if v and (p := char_problem(v))}
    try:
        if errors:
            raise InvalidInput("筛选条件有误", errors)
        found = instances.search(
            context(), me(), instances.InstanceFilter(**query, page=page, per_page=PER_PAGE)
        )
    except InvalidInput as exc:
        found, errors = None, exc.errors
    return render(
        "admission/matters.html",
        200 if not errors else 422,
        found=found,
        query={k: v or "" for k, v in query.items()},
        pager_args={k: v for k, v in query.items() if v},
        statuses={k: STATUS_LABELS.get(k, k) for k in instances.all_statuses()},
        townships=lookups.townships(context(), me(), retired_too=True),
        filers=lookups.organizations(context(), me()),
        errors=errors,
    )


@bp.route("/matters/new", methods=["GET", "POST"])
def apply() -> Response | tuple[str, int]:
    """新建申请: a department files a matter; the schema of the API's start form judges it."""
    require_role(me(), "applicant", "提交申请")
    form = start_form_of(context(), PROCESS_ID)
    choices = _township_choices()
    if request.method == "GET":
        return render("admission/apply.html", fields=_fields(form, {}, choices), summary=[])
    try:
        body = _payload(form, choices)
        if request.form.get("action") == "check":  # 预检: what filing would run into, nothing kept
            found = _labelled(precheck.check_application(context(), me(), body))
            values = forms.posted_values(request.form)
            fields = schema_forms.describe(
                form.json_schema, form.ui_schema, values, {}, choices=choices
            )
            return render("admission/apply.html", fields=fields, summary=[], check=found)
        detail = instances.start(context(), PROCESS_ID, with_uploads(body), me())
    except InvalidInput as exc:
        return form_again("admission/apply.html", form, exc, choices)
    flash(f"申请已提交，当前环节：{_open_names(detail)}。", "success")
    return redirect(url_for("console.matter_page", instance_id=detail.id))


@bp.route("/matters/<id:instance_id>")
def matter_page(instance_id: int) -> tuple[str, int]:
    return _matter_page(instance_id)


@bp.route("/matters/<id:instance_id>/diagram.svg")
def diagram(instance_id: int) -> FlaskResponse:
    """The diagram alone, as a picture for reports (same visibility as the matter)."""
    detail = instances.get(context(), instance_id, me())
    progress = lookups.progress(context(), instance_id, me())
    return FlaskResponse(_svg(detail, progress), mimetype="image/svg+xml")


# The timer whose closing ends an action: the appeal window (SpiffWorkflow 3.2 holds the timer
# of an event-based gateway's branch on the gateway, so that is what waits).
ACTION_WINDOWS = {"appeal": "gw_appeal"}


def _action(name: str, detail: Any) -> tuple[str, str, str]:
    """An action's button and explanation, with the last day it may be taken, if it has one."""
    _, button, explanation = ACTIONS[name]
    window = next((t for t in detail.timers if t.step == ACTION_WINDOWS.get(name)), None)
    if window is not None:
        explanation += f"申诉期至{written_date(window.due_date)}（含当日）。"
    return name, button, explanation


@bp.route("/matters/<id:instance_id>/<any(withdraw, object, appeal):action>", methods=["POST"])
def matter_action(instance_id: int, action: str) -> Response | tuple[str, int]:
    """撤回, 异议 or 申诉: buttons on the matter page, shown where the diagram allows them."""
    use_case, button, _ = ACTIONS[action]

    def run() -> None:
        body = forms.payload_from(engine_forms.REASON_FORM.schema, request.form)
        use_case(context(), instance_id, body, me())

    return _on_matter(instance_id, action, run, f"已{button}。")


def _on_matter(
    instance_id: int, section: str, run: Callable[[], Any], done: str
) -> Response | tuple[str, int]:
    """A form posted from the matter page: done, said and back to the page; refused with field
    errors, the page again with them in `section` and what was typed; a conflict, said."""
    try:
        run()
    except InvalidInput as exc:
        errors = {section: forms.flat_errors(exc.errors)}
        return _matter_page(instance_id, 422, errors, forms.posted_values(request.form))
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("console.matter_page", instance_id=instance_id))


@bp.route("/matters/<id:instance_id>/rating", methods=["POST"])
def rate_matter(instance_id: int) -> Response | tuple[str, int]:
    """评价本事项: the township rates the department behind a matter on its register."""
    body = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _on_matter(
        instance_id,
        "rating",
        lambda: matter_ratings.rate(context(), me(), instance_id, body),
        "评价已提交，计入部门年度考核。",
    )


@bp.route("/matters/<id:instance_id>/resources", methods=["POST"])
def record_delivery(instance_id: int) -> Response | tuple[str, int]:
    """登记资源: the applicant what it sent to a township, a township what reached it."""
    return _on_matter(
        instance_id,
        "resources",
        lambda: resources.deliver(context(), me(), instance_id, _delivery(request.form)),
        "已登记，并通知对方。",
    )


def _delivery(posted: Any) -> dict[str, Any]:
    """The posted delivery as the API takes it (whole numbers typed, empty inputs left out)."""
    body: dict[str, Any] = {"powers_in_place": posted.get("powers_in_place") == "true"}
    for key in ("township", "received_on", "funding_yuan", "staff", "note"):
        raw = posted.get(key, "").strip()
        if raw:
            body[key] = int(raw) if key in ("funding_yuan", "staff") and raw.isdigit() else raw
    try:
        return DeliveryBodySchema().load(body)
    except ValidationError as exc:
        raise InvalidInput("资源到位情况填写有误", exc.normalized_messages()) from exc


@bp.route("/matters/<id:instance_id>/tasks/<id:task_id>", methods=["GET", "POST"])
def task_form(instance_id: int, task_id: int) -> Response | tuple[str, int]:
    """办理: the task's form, drawn from the schema the API validates with."""
    detail = instances.get(context(), instance_id, me())
    task = next((t for t in detail.open_tasks if t.id == task_id), None)
    if task is None:
        flash("该任务已办结或不存在，以下为事项的最新状态。", "error")
        return redirect(url_for("console.matter_page", instance_id=instance_id))
    if task.id not in my_task_ids(me()):
        return error_page(403, "该任务不在您的待办中：可能已由他人认领，或不属于您的单位和角色。")
    form = task_form_of(context(), task_id, me())
    choices = _choices(detail)
    case = _case_of(detail)
    page = {
        "detail": detail,
        "task": task,
        "check": _precheck(detail, task.bpmn_id),
        "burden": _burden(detail, task.bpmn_id),
        "case": case,
        "conditions": accountability_views.clearance_conditions(case)
        if task.bpmn_id == "cl_eligibility"
        else None,
        **_history(detail, case),
    }
    if request.method == "GET":
        return render(
            "task.html",
            fields=_task_fields(form, detail, task.bpmn_id, choices),
            summary=[],
            **page,
        )
    try:
        after = tasks.complete(context(), task_id, with_uploads(_payload(form, choices)), me())
    except InvalidInput as exc:
        return form_again("task.html", form, exc, choices, **page)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.matter_page", instance_id=instance_id))
    flash(
        f"“{task.name}”已办理完成。事项状态：{status_label(after.status)}；"
        f"当前环节：{_open_names(after)}。",
        "success",
    )
    return redirect(url_for("console.matter_page", instance_id=instance_id))


def _task_fields(
    form: Any, detail: InstanceDetail, step: str, choices: dict[str, list[tuple[str, str]]]
) -> list[forms.FieldView]:
    """A task's fields as the form first shows them (the application to revise filled in)."""
    return _fields(form, _prefill(detail, step), choices)


def _fields(
    form: SchemaForm, values: forms.Flat, choices: dict[str, list[tuple[str, str]]]
) -> list[forms.FieldView]:
    """A form's fields, first shown: its schema's defaults under `values`."""
    start = {**forms.flat_values(schema_forms.defaults(form.json_schema)), **values}
    return schema_forms.describe(form.json_schema, form.ui_schema, start, choices=choices)


def _payload(form: SchemaForm, choices: dict[str, list[tuple[str, str]]]) -> Any:
    """The posted form as the JSON body its use case validates."""
    return schema_forms.payload_from(form.json_schema, request.form, form.ui_schema)


def _prefill(detail: InstanceDetail, step: str) -> forms.Flat:
    """What a task's form starts with: the application to revise; for carrying out a clearance,
    the approved method and the whole approved scope."""
    if step == "cl_carry_out":
        approval = detail.data.get("cl_approval") or {}
        return forms.flat_values(
            {"method": approval.get("method"), "points_cleared": approval.get("scope") or []}
        )
    if detail.case_id is not None:
        return {}
    return forms.flat_values({"application": detail.data.get("application") or {}})


def _case_of(detail: InstanceDetail) -> CaseDetail | None:
    """The accountability case of a procedure (its readers are the procedure's readers)."""
    if detail.case_id is None:
        return None
    return cases.get_case(context(), detail.case_id, me())


def _precheck(detail: InstanceDetail, step: str) -> dict[str, Any] | None:
    """预检 for the offices that judge: what the application runs into (duty lists, negative
    lists, other matters, resources); its own failure is shown, never hidden."""
    application = detail.data.get("application")
    if detail.process_id != PROCESS_ID:
        # Another package's filing may carry what its domain found (a form's repeated fields).
        found = detail.data.get("findings")
        return _labelled({"findings": list(found)}) if found and isinstance(found, list) else None
    if step not in JUDGING_STEPS or not application:
        return None
    try:
        found = precheck.check_application(context(), me(), application, detail.id)
    except DomainError as exc:
        return {"unavailable": exc.message}
    for key in ("can_submit", "refusal"):  # filed already: judging, not filing
        found.pop(key, None)
    return _labelled(found)


def _labelled(found: dict[str, Any]) -> dict[str, Any]:
    for finding in found.get("findings", []):
        finding["label"] = SEVERITY_LABELS.get(finding.get("severity", ""), "提示")
    return found


def _burden(detail: InstanceDetail, step: str) -> list[Any]:
    """For the offices that judge: each target township's current burden beside the decision
    (an admission's judging steps, and any other package's step taken by a county office on
    something addressed to townships: a meeting, an inspection, a form)."""
    application = detail.data.get("application") or {}
    judging = step in JUDGING_STEPS if detail.process_id == PROCESS_ID else detail.case_id is None
    if not judging or not application:
        return []
    return burden.of_townships(context(), me(), [t.code for t in detail.townships])


def _township_choices() -> dict[str, list[tuple[str, str]]]:
    marked = lookups.marked_choices(context(), me())
    return {"townships": marked["x-township"], **marked}


def _choices(detail: InstanceDetail) -> dict[str, list[tuple[str, str]]]:
    """Options of the lists a task's form picks from: townships for admission; for the case
    procedures the county's rules, and an earlier step's points (the approved scope is chosen
    from the points verified false, the points cleared from the approved scope)."""
    if detail.case_id is None:
        return _township_choices()
    data = detail.data
    false_points = (data.get("cl_eligibility") or {}).get("false_points") or []
    scope = (data.get("cl_approval") or {}).get("scope") or []
    return {
        **accountability_views.tolerance_choices(context().tolerance),
        "scope": [(point, point) for point in false_points],
        "points_cleared": [(point, point) for point in scope],
    }


def lookup() -> forms.Lookup:
    """Codes the schemas cannot name themselves: townships, the county's tolerance rules."""
    townships = {t.code: t.name for t in lookups.townships(context(), me(), retired_too=True)}
    rules = context().tolerance
    departments = {o.code: o.name for o in lookups.organizations(context(), me())}
    return {
        "township": townships,
        "townships": townships,
        "x-township": townships,
        "x-department": departments,
        "circumstances": rules.circumstance_labels(),
        "exclusions": rules.exclusion_labels(),
    }


def form_again(
    template: str,
    schema: type | SchemaForm,
    exc: InvalidInput,
    choices: Any,
    describe_args: dict[str, Any] | None = None,
    **page: Any,
) -> tuple[str, int]:
    """The same form with what was typed and each error beside its field; nothing was saved.

    `schema` is a marshmallow schema or a package's form; `describe_args` are the hidden and
    omitted fields the form was first drawn with."""
    describe_args = describe_args or {}
    values = forms.posted_values(request.form)
    if isinstance(schema, SchemaForm):
        errors = forms.flat_errors(exc.errors)
        fields = schema_forms.describe(
            schema.json_schema, schema.ui_schema, values, errors, choices=choices, **describe_args
        )
    else:
        errors = forms.relocate(forms.flat_errors(exc.errors), schema)
        fields = forms.describe(schema, values, errors, choices, **describe_args)
    return render(
        template,
        422,
        fields=fields,
        summary=forms.summary(errors, fields),
        message=exc.message,
        **page,
    )


def _open_names(detail: InstanceDetail) -> str:
    names = [
        t.name + (f"（{t.organization.name}）" if t.organization else "") for t in detail.open_tasks
    ]
    return "、".join(names) or "无"


def _svg(detail: InstanceDetail, progress: lookups.Progress) -> str:
    return render_svg(
        progress.xml, progress.completed, progress.current, title=f"“{detail.title}”流程图"
    )


def _matter_page(
    instance_id: int,
    status: int = 200,
    action_errors: dict[str, dict[str, list[str]]] | None = None,
    action_values: dict[str, Any] | None = None,
) -> tuple[str, int]:
    actor = me()
    detail = instances.get(context(), instance_id, actor)
    mine = my_task_ids(actor)
    actions = [_action(name, detail) for name in detail.actions if name in ACTIONS]
    progress = lookups.progress(context(), instance_id, actor)
    case = _case_of(detail)
    shares = resources.of_instance(context(), actor, instance_id)
    open_shares = [s for s in shares if s.status == "in_force" and s.owed]
    deliver_as = None
    if actor.has("applicant") and detail.applicant.code == actor.org_code and open_shares:
        deliver_as = "sent"
    elif actor.has("township") and any(s.township.code == actor.org_code for s in open_shares):
        deliver_as = "received"
    return render(
        "admission/matter.html",
        status,
        detail=detail,
        case=case,
        shares=shares,
        deliver_as=deliver_as,
        owed_townships=[s.township for s in open_shares],
        delivery_kinds=resources.KINDS,
        funding_sources=resources.FUNDING_SOURCES,
        results=accountability_views.results(detail),
        documents=documents.documents_of(context(), instance_id, actor),
        attachments=attachments.attachments_of(context(), actor, instance_id),
        can_add_attachment=attachments.may_add(context(), actor, instance_id),
        diagram=Markup(_svg(detail, progress)),
        my_tasks=mine,
        actions=actions,
        rating=matter_ratings.form_of(context(), actor, instance_id),
        action_errors=action_errors or {},
        action_values=action_values or {},
        **_history(detail, case, progress.xml),
    )


def _history(
    detail: InstanceDetail, case: CaseDetail | None, xml: bytes | None = None
) -> dict[str, Any]:
    """The application, decisions so far and the trail of one matter, ready to show."""
    trail = instances.trail(context(), detail.id, me())
    names = lookup()
    step_names = {s.element.id: s.element.name for s in read_plane(xml).shapes} if xml else {}
    application = detail.data.get("application") or {}
    known = instance_forms(context(), detail.id, me())
    orgs = (
        accountability_views.told_names(lookups.organizations(context(), me()), case)
        if case
        else {}
    )
    # A procedure's case is its page's own; only a proposal consults the person concerned.
    skip = {"case_id"} | (
        {"person_consulted"} if application.get("origin") == "application" else set()
    )
    rows = _application(known.start, application, trail, names, skip)
    return {
        "application": rows,
        "application_revised": any(before is not None for _, _, before in rows),
        "decisions": [_decision(entry, names, known) for entry in trail if _is_decision(entry)],
        "timeline": [_event(entry, step_names, names, orgs, known) for entry in trail],
    }


def _application(
    form: Any,
    application: dict[str, Any],
    trail: list[TrailEntry],
    names: forms.Lookup,
    skip: set[str],
) -> list[tuple[str, str, str | None]]:
    """What the instance was started with, read by its own start form: the application as it
    stands (a resubmission replaced it), else as its start entry on the trail recorded it.
    Each row is (label, text, what it read before the last resubmission, when that changed)."""
    if form is None:
        return []
    started = next((e.payload for e in trail if e.action == "instance_started"), {})
    first = started.get("form", started.get("application")) or {}
    values = application or first
    rows = schema_forms.read_only(form.json_schema, values, form.ui_schema, skip, names)
    versions = [first] + [
        e.payload["form"]["application"]
        for e in trail
        if e.action == "task_completed"
        and e.task == "revise"
        and isinstance(e.payload.get("form"), dict)
        and isinstance(e.payload["form"].get("application"), dict)
    ]
    if len(versions) < 2:
        return [(label, text, None) for label, text in rows]
    before = dict(
        schema_forms.read_only(form.json_schema, versions[-2], form.ui_schema, skip, names)
    )
    shown = [
        (label, text, before.get(label, "（未填写）") if before.get(label) != text else None)
        for label, text in rows
    ]
    now = {label for label, _ in rows}
    return shown + [
        (label, "（已删除）", text) for label, text in before.items() if label not in now
    ]


def _title(form: SchemaForm, name: str) -> str:
    return str(form.json_schema.get("properties", {}).get(name, {}).get("title") or name)


def _is_decision(entry: TrailEntry) -> bool:
    return entry.action in DECISION_ACTIONS


def _decision(entry: TrailEntry, names: forms.Lookup, forms_of: InstanceForms) -> dict[str, Any]:
    form = entry.payload.get("form", entry.payload)
    step = entry.payload.get("name") or action_label(entry.action)
    known = forms_of.tasks.get(entry.task or "") if entry.action == "task_completed" else None
    if isinstance(known, SchemaForm):
        # A resubmitted application is shown with the application, not again with its answer.
        rows = schema_forms.read_only(
            known.json_schema, form, known.ui_schema, {"application"}, names
        )
        if isinstance(form.get("application"), dict):
            rows.append((_title(known, "application"), "已随表提交（见申请内容）"))
        return {"step": step, "entry": entry, "rows": rows}
    schema = ACTION_SCHEMAS.get(entry.action)
    specs = schema().fields if schema else {}
    order = list(specs)
    keys = sorted(form, key=lambda k: order.index(k) if k in order else len(order))
    schema_name = schema.__name__ if schema else ""
    rows = [
        (field_label(key, schema_name), forms.shown(specs.get(key), key, form[key], names))
        for key in keys
        if key != "application" and form[key] not in ("", [], None)
    ]
    if form.get("application"):
        rows.append((field_label("application"), "已随表提交（见申请内容）"))
    return {"step": step, "entry": entry, "rows": rows}


def _event(
    entry: TrailEntry,
    steps: dict[str, str],
    names: forms.Lookup,
    orgs: dict[str, str],
    forms_of: InstanceForms,
) -> dict[str, Any]:
    payload = entry.payload
    detail = ""
    if entry.action == "status_changed":
        before, after = payload.get("from") or "", payload.get("to") or ""
        detail = (
            f"{status_label(before)} → {status_label(after)}" if before else status_label(after)
        )
    elif entry.action == "matter_entered":
        received = value_label("", bool(payload.get("resources_received")))
        township = forms.shown(None, "township", payload.get("township", ""), names)
        detail = f"{township}，资源到位：{received}"
    elif entry.action in ("resources_delivered", "shortfall_escalated"):
        township = forms.shown(None, "township", payload.get("township", ""), names)
        if entry.action == "resources_delivered":
            arrived = f"经费{payload.get('funding_yuan', 0)}元、人员{payload.get('staff', 0)}名"
            detail = f"{township}：到位{arrived}" + (
                "、权限" if payload.get("powers_in_place") else ""
            )
        else:
            detail = f"{township}：逾期仍缺{'、'.join(payload.get('owed') or [])}"
    elif entry.action == "matter_exited":
        told = forms.shown(None, "townships", payload.get("townships_told", []), names)
        detail = f"{exit_label(payload.get('reason'))}；已通知：{told or '无'}"
    elif entry.action == "case_updated":
        detail = accountability_views.case_update(payload, orgs)
    elif entry.action == "operation_ran":
        detail = str(payload.get("label", ""))
    elif "reason" in payload:
        detail = f"理由：{payload['reason']}"
    elif entry.action == "task_completed":
        detail = "；".join(f"{k}：{v}" for k, v in _decision(entry, names, forms_of)["rows"][:3])
    return {
        "entry": entry,
        "action": action_label(entry.action),
        "step": payload.get("name") or steps.get(entry.task or "") or step_label(entry.task),
        "detail": detail,
    }
