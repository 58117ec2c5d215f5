"""挂牌、工作机制、证明事项: what villages may be asked to hang, run or certify is a list
(`signboard`, `mechanism`, `certificate`), and an addition passes the gate
(bpmn/listing_admission).

Filing, what the department asks is judged against the county's lists as the pre-check judges
a matter: anything on the negative list (证明事项 villages must not issue) is refused at
filing, naming the item; anything already on its list needs no filing and is refused saying
so. 县委编办 approves or refuses the rest; approved, `lists.add` puts it on the county's list
(every township's villages inherit it), on the instance's trail with the item's content.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import Actor
from engine.duty_lists.catalog import LIST_LABELS, Thresholds, normalize, similarity
from engine.duty_lists.models_catalog import DutyItem
from engine.duty_lists.services.catalog import county_of, next_code, snapshot
from engine.errors import InvalidInput
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import OperationFailed, register_operation, text
from engine.workflow.processes import GENERIC, Start, register
from engine.workflow.services.commands import Loaded
from engine.workflow.specs import Diagram

PROCESS_ID = "listing_admission"
KINDS = ("signboard", "mechanism", "certificate")
CATEGORIES = {"signboard": "挂牌", "mechanism": "工作机制", "certificate": "证明事项"}
RESPONSIBLE = "村（居）民委员会"


def start(
    session: Session, ctx: Context, diagram: Diagram, form: Any, body: Any, actor: Actor
) -> Start:
    """As any package's start; what the negative list forbids, or the list already has, is
    refused before anything is stored."""
    started = GENERIC.start(session, ctx, diagram, form, body, actor)
    values = started.trail["form"]
    kind, name = str(values.get("kind")), str(values.get("name") or "")
    county = county_of(session, actor.org_id)
    thresholds = Thresholds.from_settings(ctx.settings)
    wanted = normalize(name)
    items = session.scalars(
        select(DutyItem).where(
            DutyItem.scope_org_id == county.id,
            DutyItem.status == "active",
            DutyItem.list_type.in_(("negative", kind)),
        )
    ).all()
    for item in items:
        score = similarity(wanted, normalize(item.name), thresholds.min_chars)
        if item.list_type == "negative" and score >= thresholds.negative:
            raise InvalidInput(
                "属于负面清单事项，不得要求村（社区）办理",
                {
                    "name": [
                        f"“{item.name}”在{LIST_LABELS['negative']}中（编码 {item.code}）："
                        "不得要求村（社区）出具或承担"
                    ]
                },
            )
        if item.list_type == kind and score >= thresholds.duplicate:
            raise InvalidInput(
                "清单中已有，无需报批",
                {"name": [f"{LIST_LABELS[kind]}中已有“{item.name}”（编码 {item.code}），无需报批"]},
            )
    return started


def add(
    session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
) -> list[Entry]:
    """列入清单: the approved item on the county's list of its kind."""
    kind = text(parameters, "kind")
    if kind not in KINDS:
        raise OperationFailed(f"清单类别无效：{kind}")
    county = county_of(session, loaded.instance.applicant_org_id)
    item = DutyItem(
        scope_org_id=county.id,
        code=next_code(session, county.id, kind),
        list_type=kind,
        category=CATEGORIES[kind],
        name=text(parameters, "name")[:200],
        description=text(parameters, "content")[:2000],
        responsible_body=RESPONSIBLE,
        cooperating_department=ctx.names.orgs(session, [loaded.instance.applicant_org_id])[
            loaded.instance.applicant_org_id
        ].name,
        basis=text(parameters, "basis")[:2000],
        status="active",
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return [Entry("duty_item_created", None, snapshot(item, county.code))]


LISTINGS = replace(GENERIC, start=start, end_statuses=frozenset({"listed", "refused"}))


def register_processes() -> None:
    register(PROCESS_ID, LISTINGS)
    register_operation(
        "lists.add",
        add,
        label="列入村（社区）清单",
        parameters=("kind", "name", "content", "basis"),
    )
