"""Working days: statutory holidays, adjusted working days (调休), local overrides, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from engine.workflow.time_functions import TimerRules, add_months
from engine.workflow.workdays import NEVER, WorkingCalendar


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def test_national_day_week_is_not_worked_and_adjusted_sunday_is() -> None:
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 10, 1))  # 国庆节
    assert not calendar.is_working_day(date(2026, 2, 17))  # 春节
    assert calendar.is_working_day(date(2026, 1, 4))  # a Sunday worked in exchange (调休)
    assert not calendar.is_working_day(date(2026, 11, 22))  # an ordinary Sunday
    assert calendar.is_working_day(date(2026, 11, 23))  # an ordinary Monday


def test_deadline_skips_the_golden_week() -> None:
    calendar = WorkingCalendar()
    # Opened on Wednesday 30 Sep 2026 (10:00 in Shanghai): the holiday week does not count.
    opened = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    first = calendar.add_working_days(date(2026, 9, 30), 1)
    assert first >= date(2026, 10, 8) and calendar.is_working_day(first)
    due = calendar.deadline(opened, 1)
    # Due at local midnight ending that working day.
    assert due == calendar.start_of_local_day(first + timedelta(days=1))
    assert calendar.local(due).hour == 0


def test_local_overrides_win_over_the_national_calendar() -> None:
    overrides = {date(2026, 11, 28): True, date(2026, 11, 30): False}  # Sat worked, Mon off
    calendar = WorkingCalendar(overrides=lambda: overrides)
    assert calendar.is_working_day(date(2026, 11, 28))
    assert not calendar.is_working_day(date(2026, 11, 30))
    # Fri 27 → next working day is the overridden Saturday.
    assert calendar.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 28)
    assert calendar.add_working_days(date(2026, 11, 27), 2) == date(2026, 12, 1)


def test_fifteen_working_days_is_three_weeks_in_an_ordinary_month() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 11, 23), 15) == date(2026, 12, 14)


def test_timer_functions_read_the_injected_clock() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    rules = TimerRules(clock, WorkingCalendar(), {"review": 15}, reevaluation_months=12)
    assert datetime.fromisoformat(rules.deadline("review")) == datetime(
        2026, 12, 14, 16, 0, tzinfo=UTC
    )
    short = {"term_type": "short", "end_date": "2027-06-30"}
    assert datetime.fromisoformat(rules.term_end(short)) == datetime(2027, 6, 30, 16, 0, tzinfo=UTC)
    assert rules.next_reevaluation(short) == NEVER.isoformat()
    long = {"term_type": "long", "end_date": None}
    assert rules.term_end(long) == NEVER.isoformat()
    assert datetime.fromisoformat(rules.next_reevaluation(long)) == datetime(
        2027, 11, 22, 16, 0, tzinfo=UTC
    )


def test_adding_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 23), 12) == date(2027, 11, 23)
