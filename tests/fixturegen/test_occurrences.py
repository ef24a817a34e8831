"""Expanding one-off and RRULE requests into a day's visits (fixtures.occurrences)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from fixtures.generator import generate
from fixtures.occurrences import (
    Occurrence,
    is_polish_holiday,
    is_working_day,
    occurrences_between,
    occurrences_on,
    occurs_on,
)
from dispatch.domain import Ride, ServiceCode
from fixtures.scenario import Scenario, VisitRequest

MON = dt.date(2026, 11, 30)


def request(service: ServiceCode = ServiceCode.HOME_CARE, **kw: object) -> VisitRequest:
    fields: dict[str, object] = {
        "id": "r-1",
        "senior_id": "s-1",
        "service": service,
        "first_date": MON,
        "window_start": dt.time(8),
        "window_end": dt.time(9),
        "duration": 30,
    }
    if service is ServiceCode.TAXI:
        fields["ride"] = Ride("destination-x", dt.time(10), 30)
    fields.update(kw)
    return VisitRequest(**fields)  # type: ignore[arg-type]


def days_of(r: VisitRequest, first: dt.date, last: dt.date) -> list[dt.date]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [day for day in days if occurs_on(r, day)]


@pytest.fixture(scope="module")
def small() -> Scenario:
    return generate(11, seniors=40, workers=10)


def test_one_off_request_happens_on_its_date_only() -> None:
    """Without an RRULE a request is a single visit on first_date."""
    r = request(first_date=MON + dt.timedelta(days=2))
    assert days_of(r, MON, MON + dt.timedelta(days=13)) == [MON + dt.timedelta(days=2)]


def test_weekly_byday_rule_picks_its_weekdays() -> None:
    """FREQ=WEEKLY;BYDAY=MO,WE yields Mondays and Wednesdays from first_date on."""
    r = request(rrule="FREQ=WEEKLY;BYDAY=MO,WE")
    got = days_of(r, MON - dt.timedelta(days=7), MON + dt.timedelta(days=9))
    assert got == [MON, MON + dt.timedelta(days=2), MON + dt.timedelta(days=7), MON + dt.timedelta(days=9)]


def test_until_and_first_date_bound_a_daily_rule() -> None:
    """A FREQ=DAILY plan runs from first_date to until, both inclusive."""
    r = request(rrule="FREQ=DAILY", first_date=MON + dt.timedelta(days=1), until=MON + dt.timedelta(days=3))
    assert days_of(r, MON, MON + dt.timedelta(days=6)) == [MON + dt.timedelta(days=i) for i in (1, 2, 3)]


def test_fortnightly_rule_counts_weeks_from_first_date() -> None:
    """INTERVAL=2 skips every other week, counted from first_date (the DTSTART)."""
    r = request(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH")
    assert days_of(r, MON, MON + dt.timedelta(days=27)) == [dt.date(2026, 12, 3), dt.date(2026, 12, 17)]


def test_taxi_and_handyman_skip_holidays_but_care_continues() -> None:
    """On Christmas Eve 2026 (a Thursday holiday) taxi and handyman visits drop out, care does not."""
    eve = dt.date(2026, 12, 24)
    assert is_polish_holiday(eve) and not is_working_day(eve)
    assert not occurs_on(request(ServiceCode.TAXI, first_date=eve), eve)
    assert not occurs_on(request(ServiceCode.HANDYMAN, rrule="FREQ=DAILY"), eve)
    assert occurs_on(request(ServiceCode.HOME_CARE, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"), eve)
    assert occurs_on(request(ServiceCode.RESPITE, first_date=eve), eve)


def test_taxi_does_not_run_on_weekends() -> None:
    """A daily taxi series yields Monday to Friday only (Mon-Fri service)."""
    r = request(ServiceCode.TAXI, rrule="FREQ=DAILY")
    assert days_of(r, MON, MON + dt.timedelta(days=6)) == [MON + dt.timedelta(days=i) for i in range(5)]


def test_christmas_eve_2025_is_a_polish_holiday() -> None:
    """The installed holidays package knows the 2025 law making 24 December a holiday."""
    assert is_polish_holiday(dt.date(2025, 12, 24))
    assert not is_polish_holiday(dt.date(2026, 12, 1))


def test_occurrences_keep_request_order_and_stable_ids(small: Scenario) -> None:
    """A day's visits come in scenario order, ids are "<request>@<date>"."""
    day = small.demo_date
    occ = occurrences_on(small, day)
    order = {r.id: i for i, r in enumerate(small.requests)}
    assert [order[o.request.id] for o in occ] == sorted(order[o.request.id] for o in occ)
    assert all(o.id == f"{o.request.id}@{day.isoformat()}" and o.date == day for o in occ)
    assert occ == [Occurrence(r, day) for r in small.requests if occurs_on(r, day)]


def test_week_equals_the_days_added_up(small: Scenario) -> None:
    """occurrences_between is the concatenation of occurrences_on over the days."""
    last = small.start_date + dt.timedelta(days=small.days - 1)
    week = occurrences_between(small, small.start_date, last)
    per_day = [o for i in range(small.days) for o in occurrences_on(small, small.start_date + dt.timedelta(days=i))]
    assert week == per_day
    assert {o.request.id for o in week} == {r.id for r in small.requests}  # every request happens in its week


def test_a_holiday_in_the_horizon_removes_generated_rides() -> None:
    """Moving a generated ride onto a holiday removes it from that day; the care plan stays."""
    s = generate(4, seniors=40, workers=10)
    ride = next(r for r in s.requests if r.service is ServiceCode.TAXI)
    eve = dt.date(2026, 12, 24)
    moved = dataclasses.replace(s, requests=(dataclasses.replace(ride, first_date=eve),))
    assert occurrences_on(moved, eve) == []
