"""费随事转, tracked: what each township was promised, what arrived, what is still owed.

A matter's application states the resources that follow it for all its townships together;
each township's share (an even split, the first townships taking the remainder) is what its
register entry promises, so no figure is counted once per township. When a township confirms
entry with the resources in place, its share is recorded as received. When it confirms without
them, the entry carries an open shortfall: the applicant is told what is owed and by when
(`shortfall_working_days` working days from entry), the township records each delivery as it
arrives, and a shortfall still open after its last day is escalated once, by the worker, to
the gatekeeper (县委编办), the applicant and the township. Every delivery and escalation goes on
the matter's trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.authz import COUNTY_WIDE_READERS, Actor
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import Instance, Matter, Organization, ResourceDelivery
from engine.services.directory import OrgRef
from engine.services.notices import org_codes, tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.services import commands
from engine.workflow.services.timers import orgs_with_role
from engine.workflow.workdays import written_date

# Who a shortfall past its last day is escalated to, besides the applicant and the township.
GATEKEEPER_ROLE = "reviewer"
FUNDING_SOURCES = {
    "county_budget": "县级财政预算安排",
    "transfer": "上级转移支付",
    "department_budget": "部门专项经费",
    "other": "其他",
}
MAX_FUNDING_YUAN = 100_000_000_000
MAX_STAFF = 100_000
NOTE_MAX = 2000
ESCALATE_BATCH = 200


def share(total: int, townships: list[str], township: str) -> int:
    """The township's share of a total split evenly among the townships (in their order, the
    first ones taking one more each until the remainder is used); the whole total when the
    township is not among them."""
    if township not in townships:
        return total
    count, place = len(townships), townships.index(township)
    return total // count + (1 if place < total % count else 0)


@dataclass(frozen=True)
class Promise:
    """What one township was promised with a matter."""

    funding_yuan: int = 0
    staff: int = 0
    powers: str = ""
    funding_source: str = ""
    funding_paid_by: date | None = None

    @property
    def anything(self) -> bool:
        return bool(self.funding_yuan or self.staff or self.powers.strip())


def owed(matter: Matter) -> list[str]:
    """What has not arrived of the promise, in words (empty: all in place)."""
    missing = []
    if matter.funding_received_yuan < matter.funding_yuan:
        missing.append(f"经费{matter.funding_yuan - matter.funding_received_yuan}元")
    if matter.staff_received < matter.staff:
        missing.append(f"人员{matter.staff - matter.staff_received}名")
    if matter.powers.strip() and not matter.powers_received:
        missing.append("下放的权限")
    return missing


def promised_words(promise: Promise) -> str:
    parts = [f"经费{promise.funding_yuan}元", f"人员{promise.staff}名"]
    if promise.powers.strip():
        parts.append(f"权限（{promise.powers.strip()}）")
    return "、".join(parts)


def enter(
    session: Session,
    ctx: Context,
    instance: Instance,
    township_id: int,
    values: dict[str, Any],
    promise: Promise,
    received: bool,
    now: datetime,
) -> tuple[int, dict[str, Any]]:
    """Put the entry on the township's register with its promise; received in full, or with a
    shortfall due by a working-day deadline that the applicant is told. The new entry's id and
    what the trail records about its resources."""
    today = ctx.calendar.local(now).date()
    due = None
    if not received and promise.anything:
        due = ctx.calendar.add_working_days(today, ctx.settings.shortfall_working_days)
    matter_id = session.execute(
        insert(Matter.__table__)
        .values(
            **values,
            instance_id=instance.id,
            township_org_id=township_id,
            funding_yuan=promise.funding_yuan,
            staff=promise.staff,
            powers=promise.powers,
            funding_source=promise.funding_source,
            funding_paid_by=promise.funding_paid_by,
            funding_received_yuan=promise.funding_yuan if received else 0,
            staff_received=promise.staff if received else 0,
            powers_received=received,
            resources_received=received,
            shortfall_due=due,
            shortfall_escalated_at=None,
            status="in_force",
            entered_at=now,
            exited_at=None,
            exit_reason=None,
        )
        .returning(Matter.__table__.c.id)
    ).scalar_one()
    if received and promise.anything:
        session.execute(
            insert(ResourceDelivery.__table__).values(
                matter_id=matter_id,
                kind="received",
                received_on=today,
                funding_yuan=promise.funding_yuan,
                staff=promise.staff,
                powers_in_place=True,
                note="确认进入时已到位",
                recorded_by=None,
                recorded_at=now,
            )
        )
    trail: dict[str, Any] = {"funding_yuan": promise.funding_yuan, "staff": promise.staff}
    if due is not None:
        trail["shortfall_due"] = due.isoformat()
        township = session.scalar(select(Organization.name).where(Organization.id == township_id))
        message = (
            f"{township}已确认事项“{instance.title}”进入，但随事下放的资源尚未到位"
            f"（应下放该乡镇：{promised_words(promise)}）。请于{written_date(due)}前"
            "（含当日）补齐；逾期未补齐的，将报县委编办督办。"
        )
        tell(session, [instance.applicant_org_id], instance.id, "resources_shortfall", message, now)
    return matter_id, trail


# --- the applicant records what it sent, the township what arrived ---------------------------

KINDS = {"sent": "申请单位登记拨付", "received": "乡镇登记到位"}


@dataclass(frozen=True)
class Delivery:
    kind: str  # sent | received
    received_on: date
    funding_yuan: int
    staff: int
    powers_in_place: bool
    note: str
    recorded_at: datetime


@dataclass(frozen=True)
class TownshipResources:
    """One township's promise for a matter, what was sent and what arrived, what is owed."""

    township: OrgRef
    status: str
    funding_yuan: int
    staff: int
    powers: str
    funding_source: str
    funding_paid_by: date | None
    funding_sent_yuan: int
    staff_sent: int
    funding_received_yuan: int
    staff_received: int
    powers_received: bool
    resources_received: bool
    owed: list[str]
    shortfall_due: date | None
    shortfall_overdue: bool
    shortfall_escalated_at: datetime | None
    deliveries: list[Delivery]


def _problems(values: dict[str, Any], today: date, entered: date) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    funding, staff = values.get("funding_yuan", 0), values.get("staff", 0)
    if not isinstance(funding, int) or isinstance(funding, bool):
        problems["funding_yuan"] = ["应为整数（元）"]
    elif not 0 <= funding <= MAX_FUNDING_YUAN:
        problems["funding_yuan"] = [f"应在 0 到 {MAX_FUNDING_YUAN} 之间"]
    if not isinstance(staff, int) or isinstance(staff, bool):
        problems["staff"] = ["应为整数（名）"]
    elif not 0 <= staff <= MAX_STAFF:
        problems["staff"] = [f"应在 0 到 {MAX_STAFF} 之间"]
    day = values.get("received_on")
    if not isinstance(day, date):
        problems["received_on"] = ["应为日期，格式 YYYY-MM-DD"]
    elif day > today:
        problems["received_on"] = ["日期不能晚于今天"]
    elif day < entered:
        problems["received_on"] = ["日期不能早于事项进入该乡镇的日期"]
    note = values.get("note", "")
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        problems["note"] = [f"应为不超过 {NOTE_MAX} 字的文字"]
    if not problems and not (funding or staff or values.get("powers_in_place") is True):
        problems["funding_yuan"] = ["请填写经费、人员，或确认权限已到位"]
    return problems


def _entry_for(
    session: Session, actor: Actor, instance: Instance, values: dict[str, Any]
) -> tuple[str, Matter]:
    """Which side records (the township what arrived, the applicant what it sent) and the
    township's register entry it concerns; else why not."""
    if actor.has("township") and actor.org_id != instance.applicant_org_id:
        if values.get("township") not in (None, actor.org_code):
            raise InvalidInput(
                "资源到位情况填写有误", {"township": ["乡镇只能登记本乡镇收到的资源"]}
            )
        kind, township_id = "received", actor.org_id
    elif actor.has("applicant") and actor.org_id == instance.applicant_org_id:
        code = values.get("township")
        if not code:
            raise InvalidInput("资源拨付情况填写有误", {"township": ["请选择拨付到的乡镇"]})
        found = session.scalar(select(Organization.id).where(Organization.code == code))
        if found is None:
            raise InvalidInput("资源拨付情况填写有误", {"township": ["未知乡镇"]})
        kind, township_id = "sent", found
    else:
        raise Forbidden("只有事项所涉乡镇可以登记收到的资源，申请单位可以登记已拨付的资源")
    matter = session.scalar(
        select(Matter).where(
            Matter.instance_id == instance.id, Matter.township_org_id == township_id
        )
    )
    if matter is None:
        raise Conflict("该事项尚未进入该乡镇准入台账，不能登记资源情况")
    if matter.status != "in_force":
        raise Conflict("该事项已退出该乡镇，不能再登记资源情况")
    return kind, matter


def deliver(
    ctx: Context, actor: Actor, instance_id: int, values: dict[str, Any]
) -> TownshipResources:
    """费随事转, both sides: the applicant records resources it sent to a township (the township
    is told to check and confirm them); the township records what reached it — only that
    counts as arrived, and when the whole promise is in, the shortfall closes (the applicant
    is told either way)."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        instance, _ = commands.visible_instance(session, instance_id, actor, lock=True)
        kind, matter = _entry_for(session, actor, instance, values)
        today = ctx.calendar.local(now).date()
        entered = ctx.calendar.local(matter.entered_at).date()
        problems = _problems(values, today, entered)
        if problems:
            raise InvalidInput("资源情况填写有误", problems)
        delivery = ResourceDelivery(
            matter_id=matter.id,
            kind=kind,
            received_on=values["received_on"],
            funding_yuan=values.get("funding_yuan", 0),
            staff=values.get("staff", 0),
            powers_in_place=values.get("powers_in_place") is True,
            note=values.get("note", "").strip(),
            recorded_by=actor.user_id,
            recorded_at=now,
        )
        session.add(delivery)
        township = session.get(Organization, matter.township_org_id)
        assert township is not None
        if kind == "sent":
            entries = [_sent(session, instance, township, delivery, now)]
            role = "applicant"
        else:
            entries = _received(session, instance, township, matter, delivery, now)
            role = "township"
        commands.record(session, instance, actor, role, entries, now)
        session.flush()
        return _views(session, ctx, [matter], today)[0]


def _words(delivery: ResourceDelivery) -> str:
    parts = [f"经费{delivery.funding_yuan}元", f"人员{delivery.staff}名"]
    if delivery.powers_in_place:
        parts.append("权限已到位")
    return "、".join(parts)


def _sent(
    session: Session,
    instance: Instance,
    township: Organization,
    delivery: ResourceDelivery,
    now: datetime,
) -> Entry:
    applicant = session.get(Organization, instance.applicant_org_id)
    assert applicant is not None
    message = (
        f"{applicant.name}登记：已于{written_date(delivery.received_on)}向本乡镇拨付事项"
        f"“{instance.title}”随事下放的资源：{_words(delivery)}。请核实，到位后在事项页面登记收到。"
    )
    tell(session, [township.id], instance.id, "resources_sent", message, now)
    return Entry("resources_sent", None, _payload(township, delivery))


def _payload(township: Organization, delivery: ResourceDelivery) -> dict[str, Any]:
    return {
        "township": township.code,
        "on": delivery.received_on.isoformat(),
        "funding_yuan": delivery.funding_yuan,
        "staff": delivery.staff,
        "powers_in_place": delivery.powers_in_place,
    }


def _received(
    session: Session,
    instance: Instance,
    township: Organization,
    matter: Matter,
    delivery: ResourceDelivery,
    now: datetime,
) -> list[Entry]:
    matter.funding_received_yuan += delivery.funding_yuan
    matter.staff_received += delivery.staff
    matter.powers_received = matter.powers_received or delivery.powers_in_place
    still_owed = owed(matter)
    closed = not matter.resources_received and not still_owed
    matter.resources_received = not still_owed
    message = (
        f"{township.name}登记：事项“{instance.title}”随事下放的资源于"
        f"{written_date(delivery.received_on)}到位{_words(delivery)}。"
    )
    if still_owed:
        message += f"尚缺{'、'.join(still_owed)}"
        if matter.shortfall_due is not None:
            message += f"，须于{written_date(matter.shortfall_due)}前（含当日）补齐"
        message += "。"
    else:
        message += "应下放该乡镇的资源已全部到位。"
    tell(session, [instance.applicant_org_id], instance.id, "resources_delivered", message, now)
    payload = {**_payload(township, delivery), "all_in_place": not still_owed}
    entries = [Entry("resources_delivered", None, payload)]
    if closed:
        entries.append(Entry("shortfall_closed", None, {"township": township.code}))
    return entries


def of_instance(ctx: Context, actor: Actor, instance_id: int) -> list[TownshipResources]:
    """Each township's resources for the matter, as far as the caller reads the matter: a
    township its own entry; the applicant and the county offices every township's."""
    with ctx.db.read() as session:
        instance, _ = commands.visible_instance(session, instance_id, actor, lock=False)
        query = select(Matter).where(Matter.instance_id == instance.id)
        if instance.applicant_org_id != actor.org_id and not actor.roles & COUNTY_WIDE_READERS:
            query = query.where(Matter.township_org_id == actor.org_id)
        rows = list(session.scalars(query.order_by(Matter.id)))
        if not rows:
            return []
        return _views(session, ctx, rows, ctx.calendar.local(ctx.clock.now()).date())


def _views(
    session: Session, ctx: Context, rows: list[Matter], today: date
) -> list[TownshipResources]:
    orgs = ctx.names.orgs(session, [r.township_org_id for r in rows])
    deliveries: dict[int, list[Delivery]] = {r.id: [] for r in rows}
    for d in session.scalars(
        select(ResourceDelivery)
        .where(ResourceDelivery.matter_id.in_(list(deliveries)))
        .order_by(ResourceDelivery.received_on, ResourceDelivery.id)
    ):
        deliveries[d.matter_id].append(
            Delivery(
                d.kind,
                d.received_on,
                d.funding_yuan,
                d.staff,
                d.powers_in_place,
                d.note,
                d.recorded_at,
            )
        )
    return [
        TownshipResources(
            township=orgs[r.township_org_id],
            status=r.status,
            funding_yuan=r.funding_yuan,
            staff=r.staff,
            powers=r.powers,
            funding_source=r.funding_source,
            funding_paid_by=r.funding_paid_by,
            funding_sent_yuan=sum(d.funding_yuan for d in deliveries[r.id] if d.kind == "sent"),
            staff_sent=sum(d.staff for d in deliveries[r.id] if d.kind == "sent"),
            funding_received_yuan=r.funding_received_yuan,
            staff_received=r.staff_received,
            powers_received=r.powers_received,
            resources_received=r.resources_received,
            owed=owed(r),
            shortfall_due=r.shortfall_due if not r.resources_received else None,
            shortfall_overdue=shortfall_overdue(r, today),
            shortfall_escalated_at=r.shortfall_escalated_at,
            deliveries=deliveries[r.id],
        )
        for r in rows
    ]


def shortfall_overdue(matter: Matter, today: date) -> bool:
    return (
        matter.status == "in_force"
        and not matter.resources_received
        and matter.shortfall_due is not None
        and matter.shortfall_due < today
    )


# --- the worker escalates what is overdue ---------------------------------------------------


def escalate_due(ctx: Context, now: datetime | None = None) -> int:
    """Escalate every open shortfall past its last day that was not escalated; how many.
    Exactly once, across workers: the instance is locked first (as every command locks it)
    and the entry's `shortfall_escalated_at` is checked and set under that lock."""
    now = now or ctx.clock.now()
    today = ctx.calendar.local(now).date()
    with ctx.db.read() as session:
        due = session.execute(
            select(Matter.id, Matter.instance_id)
            .where(
                Matter.status == "in_force",
                Matter.resources_received.is_(False),
                Matter.shortfall_due.is_not(None),
                Matter.shortfall_due < today,
                Matter.shortfall_escalated_at.is_(None),
            )
            .order_by(Matter.shortfall_due)
            .limit(ESCALATE_BATCH)
        ).all()
    escalated = 0
    for matter_id, instance_id in due:
        with ctx.db.write() as session:
            escalated += _escalate(session, matter_id, instance_id, today, now)
    return escalated


def _escalate(
    session: Session, matter_id: int, instance_id: int, today: date, now: datetime
) -> int:
    instance = session.get(Instance, instance_id, with_for_update=True)
    matter = session.get(Matter, matter_id, populate_existing=True)
    if (
        instance is None
        or matter is None
        or matter.shortfall_escalated_at is not None
        or not shortfall_overdue(matter, today)
    ):
        return 0  # delivered, exited, or escalated by another worker meanwhile
    assert matter.shortfall_due is not None
    township = session.get(Organization, matter.township_org_id)
    assert township is not None
    message = (
        f"督办：事项“{instance.title}”随事下放{township.name}的资源应于"
        f"{written_date(matter.shortfall_due)}前补齐，逾期仍缺{'、'.join(owed(matter))}。"
    )
    told = [
        *orgs_with_role(session, GATEKEEPER_ROLE, instance.county_id),
        instance.applicant_org_id,
        township.id,
    ]
    tell(session, told, instance.id, "shortfall_escalated", message, now)
    matter.shortfall_escalated_at = now
    payload = {
        "township": township.code,
        "shortfall_due": matter.shortfall_due.isoformat(),
        "owed": owed(matter),
        "told": org_codes(session, told),
    }
    commands.record(
        session, instance, None, "system", [Entry("shortfall_escalated", None, payload)], now
    )
    return 1
