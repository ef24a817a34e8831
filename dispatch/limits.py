"""Sanity ranges for what people and files give us: defined once here, used everywhere.

The API schemas (``api/schemas/types.py`` and the bodies), the domain checks that imports and
the API share (``catalog``, ``requests_service``) and the CLI (``carepath demo --date``) all ask
this module, so a value refused over HTTP is refused in a spreadsheet too, with the same words.

Every limit is far beyond any real value and far inside what the code, the databases and the
solver handle.  Without them the fuzz run of issue 21 got absences spanning the years 0266-2028,
a ``first_date`` of 9999-12-31 (one day later overflows: a plain-text 500), a follow-up delay
of 10^12 minutes, 200,000 required skills and a senior at 0,0 in a Kielce area.  Each
``*_problem`` function answers ``None`` for a good value or the message for a bad one; the
caller names the field.
"""

from __future__ import annotations

import datetime as dt
import math

# --------------------------------------------------------------------------- dates

#: Earliest date anyone may enter.  The programme has no records before this system (2026); 2000
#: leaves room for any back-dated entry while refusing typos such as 0266 or 1026.
DATE_MIN = dt.date(2000, 1, 1)
#: Latest date anyone may enter.  Plans are made weeks ahead and recurring requests run for
#: years, not centuries; 2099 keeps every date arithmetic (a day after, a week after, a year
#: ahead for RRULE searches) far from ``date.max`` (9999-12-31), where it overflows.
DATE_MAX = dt.date(2099, 12, 31)
#: Longest absence.  The longest leave in the Labour Code is childcare leave (urlop
#: wychowawczy, art. 186 KP): up to 36 months; 3 years of 366 days cover it.  A longer span is
#: a typo in a year (2026 -> 2062), which would silently take a worker out of every plan.
MAX_ABSENCE_DAYS = 3 * 366

# --------------------------------------------------------------------------- durations and delays

#: Longest visit, lateness, appointment: 12 h.  The longest service (respite care) is a day
#: shift; anything longer cannot fit into one worker's day (see ``MAX_WORK_MINUTES_PER_DAY``).
MAX_VISIT_MINUTES = 12 * 60
#: Longest working day and longest single shift: 13 h, because the Labour Code's 11 h daily
#: rest (art. 132 KP) leaves at most 13 h of work in any 24 h.
MAX_WORK_MINUTES_PER_DAY = 13 * 60
MAX_SHIFT_MINUTES = MAX_WORK_MINUTES_PER_DAY
#: Largest delay between a visit and its follow-up: one day.  A follow-up is linked to the visit
#: it follows only when both are on the same roster day (``problem_builder``), so a longer delay
#: could never be met; a day also covers the 25 h fall-back day's usable span.
MAX_FOLLOW_DELAY_MINUTES = 24 * 60

# --------------------------------------------------------------------------- list sizes

#: Skills on a worker or required by a request.  The catalogue has about a dozen skills; 50
#: leaves room for local ones and keeps the solver's skill sets small.
MAX_SKILLS = 50
#: Characters in one skill name (skills are identifiers such as ``driving_licence_b``).
MAX_SKILL_LENGTH = 64
#: Regular or forbidden workers of one senior, and required, preferred or forbidden workers of
#: one request.  Continuity of care means a handful of regular carers; 50 is more than a
#: centre's whole team in one area.
MAX_WORKER_REFS = 50
#: Time windows of one request, the first included.  A visit offered "in the morning or in the
#: evening" has two; a day cut into more than six separate windows is a schedule, not a window
#: (and every window multiplies the solver's work for the visit).
MAX_WINDOWS = 6
#: Services a senior needs (each at most once; seven exist today).
MAX_NEEDS = 20
#: Shifts in a worker's weekly pattern: up to four per weekday (split shifts).
MAX_SHIFTS_PER_WEEK = 28
#: Characters of a request's ``tasks`` (what to do, shown to the worker).
MAX_TASKS_LENGTH = 2000
#: Request ids in one acknowledgement of unplaced mandatory visits when publishing.  A city's day
#: has a few hundred visits (ten times the Kielce demo: about 3,000); an acknowledgement lists
#: the ones left out.
MAX_ACKNOWLEDGED_VISITS = 10_000

# --------------------------------------------------------------------------- numbers and places

#: Largest integer id or version accepted in a path or query: an ``INTEGER`` column's maximum
#: on PostgreSQL (int4).  SQLite refuses integers beyond 64 bits with an overflow (a 500), and
#: no row can have an id beyond its column's range anyway.
MAX_DB_INT = 2**31 - 1
#: Farthest a senior's or worker's home may lie from the area (or gmina) they are registered
#: in, measured from the area's own place.  Kielce's areas are a few km across and the region's
#: gminas at most ~25 km; 50 km catches coordinates typed into the wrong fields or left at 0,0
#: while allowing a generous margin for geocoding error.
MAX_KM_FROM_AREA = 50.0


def date_problem(value: dt.date) -> str | None:
    """Why ``value`` is not a date anyone may enter (``None``: it is)."""
    if not DATE_MIN <= value <= DATE_MAX:
        return f"{value.isoformat()} is outside the accepted dates {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}"
    return None


def absence_problem(start: dt.date, end: dt.date) -> str | None:
    """Why ``[start, end]`` is too long for one absence (``None``: it is not)."""
    days = (end - start).days + 1
    if days > MAX_ABSENCE_DAYS:
        return (f"an absence of {days} days is longer than {MAX_ABSENCE_DAYS} (3 years, the longest leave); "
                "check the year, or enter consecutive absences")
    return None


def list_problem(values: object, limit: int, what: str) -> str | None:
    """Why a list is too long (``None``: it is not, or it is no list and another check says so)."""
    if isinstance(values, list | tuple) and len(values) > limit:
        return f"{len(values)} {what} given; at most {limit}"
    return None


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine on a 6,371 km sphere: well within this limit's needs)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def area_distance_problem(lat: float, lon: float, area_id: str, area_lat: float, area_lon: float) -> str | None:
    """Why a home at ``lat, lon`` cannot be in the area at ``area_lat, area_lon`` (``None``: it can)."""
    km = km_between(lat, lon, area_lat, area_lon)
    if km > MAX_KM_FROM_AREA:
        return (f"{lat:.5f}, {lon:.5f} is {km:.0f} km from area {area_id!r}; a home must lie within "
                f"{MAX_KM_FROM_AREA:.0f} km of its area (are latitude and longitude swapped or missing?)")
    return None
