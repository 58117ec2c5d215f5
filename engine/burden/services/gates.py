"""What the burden gates share: the townships a service task names, a short reason or note
typed by a person, and who reads a gate's rows (a township its own, an office what it runs,
the county offices everything)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.authz import COUNTY_WIDE_READERS, Actor
from engine.errors import InvalidInput
from engine.models import Organization, User
from engine.workflow.counties import org_in
from engine.workflow.fields import char_problem
from engine.workflow.operations import OperationFailed


def named_townships(
    session: Session, county_id: int | None, parameters: dict[str, Any]
) -> list[Organization]:
    """The townships a service task's `townships` parameter names (codes), all of them known
    townships of the instance's county."""
    codes = parameters.get("townships")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise OperationFailed("townships 应为乡镇代码的列表")
    townships = session.scalars(
        select(Organization).where(
            Organization.code.in_(codes),
            Organization.level == "township",
            Organization.county_id == county_id,
        )
    ).all()
    if len(townships) != len(set(codes)):
        raise OperationFailed(f"未知乡镇：{'、'.join(codes)}")
    return list(townships)


def acting_departments(
    session: Session, county_id: int | None, codes: list[str] | None = None
) -> list[Organization]:
    """The county's departments in use that act for themselves (at least one active person in
    the applicant role): those a need is routed to or a township rates — never an office
    nobody could answer for. All of them, or those of `codes`."""
    query = select(Organization).where(
        Organization.level == "department",
        Organization.active.is_(True),
        Organization.county_id == county_id,
    )
    if codes is not None:
        query = query.where(Organization.code.in_(codes))
    found = session.scalars(query.order_by(Organization.id)).all()
    people = session.execute(
        select(User.org_id, User.roles).where(
            User.active.is_(True), User.org_id.in_([org.id for org in found])
        )
    )
    acting = {org_id for org_id, roles in people if "applicant" in (roles or [])}
    return [org for org in found if org.id in acting]


def named_departments(
    session: Session, county_id: int | None, codes: list[str], field: str
) -> list[Organization]:
    """The departments `codes` name, in that order, each one of the county that acts for
    itself; any other code is an error on `field`."""
    found = {org.code: org for org in acting_departments(session, county_id, codes)}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise InvalidInput(
            "部门有误", {field: [f"不是本县承办业务的县直部门：{'、'.join(unknown)}"]}
        )
    return [found[code] for code in codes]


def typed_text(value: Any, field: str, maximum: int, required: bool, missing: str) -> str:
    """A reason or note as a person typed it: trimmed, within `maximum`, no control characters;
    `missing` says what to write when a required one is empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("填写有误", {field: ["应为文字"]})
    value = value.strip()
    if required and not value:
        raise InvalidInput("填写有误", {field: [missing]})
    if len(value) > maximum or char_problem(value):
        raise InvalidInput("填写有误", {field: [f"不超过 {maximum} 字，且不含控制字符"]})
    return value


def county_office(session: Session, actor: Actor, org_id: int) -> bool:
    """Whether `actor` reads the rows of organisation `org_id` as one of its county's offices
    (county-wide readers read every row of their own county, none of another's)."""
    if not actor.roles & COUNTY_WIDE_READERS or actor.county_id is None:
        return False
    org = session.get(Organization, org_id)
    return org is not None and org.county_id == actor.county_id


def scoped(
    session: Session,
    query: Select[Any],
    actor: Actor,
    township_column: InstrumentedAttribute[int],
    office_column: InstrumentedAttribute[int],
    township: str | None,
) -> Select[Any]:
    """`query` as `actor` may read it: a township the rows on it, the county offices every
    township's of their county (or the one `township` names), any other office the rows it
    runs."""
    if township is not None and (problem := char_problem(township)):
        raise InvalidInput("筛选条件有误", {"township": [problem]})
    if actor.has("township"):
        query = query.where(township_column == actor.org_id)
    elif actor.roles & COUNTY_WIDE_READERS and actor.county_id is not None:
        query = query.where(org_in(township_column, actor.county_id))
    else:
        query = query.where(office_column == actor.org_id)
    if township:
        org_id = session.scalar(select(Organization.id).where(Organization.code == township))
        query = query.where(township_column == (org_id or -1))
    return query
