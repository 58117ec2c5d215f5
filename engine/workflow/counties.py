"""The county a row belongs to, as a query condition.

One deployment may serve a city and its counties. Each organisation knows its county
(`Organization.county_id`: itself for a county, None for the city and its offices) and each
instance its filer's (`Instance.county_id`); every read and every step stays within the caller's
county. These conditions are how queries say so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select, true

from engine.authz import Actor
from engine.models import Instance, Organization


def instance_in(county_id: int | None) -> ColumnElement[bool]:
    """Instances of the county (a city office: the city's own filings, which have none)."""
    return of_county(Instance.county_id, county_id)


def of_county(column: Any, county_id: int | None) -> ColumnElement[bool]:
    """Rows whose county `column` (a row's own copy of its county) is `county_id`."""
    if county_id is None:
        return column.is_(None)
    return column == county_id


def city_counties(city_id: int | None) -> Select[tuple[int]]:
    """The ids of the counties under a city (none without one)."""
    return select(Organization.id).where(
        Organization.level == "county", Organization.parent_id == city_id
    )


def org_in(column: Any, county_id: int | None) -> ColumnElement[bool]:
    """Rows whose organisation `column` is of the county."""
    if county_id is None:
        members = select(Organization.id).where(Organization.county_id.is_(None))
    else:
        members = select(Organization.id).where(Organization.county_id == county_id)
    return column.in_(members)


# Administrators: a county's keep the running of its county's instances (incidents, holds,
# migrations, releases); the city's, who run the platform for every county, keep all of them.


def administers(actor: Actor | None, county_id: int | None) -> bool:
    """Whether the administrator `actor` (None: the platform's CLI) keeps an instance of the
    county."""
    return actor is None or actor.county_id is None or actor.county_id == county_id


def administered(actor: Actor | None) -> ColumnElement[bool]:
    """The instances the administrator `actor` keeps, as a condition."""
    if actor is None or actor.county_id is None:
        return true()
    return Instance.county_id == actor.county_id
