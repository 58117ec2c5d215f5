"""The pre-check of an application: each target township's duty lists and its other matters."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.authz import COUNTY_WIDE_READERS, Actor
from engine.duty_lists.catalog import (
    ItemRef,
    MatterRef,
    PreCheck,
    Thresholds,
    effective_items,
    local_today,
    precheck,
)
from engine.duty_lists.models_catalog import DutyItem, DutyItemRemoval, DutyListStamp
from engine.duty_lists.services.catalog import county_of
from engine.errors import Forbidden
from engine.models import Instance, InstanceTownship, Matter, Organization
from engine.workflow.context import Context
from engine.workflow.forms import form_for_start
from engine.workflow.services import commands
from engine.workflow.services.deployments import current_deployment, diagram_of

PROCESS_ID = "matter_admission"
# Lists an application is checked against (village own/assist lists say nothing about it).
CHECKED_LISTS = ("basic", "assisting", "taken_back", "negative")
# Where the justification for missing resources is read from, when the form carries one.
JUSTIFICATION_KEY = "resources_justification"
ITEM_COLUMNS = (
    "id",
    "scope_org_id",
    "status",
    "effective_from",
    "effective_to",
    "code",
    "name",
    "list_type",
    "category",
    "responsible_body",
)


def run_precheck(
    session: Session,
    ctx: Context,
    application: Mapping[str, Any],
    townships: Sequence[Organization],
    exclude_instance_id: int | None = None,
) -> PreCheck:
    """Pre-check a validated application (as the start form stores it) for its townships (as
    the caller resolved them, in the application's order), inside the caller's transaction.
    `exclude_instance_id`: the instance being resubmitted, which must not count as its own
    duplicate."""
    return precheck(
        application,
        _effective_lists(session, ctx, townships),
        _other_matters(session, ctx, townships, exclude_instance_id),
        {org.code: org.name for org in townships},
        Thresholds.from_settings(ctx.settings),
    )


@dataclass(frozen=True)
class CountyLists:
    """A county's checked lists as read under `stamp`: its active items by whose list they are
    on (the county's template, each township's additions), and each township's removals."""

    stamp: str
    by_scope: dict[int, list[Any]]
    removed: dict[int, frozenset[int]]
    # Each township's effective list today, as the findings name its items: worked out once per
    # township and day while the stamp holds (only today's are kept).
    effective: dict[tuple[int, date], list[ItemRef]] = field(default_factory=dict)

    def township_list(self, county_id: int, township_id: int, today: date) -> list[ItemRef]:
        key = (township_id, today)
        found = self.effective.get(key)
        if found is None:
            if any(day != today for _, day in list(self.effective)):
                self.effective.clear()  # a new day: yesterday's lists are done with
            items = self.by_scope.get(county_id, []) + self.by_scope.get(township_id, [])
            removed = self.removed.get(township_id, frozenset())
            found = [
                ItemRef(i.id, i.code, i.name, i.list_type, i.category, i.responsible_body)
                for i in effective_items(items, county_id, township_id, removed, today)
            ]
            self.effective[key] = found  # the same list whichever thread wins
        return found


# Per database and county, in this process. Each filing reads the county's stamp (one row by
# key) and reuses the lists read under it; any change draws a new stamp (models_catalog). At
# most _LISTS_KEPT counties (a city has a few dozen), the least recently read going first.
_LISTS: OrderedDict[tuple[str, int], CountyLists] = OrderedDict()
_LISTS_KEPT = 64
_LISTS_LOCK = threading.Lock()


_STAMP = select(DutyListStamp.stamp).where(DutyListStamp.county_id == bindparam("county"))


def county_lists(session: Session, ctx: Context, county_id: int) -> CountyLists:
    """The county's lists: from memory while their stamp is the stored one, else read afresh
    (the stamp first, so lists read after a change are never kept under the older stamp)."""
    stamp = session.connection().execute(_STAMP, {"county": county_id}).scalar()
    key = (ctx.settings.database_url, county_id)
    kept = _LISTS.get(key)
    if kept is not None and stamp is not None and kept.stamp == stamp:
        with _LISTS_LOCK:
            if key in _LISTS:
                _LISTS.move_to_end(key)
        return kept
    members = select(Organization.id).where(Organization.county_id == county_id)
    # Plain rows, not ORM objects.
    columns = [getattr(DutyItem, name) for name in ITEM_COLUMNS]
    by_scope: dict[int, list[Any]] = {}
    for row in session.execute(
        select(*columns).where(
            DutyItem.scope_org_id.in_(members),
            DutyItem.status == "active",
            DutyItem.list_type.in_(CHECKED_LISTS),
        )
    ):
        by_scope.setdefault(row.scope_org_id, []).append(row)
    removed: dict[int, set[int]] = {}
    for item_id, org_id in session.execute(
        select(DutyItemRemoval.item_id, DutyItemRemoval.township_org_id).where(
            DutyItemRemoval.township_org_id.in_(members)
        )
    ):
        removed.setdefault(org_id, set()).add(item_id)
    found = CountyLists(
        stamp or "", by_scope, {org: frozenset(ids) for org, ids in removed.items()}
    )
    if stamp is not None:
        with _LISTS_LOCK:
            _LISTS[key] = found
            _LISTS.move_to_end(key)
            while len(_LISTS) > _LISTS_KEPT:
                _LISTS.popitem(last=False)
    return found


def _effective_lists(
    session: Session, ctx: Context, townships: Sequence[Organization]
) -> dict[str, list[ItemRef]]:
    today = local_today(ctx.clock.now(), ctx.settings.timezone)
    found: dict[str, list[ItemRef]] = {}
    counties: dict[int, CountyLists] = {}  # the stamp read once per county, not per township
    for org in townships:
        county = org.county_id if org.county_id is not None else county_of(session, org.id).id
        if county not in counties:
            counties[county] = county_lists(session, ctx, county)
        found[org.code] = counties[county].township_list(county, org.id, today)
    return found


def _on_townships(key: Any, name: Any, township: Any, standing: Any, joined: Any) -> Any:
    """(instance id, name, township, applicant) of the matters of one standing on the
    townships asked for, less the one to exclude: built once (building a statement costs more
    than running it), and run as plain rows. The instance to exclude is a resubmission's own;
    ids start at 1, so 0 excludes none."""
    return (
        select(key, name, township, Instance.applicant_org_id)
        .join(*joined)
        .where(
            standing,
            township.in_(bindparam("townships", expanding=True)),
            key != bindparam("exclude"),
        )
    )


_IN_FORCE = _on_townships(
    Matter.instance_id,
    Matter.name,
    Matter.township_org_id,
    Matter.status == "in_force",
    (Instance, Instance.id == Matter.instance_id),
)
_PENDING = _on_townships(
    Instance.id,
    Instance.title,
    InstanceTownship.org_id,
    Instance.status == "pending",
    (InstanceTownship, InstanceTownship.instance_id == Instance.id),
)


def _other_matters(
    session: Session, ctx: Context, townships: Sequence[Organization], exclude: int | None
) -> list[MatterRef]:
    """Matters in force on these townships' registers, and applications pending for them."""
    params = {"townships": [org.id for org in townships], "exclude": exclude or 0}
    connection = session.connection()
    found: dict[int, dict[str, Any]] = {}
    for status, query in (("in_force", _IN_FORCE), ("pending", _PENDING)):
        for instance_id, name, township_id, applicant_id in connection.execute(query, params):
            entry = found.setdefault(
                instance_id,
                {"name": name, "status": status, "applicant": applicant_id, "townships": []},
            )
            entry["townships"].append(township_id)
    orgs = ctx.names.orgs(
        session, [e["applicant"] for e in found.values()] + [org.id for org in townships]
    )
    return [
        MatterRef(
            instance_id=instance_id,
            name=e["name"],
            status=e["status"],
            applicant_code=orgs[e["applicant"]].code,
            applicant_name=orgs[e["applicant"]].name,
            townships=tuple(sorted(orgs[t].code for t in set(e["townships"]))),
        )
        for instance_id, e in sorted(found.items())
    ]


def check_application(
    ctx: Context, actor: Actor, body: Any, instance_id: int | None = None
) -> dict[str, Any]:
    """预检: what filing this application would run into, before (or without) filing it.
    `instance_id`: the caller's own pending application that this one revises."""
    if not (actor.has("applicant") or actor.roles & COUNTY_WIDE_READERS):
        raise Forbidden("预检需要“申请单位”或县级审核、审批、监督角色")
    with ctx.db.read() as session:
        # The application form of the version a new application would be filed on.
        deployment = current_deployment(session, PROCESS_ID)
        values = form_for_start(diagram_of(session, ctx, deployment.id)).validate(body)
        townships = commands.resolve_townships(session, actor.county_id, values["townships"])
        if instance_id is not None:
            commands.visible_instance(session, instance_id, actor, lock=False)
        result = run_precheck(session, ctx, values, townships, instance_id)
        codes = [org.code for org in townships]
    refusal = result.refusal(str(values.get(JUSTIFICATION_KEY) or ""))
    return {
        **result.to_dict(),
        "townships": codes,
        "can_submit": refusal is None,
        "refusal": refusal.message if refusal else None,
    }
