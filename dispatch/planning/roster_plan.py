"""A stored roster version as an optimizer plan of today's problem, and back.

Hand edits and recommendations work on the latest version of a day as it is stored, against
the day's problem built from what is stored *now* (requests added or cancelled since, pins,
shifts).  So a version is read back into ``model.Route``s of that problem
(``plan_edit.stored_route``: exactly the stored stops, times and breaks), and what no longer
fits the problem is set aside and said: a stop whose request is no longer planned that day,
or whose worker is no longer on duty.  Routes that lose a stop that way are timed again by the
engine with the others kept where they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Sequence

from sqlalchemy import select, text
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.storage.plain_rows import columns_of, records
from dispatch.planning.problem_builder import BuiltProblem, with_request
from dispatch.timeutil import to_minutes
from dispatch.providers.travel import TravelTimeProvider
from optimizer import Problem, Route, Stop, Weights
from optimizer import RouteKey, Timer, kept, stored_route

StopKey = tuple[str, dt.date, str]
"""(visit request id, occurrence date, leg): a stop of a roster, as ``roster_diff`` keys it."""


@dataclass(frozen=True)
class SetAside:
    """A stored stop the day's problem has no place for any more."""

    visit_request_id: str
    leg: str
    worker_id: str
    cause: str
    """``request_not_planned`` (cancelled, changed so it no longer happens that day, or skipped)
    or ``worker_not_on_duty`` (absent, or the shift is gone)."""


@dataclass
class LoadedRoster:
    """A stored version as routes of the day's problem."""

    roster: m.Roster
    built: BuiltProblem
    routes: dict[RouteKey, Route]
    set_aside: list[SetAside] = field(default_factory=list)
    timer: Timer | None = None

    @property
    def problem(self) -> Problem:
        return self.built.problem

    def visit_ids(self, request_id: str) -> list[str]:
        """The problem's visits of a request (one, or a ride's legs)."""
        return [vid for vid, src in self.built.sources.items() if src.request_id == request_id]


def build(session: Session, day: dt.date, area: str | None, travel: TravelTimeProvider, tz: str,
          weights: Weights | None = None, extra_requests: Sequence[m.VisitRequest] = ()) -> BuiltProblem:
    """The day's problem from what is stored (the area's, if any), with ``extra_requests`` too.

    Kept between calls by what it is built from (:func:`data_stamp`): the live day asks about
    the same day again and again, and reading a 10x centre's rows into objects takes seconds.
    A problem with ``extra_requests`` (not stored) is built afresh."""
    from dispatch.planning.ride_builder import RideSettings
    from dispatch.settings import get_settings

    if extra_requests:
        return _with_extra(session, day, area, travel, tz, weights, extra_requests)
    key = (data_stamp(session, day), day, area, tz, weights, repr(RideSettings.from_settings(get_settings())), id(travel))
    with _LOCK:
        hit = _BUILT.get(key)
    if hit is not None:
        return hit
    built = _build(session, day, area, travel, tz, weights, ())
    with _LOCK:
        _BUILT.clear()  # one day's problem at a time: at 10x it is a gigabyte
        _BUILT[key] = built
    return built


def _with_extra(session: Session, day: dt.date, area: str | None, travel: TravelTimeProvider, tz: str,
                weights: Weights | None, extra_requests: Sequence[m.VisitRequest]) -> BuiltProblem:
    """The day's (kept) problem with requests that are not stored added one by one
    (``problem_builder.with_request``: what building the day with them gives, without reading and
    building the whole day again); a ride, or a request whose senior is unknown, builds afresh."""
    seniors = [session.get(m.Senior, r.senior_id) for r in extra_requests]
    if area is not None or any(s is None for s in seniors) or any(r.ride is not None for r in extra_requests):
        return _build(session, day, area, travel, tz, weights, extra_requests)
    built = build(session, day, area, travel, tz, weights)
    for request, senior in zip(extra_requests, seniors):
        built = with_request(built, day, request, senior, session.get(m.Service, request.service), travel)
    return built


def _build(session: Session, day: dt.date, area: str | None, travel: TravelTimeProvider, tz: str,
           weights: Weights | None, extra_requests: Sequence[m.VisitRequest]) -> BuiltProblem:
    from dispatch.planning.rosters import build_day

    if area is not None and extra_requests:
        raise ValueError("a request given inline is recommended against the city-wide roster only")
    return build_day(session, day, travel, tz, weights, area=area, extra_requests=extra_requests)


_LOCK = threading.Lock()
_BUILT: dict[tuple, BuiltProblem] = {}
_LOADED: OrderedDict[tuple, LoadedRoster] = OrderedDict()
KEEP_LOADED = 4


def data_stamp(session: Session, day: dt.date | None = None) -> str:
    """A digest of every row the day's problem is built from (``models.SCENARIO_TABLES``, and the
    roster versions of other days than ``day``, whose work spans the labour rules read), read as plain
    rows: equal digests, equal problems (the rows themselves, so nothing can go stale).  The day's own
    versions do not count: an edit of the day makes one and the problem stays the same."""
    digest = hashlib.sha256()
    dialect = session.get_bind().dialect
    for table in m.SCENARIO_TABLES:
        t = table.__table__  # type: ignore[attr-defined]
        # As the driver gives them (a text query has no column types): turning JSON and dates into
        # objects, and the result rows' repr, were most of a 10x day's two seconds here.
        query = text(str(select(t).order_by(*t.primary_key.columns).compile(dialect=dialect)))
        rows = [tuple(row) for row in session.execute(query)]
        digest.update(t.name.encode())
        digest.update(repr(rows).encode())
    # The labour rules read other days' work (``dispatch.planning.work_spans``): which versions there
    # are and their status (a version's spans never change once stored).
    others = select(m.Roster.id, m.Roster.status).order_by(m.Roster.id)
    if day is not None:
        others = others.where(m.Roster.date != day)
    versions = session.execute(others).all()
    digest.update(repr(versions).encode())
    return digest.hexdigest()


def load_roster(session: Session, roster: m.Roster, built: BuiltProblem, tz: str) -> LoadedRoster:
    """``roster`` read back into routes of ``built`` (see the module docstring); kept for the same
    version and problem (a stored version never changes)."""
    key = (roster.id, roster.created_at, id(built), tz)
    with _LOCK:
        hit = _LOADED.get(key)
        if hit is not None and hit.built is built:
            _LOADED.move_to_end(key)
            if hit.timer is None:
                hit.timer = Timer(built.problem)  # made once, shared by the requests that reuse it
            return replace(hit, roster=roster)  # this session's row, the kept routes
    loaded = _load(session, roster, built, tz)
    with _LOCK:
        _LOADED[key] = loaded
        while len(_LOADED) > KEEP_LOADED:
            _LOADED.popitem(last=False)
    return loaded


def _load(session: Session, roster: m.Roster, built: BuiltProblem, tz: str) -> LoadedRoster:
    problem = built.problem
    day = roster.date
    zone = built.tz or tz
    visit_of: dict[StopKey, str] = {(src.request_id, src.date, src.leg): vid for vid, src in built.sources.items()}
    visits = problem.visit_by_id()
    workers = problem.worker_by_id()
    # Plain records (``dispatch.storage.plain_rows``): a 10x day's 4,800 stops as ORM objects took a second.
    rows = records(session, m.RosterAssignment, columns_of(m.RosterAssignment).where(
        col(m.RosterAssignment.roster_id) == roster.id).order_by(col(m.RosterAssignment.start)))
    stops: dict[RouteKey, list[Stop]] = {}
    set_aside: list[SetAside] = []
    lost: set[RouteKey] = set()
    for a in rows:
        key = (a.worker_id, a.shift_index)
        leg = a.leg or "visit"
        vid = visit_of.get((a.visit_request_id, a.occurrence_date, leg))
        worker = workers.get(a.worker_id)
        if worker is None or not 0 <= a.shift_index < len(worker.shifts):
            set_aside.append(SetAside(a.visit_request_id, leg, a.worker_id, "worker_not_on_duty"))
            continue
        if vid is None:
            set_aside.append(SetAside(a.visit_request_id, leg, a.worker_id, "request_not_planned"))
            lost.add(key)
            continue
        start, end = to_minutes(a.start, day, zone), to_minutes(a.end, day, zone)
        stops.setdefault(key, []).append(Stop(vid, visits[vid].location, to_minutes(a.arrival, day, zone), start,
                                              end, a.travel_minutes, a.waiting_minutes))
    breaks: dict[RouteKey, list[tuple[int, int]]] = {}
    for b in records(session, m.RosterBreak, columns_of(m.RosterBreak).where(col(m.RosterBreak.roster_id) == roster.id)):
        breaks.setdefault((b.worker_id, b.shift_index), []).append(
            (to_minutes(b.start, day, zone), to_minutes(b.end, day, zone)))
    routes = {key: stored_route(problem, key[0], key[1], s, breaks.get(key, []), visits=visits, workers=workers)
              for key, s in stops.items()}
    loaded = LoadedRoster(roster, built, routes, set_aside)
    if lost:
        timer = loaded.timer = Timer(problem)
        for key in lost & set(routes):
            new = timer.time(key, kept(routes[key]))
            if new is None:
                del routes[key]
            else:
                routes[key] = new
    return loaded


def timer_of(loaded: LoadedRoster) -> Timer:
    """The loaded plan's engine timer (made once)."""
    if loaded.timer is None:
        loaded.timer = Timer(loaded.problem)
    return loaded.timer
