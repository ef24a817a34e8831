"""Minutes from the roster day's origin, through UTC, on normal and DST days in Warsaw."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.timeutil import (
    NonexistentLocalTime,
    day_length_minutes,
    day_origin,
    from_minutes,
    local_time_to_minutes,
    local_to_utc,
    to_minutes,
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


def test_nonexistent_local_time_is_rejected() -> None:
    """Local 02:30 does not exist on 2026-03-29: a clear error, not a silent shift."""
    with pytest.raises(NonexistentLocalTime, match="02:30 does not exist on 2026-03-29"):
        local_time_to_minutes(SPRING, dt.time(2, 30), WAW)
    with pytest.raises(NonexistentLocalTime):
        local_to_utc(SPRING, dt.time(2, 0), WAW)


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
