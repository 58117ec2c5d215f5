"""What the accountability procedures' decisions mean for their case: results written on the case
record, written notices to the person or unit concerned and to the organisation department.

The shipped diagrams name these as service tasks (`case.record_tolerance_outcome` after 认定,
and so on), each reading the answer of the step it records through its `decision` parameter.
Versions drawn before effects were service tasks get the same effects after the step, by its id
(`after_task`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.accountability.cases import label
from engine.accountability.forms_accountability import CLEARANCE_METHODS
from engine.accountability.forms_accountability import OUTCOMES as TOLERANCE_OUTCOMES
from engine.accountability.models_cases import AccountabilityCase
from engine.models import Instance
from engine.services.notices import org_codes, tell
from engine.workflow.audit import Entry
from engine.workflow.context import Context
from engine.workflow.operations import OperationFailed, register_operation
from engine.workflow.services.commands import Loaded
from engine.workflow.services.timers import orgs_with_role


class _Effect:
    def __init__(
        self,
        session: Session,
        instance: Instance,
        case: AccountabilityCase,
        now: datetime,
        step: str | None = None,
    ):
        self.session, self.instance, self.case, self.now = session, instance, case, now
        self.step = step  # None: recorded at the service task that ran the effect
        self.told: list[int] = []

    def tell_party(self, kind: str, message: str) -> None:
        """A written notice to the person concerned (only them) or to the unit concerned."""
        user_id = self.case.subject_user_id if self.case.subject_kind == "person" else None
        self._notify(self.case.subject_org_id, user_id, kind, message)

    def tell_organization_department(self, kind: str, message: str) -> None:
        for org_id in orgs_with_role(self.session, "organization", self.instance.county_id):
            self._notify(org_id, None, kind, message)

    def _notify(self, org_id: int, user_id: int | None, kind: str, message: str) -> None:
        tell(self.session, [org_id], self.instance.id, kind, message, self.now, user_id)
        self.told.append(org_id)

    def entry(self, payload: dict[str, Any]) -> Entry:
        told = org_codes(self.session, self.told)
        return Entry("case_updated", self.step, {**payload, "told": told})

    @property
    def about(self) -> str:
        return f"案件{self.case.case_no}（{self.case.subject_name}）"


Effect = Callable[[_Effect, dict[str, Any]], list[Entry]]


def _refused(kind: str, what: str, key: str) -> Effect:
    def effect(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
        fx.tell_party(kind, f"关于{fx.about}的{what}。说明：{values.get('explanation', '')}")
        return [fx.entry({key: "refused"})]

    return effect


_tolerance_refused = _refused("tolerance_refused", "容错申请不予受理", "tolerance")
_clearance_refused = _refused("clearance_refused", "澄清正名申请不予办理", "clearance")


def _outcome_recorded(fx: _Effect, outcome: str, text: str) -> list[Entry]:
    fx.case.tolerance_outcome = outcome
    fx.case.updated_at = fx.now
    fx.tell_party("tolerance_decided", text)
    fx.tell_organization_department(
        "tolerance_decided", f"{fx.about}容错认定结果：{label(TOLERANCE_OUTCOMES, outcome)}。"
    )
    return [fx.entry({"tolerance_outcome": outcome})]


def _tolerance_decided(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
    outcome = values["outcome"]
    text = (
        f"关于{fx.about}的容错认定结果：{label(TOLERANCE_OUTCOMES, outcome)}。"
        f"理由：{values.get('reasoning', '')}"
    )
    if values.get("rectification_required"):
        deadline, items = values.get("rectification_deadline"), values.get("rectification_items")
        text += f" 须于{deadline}前完成整改：{items}"
    text += " 如不服，可在规定期限内提出申诉；申诉期间不停止认定结果的执行。"
    return _outcome_recorded(fx, outcome, text)


def _tolerance_accepted(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
    fx.tell_party("tolerance_accepted", f"关于{fx.about}的容错申请已受理，将进行核实后作出认定。")
    fx.tell_organization_department("tolerance_accepted", f"{fx.about}的容错申请已受理。")
    return [fx.entry({"tolerance": "accepted"})]


def _clearance_approved(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
    method = label(CLEARANCE_METHODS, values.get("method", ""))
    fx.tell_party(
        "clearance_approved",
        f"关于{fx.about}的澄清正名已批准，将以{method}方式澄清，澄清后另行书面告知。",
    )
    fx.tell_organization_department(
        "clearance_approved", f"{fx.about}的澄清正名已批准（{method}），待实施。"
    )
    return [fx.entry({"clearance": "approved"})]


def _appeal_decided(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
    if values.get("decision") != "changed":
        fx.tell_party(
            "appeal_decided",
            f"关于{fx.about}的申诉复查决定：维持原认定。理由：{values.get('reasoning', '')}",
        )
        fx.tell_organization_department("appeal_decided", f"{fx.about}的申诉复查决定：维持原认定。")
        return [fx.entry({"appeal": "upheld"})]
    outcome = values["outcome"]
    text = (
        f"关于{fx.about}的申诉复查决定：变更为{label(TOLERANCE_OUTCOMES, outcome)}。"
        f"理由：{values.get('reasoning', '')}"
    )
    return _outcome_recorded(fx, outcome, text)


def _cleared(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
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
    return [fx.entry({"cleared": True, "method": method})]


def _when(decision: str, effect: Effect) -> Effect:
    """`effect` only when the step decided `decision` (a refusal, on versions whose diagram
    has no service task on the refusal branch)."""

    def guarded(fx: _Effect, values: dict[str, Any]) -> list[Entry]:
        return effect(fx, values) if values.get("decision") == decision else []

    return guarded


# Versions drawn before the effects were service tasks: the effect of a step, by its id.
LEGACY_EFFECTS: dict[str, Effect] = {
    "ft_accept": _when("refuse", _tolerance_refused),
    "ft_decide": _tolerance_decided,
    "ft_appeal_decide": _appeal_decided,
    "cl_eligibility": _when("ineligible", _clearance_refused),
    "cl_approve": _when("refuse", _clearance_refused),
    "cl_carry_out": _cleared,
}


def after_task(
    session: Session,
    instance: Instance,
    case: AccountabilityCase | None,
    bpmn_id: str,
    values: dict[str, Any],
    now: datetime,
) -> list[Entry]:
    """The case-record consequences of a completed step of a legacy version (none for most)."""
    effect = LEGACY_EFFECTS.get(bpmn_id)
    if case is None or effect is None:
        return []
    return effect(_Effect(session, instance, case, now, bpmn_id), values)


def _operation(effect: Effect) -> Callable[..., list[Entry]]:
    """`effect` as an operation: its `decision` parameter is the answer of the step it records."""

    def run(
        session: Session, ctx: Context, loaded: Loaded, parameters: dict[str, Any], now: datetime
    ) -> list[Entry]:
        decision = parameters["decision"]
        if not isinstance(decision, Mapping):
            raise OperationFailed("参数 decision 应为某一步骤的办理结果（如 ft_decision）")
        instance = loaded.instance
        case = session.get(AccountabilityCase, instance.case_id) if instance.case_id else None
        if case is None:
            raise OperationFailed("该流程没有对应的案件")
        return effect(_Effect(session, instance, case, now), dict(decision))

    return run


OPERATIONS = {
    "case.refuse_tolerance": (_operation(_tolerance_refused), "书面告知不予受理容错申请"),
    "case.accept_tolerance": (_operation(_tolerance_accepted), "告知容错申请已受理"),
    "case.approve_clearance": (_operation(_clearance_approved), "告知澄清正名已批准"),
    "case.record_tolerance_outcome": (_operation(_tolerance_decided), "记入容错认定结果并书面告知"),
    "case.record_appeal_decision": (_operation(_appeal_decided), "记入申诉复查决定并书面告知"),
    "case.refuse_clearance": (_operation(_clearance_refused), "书面告知不予澄清正名"),
    "case.record_clearance": (_operation(_cleared), "记入澄清正名并书面告知"),
}


def register_operations() -> None:
    """Offer the case effects to diagrams as operations (registering again is harmless)."""
    for name, (run, label_text) in OPERATIONS.items():
        register_operation(name, run, label=label_text, parameters=("decision",))
