"""The county a row belongs to, as a query condition.

One deployment may serve a city and its counties. Each organisation knows its county
(`Organization.county_id`: itself for a county, None for the city and its offices) and each
instance its filer's (`Instance.county_id`); every read and every step stays within the caller's
county. These conditions are how queries say so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from engine.models import Instance, Organization


def instance_in(county_id: int | None) -> ColumnElement[bool]:
    """Instances of the county (a city office: the city's own filings, which have none)."""
    if county_id is None:
        return Instance.county_id.is_(None)
    return Instance.county_id == county_id


def org_in(column: Any, county_id: int | None) -> ColumnElement[bool]:
    """Rows whose organisation `column` is of the county."""
    if county_id is None:
        members = select(Organization.id).where(Organization.county_id.is_(None))
    else:
        members = select(Organization.id).where(Organization.county_id == county_id)
    return column.in_(members)
