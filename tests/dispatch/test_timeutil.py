"""Minutes from the roster day's origin, through UTC, on normal and DST days in Warsaw."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.timeutil import (
    LocalTimeKind,
    day_length_minutes,
    day_origin,
    from_minutes,
    local_time_to_minutes,
    local_to_utc,
    offset_problem,
    read_local,
    to_minutes,
    transition_days,
)

UTC = dt.UTC
WAW = "Europe/Warsaw"
SPRING = dt.date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST
AUTUMN = dt.date(2026, 10, 25)  # 03:00 CEST -> 02:00 CET


def test_day_lengths() -> None:
    """A Warsaw day lasts 1440 minutes, except 1380 on spring-forward and 1500 on fall-back day."""
    assert day_length_minutes(dt.date(2026, 6, 1), WAW) == 1440
    assert day_length_minutes(SPRING, WAW) == 1380
    assert day_length_minutes(AUTUMN, WAW) == 1500


def test_origin_is_local_midnight_in_utc() -> None:
    """Minute 0 is local midnight: 23:00 UTC the day before in winter, 22:00 UTC in summer."""
    assert day_origin(dt.date(2026, 1, 15), WAW) == dt.datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    assert day_origin(dt.date(2026, 7, 15), WAW) == dt.datetime(2026, 7, 14, 22, 0, tzinfo=UTC)
    assert day_origin(SPRING, WAW).tzinfo is UTC


def test_spring_forward_day_minutes_skip_the_lost_hour() -> None:
    """On 2026-03-29 local 03:00 is minute 120 and 08:00 is minute 420 (one hour less than usual)."""
    assert local_time_to_minutes(SPRING, dt.time(1, 59), WAW) == 119
    assert local_time_to_minutes(SPRING, dt.time(3, 0), WAW) == 120
    assert local_time_to_minutes(SPRING, dt.time(8, 0), WAW) == 420
    assert local_time_to_minutes(SPRING, dt.time(23, 59), WAW) == 1379


def test_nonexistent_local_time_is_read_as_rfc_5545_says() -> None:
    """Local 02:30 does not exist on 2026-03-29: it is read with the offset from before the gap (CET),
    i.e. 01:30 UTC = 03:30 CEST (RFC 5545 3.3.5), the same minute as 03:30; it never raises."""
    assert local_to_utc(SPRING, dt.time(2, 30), WAW) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local_time_to_minutes(SPRING, dt.time(2, 30), WAW) == local_time_to_minutes(SPRING, dt.time(3, 30), WAW)
    assert local_to_utc(SPRING, dt.time(2, 0), WAW) == local_to_utc(SPRING, dt.time(3, 0), WAW)
    reading = read_local(SPRING, dt.time(2, 30), WAW)
    assert reading.kind is LocalTimeKind.NONEXISTENT
    assert reading.meant.isoformat() == "2026-03-29T03:30:00+02:00"
    assert (reading.clock_from, reading.clock_to) == (dt.time(2, 0), dt.time(3, 0))
    assert "02:30 does not exist on 2026-03-29" in reading.explain()
    assert "read as 03:30 (UTC+02:00)" in reading.resolution() and "RFC 5545" in reading.resolution()


def test_read_local_classifies_every_kind_of_time() -> None:
    """Times just around both transitions: 01:59 and 03:00 in spring, 01:59 and 03:00 in autumn are regular;
    02:00 is missing in spring and repeated in autumn (clocks 03:00 -> 02:00), meaning the first (CEST)."""
    kinds = {
        (SPRING, dt.time(1, 59)): LocalTimeKind.REGULAR,
        (SPRING, dt.time(2, 0)): LocalTimeKind.NONEXISTENT,
        (SPRING, dt.time(2, 59)): LocalTimeKind.NONEXISTENT,
        (SPRING, dt.time(3, 0)): LocalTimeKind.REGULAR,
        (AUTUMN, dt.time(1, 59)): LocalTimeKind.REGULAR,
        (AUTUMN, dt.time(2, 0)): LocalTimeKind.AMBIGUOUS,
        (AUTUMN, dt.time(2, 59)): LocalTimeKind.AMBIGUOUS,
        (AUTUMN, dt.time(3, 0)): LocalTimeKind.REGULAR,
        (dt.date(2026, 6, 1), dt.time(2, 30)): LocalTimeKind.REGULAR,
    }
    assert {key: read_local(*key, WAW).kind for key in kinds} == kinds
    autumn = read_local(AUTUMN, dt.time(2, 30), WAW)
    assert autumn.meant.isoformat() == "2026-10-25T02:30:00+02:00"
    assert (autumn.clock_from, autumn.clock_to) == (dt.time(3, 0), dt.time(2, 0))
    assert "happens twice on 2026-10-25" in autumn.resolution() and "first one is meant" in autumn.resolution()


def test_transition_days_and_offsets() -> None:
    """The DST days of 2026-2027 in Warsaw; a time with an offset is named as such, a local one is fine."""
    assert transition_days(dt.date(2026, 1, 1), dt.date(2027, 12, 31), WAW) == [
        SPRING, AUTUMN, dt.date(2027, 3, 28), dt.date(2027, 10, 31)]
    assert transition_days(dt.date(2026, 3, 30), dt.date(2026, 10, 24), WAW) == []
    assert offset_problem(dt.time(9, 0)) is None
    assert "without an offset" in str(offset_problem(dt.time(9, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))))


def test_fall_back_day_ambiguous_time_takes_first_occurrence() -> None:
    """On 2026-10-25 local 02:30 happens twice; it means the first (CEST), minute 150."""
    assert local_time_to_minutes(AUTUMN, dt.time(2, 30), WAW) == 150
    assert local_time_to_minutes(AUTUMN, dt.time(2, 30, fold=1), WAW) == 150  # fold is ignored on purpose
    assert local_time_to_minutes(AUTUMN, dt.time(3, 0), WAW) == 240
    assert local_time_to_minutes(AUTUMN, dt.time(8, 0), WAW) == 540
    assert local_time_to_minutes(AUTUMN, dt.time(23, 59), WAW) == 1499


def test_minutes_round_trip_through_utc() -> None:
    """from_minutes inverts to_minutes on every kind of day, and returns aware UTC."""
    for day in (dt.date(2026, 6, 1), SPRING, AUTUMN):
        for m in (0, 1, 119, 120, 150, 210, day_length_minutes(day, WAW) - 1):
            instant = from_minutes(m, day, WAW)
            assert instant.tzinfo is UTC
            assert to_minutes(instant, day, WAW) == m
    # the second 02:30 on fall-back day is a real instant: minute 210
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert to_minutes(second, AUTUMN, WAW) == 210


def test_to_minutes_floors_seconds_and_refuses_naive() -> None:
    """Seconds are floored to the minute; naive datetimes are refused."""
    origin = day_origin(dt.date(2026, 6, 1), WAW)
    assert to_minutes(origin + dt.timedelta(seconds=59), dt.date(2026, 6, 1), WAW) == 0
    assert to_minutes(origin - dt.timedelta(seconds=1), dt.date(2026, 6, 1), WAW) == -1
    with pytest.raises(ValueError, match="naive"):
        to_minutes(dt.datetime(2026, 6, 1, 8, 0), dt.date(2026, 6, 1), WAW)
