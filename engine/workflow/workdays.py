"""Working days in China: statutory holidays and adjusted working days (调休), plus local overrides.

The `holidays` package is used rather than `chinese-calendar`: both carry the State Council's
published schedules, but `chinese-calendar` refuses any year it has no schedule for (1.11.0 stops
at 2026), while `holidays` (released monthly) also computes later years from the holiday rules,
so deadlines that run into next year still land on a plausible day. What no package can know —
next year's 调休 before it is announced, a county's own days — goes into the overrides table, which
wins over the package.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

# Far enough in the future to mean "never" for a timer, and still a valid datetime everywhere.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def local_date(instant: datetime, timezone: str) -> date:
    """The day an instant falls on in the county's time zone."""
    return instant.astimezone(ZoneInfo(timezone)).date()


def written_date(day: date) -> str:
    """A date as officials write it: 2026年12月21日."""
    return f"{day.year}年{day.month}月{day.day}日"


class WorkingCalendar:
    """Is a day a working day, and when do N working days end, in the county's time zone."""

    def __init__(
        self,
        timezone: str = "Asia/Shanghai",
        overrides: Callable[[], dict[date, bool]] | None = None,
        ttl_seconds: float = 60.0,
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self._national = holidays.China()
        self._load_overrides = overrides or dict
        self._ttl = ttl_seconds
        self._overrides: dict[date, bool] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _local_overrides(self) -> dict[date, bool]:
        # Overrides change a few times a year; re-read them at most once a minute.
        now = time.monotonic()
        if now - self._loaded_at > self._ttl:
            with self._lock:
                self._overrides = dict(self._load_overrides())
                self._loaded_at = now
        return self._overrides

    def is_working_day(self, day: date) -> bool:
        override = self._local_overrides().get(day)
        if override is not None:
            return override
        return bool(self._national.is_working_day(day))

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def deadline(self, opened: datetime, days: int) -> datetime:
        """End of the `days`-th working day after the local day `opened` falls on (UTC)."""
        local_day = opened.astimezone(self.zone).date()
        last = self.add_working_days(local_day, days)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), self.zone)
        return end.astimezone(UTC)

    def last_day(self, due: datetime) -> date:
        """The last local day on which something due at `due` is still in time: a deadline
        at the start of the 22nd is "by the 21st (inclusive)"."""
        return (due.astimezone(self.zone) - timedelta(microseconds=1)).date()

    def start_of_local_day(self, day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), self.zone).astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)
