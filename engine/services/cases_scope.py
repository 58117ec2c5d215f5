"""Which accountability cases concern a caller (the person, or a user of the unit concerned)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.authz import InstanceScope
from engine.models_cases import AccountabilityCase


def cases_concerning(scope: InstanceScope) -> Any:
    """A SELECT of the ids of the cases whose subject is the caller or the caller's unit."""
    concerns = AccountabilityCase.subject_user_id == scope.case_party_user_id
    if scope.case_party_org_id is not None:
        concerns = concerns | (
            (AccountabilityCase.subject_kind == "unit")
            & (AccountabilityCase.subject_org_id == scope.case_party_org_id)
        )
    return select(AccountabilityCase.id).where(concerns)
