"""The matter_admission process in the process table: how an application starts it, what its
steps mean for the townships, its status and exit, who reads it, who is told when it is late."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.admission.services import register as matters_register
from engine.authz import Actor, can_see_instance, require_role
from engine.duty_lists.services.precheck import run_precheck
from engine.models import Instance, Matter, Organization
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.forms import form_for_task
from engine.workflow.processes import ProcessKind, Start, add_on_terminated, register
from engine.workflow.schema_forms import register_check
from engine.workflow.services import commands
from engine.workflow.specs import Diagram

PROCESS_ID = "matter_admission"


def _start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """申请: a department files an application. 准入前置审查: a negative-list matter, or missing
    resources without a justification, cannot be filed; every other finding goes to the
    reviewer with the application."""
    require_role(actor, "applicant", "提交申请")
    values = form.validate(body)
    townships = commands.resolve_townships(session, actor.county_id, values["townships"])
    check = run_precheck(session, ctx, values, townships)
    check.raise_if_refused(values.get("resources_justification", ""))
    return Start(
        role="applicant",
        data={**application_data(form, values), "precheck": check.to_dict()},
        title=values["name"],
        trail={"application": values, "precheck": check.to_dict()},
        townships=townships,
    )


def application_data(form: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The workflow's data from an application: the form's values under its data key
    (`application`), and the township list top-level, which the entry step loops over."""
    return {**form.data_for("application", values), "townships": values["townships"]}


def revise_data(form: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The workflow's data from 修改或撤回: the answer (action, comment) under the step's id; a
    resubmitted application replaces the application and its townships."""
    answer = {key: value for key, value in values.items() if key != "application"}
    application = values.get("application")
    return {
        **form.data_for("revise", answer),
        **(application_data(form, application) if application else {}),
    }


def _resubmitted(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    values: dict[str, Any],
    task_data: dict[str, Any],
) -> dict[str, Any]:
    """A resubmitted application is pre-checked again, as a new one would be, and the matter
    takes its townships and name."""
    data = revise_data(form_for_task(loaded.diagram, "revise"), values)
    application = values.get("application")
    if not application:
        return data
    county = loaded.instance.county_id
    townships = commands.resolve_townships(session, county, application["townships"])
    instance_id = loaded.instance.id
    check = run_precheck(session, ctx, application, townships, instance_id)
    check.raise_if_refused(application.get("resources_justification", ""))
    commands.set_townships(session, loaded, townships)
    loaded.instance.title = application["name"]
    return {**data, "precheck": check.to_dict()}


def _entered(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    values: dict[str, Any],
    data: dict[str, Any],
    now: datetime,
) -> list[Entry]:
    """A township confirmed: the matter goes onto its register (legacy versions)."""
    return [matters_register.record_entry(session, ctx, loaded.instance, data, values, now)]


def _objection_others(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    values: dict[str, Any],
    task_data: dict[str, Any],
) -> dict[str, Any]:
    """How many other townships carry the matter besides the one objecting: the gateway after
    the decision reads it (the last township leaving takes the matter out altogether)."""
    code = (task_data.get("objection") or {}).get("township")
    query = (
        select(func.count())
        .select_from(Matter)
        .join(Organization, Organization.id == Matter.township_org_id)
    )
    others = session.scalar(
        query.where(
            Matter.instance_id == loaded.instance.id,
            Matter.status == "in_force",
            Organization.code != (code or ""),
        )
    )
    return {"objection_others": int(others or 0)}


def _carriers(session: Session, instance: Instance) -> set[int]:
    """The townships that carry the matter now: those with its entry in force."""
    query = select(Matter.township_org_id).where(
        Matter.instance_id == instance.id, Matter.status == "in_force"
    )
    return set(session.scalars(query))


STEP_DATA = {"revise": _resubmitted, "decide_objection": _objection_others}
# Versions drawn before effects were service tasks: a township's confirmation enters the register.
LEGACY_EFFECTS = {"confirm_entry": _entered}


def _step_data(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    step: str,
    values: dict[str, Any],
    task_data: dict[str, Any],
) -> dict[str, Any]:
    hook = STEP_DATA.get(step)
    return hook(session, ctx, loaded, values, task_data) if hook else {}


def _after_step(
    session: Session,
    ctx: Context,
    loaded: commands.Loaded,
    step: str,
    values: dict[str, Any],
    data: dict[str, Any],
    now: datetime,
) -> list[Entry]:
    effect = LEGACY_EFFECTS.get(step)
    return effect(session, ctx, loaded, values, data, now) if effect else []


def _reached(
    session: Session, ctx: Context, loaded: commands.Loaded, status: str, now: datetime
) -> list[Entry]:
    """An exited matter leaves every township's register, for the reason its path gives (on
    versions drawn before the exit was a service task)."""
    if status != "exited":
        return []
    reason = matters_register.exit_reason(ctx.runtime.completed_ids(loaded.workflow))
    return [matters_register.record_exit(session, loaded.instance, reason, now)]


def _read_scope(session: Session, instance: Instance, actor: Actor) -> list[int] | None:
    """The applicant organisation, the townships it is addressed to, the county offices."""
    townships = commands.township_ids(session, instance.id)
    return townships if can_see_instance(actor, instance.applicant_org_id, townships) else None


ADMISSION = ProcessKind(
    start=_start,
    step_data=_step_data,
    after_step=_after_step,
    status=matters_register.status_for,
    reached=_reached,
    read_scope=_read_scope,
    carriers=_carriers,
    end_statuses=frozenset({"exited", "rejected", "withdrawn"}),
)


def end_after_start(values: dict[str, Any], _: Mapping[str, Any]) -> dict[str, Any]:
    """结束日期须晚于开始日期, in the form and in an application it holds (the revised one)."""
    problems: dict[str, Any] = {}
    start, end = values.get("start_date"), values.get("end_date")
    if isinstance(start, str) and isinstance(end, str) and end <= start:  # ISO dates
        problems["end_date"] = ["结束日期须晚于开始日期"]
    for key, value in values.items():
        if isinstance(value, dict) and (inner := end_after_start(value, _)):
            problems[key] = inner
    return problems


def unlawful_cannot_pass(values: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """A matter the justice bureau found unlawful cannot pass review or approval: it is
    returned for revision or refused (the legality opinion has force)."""
    legal = (context.get("data") or {}).get("legal_review") or {}
    if values.get("decision") == "pass" and legal.get("opinion") == "unlawful":
        return {"decision": ["司法局合法性审查意见为“不合法”，不能通过；请退回修改或不予准入"]}
    return {}


def meeting_not_in_future(values: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The meeting that decided an approval has been held."""
    day, today = values.get("meeting_date"), context.get("today")
    if isinstance(day, str) and isinstance(today, str) and day > today:  # ISO dates
        return {"meeting_date": ["会议日期不能晚于今天"]}
    return {}


def register_checks() -> None:
    """The named checks the admission package's forms list in x-checks."""
    register_check("end_after_start", end_after_start)
    register_check("unlawful_cannot_pass", unlawful_cannot_pass)
    register_check("meeting_not_in_future", meeting_not_in_future)


def _terminated(session: Session, instance: Instance, now: datetime) -> list[Entry]:
    """An instance an administrator ends leaves every township's register it stood on (a matter
    in force, a seconded person), each township told."""
    exit_entry = matters_register.record_exit(session, instance, "terminated", now)
    return [exit_entry] if exit_entry.payload and exit_entry.payload["townships_told"] else []


def register_processes() -> None:
    register_checks()
    register(PROCESS_ID, ADMISSION)
    add_on_terminated(_terminated)
