"""A week's rosters judged as a week: continuity of care, visits placed, rest between days.

Read from the latest draft-or-published version of each day Monday to Sunday (what a week job
stores, or whatever a dispatcher planned day by day), so the same report compares a week
planned in one job with seven days planned alone (``benchmarks/week.py``).

Continuity of care counts ordinary visits only (a taxi driver or an escort is not a carer):

* **distinct workers per senior**: how many different people come to her in the week; the
  fewer, the better for someone with dementia or simply for trust at the door;
* **regular share**: of the visits placed for seniors who have regular workers, the share done by
  one of them.  "Regular" means the workers on the senior's record (``Senior.regular_workers``):
  the carers the centre assigned and told her about.  A definition taken from the plan itself
  (e.g. "whoever came most this week") would reward any plan that concentrates visits, even on a
  stranger, and could not compare two plans of the same week; the record is the same for both.
  Seniors without regular workers are left out of the share (nobody to keep), not counted as 0.
  A two-person visit counts once per worker.

Rest (Kodeks pracy art. 132, 133; ``/work/shared/domain.md``) is checked **independently** of the
planner's labour rules, from the stored stops alone, as a second opinion like the optimizer's
checker: a worker's working time on a day runs from leaving for the first stop (arrival minus
travel) to the end of the last one (the trip home is not stored, so the check is slightly lenient
there).  A breach is

* ``daily_rest``: less than 11 h between the end of one day's work and the start of the next
  day's, or one day's work longer than 13 h (the 24 h from its start then hold less than 11 h rest);
* ``weekly_rest``: no uninterrupted 35 h without work in the week (Monday 00:00 to the next Monday
  00:00 local time, through UTC, so a DST week is 167 or 169 h long).

Rest across the week's edges (the Sunday before, the Monday after) is not judged here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.planning.publish import latest_roster
from dispatch.planning.ride_legs import is_ride_leg
from dispatch.planning.week_plan import week_of
from dispatch.storage import models as m

DAILY_REST = dt.timedelta(hours=11)
WEEKLY_REST = dt.timedelta(hours=35)
LONGEST_DAY = dt.timedelta(hours=24) - DAILY_REST


@dataclass(frozen=True)
class Stop:
    """What the report needs of one planned stop."""

    day: dt.date
    worker_id: str
    senior_id: str | None
    leg: str | None
    departure: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class RestBreach:
    worker_id: str
    rule: str  # daily_rest | weekly_rest
    rest_hours: float
    """The longest rest found where the rule needs more (daily: between the two days; weekly: in the week)."""
    required_hours: float
    days: tuple[dt.date, ...]


@dataclass(frozen=True)
class SeniorWeek:
    senior_id: str
    workers: tuple[str, ...]
    visits: int
    by_regular: int | None
    """Visits by one of her regular workers; None when she has none on record."""


@dataclass(frozen=True)
class DayVersion:
    date: dt.date
    roster_id: int | None = None
    version: int | None = None
    status: str | None = None
    visits_placed: int = 0
    visits_total: int = 0


@dataclass(frozen=True)
class WeekReport:
    monday: dt.date
    area: str | None
    days: tuple[DayVersion, ...]
    seniors: tuple[SeniorWeek, ...]
    rest_breaches: tuple[RestBreach, ...] = field(default=())

    @property
    def visits_placed(self) -> int:
        return sum(d.visits_placed for d in self.days)

    @property
    def visits_total(self) -> int:
        return sum(d.visits_total for d in self.days)

    @property
    def distinct_workers_mean(self) -> float | None:
        return round(sum(len(s.workers) for s in self.seniors) / len(self.seniors), 3) if self.seniors else None

    @property
    def distinct_workers_max(self) -> int | None:
        return max((len(s.workers) for s in self.seniors), default=None)

    @property
    def regular_share(self) -> float | None:
        kept = [s for s in self.seniors if s.by_regular is not None]
        visits = sum(s.visits for s in kept)
        return round(sum(s.by_regular or 0 for s in kept) / visits, 4) if visits else None

    def as_dict(self) -> dict:
        return {
            "monday": self.monday, "area": self.area,
            "days": [d.__dict__ for d in self.days],
            "visits_placed": self.visits_placed, "visits_total": self.visits_total,
            "seniors": len(self.seniors),
            "distinct_workers_per_senior": {"mean": self.distinct_workers_mean, "max": self.distinct_workers_max},
            "regular_share": self.regular_share,
            "rest_breaches": len(self.rest_breaches),
            "breaches": [b.__dict__ for b in self.rest_breaches],
            "by_senior": [{"senior_id": s.senior_id, "workers": list(s.workers), "visits": s.visits,
                           "by_regular": s.by_regular} for s in self.seniors],
        }


def continuity(stops: Iterable[Stop], regulars: Mapping[str, Sequence[str]]) -> tuple[SeniorWeek, ...]:
    """Per senior with an ordinary visit placed: who came, how often, how often a regular worker."""
    workers: dict[str, dict[str, None]] = {}
    visits: dict[str, int] = {}
    by_regular: dict[str, int] = {}
    for s in stops:
        if s.senior_id is None or (s.leg is not None and is_ride_leg(s.leg)):
            continue
        workers.setdefault(s.senior_id, {})[s.worker_id] = None
        visits[s.senior_id] = visits.get(s.senior_id, 0) + 1
        if s.worker_id in regulars.get(s.senior_id, ()):
            by_regular[s.senior_id] = by_regular.get(s.senior_id, 0) + 1
    return tuple(
        SeniorWeek(sid, tuple(sorted(workers[sid])), visits[sid],
                   by_regular.get(sid, 0) if regulars.get(sid) else None)
        for sid in sorted(workers)
    )


def work_spans(stops: Iterable[Stop]) -> dict[str, dict[dt.date, tuple[dt.datetime, dt.datetime]]]:
    """Worker -> roster day -> (leaving for the first stop, end of the last stop), aware UTC."""
    out: dict[str, dict[dt.date, tuple[dt.datetime, dt.datetime]]] = {}
    for s in stops:
        days = out.setdefault(s.worker_id, {})
        old = days.get(s.day)
        days[s.day] = (s.departure, s.end) if old is None else (min(old[0], s.departure), max(old[1], s.end))
    return out


def _hours(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def rest_breaches(
    spans: Mapping[str, Mapping[dt.date, tuple[dt.datetime, dt.datetime]]], monday: dt.date, tz: str,
) -> tuple[RestBreach, ...]:
    """Daily (11 h) and weekly (35 h) rest breaches of each worker's week of work spans."""
    zone = ZoneInfo(tz)
    week_start = dt.datetime.combine(monday, dt.time(), zone).astimezone(dt.UTC)
    week_end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), zone).astimezone(dt.UTC)
    out: list[RestBreach] = []
    for worker in sorted(spans):
        days = sorted(spans[worker].items())
        for day, (start, end) in days:
            if end - start > LONGEST_DAY:
                out.append(RestBreach(worker, "daily_rest", _hours(dt.timedelta(hours=24) - (end - start)),
                                      _hours(DAILY_REST), (day,)))
        for (d1, (_, end1)), (d2, (start2, _)) in zip(days, days[1:]):
            if (d2 - d1).days == 1 and start2 - end1 < DAILY_REST:
                out.append(RestBreach(worker, "daily_rest", _hours(start2 - end1), _hours(DAILY_REST), (d1, d2)))
        busy = sorted((max(a, week_start), min(b, week_end)) for _, (a, b) in days if b > week_start and a < week_end)
        if not busy:
            continue
        edges = [week_start, *(x for span in busy for x in span), week_end]
        longest = max(edges[i + 1] - edges[i] for i in range(0, len(edges), 2))
        if longest < WEEKLY_REST:
            out.append(RestBreach(worker, "weekly_rest", _hours(longest), _hours(WEEKLY_REST),
                                  tuple(d for d, _ in days)))
    return tuple(out)


def week_report(session: Session, monday: dt.date, tz: str, area: str | None = None) -> WeekReport:
    """The report of the week from ``monday`` over the latest version of each day (``area``'s, or city-wide)."""
    versions: list[DayVersion] = []
    stops: list[Stop] = []
    request_senior: dict[str, str] = {}
    for day in week_of(monday):
        roster = latest_roster(session, day, area)
        if roster is None:
            versions.append(DayVersion(day))
            continue
        kpis = roster.kpis or {}
        versions.append(DayVersion(day, roster.id, roster.version, roster.status.value,
                                   int(kpis.get("visits_placed", 0)), int(kpis.get("visits_total", 0))))
        rows = session.scalars(select(m.RosterAssignment).where(col(m.RosterAssignment.roster_id) == roster.id)).all()
        missing = {r.visit_request_id for r in rows} - request_senior.keys()
        if missing:
            request_senior.update(session.execute(
                select(m.VisitRequest.id, m.VisitRequest.senior_id).where(col(m.VisitRequest.id).in_(missing))
            ).all())
        stops += [Stop(day, r.worker_id, request_senior.get(r.visit_request_id), r.leg,
                       r.arrival - dt.timedelta(minutes=r.travel_minutes), r.end) for r in rows]
    seniors = {s.senior_id for s in stops if s.senior_id is not None}
    regulars = dict(session.execute(
        select(m.Senior.id, m.Senior.regular_workers).where(col(m.Senior.id).in_(seniors))
    ).all()) if seniors else {}
    return WeekReport(monday, area, tuple(versions), continuity(stops, {k: v or () for k, v in regulars.items()}),
                      rest_breaches(work_spans(stops), monday, tz))
