"""Which accountability cases concern a caller (the person, or a user of the unit concerned)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.accountability.models_cases import AccountabilityCase
from engine.authz import CASE_HANDLING_ROLES, Actor, InstanceScope
from engine.models import Instance, Task


def cases_concerning(scope: InstanceScope) -> Any:
    """A SELECT of the ids of the cases whose subject is the caller or the caller's unit."""
    concerns = AccountabilityCase.subject_user_id == scope.case_party_user_id
    if scope.case_party_org_id is not None:
        concerns = concerns | (
            (AccountabilityCase.subject_kind == "unit")
            & (AccountabilityCase.subject_org_id == scope.case_party_org_id)
        )
    return select(AccountabilityCase.id).where(concerns)


def case_procedures_visible(session: Session, scope: InstanceScope) -> list[Any]:
    """The accountability procedures a caller may find in the instance search: every case's
    for its readers, otherwise those of the few cases that concern the caller."""
    if scope.all_cases:
        return [Instance.case_id.is_not(None)]
    own_cases = list(session.scalars(cases_concerning(scope)))
    return [Instance.case_id.in_(own_cases)] if own_cases else []


def recusal(role: str, actor: Actor) -> Any:
    """回避: the case-handling roles never see the tasks of the caller's own case, or of a case
    concerning the caller's organisation."""
    if role not in CASE_HANDLING_ROLES:
        return None
    return (
        select(Instance.id)
        .join(AccountabilityCase, AccountabilityCase.id == Instance.case_id)
        .where(
            Instance.id == Task.instance_id,
            or_(
                AccountabilityCase.subject_user_id == actor.user_id,
                AccountabilityCase.subject_org_id == actor.org_id,
            ),
        )
        .exists()
    )
