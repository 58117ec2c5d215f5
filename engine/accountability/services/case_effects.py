"""What the accountability procedures' decisions mean for their case: results written on the case
record, written notices to the person or unit concerned and to the organisation department.

The counterpart of register.py for admission: a completed step of a case procedure, by its id,
becomes domain facts in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accountability.cases import label
from engine.accountability.forms_accountability import CLEARANCE_METHODS
from engine.accountability.forms_accountability import OUTCOMES as TOLERANCE_OUTCOMES
from engine.accountability.models_cases import AccountabilityCase
from engine.models import Instance, Notification, Organization
from engine.workflow.audit import Entry
from engine.workflow.services.timers import orgs_with_role


class _Effect:
    def __init__(
        self, session: Session, instance: Instance, case: AccountabilityCase, now: datetime
    ):
        self.session, self.instance, self.case, self.now = session, instance, case, now
        self.told: list[int] = []

    def tell_party(self, kind: str, message: str) -> None:
        """A written notice to the person concerned (only them) or to the unit concerned."""
        user_id = self.case.subject_user_id if self.case.subject_kind == "person" else None
        self._notify(self.case.subject_org_id, user_id, kind, message)

    def tell_organization_department(self, kind: str, message: str) -> None:
        for org_id in orgs_with_role(self.session, "organization"):
            self._notify(org_id, None, kind, message)

    def _notify(self, org_id: int, user_id: int | None, kind: str, message: str) -> None:
        self.session.add(
            Notification(
                org_id=org_id,
                user_id=user_id,
                instance_id=self.instance.id,
                kind=kind,
                message=message,
                created_at=self.now,
            )
        )
        self.told.append(org_id)

    def entry(self, task: str, payload: dict[str, Any]) -> Entry:
        codes = self.session.scalars(
            select(Organization.code).where(Organization.id.in_(self.told))
        ).all()
        return Entry("case_updated", task, {**payload, "told": sorted(set(codes))})

    @property
    def about(self) -> str:
        return f"案件{self.case.case_no}（{self.case.subject_name}）"


def _tolerance_refused(fx: _Effect, values: dict[str, Any], data: dict[str, Any]) -> list[Entry]:
    if values.get("decision") != "refuse":
        return []
    fx.tell_party(
        "tolerance_refused",
        f"关于{fx.about}的容错申请不予受理。说明：{values.get('explanation', '')}",
    )
    return [fx.entry("ft_accept", {"tolerance": "refused"})]


def _outcome_recorded(fx: _Effect, outcome: str, task: str, text: str) -> list[Entry]:
    fx.case.tolerance_outcome = outcome
    fx.case.updated_at = fx.now
    fx.tell_party("tolerance_decided", text)
    fx.tell_organization_department(
        "tolerance_decided", f"{fx.about}容错认定结果：{label(TOLERANCE_OUTCOMES, outcome)}。"
    )
    return [fx.entry(task, {"tolerance_outcome": outcome})]


def _tolerance_decided(fx: _Effect, values: dict[str, Any], data: dict[str, Any]) -> list[Entry]:
    outcome = values["outcome"]
    text = (
        f"关于{fx.about}的容错认定结果：{label(TOLERANCE_OUTCOMES, outcome)}。"
        f"理由：{values.get('reasoning', '')}"
    )
    if values.get("rectification_required"):
        deadline, items = values.get("rectification_deadline"), values.get("rectification_items")
        text += f" 须于{deadline}前完成整改：{items}"
    text += " 如不服，可在规定期限内提出申诉；申诉期间不停止认定结果的执行。"
    return _outcome_recorded(fx, outcome, "ft_decide", text)


def _appeal_decided(fx: _Effect, values: dict[str, Any], data: dict[str, Any]) -> list[Entry]:
    if values.get("decision") != "changed":
        fx.tell_party(
            "appeal_decided",
            f"关于{fx.about}的申诉复查决定：维持原认定。理由：{values.get('reasoning', '')}",
        )
        return [fx.entry("ft_appeal_decide", {"appeal": "upheld"})]
    outcome = values["outcome"]
    text = (
        f"关于{fx.about}的申诉复查决定：变更为{label(TOLERANCE_OUTCOMES, outcome)}。"
        f"理由：{values.get('reasoning', '')}"
    )
    return _outcome_recorded(fx, outcome, "ft_appeal_decide", text)


def _clearance_refused(
    task: str,
) -> Callable[[_Effect, dict[str, Any], dict[str, Any]], list[Entry]]:
    refusals = {"cl_eligibility": "ineligible", "cl_approve": "refuse"}

    def effect(fx: _Effect, values: dict[str, Any], data: dict[str, Any]) -> list[Entry]:
        if values.get("decision") != refusals[task]:
            return []
        fx.tell_party(
            "clearance_refused",
            f"关于{fx.about}的澄清正名申请不予办理。说明：{values.get('explanation', '')}",
        )
        return [fx.entry(task, {"clearance": "refused"})]

    return effect


def _cleared(fx: _Effect, values: dict[str, Any], data: dict[str, Any]) -> list[Entry]:
    method = values["method"]
    fx.case.cleared_at = fx.now
    fx.case.clearance_method = method
    fx.case.updated_at = fx.now
    points = "；".join(values.get("points_cleared") or [])
    fx.tell_party(
        "cleared",
        f"已于{values.get('carried_out_on')}以{label(CLEARANCE_METHODS, method)}方式为{fx.about}"
        f"澄清正名。澄清内容：{points}",
    )
    fx.tell_organization_department(
        "cleared",
        f"{fx.about}反映问题经核查失实，已澄清正名（{label(CLEARANCE_METHODS, method)}），"
        "在选拔任用、评先评优等方面不受影响。",
    )
    return [fx.entry("cl_carry_out", {"cleared": True, "method": method})]


EFFECTS: dict[str, Callable[[_Effect, dict[str, Any], dict[str, Any]], list[Entry]]] = {
    "ft_accept": _tolerance_refused,
    "ft_decide": _tolerance_decided,
    "ft_appeal_decide": _appeal_decided,
    "cl_eligibility": _clearance_refused("cl_eligibility"),
    "cl_approve": _clearance_refused("cl_approve"),
    "cl_carry_out": _cleared,
}


def after_task(
    session: Session,
    instance: Instance,
    case: AccountabilityCase | None,
    bpmn_id: str,
    values: dict[str, Any],
    data: dict[str, Any],
    now: datetime,
) -> list[Entry]:
    """The case-record consequences of a completed step (none for most steps)."""
    effect = EFFECTS.get(bpmn_id)
    if case is None or effect is None:
        return []
    return effect(_Effect(session, instance, case, now), values, data)
