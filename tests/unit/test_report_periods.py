"""The periods a township fills a form for, as people read them, across year boundaries."""

from __future__ import annotations

from datetime import date

from engine.burden.services.report_forms import period_label, recent_periods


def test_periods_are_written_as_officials_write_them() -> None:
    assert period_label("2026-12") == "2026年12月"
    assert period_label("2026Q4") == "2026年第四季度"
    assert period_label("2026") == "2026年度"
    assert period_label("once") == "一次性"


def test_recent_periods_go_back_across_the_new_year() -> None:
    january = date(2027, 1, 15)
    assert [code for code, _ in recent_periods("monthly", january)][:3] == [
        "2027-01",
        "2026-12",
        "2026-11",
    ]
    assert [code for code, _ in recent_periods("quarterly", january)] == [
        "2027Q1",
        "2026Q4",
        "2026Q3",
        "2026Q2",
    ]
    assert recent_periods("yearly", january)[0] == ("2027", "2027年度")
    assert recent_periods("once", january) == [("once", "一次性")]
