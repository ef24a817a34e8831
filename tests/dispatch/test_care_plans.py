"""Pure pieces of care decisions: reading plan lines, budget periods, pro-rata grants."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.storage.care_models import BudgetPeriod, BudgetUnit
from dispatch.catalog.care_plans import parse_days, parse_line
from dispatch.catalog.entitlements import format_amount, period_bounds, period_label


def test_plan_lines_read_as_a_coordinator_writes_them() -> None:
    """'Mon-Fri 07:30-09:00 hygiene 60 min' and 'daily 17:00-19:00 evening care 45 min' become their parts."""
    assert parse_line("Mon-Fri 07:30-09:00 hygiene 60 min") == {
        "weekdays": [0, 1, 2, 3, 4], "start": dt.time(7, 30), "end": dt.time(9, 0), "duration": 60, "tasks": "hygiene"}
    evening = parse_line("daily 17:00-19:00 evening care 45 min")
    assert evening["weekdays"] == list(range(7)) and evening["tasks"] == "evening care" and evening["duration"] == 45
    assert parse_days("Mon,Wed,Fri") == [0, 2, 4]
    assert parse_days("Sat-Mon") == [0, 5, 6]
    for bad in ("Mon-Fri 07:30-09:00 hygiene", "someday 07:30-09:00 x 60 min", "Mon 7-9 x 60 min"):
        with pytest.raises(ValueError):
            parse_line(bad)


def test_budget_periods_are_calendar_periods() -> None:
    """A week is Monday to Sunday (across New Year too), a month its calendar month."""
    assert period_bounds(dt.date(2026, 12, 31), BudgetPeriod.WEEK) == (dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert period_bounds(dt.date(2026, 2, 10), BudgetPeriod.MONTH) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert period_bounds(dt.date(2026, 7, 4), BudgetPeriod.YEAR) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert period_label(dt.date(2026, 12, 9), BudgetPeriod.MONTH) == "December 2026"
    assert period_label(dt.date(2026, 12, 9), BudgetPeriod.WEEK) == "the week of 2026-12-07"
    assert format_amount(1, BudgetUnit.RIDES) == "1 ride" and format_amount(2.5, BudgetUnit.HOURS) == "2.5 hours"
