"""Local roster days, UTC instants and the optimizer's integer minutes.

A roster day runs from local midnight to the next local midnight in the roster time zone
(Europe/Warsaw).  The optimizer counts integer minutes from the day's *origin*: local midnight
converted to UTC.  All arithmetic goes through UTC, so DST days simply have another length:

* 2026-03-29 (clocks go 02:00 -> 03:00): 1380 minutes; local 02:00-02:59 does not exist.
* 2026-10-25 (clocks go 03:00 -> 02:00): 1500 minutes; local 02:00-02:59 happens twice.
* any other day: 1440 minutes.

Choices, stated once (``local_to_utc`` is the one place a local date and time become an instant;
everything that plans, stores or shows a visit goes through it):

* A time of day in carepath is a wall-clock time in the centre's zone, without an offset.  A
  time with an offset ("09:00+05:00", "09:00Z") is refused at intake (``offset_problem``), never
  silently read as 09:00 local.
* A local time that does not exist (the spring-forward gap, 02:00-02:59 on 2026-03-29) is read
  as RFC 5545 (3.3.5) says: with the UTC offset from before the gap, so 02:30 means 03:30 CEST
  (01:30 UTC).  Intake refuses such a time on a one-off request's own date (a person can pick
  another time) and states the reading for a recurring request that meets the gap on some day;
  planning never fails on one (older databases may hold them).
* An ambiguous local time means its *first* occurrence (``fold=0``, still summer time, CEST).
  A visit planned "at 02:30" on 2026-10-25 is therefore 02:30 CEST = 00:30 UTC = minute 150; the
  second 02:30 (CET) would be minute 210.  Early-morning visits that day are rare; picking the
  earlier instant keeps a window from silently starting an hour late.  Intake states it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo

from dispatch.settings import get_settings

UTC = dt.UTC

#: The message for a time of day given with an offset (API, imports and the domain checks say the same).
LOCAL_TIME_ONLY = "must be a local time without an offset, e.g. 09:00 (wall-clock time in the centre's time zone)"


def _zone(tz: ZoneInfo | str | None) -> ZoneInfo:
    if tz is None:
        return get_settings().zone
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware datetime")


def local_to_utc(day: dt.date, time: dt.time, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """The UTC instant of a local wall-clock time on ``day`` (see the module docstring).

    Ambiguous: the first occurrence.  Non-existent: RFC 5545, the offset from before the gap
    (zoneinfo's ``fold=0`` reading does exactly that).  Any offset on ``time`` is ignored here:
    intake refuses one (``offset_problem``) before a time is ever stored.
    """
    zone = _zone(tz)
    return dt.datetime.combine(day, time.replace(tzinfo=None, fold=0), tzinfo=zone).astimezone(UTC)


class LocalTimeKind(str, Enum):
    """How a wall-clock time occurs on a day: once, never (DST gap) or twice (DST fold)."""

    REGULAR = "regular"
    NONEXISTENT = "nonexistent"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class LocalReading:
    """What a local ``time`` on ``day`` means: its kind, the instant meant, and the DST change nearby.

    ``meant`` is the aware local time of that instant (``03:30+02:00`` for 02:30 in the gap).
    ``clock_from`` / ``clock_to`` are the wall-clock readings at the transition (02:00 -> 03:00
    in spring, 03:00 -> 02:00 in autumn); ``None`` for a regular time.
    """

    day: dt.date
    time: dt.time
    kind: LocalTimeKind
    meant: dt.datetime
    zone: str
    clock_from: dt.time | None = None
    clock_to: dt.time | None = None

    def explain(self) -> str:
        """One sentence a coordinator understands: what happens at this time on this day."""
        hhmm, day = self.time.strftime("%H:%M"), self.day.isoformat()
        if self.kind is LocalTimeKind.NONEXISTENT:
            return (f"{hhmm} does not exist on {day} in {self.zone} (clocks jump from {self.clock_from:%H:%M} to "
                    f"{self.clock_to:%H:%M})")
        if self.kind is LocalTimeKind.AMBIGUOUS:
            return (f"{hhmm} happens twice on {day} in {self.zone} (clocks go back from {self.clock_from:%H:%M} to "
                    f"{self.clock_to:%H:%M})")
        return f"{hhmm} on {day} is {self.meant.isoformat()}"

    def resolution(self) -> str:
        """How planning reads this time (the statement an intake answer carries)."""
        offset = self.meant.strftime("%z")
        utc_offset = f"UTC{offset[:3]}:{offset[3:]}"
        if self.kind is LocalTimeKind.NONEXISTENT:
            return (f"{self.explain()}; on that day it is read as {self.meant:%H:%M} ({utc_offset}), "
                    "as RFC 5545 reads a time in the gap: with the offset from before the jump")
        if self.kind is LocalTimeKind.AMBIGUOUS:
            return (f"{self.explain()}; the first one is meant, before the clocks go back: {self.meant:%H:%M} "
                    f"summer time ({utc_offset})")
        return self.explain()


def read_local(day: dt.date, time: dt.time, tz: ZoneInfo | str | None = None) -> LocalReading:
    """Classify a local time on ``day`` and say which instant ``local_to_utc`` makes of it."""
    zone = _zone(tz)
    naive = dt.datetime.combine(day, time.replace(tzinfo=None, fold=0))
    first, second = naive.replace(tzinfo=zone), naive.replace(tzinfo=zone, fold=1)
    meant = local_to_utc(day, time, zone).astimezone(zone)
    if first.utcoffset() == second.utcoffset():
        return LocalReading(day, time, LocalTimeKind.REGULAR, meant, zone.key)
    # The two folds give different instants: the time is in a gap or a fold.  It exists if it
    # survives the round trip through UTC.
    exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    kind = LocalTimeKind.AMBIGUOUS if exists else LocalTimeKind.NONEXISTENT
    clock_from, clock_to = _transition_clock(first, second, zone)
    return LocalReading(day, time, kind, meant, zone.key, clock_from, clock_to)


def _transition_clock(first: dt.datetime, second: dt.datetime, zone: ZoneInfo) -> tuple[dt.time, dt.time]:
    """Wall clock just before and at the DST transition near ``first``/``second`` (same wall time, two folds)."""
    lo, hi = sorted((first.astimezone(UTC), second.astimezone(UTC)))
    step = dt.timedelta(minutes=1)
    # The transition instant is between the two readings (at most the DST shift apart): search by minute.
    before = lo.astimezone(zone).utcoffset()
    while hi - lo > step:
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    moment = hi.replace(second=0, microsecond=0)
    old_offset = before or dt.timedelta(0)
    return (moment + old_offset).time(), moment.astimezone(zone).time()


def offset_problem(time: dt.time) -> str | None:
    """Why ``time`` is not a local time of day (``None``: it is, it has no offset)."""
    if time.tzinfo is not None:
        return f"{LOCAL_TIME_ONLY}; {time.isoformat()} carries an offset"
    return None


def transition_days(start: dt.date, end: dt.date, tz: ZoneInfo | str | None = None) -> list[dt.date]:
    """The days in ``[start, end]`` on which the zone's clocks change (DST), in order."""
    zone = _zone(tz)
    out: list[dt.date] = []
    for year in range(start.year, end.year + 1):
        out += [d for d in _transition_days_of_year(year, zone.key) if start <= d <= end]
    return out


@lru_cache(maxsize=256)
def _transition_days_of_year(year: int, key: str) -> tuple[dt.date, ...]:
    zone = ZoneInfo(key)
    day, out = dt.date(year, 1, 1), []
    while day.year == year:
        if day_length_minutes(day, zone) != 1440:
            out.append(day)
        day += dt.timedelta(days=1)
    return tuple(out)


def utc_to_local(value: dt.datetime, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """An aware datetime as local time in the roster zone."""
    _require_aware(value)
    return value.astimezone(_zone(tz))


def day_origin(day: dt.date, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """Minute 0 of a roster day: local midnight of ``day`` as an aware UTC datetime (remembered for a
    named zone: reading a stored roster back asks it for every stop's times)."""
    if tz is None:
        return local_to_utc(day, dt.time(0, 0), tz)  # the configured zone, which settings may change
    return _day_origin(day, tz)


@lru_cache(maxsize=512)
def _day_origin(day: dt.date, tz: ZoneInfo | str) -> dt.datetime:
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
    """Minutes from the day's origin to a local wall-clock time on that day (see module docstring);
    remembered for a named zone (a day's problem asks it for every window and shift, mostly the
    same few times)."""
    if tz is None:
        return to_minutes(local_to_utc(day, time, tz), day, tz)  # the configured zone, which settings may change
    return _local_time_to_minutes(day, time, tz)


@lru_cache(maxsize=4096)
def _local_time_to_minutes(day: dt.date, time: dt.time, tz: ZoneInfo | str) -> int:
    return to_minutes(local_to_utc(day, time, tz), day, tz)
