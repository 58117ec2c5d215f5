"""Operations the admission domain offers every diagram: the township's register, notices.

A package's service tasks name them (engine/operations): `register.enter` puts an entry on a
township's register of admitted matters (a matter, or a seconded person: the name says which),
`register.exit` takes the instance's entries off and tells their townships, `townships.notify`
tells a township something, `applicant.notify` tells the office that filed the instance. What
they record is the admission domain's own record, shown on the township register page and
`GET /register`, and the notices read on the notifications page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admission.services import register as matters_register
from engine.admission.services import resources
from engine.models import Organization
from engine.services.notices import tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.jobs import register_job
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.services.commands import Loaded

NAME_MAX = 200
TERM_TYPES = ("short", "long")


def _township(session: Session, ctx: Context, loaded: Loaded, code: str) -> int:
    """The id of a township of the instance's county."""
    place = ctx.names.place(session, code)
    if place is None or place.level != "township" or place.county_id != loaded.instance.county_id:
        raise OperationFailed(f"未知乡镇：{code}")
    return place.id


def _name(session: Session, org_id: int) -> str:
    """An organisation's name as it is now, for a message that is kept."""
    return session.scalar(select(Organization.name).where(Organization.id == org_id)) or ""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise OperationFailed(f"日期无效：{text}") from exc


def _whole(value: str, name: str) -> int:
    if not value.isdigit():
        raise OperationFailed(f"{name} 应为非负整数：{value}")
    return int(value)


def enter(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """The entry goes onto the township's register, in force from now, with what was promised
    to it and whether that has arrived (yes unless the diagram says otherwise; if not, the
    shortfall is owed by a deadline). Given `shared_by` (the matter's townships), the funding
    and staff are the matter's totals and the township's share is registered."""
    code = text(parameters, "township")
    township_id = _township(session, ctx, loaded, code)
    name = text(parameters, "name")
    end = text(parameters, "end_date")
    term_type = text(parameters, "term_type") or ("short" if end else "long")
    received = parameters.get("resources_received", True)
    if not isinstance(received, bool):
        raise OperationFailed(f"resources_received 应为是或否：{received}")
    if term_type not in TERM_TYPES:
        raise OperationFailed(f"term_type 应为 short 或 long：{term_type}")
    shared_by = parameters.get("shared_by") or []
    if not isinstance(shared_by, list) or not all(isinstance(c, str) for c in shared_by):
        raise OperationFailed("shared_by 应为乡镇代码的列表")
    funding = _whole(text(parameters, "funding_yuan", "0"), "funding_yuan")
    staff = _whole(text(parameters, "staff", "0"), "staff")
    paid_by = text(parameters, "funding_paid_by")
    promise = resources.Promise(
        funding_yuan=resources.share(funding, shared_by, code),
        staff=resources.share(staff, shared_by, code),
        powers=text(parameters, "powers"),
        funding_source=text(parameters, "funding_source")[:40],
        funding_paid_by=_day(paid_by) if paid_by else None,
    )
    values = {
        "name": name if len(name) <= NAME_MAX else name[: NAME_MAX - 1] + "…",
        "term_type": term_type,
        "start_date": _day(text(parameters, "start_date")),
        "end_date": _day(end) if end else None,
    }
    _, promised = resources.enter(
        session, ctx, loaded.instance, township_id, values, promise, received, now
    )
    notice = text(parameters, "notice")
    if notice:  # e.g. why the township's decline was not upheld
        tell(session, [township_id], loaded.instance.id, "entry_upheld", notice, now)
    entered = {"township": code, "name": name, "resources_received": received}
    return [Entry("matter_entered", None, entered | promised)]


def drop(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """A township that declined no longer carries the matter: the gatekeeper's decision, told
    to the township and to the office that filed it. The township still reads the matter's
    record; it goes on no register."""
    code = text(parameters, "township")
    township_id = _township(session, ctx, loaded, code)
    reason = text(parameters, "reason")
    title = loaded.instance.title
    for org_id, message in (
        (township_id, f"县委编办决定：事项“{title}”不再由本乡镇承担。理由：{reason}"),
        (
            loaded.instance.applicant_org_id,
            f"县委编办决定：事项“{title}”不再由{_name(session, township_id)}承担。理由：{reason}",
        ),
    ):
        tell(session, [org_id], loaded.instance.id, "township_dropped", message, now)
    return [Entry("township_dropped", None, {"township": code, "reason": reason})]


def leave(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, str], now: datetime
) -> list[Entry]:
    """The instance's entries leave every register — or only the named township's, the others
    keeping it — and each township is told why: the `reason` given, else the exit_<reason>
    event the path passed (matter_admission's exits)."""
    completed = ctx.runtime.completed_ids(loaded.workflow)
    reason = text(parameters, "reason") or matters_register.exit_reason(completed)
    reason = reason[:40]
    code = text(parameters, "township")
    township_id = _township(session, ctx, loaded, code) if code else None
    return [matters_register.record_exit(session, loaded.instance, reason, now, township_id)]


def notify(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, str], now: datetime
) -> list[Entry]:
    """A notice to the township (read on its notifications page); with `copy_applicant` "yes",
    the office that filed the instance reads it too, the township named."""
    code = text(parameters, "township")
    township_id = _township(session, ctx, loaded, code)
    kind, message = text(parameters, "kind", "notice"), text(parameters, "message")
    tell(session, [township_id], loaded.instance.id, kind, message, now)
    copy = text(parameters, "copy_applicant", "no")
    if copy not in ("yes", "no"):
        raise OperationFailed(f"copy_applicant 应为 yes 或 no：{copy}")
    if copy == "yes":
        copied = f"（致{_name(session, township_id)}）{message}"
        tell(session, [loaded.instance.applicant_org_id], loaded.instance.id, kind, copied, now)
    return [Entry("township_notified", None, {"township": code})]


def notify_applicant(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """A notice to the office that filed the instance (read on its notifications page), from
    a township when one is named (its name leads the message)."""
    message = text(parameters, "message")
    code = text(parameters, "township")
    if code:
        message = f"{_name(session, _township(session, ctx, loaded, code))}：{message}"
    kind = text(parameters, "kind", "notice")
    tell(session, [loaded.instance.applicant_org_id], loaded.instance.id, kind, message, now)
    return [Entry("applicant_notified", None, {"kind": kind})]


def register_operations() -> None:
    """Offer the admission domain's operations to every diagram (once is enough), and give the
    worker its job: escalating resources still owed past their last day."""
    register_job("resources.escalate_shortfalls", resources.escalate_due)
    register_operation(
        "register.enter",
        enter,
        label="登记入乡镇准入台账",
        parameters=("township", "name", "start_date"),
        optional=(
            "end_date",
            "term_type",
            "funding_yuan",
            "staff",
            "resources_received",
            "shared_by",
            "powers",
            "funding_source",
            "funding_paid_by",
            "notice",
        ),
    )
    register_operation(
        "register.exit",
        leave,
        label="退出乡镇准入台账并通知乡镇",
        optional=("reason", "township"),
    )
    register_operation(
        "townships.drop",
        drop,
        label="该乡镇不再承担事项并通知",
        parameters=("township", "reason"),
    )
    register_operation(
        "applicant.notify",
        notify_applicant,
        label="通知申请单位",
        parameters=("message",),
        optional=("kind", "township"),
    )
    register_operation(
        "townships.notify",
        notify,
        label="通知乡镇",
        parameters=("township", "message"),
        optional=("kind", "copy_applicant"),
    )
