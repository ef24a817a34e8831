"""The labour rules across days (``dispatch.catalog.labour``) on hand-checkable numbers: the weekly
pattern's 11 h and 35 h rests at their exact boundaries, contract hours as a warning, civil contracts
uncapped, and a day's limits from the work of other days (rest, week, settlement period, year)."""

from __future__ import annotations

import datetime as dt

from dispatch.catalog import labour
from dispatch.catalog.labour import LabourRules, WorkSpan, day_limits, pattern_findings, period_bounds
from dispatch.catalog.labour_words import finding_words, limit_words
from dispatch.timeutil import local_to_utc

T = dt.time
TZ = "Europe/Warsaw"


def shifts(*rows: tuple[int, dt.time, dt.time]) -> list[dict]:
    return [{"weekday": d, "start": a, "end": b} for d, a, b in rows]


def span(day: dt.date, start: dt.time, end: dt.time) -> WorkSpan:
    a, b = local_to_utc(day, start, TZ), local_to_utc(day, end, TZ)
    return WorkSpan(day, a, b, int((b - a).total_seconds() // 60))


def errors(found: list[labour.Finding]) -> list[tuple[str, int]]:
    return [(f.rule, f.actual_minutes) for f in found if f.error]


def test_the_issue_pattern_breaks_both_rests_and_strains_the_contract() -> None:
    """Monday 06:00-18:00 + 18:30-23:30 and six more 12-hour days (contract 40 h): 6 h 30 min of rest in
    Monday's doba, no 35 h rest in the week, 89 h against 40 h as a warning."""
    week = shifts((0, T(6), T(18)), (0, T(18, 30), T(23, 30)), *[(d, T(6), T(18)) for d in range(1, 7)])
    found = pattern_findings("etat_podstawowy", 40, week)
    assert errors(found) == [("daily_rest", 390), ("weekly_rest", 720)]
    warning = next(f for f in found if not f.error)
    assert (warning.rule, warning.actual_minutes, warning.limit_minutes) == ("weekly_hours", 89 * 60, 40 * 60)
    assert "6 h 30 min" in finding_words(found[0]).en and "11 h" in finding_words(found[0]).pl


def test_daily_rest_of_exactly_11_hours_is_allowed_and_10h59_refused() -> None:
    """A late Monday (12:00-20:00) then Tuesday at 07:00 leaves exactly 11 h: allowed; one minute more on
    Monday leaves 10 h 59 min: refused, naming Monday's doba (the shift it starts with)."""
    assert errors(pattern_findings("etat_podstawowy", 40, shifts((0, T(12), T(20)), (1, T(7), T(15))))) == []
    found = pattern_findings("etat_podstawowy", 40, shifts((0, T(12), T(20, 1)), (1, T(7), T(15))))
    assert errors(found) == [("daily_rest", 659)]
    assert (found[0].weekday, found[0].shift_index) == (0, 0)


def test_weekly_rest_of_exactly_35_hours_inside_the_week_is_allowed() -> None:
    """Monday-Friday 07:00-15:00 and Saturday until 13:00 leaves Saturday 13:00 to Monday 00:00, 35 h:
    allowed; until 13:01 it is 34 h 59 min (the rest after Monday 00:00 belongs to the next week)."""
    weekdays = [(d, T(7), T(15)) for d in range(5)]
    assert errors(pattern_findings("etat_rownowazny", 40, shifts(*weekdays, (5, T(7), T(13))))) == []
    assert errors(pattern_findings("etat_rownowazny", 40, shifts(*weekdays, (5, T(7), T(13, 1))))) == [
        ("weekly_rest", 35 * 60 - 1)]


def test_civil_contract_has_no_caps() -> None:
    """An umowa zlecenie is not bound by the Labour Code's working time: nothing refused or flagged."""
    week = shifts(*[(d, T(6), T(19)) for d in range(7)])
    assert pattern_findings("zlecenie", 10, week) == []
    today = dt.date(2026, 12, 1)
    terms = day_limits(today, TZ, "zlecenie", 10, [(420, 900, 0)], 480,
                       [span(today - dt.timedelta(days=1), T(12), T(23, 30))])
    assert terms == labour.DayTerms(((420, 900, 0),), 480)


def test_rest_after_the_day_ends_it_earlier() -> None:
    """Work planned tomorrow from 06:00 ends today's work (with its overtime) by 19:00."""
    today = dt.date(2026, 12, 1)
    terms = day_limits(today, TZ, "etat_podstawowy", 40, [(12 * 60, 20 * 60, 60)], 480,
                       [span(today + dt.timedelta(days=1), T(6), T(14))])
    assert terms.shifts == ((12 * 60, 19 * 60, 0),)
    assert terms.limits[0].rule == "daily_rest" and terms.limits[0].details["latest_end"] == 19 * 60
    assert "19:00" in limit_words("daily_rest", terms.limits[0].details, today, TZ).en


def test_no_weekly_rest_left_means_no_work_that_day() -> None:
    """Monday to Saturday worked 07:00-13:00: a Sunday shift could keep 35 h neither before it nor
    after it inside the week, so the worker is off that day."""
    sunday = dt.date(2026, 12, 6)
    week = [span(sunday - dt.timedelta(days=k), T(7), T(13)) for k in range(1, 7)]
    terms = day_limits(sunday, TZ, "etat_podstawowy", 40, [(420, 900, 60)], 480, week)
    assert terms.shifts == () and terms.max_work_minutes == 0
    assert [(x.rule, x.details["how"]) for x in terms.limits] == [("weekly_rest", "day_off")]
    assert "no work" in limit_words("weekly_rest", terms.limits[0].details, sunday, TZ).en


def test_settlement_period_norm_and_the_years_overtime_cap_the_day() -> None:
    """Quarterly settlement, 20 h a week: the norm of October-December is 20 x 92 / 7 h.  Overtime
    planned in an earlier quarter of the year uses up the 150 h; what is left caps the day."""
    rules = LabourRules(settlement_months=3)
    assert period_bounds(dt.date(2026, 12, 1), 3) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert period_bounds(dt.date(2026, 6, 30), 4) == (dt.date(2026, 5, 1), dt.date(2026, 9, 1))
    day = dt.date(2026, 12, 31)
    norm = round(20 * 60 * 92 / 7)
    # Q3: 150 h over its norm (all the year's overtime); Q4 so far: the norm less 2 h.
    q3_norm = round(20 * 60 * 92 / 7)
    earlier = [WorkSpan(dt.date(2026, 8, 3), local_to_utc(dt.date(2026, 8, 3), T(7), TZ),
                        local_to_utc(dt.date(2026, 8, 3), T(15), TZ), q3_norm + 150 * 60),
               WorkSpan(dt.date(2026, 11, 2), local_to_utc(dt.date(2026, 11, 2), T(7), TZ),
                        local_to_utc(dt.date(2026, 11, 2), T(15), TZ), norm - 120)]
    terms = day_limits(day, TZ, "etat_czesc", 20, [(420, 900, 0)], 480, earlier, rules)
    assert terms.max_work_minutes == 120
    limit = next(x for x in terms.limits if x.rule == "settlement_hours")
    assert (limit.details["norm_minutes"], limit.details["overtime_left_minutes"]) == (norm, 0)
