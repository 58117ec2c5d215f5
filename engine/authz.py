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
    "social_work": "基层治理协调（县委社会工作部）",
}
ROLES = frozenset(ROLE_LABELS)

# County offices that act on every matter of the county, so they read every matter.
COUNTY_WIDE_READERS = frozenset({"reviewer", "legal_reviewer", "approver", "auditor"})
# Roles that judge an application: never on one filed by their own organisation.
JUDGING_ROLES = frozenset({"reviewer", "legal_reviewer", "approver"})
# Roles whose tasks belong to one organisation (the applicant, the addressed township, the unit
# or person concerned by a case); the other task roles are county offices, whose tasks any
# holder of the role may take.
ORG_SCOPED_ROLES = frozenset({"applicant", "township", "cadre"})
# Accountability cases (docs/accountability.md): the organs that handle them read every case and
# take its handling tasks; auditors read every case; the person concerned, or for a unit its
# users, read their own case and apply; nobody else reads a case at all.
CASE_HANDLING_ROLES = frozenset({"discipline", "case_review", "organization"})
CASE_READERS = CASE_HANDLING_ROLES | {"auditor"}
CASE_PARTY_ROLES = frozenset({"cadre", "township", "applicant"})
# The handling organs that open cases and propose clearance (case review only decides).
CASE_OPENING_ROLES = ("discipline", "organization")
# County offices that coordinate (the social-work department grades and supervises townships'
# needs): neither judging applications nor reading every matter.
COORDINATING_ROLES = frozenset({"social_work"})
TASK_ROLES = JUDGING_ROLES | ORG_SCOPED_ROLES | CASE_HANDLING_ROLES | COORDINATING_ROLES


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, as every use case receives it."""

    user_id: int
    username: str
    org_id: int
    org_code: str
    org_name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    # How the person is named to others (张明（城关镇副镇长）); never the sign-in name.
    display_name: str = ""
    # An administrator issued or reset the password: the person must choose their own first.
    password_change_due: bool = False
    # The county the caller's organisation belongs to: the caller reads and acts within it
    # only. None for a city and its offices, whose city is `city_id` (None for county people).
    county_id: int | None = None
    city_id: int | None = None

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class CaseSubject:
    """Whom an accountability case concerns: a person (with an account or not) or a unit."""

    kind: str  # person | unit
    user_id: int | None
    org_id: int


@dataclass(frozen=True)
class InstanceScope:
    """Which instances a caller may read; services turn this into a query filter.

    The first three fields scope admission matters; the last three scope the accountability
    procedures, which only their case's readers see.
    """

    everything: bool
    applicant_org_id: int | None
    township_org_id: int | None
    all_cases: bool = False
    case_party_user_id: int | None = None
    case_party_org_id: int | None = None
    # The caller's roles, for what a domain lets an office read beyond these (search scopes).
    roles: frozenset[str] = frozenset()
    # Every read above stays within the caller's county (None: a city office, which reads no
    # county's instances, only what the city's offices filed themselves).
    county_id: int | None = None

    @property
    def nothing(self) -> bool:
        return (
            not self.everything and self.applicant_org_id is None and (self.township_org_id is None)
        )


def instance_scope(actor: Actor) -> InstanceScope:
    in_county = actor.county_id is not None
    return InstanceScope(
        everything=in_county and bool(actor.roles & COUNTY_WIDE_READERS),
        applicant_org_id=actor.org_id if actor.has("applicant") else None,
        township_org_id=actor.org_id if actor.has("township") else None,
        all_cases=in_county and bool(actor.roles & CASE_READERS),
        case_party_user_id=actor.user_id,
        case_party_org_id=actor.org_id if actor.roles & CASE_PARTY_ROLES else None,
        roles=actor.roles,
        county_id=actor.county_id,
    )


def same_county(actor: Actor, county_id: int | None) -> bool:
    """Whether something of `county_id` (an instance, a row of a gate) is within the caller's
    county: nobody reads or acts on another county's."""
    return actor.county_id == county_id


def is_case_party(actor: Actor, subject: CaseSubject) -> bool:
    """The person concerned, or a user acting for the unit concerned."""
    if subject.kind == "person":
        return subject.user_id is not None and subject.user_id == actor.user_id
    return actor.org_id == subject.org_id and bool(actor.roles & CASE_PARTY_ROLES)


def can_see_case(actor: Actor, subject: CaseSubject) -> bool:
    return bool(actor.roles & CASE_READERS) or is_case_party(actor, subject)


def check_not_concerned(actor: Actor, subject: CaseSubject) -> None:
    """回避: the person concerned, and anyone of the unit concerned or of the person's own
    organisation, never handles or decides the case."""
    if actor.user_id == subject.user_id or actor.org_id == subject.org_id:
        raise Forbidden("回避：当事人及其所在单位人员不得办理本案")


def can_see_instance(
    actor: Actor, applicant_org_id: int, township_org_ids: Collection[int]
) -> bool:
    """Within the instance's county (checked first, by the core): its applicant, its
    townships, the county-wide readers."""
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
    case: CaseSubject | None = None,
) -> None:
    """Raise Forbidden unless `actor` may claim or complete a task with these properties.

    `case` is the subject of the accountability case the task's procedure belongs to.
    """
    require_role(actor, role, "办理该任务")
    if org_id is not None and org_id != actor.org_id:
        raise Forbidden("该任务属于其他单位")
    if case is not None:
        if role in CASE_HANDLING_ROLES:
            check_not_concerned(actor, case)
        elif not is_case_party(actor, case):
            raise Forbidden("只有当事人本人（或被问责单位）可以办理该任务")
    elif role in JUDGING_ROLES and actor.org_id == applicant_org_id:
        raise Forbidden("职责分离：不得审核或审批本单位提交的事项")
    if assignee_id is not None and assignee_id != actor.user_id:
        raise Forbidden("该任务已由他人认领")
