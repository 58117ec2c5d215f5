"""Small read-only dataclasses the use cases return, and the queries that fill them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Instance, InstanceTownship, Task
from engine.services.directory import Directory, OrgRef
from engine.workflow.workdays import WorkingCalendar


@dataclass(frozen=True)
class TaskInfo:
    id: int
    instance_id: int
    instance_title: str
    bpmn_id: str
    name: str
    role: str
    organization: OrgRef | None
    assignee: str | None
    state: str
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    township: str | None = None
    # The last local day the step is in time (due_at is the start of the day after it).
    due_date: date | None = None
    # How the person who claimed it is named to others (assignee is their sign-in name).
    assignee_name: str | None = None
    # Past its deadline and escalated to the supervising office.
    overdue: bool = False


@dataclass(frozen=True)
class InstanceSummary:
    id: int
    process_id: str
    title: str
    status: str
    applicant: OrgRef
    townships: list[OrgRef]
    created_at: datetime
    updated_at: datetime
    version: int
    # The number people cite (准〔2026〕3号); "" for instances from before numbering.
    number: str = ""


@dataclass(frozen=True)
class TimerInfo:
    """A timer the instance waits on (a deadline, a window, a term) and when it fires."""

    step: str
    name: str
    due_at: datetime
    # The last local day before it fires (a window closing at the start of the 16th: the 15th).
    due_date: date


@dataclass(frozen=True)
class InstanceDetail(InstanceSummary):
    data: dict[str, Any] = field(default_factory=dict)
    open_tasks: list[TaskInfo] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    ended_at: datetime | None = None
    # The accountability case a procedure belongs to (None for admission matters).
    case_id: int | None = None
    timers: list[TimerInfo] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int
    # False when `total` is a lower bound: counting stopped at a cap.
    total_exact: bool = True

    @property
    def more(self) -> bool:
        """Whether a next page may hold rows (always, while the count stopped at its cap)."""
        return not self.total_exact or self.page * self.per_page < self.total


def counted(
    session: Session, statement: Any, column: Any, page: int, per_page: int, cap: int
) -> tuple[int, bool]:
    """How many rows `statement` matches, counted up to `cap` or to the page asked for if
    further (counting a million rows costs more than the page), and whether that is all."""
    counted_to = max(cap, page * per_page)
    capped = statement.with_only_columns(column).limit(counted_to + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped)) or 0
    return min(total, counted_to), total <= counted_to


def summaries(
    session: Session,
    names: Directory,
    instances: list[Instance],
    links: list[tuple[int, int]] | None = None,
) -> list[InstanceSummary]:
    """Summaries for a page of instances, in two queries at most whatever the page size.

    `links` (instance id, township org id) saves the first query when the caller has them.
    """
    if links is None:
        links = [
            (instance_id, org_id)
            for instance_id, org_id in session.execute(
                select(InstanceTownship.instance_id, InstanceTownship.org_id).where(
                    InstanceTownship.instance_id.in_([i.id for i in instances])
                )
            )
        ]
    orgs = names.orgs(session, [i.applicant_org_id for i in instances] + [o for _, o in links])
    by_instance: dict[int, list[OrgRef]] = {}
    for instance_id, org_id in links:
        by_instance.setdefault(instance_id, []).append(orgs[org_id])
    return [
        InstanceSummary(
            id=i.id,
            process_id=i.process_id,
            title=i.title,
            status=i.status,
            applicant=orgs[i.applicant_org_id],
            townships=sorted(by_instance.get(i.id, []), key=lambda o: o.code),
            created_at=i.created_at,
            updated_at=i.updated_at,
            version=i.version,
            number=i.number,
        )
        for i in instances
    ]


def task_infos(
    session: Session,
    names: Directory,
    calendar: WorkingCalendar,
    rows: list[Task],
    titles: dict[int, str] | None = None,
) -> list[TaskInfo]:
    """Task views; `titles` (instance id → title) saves a query when the caller knows them."""
    instance_titles = titles
    if instance_titles is None:
        title_rows = session.execute(
            select(Instance.id, Instance.title).where(
                Instance.id.in_({r.instance_id for r in rows})
            )
        )
        instance_titles = {instance_id: title for instance_id, title in title_rows}
    orgs = names.orgs(session, [r.org_id for r in rows])
    users = names.users(session, [r.assignee_id for r in rows] + [r.completed_by for r in rows])
    return [
        TaskInfo(
            id=r.id,
            instance_id=r.instance_id,
            instance_title=instance_titles.get(r.instance_id, ""),
            bpmn_id=r.bpmn_id,
            name=r.name,
            role=r.role,
            organization=orgs.get(r.org_id) if r.org_id else None,
            assignee=users[r.assignee_id].username if r.assignee_id in users else None,
            state=r.state,
            created_at=r.created_at,
            due_at=r.due_at,
            due_date=calendar.last_day(r.due_at) if r.due_at is not None else None,
            assignee_name=users[r.assignee_id].name if r.assignee_id in users else None,
            completed_at=r.completed_at,
            completed_by=users[r.completed_by].username if r.completed_by in users else None,
            township=orgs[r.org_id].code if r.role == "township" and r.org_id else None,
            overdue=r.escalated_at is not None,
        )
        for r in rows
    ]
