"""Local roster days, UTC instants and the optimizer's integer minutes.

A roster day runs from local midnight to the next local midnight in the roster time zone
(Europe/Warsaw).  The optimizer counts integer minutes from the day's *origin*: local midnight
converted to UTC.  All arithmetic goes through UTC, so DST days simply have another length:

* 2026-03-29 (clocks go 02:00 -> 03:00): 1380 minutes; local 02:00-02:59 does not exist.
* 2026-10-25 (clocks go 03:00 -> 02:00): 1500 minutes; local 02:00-02:59 happens twice.
* any other day: 1440 minutes.

Choices, stated once:

* A local time that does not exist is an error (``NonexistentLocalTime``): a window "02:30" on
  the spring-forward day is a data problem for a person to fix, not something to shift silently.
* An ambiguous local time means its *first* occurrence (``fold=0``, still summer time, CEST).
  A visit planned "at 02:30" on 2026-10-25 is therefore 02:30 CEST = 00:30 UTC = minute 150; the
  second 02:30 (CET) would be minute 210.  Early-morning visits that day are rare; picking the
  earlier instant keeps a window from silently starting an hour late.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from dispatch.settings import get_settings

UTC = dt.UTC


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a DST transition (e.g. 02:30 on 2026-03-29 in Warsaw)."""


def _zone(tz: ZoneInfo | str | None) -> ZoneInfo:
    if tz is None:
        return get_settings().zone
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware datetime")


def local_to_utc(day: dt.date, time: dt.time, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """The UTC instant of a local wall-clock time; first occurrence if ambiguous, error if missing."""
    zone = _zone(tz)
    local = dt.datetime.combine(day, time.replace(tzinfo=None, fold=0), tzinfo=zone)
    utc = local.astimezone(UTC)
    # A skipped wall time does not survive the round trip back to local time.
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(
            f"local time {time.isoformat(timespec='minutes')} does not exist on {day.isoformat()} in "
            f"{zone.key} (clocks jump forward): choose another time"
        )
    return utc


def utc_to_local(value: dt.datetime, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """An aware datetime as local time in the roster zone."""
    _require_aware(value)
    return value.astimezone(_zone(tz))


def day_origin(day: dt.date, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """Minute 0 of a roster day: local midnight of ``day`` as an aware UTC datetime."""
    return local_to_utc(day, dt.time(0, 0), tz)


def day_length_minutes(day: dt.date, tz: ZoneInfo | str | None = None) -> int:
    """Minutes from local midnight to the next local midnight: 1380, 1440 or 1500 in Warsaw."""
    delta = day_origin(day + dt.timedelta(days=1), tz) - day_origin(day, tz)
    return int(delta.total_seconds() // 60)


def to_minutes(dt_utc: dt.datetime, day: dt.date, tz: ZoneInfo | str | None = None) -> int:
    """Whole minutes from the day's origin to an aware instant (floored; negative before the day)."""
    _require_aware(dt_utc)
    seconds = (dt_utc - day_origin(day, tz)).total_seconds()
    return math.floor(seconds / 60)


def from_minutes(m: int, day: dt.date, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """The aware UTC datetime ``m`` minutes after the day's origin (the inverse of ``to_minutes``)."""
    return day_origin(day, tz) + dt.timedelta(minutes=m)


def local_time_to_minutes(day: dt.date, time: dt.time, tz: ZoneInfo | str | None = None) -> int:
    """Minutes from the day's origin to a local wall-clock time on that day (see module docstring)."""
    return to_minutes(local_to_utc(day, time, tz), day, tz)
