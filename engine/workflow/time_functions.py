"""The time functions diagrams may call in timer expressions, bound to one clock and calendar.

Diagrams say *when* in terms of the domain — `deadline('review')`, `term_end(application)`,
`next_reevaluation(application)` — and this module turns that into an instant, counting
working days in the county's calendar and reading "now" from the injected clock (never the
wall clock), so tests move time without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.workflow.clock import Clock
from engine.workflow.workdays import NEVER, WorkingCalendar


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):  # 31 Jan + 1 month = 28/29 Feb
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")


@dataclass
class TimerRules:
    clock: Clock
    calendar: WorkingCalendar
    # step (user task id) → working days allowed
    limits: Mapping[str, int]
    reevaluation_months: int = 12
    # period name → calendar days allowed (appeal windows and decisions count calendar days)
    calendar_limits: Mapping[str, int] = field(default_factory=dict)

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "deadline": self.deadline,
            "working_days_from_today": self.working_days_from_today,
            "days_after": self.days_after,
            "end_of_day": self.end_of_day,
            "term_next": self.term_next,
            "term_end": self.term_end,
            "next_reevaluation": self.next_reevaluation,
        }

    def days_after(self, period: str) -> str:
        """End of a period counted in calendar days from today: the start of the local day
        after its last day (a 15-day appeal window opened on the 1st closes as the 17th begins)."""
        today = self.calendar.local(self.clock.now()).date()
        last = today + timedelta(days=int(self.calendar_limits[period]))
        return self.calendar.start_of_local_day(last + timedelta(days=1)).isoformat()

    def end_of_day(self, day: Any) -> str:
        """The end of a date given in a form (ISO), in local time: a deadline "by the 30th"
        passes as the 31st begins."""
        if not day:
            return NEVER.isoformat()
        return self.calendar.start_of_local_day(
            date.fromisoformat(str(day)) + timedelta(days=1)
        ).isoformat()

    def term_next(self, application: Mapping[str, Any]) -> str:
        """The next time a matter in force needs attention: a short-term one's end of term, a
        long-term one's yearly re-evaluation. (One timer: an event-based gateway in
        SpiffWorkflow 3.2 holds a single due time for all its timers.)"""
        if application.get("term_type") == "short":
            return self.term_end(application)
        return self.next_reevaluation(application)

    def deadline(self, step: str) -> str:
        """End of the step's working-day limit, counted from today."""
        return self.calendar.deadline(self.clock.now(), int(self.limits[step])).isoformat()

    def working_days_from_today(self, days: Any) -> str:
        """End of a limit of `days` working days that a form set (an office gives a need its
        deadline), counted from today as a step's limit is."""
        return self.calendar.deadline(self.clock.now(), int(days)).isoformat()

    def term_end(self, application: Mapping[str, Any]) -> str:
        """A short-term matter leaves at the start of the day after its end date (local time)."""
        end = application.get("end_date")
        if application.get("term_type") != "short" or not end:
            return NEVER.isoformat()
        return self.calendar.start_of_local_day(
            date.fromisoformat(end) + timedelta(days=1)
        ).isoformat()

    def next_reevaluation(self, application: Mapping[str, Any]) -> str:
        """A long-term matter is re-evaluated every `reevaluation_months`, from today."""
        if application.get("term_type") != "long":
            return NEVER.isoformat()
        today = self.calendar.local(self.clock.now()).date()
        due = add_months(today, self.reevaluation_months)
        return self.calendar.start_of_local_day(due).isoformat()


def parse_instant(value: Any) -> datetime:
    """A timer's evaluated value as an aware UTC datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
