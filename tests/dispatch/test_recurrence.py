"""RRULE expansion of visit requests: weekly days, until, and no taxi/handyman on holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.recurrence import InvalidRecurrence, is_public_holiday, occurrences_between, occurs_on, parse_rrule
from fixtures.scenario import Ride, ServiceCode, VisitRequest

MON = dt.date(2026, 11, 2)  # a Monday; Wednesday 2026-11-11 is Independence Day


def request(service: ServiceCode = ServiceCode.HOME_CARE, **kw: object) -> VisitRequest:
    base: dict[str, object] = dict(
        id="R1", senior_id="S1", service=service, first_date=MON,
        window_start=dt.time(8), window_end=dt.time(9), duration=60,
    )
    if service is ServiceCode.TAXI:
        base["ride"] = Ride(destination="D1", appointment=dt.time(10), appointment_minutes=60)
    base.update(kw)
    return VisitRequest(**base)  # type: ignore[arg-type]


def test_weekly_byday_occurs_on_listed_weekdays_only() -> None:
    """FREQ=WEEKLY;BYDAY=MO,WE,FR occurs Mon/Wed/Fri from first_date on, not Tue or weekends."""
    r = request(rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR")
    week = [MON + dt.timedelta(days=i) for i in range(7)]
    assert [occurs_on(r, d) for d in week] == [True, False, True, False, True, False, False]
    assert not occurs_on(r, MON - dt.timedelta(days=2)), "nothing before first_date"


def test_until_is_inclusive() -> None:
    """The series stops after `until` (inclusive), and occurrences_between respects it."""
    r = request(rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR", until=dt.date(2026, 11, 9))
    assert occurs_on(r, dt.date(2026, 11, 9))
    assert not occurs_on(r, dt.date(2026, 11, 11))
    got = list(occurrences_between(r, dt.date(2026, 10, 1), dt.date(2026, 12, 31)))
    assert got == [dt.date(2026, 11, 2), dt.date(2026, 11, 4), dt.date(2026, 11, 6), dt.date(2026, 11, 9)]


def test_rule_until_and_count_are_honoured_too() -> None:
    """UNTIL and COUNT inside the RRULE itself bound the series as well."""
    assert not occurs_on(request(rrule="FREQ=DAILY;UNTIL=20261103"), dt.date(2026, 11, 4))
    assert list(occurrences_between(request(rrule="FREQ=DAILY;COUNT=3"), MON, MON + dt.timedelta(days=30))) == [
        MON, MON + dt.timedelta(days=1), MON + dt.timedelta(days=2)
    ]


def test_taxi_and_handyman_skip_polish_holidays_but_care_does_not() -> None:
    """On 11 November a weekly taxi or handyman series pauses; home care still happens."""
    holiday = dt.date(2026, 11, 11)
    assert is_public_holiday(holiday)
    rule = "FREQ=WEEKLY;BYDAY=WE"
    assert not occurs_on(request(ServiceCode.TAXI, rrule=rule), holiday)
    assert not occurs_on(request(ServiceCode.HANDYMAN, rrule=rule), holiday)
    assert occurs_on(request(ServiceCode.HOME_CARE, rrule=rule), holiday)
    assert occurs_on(request(ServiceCode.TAXI, rrule=rule), dt.date(2026, 11, 18))
    dates = list(occurrences_between(request(ServiceCode.TAXI, rrule=rule), MON, dt.date(2026, 11, 30)))
    assert holiday not in dates and len(dates) == 3


def test_one_off_request_occurs_once_and_taxi_only_on_working_days() -> None:
    """Without a rule a request happens once; a taxi on a holiday or Saturday does not happen at all."""
    r = request(ServiceCode.TAXI, first_date=dt.date(2026, 11, 12))
    assert occurs_on(r, dt.date(2026, 11, 12))
    assert not occurs_on(r, dt.date(2026, 11, 13))
    assert not occurs_on(request(ServiceCode.TAXI, first_date=dt.date(2026, 11, 11)), dt.date(2026, 11, 11))
    assert not occurs_on(request(ServiceCode.HANDYMAN, first_date=dt.date(2026, 11, 14)), dt.date(2026, 11, 14))
    assert occurs_on(request(ServiceCode.RESPITE, first_date=dt.date(2026, 11, 14)), dt.date(2026, 11, 14))


def test_weekend_days_of_a_daily_taxi_series_are_dropped() -> None:
    """A FREQ=DAILY taxi series yields Monday to Friday only."""
    days = list(occurrences_between(request(ServiceCode.TAXI, rrule="FREQ=DAILY"), MON, MON + dt.timedelta(days=6)))
    assert days == [MON + dt.timedelta(days=i) for i in range(5)]


def test_same_expansion_as_the_fixture_occurrences() -> None:
    """dispatch.recurrence and fixtures.occurrences agree day by day over a year with holidays."""
    fixture_occurrences = pytest.importorskip("fixtures.occurrences")
    samples = [
        request(rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR", until=dt.date(2027, 3, 1)),
        request(ServiceCode.TAXI, rrule="FREQ=WEEKLY;BYDAY=WE,SA"),
        request(ServiceCode.HANDYMAN, rrule="FREQ=DAILY;COUNT=40"),
        request(ServiceCode.TAXI, first_date=dt.date(2026, 12, 24)),
        request(ServiceCode.RESPITE, rrule="FREQ=MONTHLY;BYMONTHDAY=1"),
    ]
    for r in samples:
        for i in range(400):
            day = MON - dt.timedelta(days=10) + dt.timedelta(days=i)
            assert occurs_on(r, day) == fixture_occurrences.occurs_on(r, day), (r.service, r.rrule, day)


def test_christmas_eve_is_a_holiday_from_2025() -> None:
    """The holidays package in use knows the 2025 change (24 December is a public holiday)."""
    assert is_public_holiday(dt.date(2025, 12, 24))
    assert not is_public_holiday(dt.date(2024, 12, 24))


@pytest.mark.parametrize("bad", ["FREQ=FORTNIGHTLY", "DTSTART:20260101\nRRULE:FREQ=DAILY", "BYDAY=XX"])
def test_invalid_rules_are_reported(bad: str) -> None:
    """Malformed rules and embedded DTSTART raise InvalidRecurrence naming the rule."""
    with pytest.raises(InvalidRecurrence):
        parse_rrule(bad, MON)


def test_rrule_prefix_is_accepted() -> None:
    """'RRULE:FREQ=...' and 'FREQ=...' mean the same."""
    assert occurs_on(request(rrule="RRULE:FREQ=WEEKLY;BYDAY=TU"), MON + dt.timedelta(days=1))
