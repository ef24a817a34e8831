"""RRULE expansion of visit requests: weekly days, until, and services marked working-days-only
(taxi, handyman) not on holidays."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest

from dispatch.catalog.recurrence import InvalidRecurrence, is_public_holiday, occurrences_between, occurs_on, parse_rrule
from fixtures.occurrences import WORKING_DAY_SERVICES
from dispatch.domain import Ride, ServiceCode
from fixtures.scenario import VisitRequest

MON = dt.date(2026, 11, 2)  # a Monday; Wednesday 2026-11-11 is Independence Day


@dataclass(frozen=True)
class Request(VisitRequest):
    """A fixture request with its service's ``working_days_only`` flag, as a stored row reads it
    from its service (``fixtures.seed`` sets it from ``fixtures.occurrences.WORKING_DAY_SERVICES``)."""

    working_days_only: bool = False


def request(service: ServiceCode = ServiceCode.HOME_CARE, **kw: object) -> Request:
    base: dict[str, object] = dict(
        id="R1", senior_id="S1", service=service, first_date=MON,
        window_start=dt.time(8), window_end=dt.time(9), duration=60,
        working_days_only=service in WORKING_DAY_SERVICES,
    )
    if service is ServiceCode.TAXI:
        base["ride"] = Ride(destination="D1", appointment=dt.time(10), appointment_minutes=60)
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


def test_the_calendar_rule_is_the_flag_not_the_code() -> None:
    """A centre's own service marked working-days-only skips holidays; a taxi not so marked does not."""
    holiday = dt.date(2026, 11, 11)
    assert not occurs_on(request(ServiceCode.HOME_CARE, first_date=holiday, working_days_only=True), holiday)
    assert occurs_on(request(ServiceCode.TAXI, first_date=holiday, working_days_only=False), holiday)


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
    """dispatch.catalog.recurrence and fixtures.occurrences agree day by day over a year with holidays."""
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


# --------------------------------------------------------------------------- bounded work (issue 21)


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY;INTERVAL=12",
                                  "freq=secondly", "RRULE:FREQ=MINUTELY;COUNT=5"])
def test_frequencies_below_daily_are_refused(rule: str) -> None:
    """A rule repeating within a day (issue 21: FREQ=SECONDLY took 119 s and 1.98 GB) is refused by the
    validator, with a message naming the frequency and what is accepted instead."""
    with pytest.raises(InvalidRecurrence, match=r"FREQ=(SECONDLY|MINUTELY|HOURLY) repeats within a day") as info:
        parse_rrule(rule, MON)
    assert "FREQ=DAILY, WEEKLY, MONTHLY or YEARLY" in str(info.value)


@pytest.mark.parametrize(("rule", "says"), [
    ("FREQ=DAILY;BYHOUR=8", "BYHOUR is not accepted; the rule chooses days only"),
    ("FREQ=WEEKLY;BYDAY=MO;BYMINUTE=0,30", "BYMINUTE is not accepted"),
    ("FREQ=DAILY;BYSECOND=1", "BYSECOND is not accepted"),
    ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY is not accepted for a visit request"),
    ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not accepted"),
    ("FREQ=YEARLY;BYEASTER=0", "BYEASTER is not accepted"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20261201", "COUNT or UNTIL, not both"),
    ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "BYDAY is given twice"),
    ("FREQ=DAILY;COUNT=0", "COUNT must be 1 to 3660"),
    ("FREQ=DAILY;COUNT=3661", "COUNT must be 1 to 3660"),
    ("FREQ=DAILY;INTERVAL=367", "INTERVAL must be 1 to 366 for FREQ=DAILY"),
    ("FREQ=WEEKLY;INTERVAL=54", "INTERVAL must be 1 to 53 for FREQ=WEEKLY"),
    ("FREQ=MONTHLY;INTERVAL=13", "INTERVAL must be 1 to 12 for FREQ=MONTHLY"),
    ("FREQ=YEARLY;INTERVAL=11", "INTERVAL must be 1 to 10 for FREQ=YEARLY"),
    ("FREQ=WEEKLY;UNTIL=20361103", "UNTIL may be at most 10 years after first_date (2036-11-02)"),
    ("FREQ=MONTHLY;BYDAY=6MO", "BYDAY ordinal 6 is out of range; a month has at most 5"),
    ("FREQ=YEARLY;BYMONTH=1;BYDAY=20MO", "BYDAY ordinal 20 is out of range; a month has at most 5"),
    ("FREQ=YEARLY;BYDAY=-54FR", "BYDAY ordinal -54 is out of range; the year has at most 53"),
])
def test_parts_a_visit_cannot_use_and_bounds_are_refused(rule: str, says: str) -> None:
    """Time-of-day parts, parts no care plan uses, COUNT with UNTIL, repeated parts, and COUNT, INTERVAL,
    UNTIL and BYDAY ordinals past their limits are refused with a message saying which and why."""
    with pytest.raises(InvalidRecurrence) as info:
        parse_rrule(rule, MON)
    assert says in str(info.value) and rule in str(info.value)


@pytest.mark.parametrize("rule", ["FREQ=DAILY;COUNT=3660", "FREQ=DAILY;INTERVAL=366", "FREQ=WEEKLY;INTERVAL=53",
                                  "FREQ=MONTHLY;INTERVAL=12", "FREQ=YEARLY;INTERVAL=10", "FREQ=WEEKLY;UNTIL=20361102",
                                  "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY;BYDAY=53MO",
                                  "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=WEEKLY;WKST=SU;BYDAY=SA"])
def test_rules_at_the_limits_are_accepted(rule: str) -> None:
    """The limits are inclusive: each rule exactly at one is still accepted."""
    parse_rrule(rule, MON)


def test_a_rule_that_never_matches_costs_one_period_per_day_asked() -> None:
    """FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 never happens; dateutil's own iterator scans to the year 9999
    looking for it (4 s).  Expansion here walks only the periods of the range asked, plus the next one
    that shows the range is over: two for a day, 366 for a year of daily periods."""
    import dispatch.catalog.recurrence as recurrence

    never = request(rrule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", first_date=dt.date(2020, 1, 1))
    recurrence._selected.cache_clear()
    assert not occurs_on(never, dt.date(2026, 11, 2))
    assert recurrence._selected.cache_info().misses == 2
    recurrence._selected.cache_clear()
    assert list(occurrences_between(never, dt.date(2026, 1, 1), dt.date(2026, 12, 31))) == []
    assert recurrence._selected.cache_info().misses == 366


def test_a_stored_rule_now_refused_is_left_out_with_a_warning_naming_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rule stored before the validator (FREQ=SECONDLY in an old database) is not expanded: the request
    has no occurrences, nothing raises, and a warning names the request and what is wrong with its rule."""
    old = request(id="R-OLD", rrule="FREQ=SECONDLY")
    with caplog.at_level("WARNING", logger="dispatch.catalog.recurrence"):
        assert not occurs_on(old, MON)
        assert list(occurrences_between(old, MON, MON + dt.timedelta(days=365))) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and all("R-OLD" in w and "FREQ=SECONDLY repeats within a day" in w for w in warnings)


def _random_rule(rng: random.Random) -> str:
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    freq = rng.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
    parts = [f"FREQ={freq}"]
    if rng.random() < 0.4:
        parts.append(f"INTERVAL={rng.randint(1, 4)}")
    if rng.random() < 0.3:
        parts.append(f"COUNT={rng.randint(1, 30)}")
    elif rng.random() < 0.3:
        parts.append("UNTIL=" + (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(-10, 700))).strftime("%Y%m%d"))
    if rng.random() < 0.5:
        chosen = rng.sample(days, rng.randint(1, 4))
        if freq in ("MONTHLY", "YEARLY") and rng.random() < 0.5:
            chosen = [f"{rng.choice([-5, -2, -1, 1, 2, 3, 5])}{d}" for d in chosen]
        parts.append("BYDAY=" + ",".join(chosen))
    if rng.random() < 0.3:
        parts.append("BYMONTHDAY=" + ",".join(str(rng.choice([1, 2, 15, 28, 29, 30, 31, -1, -2, -31]))
                                              for _ in range(rng.randint(1, 3))))
    if rng.random() < 0.3:
        parts.append("BYMONTH=" + ",".join(str(rng.randint(1, 12)) for _ in range(rng.randint(1, 3))))
    if rng.random() < 0.3:
        parts.append("BYSETPOS=" + ",".join(str(rng.choice([1, 2, -1, -2, 3, 10])) for _ in range(rng.randint(1, 2))))
    if rng.random() < 0.2:
        parts.append("WKST=" + rng.choice(days))
    rng.shuffle(parts)
    return ";".join(parts)


def test_day_level_expansion_agrees_with_dateutil() -> None:
    """The bounded, day-level expansion gives exactly dateutil's dates (the RFC 5545 reference used before)
    for 400 random rules mixing every accepted part, over random ranges.  dateutil is only asked where the
    rule has a date after the range, so that its scan ends there."""
    from dateutil.rrule import rrulestr

    rng = random.Random(21)
    compared = 0
    wednesday = dt.date(2026, 11, 4)
    fixed = [  # dateutil's quirks: the first weekly period starts at first_date, not at WKST
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=1", wednesday), ("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,TH", wednesday),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", wednesday), ("FREQ=YEARLY", dt.date(2024, 2, 29)),
    ]
    for i in range(400 + len(fixed)):
        text, first = fixed[i] if i < len(fixed) else (_random_rule(rng), dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 800)))
        try:
            parse_rrule(text, first)
        except InvalidRecurrence:
            continue
        lo = first if i < len(fixed) else first + dt.timedelta(days=rng.randint(-30, 500))
        hi = lo + dt.timedelta(days=rng.randint(0, 400) if i >= len(fixed) else 3000)
        r = request(rrule=text, first_date=first)
        if next(occurrences_between(r, hi + dt.timedelta(days=1), hi + dt.timedelta(days=5 * 366)), None) is None:
            continue
        reference = []
        for moment in rrulestr(text, dtstart=dt.datetime.combine(first, dt.time())):
            if moment.date() > hi:
                break
            if moment.date() >= lo:
                reference.append(moment.date())
        assert list(occurrences_between(r, lo, hi)) == reference, (text, first, lo, hi)
        compared += 1
    assert compared > 150
