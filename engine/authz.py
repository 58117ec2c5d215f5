"""Pure access policy: who may see an instance, who may take a task. No database here."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from engine.errors import Forbidden

ROLE_LABELS: dict[str, str] = {
    "applicant": "申请单位",
    "reviewer": "审核（县委编办）",
    "legal_reviewer": "合法性审查（司法局）",
    "approver": "审批（县委县政府）",
    "township": "乡镇（街道）",
    "auditor": "审计监督",
    "admin": "平台管理员",
    "cadre": "干部（当事人）",
    "discipline": "纪检监察（县纪委监委承办）",
    "case_review": "案件审理（县纪委监委）",
    "organization": "组织部门（县委组织部）",
}
ROLES = frozenset(ROLE_LABELS)

# County offices that act on every matter of the county, so they read every matter.
COUNTY_WIDE_READERS = frozenset({"reviewer", "legal_reviewer", "approver", "auditor"})
# Roles that judge an application: never on one filed by their own organisation.
JUDGING_ROLES = frozenset({"reviewer", "legal_reviewer", "approver"})
# Roles whose tasks belong to one organisation (the applicant, the addressed township); the
# other task roles are county offices, whose tasks any holder of the role may take.
ORG_SCOPED_ROLES = frozenset({"applicant", "township"})
TASK_ROLES = JUDGING_ROLES | ORG_SCOPED_ROLES


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, as every use case receives it."""

    user_id: int
    username: str
    org_id: int
    org_code: str
    org_name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class InstanceScope:
    """Which instances a caller may read; services turn this into a query filter."""

    everything: bool
    applicant_org_id: int | None
    township_org_id: int | None

    @property
    def nothing(self) -> bool:
        return (
            not self.everything and self.applicant_org_id is None and (self.township_org_id is None)
        )


def instance_scope(actor: Actor) -> InstanceScope:
    return InstanceScope(
        everything=bool(actor.roles & COUNTY_WIDE_READERS),
        applicant_org_id=actor.org_id if actor.has("applicant") else None,
        township_org_id=actor.org_id if actor.has("township") else None,
    )


def can_see_instance(
    actor: Actor, applicant_org_id: int, township_org_ids: Collection[int]
) -> bool:
    scope = instance_scope(actor)
    return (
        scope.everything
        or scope.applicant_org_id == applicant_org_id
        or (scope.township_org_id is not None and scope.township_org_id in township_org_ids)
    )


def require_role(actor: Actor, role: str, action: str) -> None:
    if not actor.has(role):
        raise Forbidden(f"{action}需要“{ROLE_LABELS.get(role, role)}”角色")


def check_take_task(
    actor: Actor,
    *,
    role: str,
    org_id: int | None,
    assignee_id: int | None,
    applicant_org_id: int,
) -> None:
    """Raise Forbidden unless `actor` may claim or complete a task with these properties."""
    require_role(actor, role, "办理该任务")
    if org_id is not None and org_id != actor.org_id:
        raise Forbidden("该任务属于其他单位")
    if role in JUDGING_ROLES and actor.org_id == applicant_org_id:
        raise Forbidden("职责分离：不得审核或审批本单位提交的事项")
    if assignee_id is not None and assignee_id != actor.user_id:
        raise Forbidden("该任务已由他人认领")
