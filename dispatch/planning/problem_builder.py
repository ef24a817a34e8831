"""Stored data for one day -> an optimizer ``Problem``, and the map back to requests.

Rules of the domain that the optimizer does not know live here:

* Times: local wall-clock times become minutes from the day's origin (local midnight,
  through UTC), so DST days are 23 or 25 hours long without special cases.  A time in the
  spring-forward gap is read as RFC 5545 says (02:30 is 03:30; ``dispatch.timeutil``), so a
  stored request never fails a day's plan; if that reading empties a window (02:45-03:10 becomes
  03:45-03:10, possible in databases from before intake refused it) the request is skipped with
  a reason naming it, which the roster keeps among its unplaced visits.  A shift emptied the
  same way is not worked that day.
* Breaks (Kodeks pracy art. 134): 15 minutes once the day's working time is 6 hours or
  more, another 15 minutes above 9 hours.  The break goes into the worker's longest shift,
  not in its first or last hour, because a break at the door is no break.
* Overtime: employees on a basic or equivalent working-time system may run up to 60 minutes
  over, at a cost; civil contracts (zlecenie) and part-timers may not (the contract sets
  their hours).
* Start and end: home, or the centre's office for workers who start there.
* Rides (senior taxi): pooled rides, a pickup and a drop-off visit per trip, built by
  ``dispatch.planning.ride_builder`` (windows from the appointment, ride-time limit, return trip,
  on-call return, escort).  Drivers are the ``driver`` workers with the driving licence (the
  taxi service's kinds and skills); each drives the car assigned to them for the whole day,
  so the car's seats and wheelchair places are the driver's ``capacity``, and the car's
  availability window cuts the shifts of whoever works with it (drivers; the handyman and
  his van too); no car, no rides: a driver without a car has no room for a passenger.
* Windows: every window of the request (``dispatch.catalog.visit_windows``); the visit starts in one.
* Who: the senior's regular workers and the request's preferred workers are preferred; the
  senior's and the request's forbidden workers are excluded; the request's required workers
  are the only ones allowed (a ride's: its drivers).  A request whose required workers are off
  that day, or whose pin cannot hold, is skipped with a reason (``SKIP_CAUSES``).
* Gender (``dispatch.catalog.care_rules``): the senior's preferred gender is a wish, and a hard rule
  (``gender_strict``) for intimate-care visits of a senior whose rule is ``require``.
* Pins (``dispatch.planning.pins``): the day's pinned worker and/or start of a request, kept as given.
* Labour rules across days (``dispatch.catalog.labour``), when the work of other days is given
  (``labour_spans``): each worker's shifts cut for the 11 h and 35 h rests and the day's working
  minutes capped by the week's and settlement period's hours; the limits applied are kept
  (``BuiltProblem.labour_limits``) and stored with the roster.
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, NamedTuple, Protocol, Sequence

import numpy as np

from dispatch.domain import PlaceKind
from dispatch.catalog import care_rules
from dispatch.catalog import labour
from dispatch.planning import explanations
from dispatch.catalog import visit_windows
from dispatch.planning.ride_builder import BuiltRide, RideSettings, build_ride
from dispatch.planning.ride_legs import VISIT, VisitSource
from dispatch.timeutil import local_time_to_minutes, read_local
from dispatch.providers.rows_on_demand import RowsOnDemand
from dispatch.providers.travel import TravelTimeProvider
from optimizer import (
    BreakRule,
    Dependency,
    Gender,
    Location,
    Problem,
    Ride,
    Shift,
    TimeWindow,
    TravelMode,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)

ASSISTANCE_SERVICE = "personal_assistance"
"""The service whose staff ride along as escorts (usługi asystenckie)."""

OVERTIME_BY_CONTRACT = {"etat_podstawowy": 60, "etat_rownowazny": 60}



def matrix_rows(matrix: object) -> tuple[array, ...]:
    """A travel matrix as rows of machine integers (``array('q')``), for the optimizer.

    The optimizer reads single cells (``m[a][b]``) millions of times; nested tuples of
    Python ints do that fast but a 6,000-place day (10x the demo and more) then takes
    gigabytes (every int above 256 is an object).  Array rows index as fast, take 8 bytes
    a cell, and turn into numpy without copying cell by cell.  Rows already (a cached matrix,
    ``dispatch.providers.travel_cache``) are returned as they are.
    """
    if isinstance(matrix, RowsOnDemand) or (isinstance(matrix, tuple) and all(isinstance(row, array)
                                                                            for row in matrix[:1])):
        return matrix  # type: ignore[return-value]
    cells = np.ascontiguousarray(matrix, dtype=np.int64)
    return tuple(array("q", row.tobytes()) for row in cells)


def travel_rows(travel: object, points: Sequence[tuple[float, float]], mode: str) -> tuple[Sequence[array],
                                                                                        Sequence[array]]:
    """The minute and metre matrices of ``points`` for ``mode`` as rows (:func:`matrix_rows`).

    Lazy when the provider can make rows on demand (``lazy``: the offline estimate; see
    ``optimizer.matrix``): nothing is computed here, and a region's day never holds its N x N
    squares (measured at 10,000 visits: 19 s of the build and 3.9 GB).  Otherwise asked as numpy
    arrays when the provider gives them (``arrays``): a 10x day's matrices as nested lists of
    Python ints took longer to make and unmake (seconds each) than to compute.  A server
    (OSRM) answers the square in blocks of requests, so it stays dense."""
    lazy = getattr(travel, "lazy", None)
    if lazy is not None:
        return lazy(points, mode)
    arrays = getattr(travel, "arrays", None)
    minutes, metres = arrays(points, mode) if arrays is not None else travel.matrix(points, mode)  # type: ignore[attr-defined]
    return matrix_rows(minutes), matrix_rows(metres)


class SkippedRequest(NamedTuple):
    """A request that could not become visits on the day, with why (in Polish and English, worded
    by ``dispatch.planning.explanations``).

    ``cause`` says which rule stopped it (``SKIP_CAUSES``); it is stored in the unplaced
    visit's details, under the one reason code ``SKIPPED_REASON``.
    """

    request_id: str
    message_en: str
    message_pl: str
    cause: str = "unknown_reference"
    mandatory: bool = False
    """The request's visits are mandatory: a roster without them must say so (``dispatch.planning.publish``)."""


#: The reason code a skipped request is stored under among a roster's unplaced visits.
SKIPPED_REASON = "request_not_plannable"
#: Why a request was skipped (``SkippedRequest.cause``, the ``cause`` of the unplaced visit's details).
SKIP_CAUSES = (
    "unknown_reference",  # its senior or destination does not exist
    "window_emptied_by_dst",  # the spring-forward reading puts every window's start after its end
    "required_worker_not_on_duty",  # fewer of its required workers work that day than it needs
    "pinned_worker_not_on_duty",  # the worker it is pinned to does not work that day
    "pinned_worker_excluded",  # the pinned worker may not do it (forbidden, not required, kind, skills)
    "pinned_start_outside_windows",  # the pinned start lies in none of its windows that day
)


class PinLike(Protocol):
    """A pin of one request on the day (``models.VisitPin``): a worker and/or a local start."""

    worker_id: str | None
    start: dt.time | None


class PlaceLike(Protocol):
    id: str
    kind: object
    lat: float
    lon: float


@dataclass
class BuiltProblem:
    problem: Problem
    sources: dict[str, VisitSource]
    location_names: list[str]
    skipped: list[SkippedRequest] = field(default_factory=list)
    """Requests that could not become visits at all, each with why."""
    rides: list[BuiltRide] = field(default_factory=list)
    """Every trip built (outbound and return), for ride reports."""
    tz: str | None = None
    """The time zone the problem's minutes are local to (None: the configured roster zone)."""
    labour_limits: dict[str, tuple[labour.DayLimit, ...]] = field(default_factory=dict)
    """Labour rules that cut a worker's day (``dispatch.catalog.labour.day_limits``), by worker id."""


class _Locations:
    """Deduplicated locations (by rounded coordinates) with a name each."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self.names: list[str] = []
        self._index: dict[tuple[float, float], int] = {}

    def add(self, name: str, lat: float, lon: float) -> int:
        key = (round(lat, 6), round(lon, 6))
        if key not in self._index:
            self._index[key] = len(self.points)
            self.points.append((lat, lon))
            self.names.append(name)
        return self._index[key]


def break_rules(shifts: Sequence[Shift]) -> list[tuple[BreakRule, ...]]:
    """Breaks per shift from the day's total working time (art. 134 KP), in the longest shift."""
    total = sum(s.end - s.start for s in shifts)
    count = 0 if total < 360 else (1 if total <= 540 else 2)
    out: list[tuple[BreakRule, ...]] = [() for _ in shifts]
    if count == 0 or not shifts:
        return out
    longest = max(range(len(shifts)), key=lambda i: shifts[i].end - shifts[i].start)
    s = shifts[longest]
    earliest = s.start + min(60, (s.end - s.start) // 4)
    latest = max(earliest, s.end - 60 - 15)
    rules = [BreakRule(15, earliest, latest) for _ in range(count)]
    out[longest] = tuple(rules)
    return out


def build_problem(
    day: dt.date,
    worker_days: Iterable[object],
    requests: Iterable[object],
    seniors: Mapping[str, object],
    places: Mapping[str, PlaceLike],
    cars: Mapping[str, object],
    services: Mapping[str, object],
    travel: TravelTimeProvider,
    tz: str = "Europe/Warsaw",
    weights: Weights | None = None,
    ride_settings: RideSettings | None = None,
    pins: Mapping[str, PinLike] | None = None,
    served_before: Mapping[str, Iterable[str]] | None = None,
    labour_spans: Mapping[str, Sequence[labour.WorkSpan]] | None = None,
    labour_rules: labour.LabourRules | None = None,
) -> BuiltProblem:
    """The optimizer problem for ``day`` from stored rows (or fixture objects of the same shape).

    ``worker_days`` are objects with ``worker`` and ``shifts`` (the day's shift rows);
    ``requests`` are the requests that occur on ``day``; ``ride_settings`` the taxi model's
    knobs (defaults: ``RideSettings()``); ``pins`` the day's pins by request id;
    ``served_before`` the workers who already serve each senior earlier in the week being
    planned (by senior id; ``dispatch.planning.week_plan``), preferred where none of her regular
    workers can come (see ``_worker_terms``); ``labour_spans`` the work of other days by worker id
    (None: labour rules across days are not applied).
    """
    pins = pins or {}
    served_before = served_before or {}
    ride_settings = ride_settings or RideSettings()
    locs = _Locations()
    office = next((p for p in places.values() if p.kind == PlaceKind.OFFICE), None)
    office_loc = locs.add(office.id, office.lat, office.lon) if office else None
    workers: list[Worker] = []
    labour_limits: dict[str, tuple[labour.DayLimit, ...]] = {}
    for wd in worker_days:
        w = wd.worker  # type: ignore[attr-defined]
        home = locs.add(f"home:{w.id}", w.home_lat, w.home_lon)
        base = office_loc if (w.starts_at_office and office_loc is not None) else home
        plain = [
            Shift(local_time_to_minutes(day, s.start, tz), local_time_to_minutes(day, s.end, tz))
            for s in wd.shifts  # type: ignore[attr-defined]
        ]
        plain = [s for s in plain if s.end > s.start]  # a shift the DST gap empties is not worked
        overtime = OVERTIME_BY_CONTRACT.get(w.contract, 0)
        car = cars.get(w.car_id) if w.car_id else None
        car_until: int | None = None
        if car is not None:
            plain, car_until = _within_car_hours(day, tz, plain, car)
            if not plain:
                continue  # the car is not available during any of the driver's shifts
        overtimes = [overtime] * len(plain)
        max_work = w.max_daily_minutes
        if labour_spans is not None:
            terms = labour.day_limits(day, tz, w.contract, w.weekly_hours, [(s.start, s.end, overtime) for s in plain],
                                      max_work, labour_spans.get(w.id, ()), labour_rules)
            if terms.limits:
                labour_limits[w.id] = terms.limits
            if not terms.shifts:
                continue  # the rest or the hours left leave no work on this day
            plain = [Shift(a, b) for a, b, _ in terms.shifts]
            overtimes = [o for _, _, o in terms.shifts]
            max_work = terms.max_work_minutes
        rules = break_rules(plain)
        shifts = tuple(
            Shift(s.start, s.end, overtimes[i] if car_until is None else max(0, min(overtimes[i], car_until - s.end)),
                  rules[i])
            for i, s in enumerate(plain)
        )
        skills = set(w.skills)
        capacity: dict[str, int] = {}
        if car is not None:
            capacity = {"seats": car.seats, "wheelchair": car.wheelchair_places}  # type: ignore[attr-defined]
        workers.append(
            Worker(
                id=w.id,
                kind=WorkerKind(w.kind),
                shifts=shifts,
                start_location=base,
                end_location=base,
                travel_mode=TravelMode(w.travel_mode),
                skills=frozenset(skills),
                gender=Gender(w.gender) if w.gender in ("F", "M") else None,
                max_work_minutes=max_work,
                capacity=capacity,
            )
        )
    on_duty = {w.id: w for w in workers}
    visits: list[Visit] = []
    sources: dict[str, VisitSource] = {}
    dependencies: list[Dependency] = []
    skipped: list[SkippedRequest] = []
    requests = list(requests)
    request_ids = {r.id for r in requests}  # type: ignore[attr-defined]

    pending_rides: list[tuple[object, int, int, dict]] = []
    for r in requests:
        senior = seniors.get(r.senior_id)  # type: ignore[attr-defined]
        if senior is None:
            words = explanations.unknown_senior(r.id, r.senior_id)  # type: ignore[attr-defined]
            skipped.append(SkippedRequest(r.id, words.en, words.pl,  # type: ignore[attr-defined]
                                          mandatory=bool(r.mandatory)))  # type: ignore[attr-defined]
            continue
        home = locs.add(f"senior:{senior.id}", senior.lat, senior.lon)  # type: ignore[attr-defined]
        part = _request_part(r, senior, services.get(r.service), home, day, tz, on_duty,  # type: ignore[attr-defined]
                             pins.get(r.id), served_before.get(senior.id, ()))  # type: ignore[attr-defined]
        if isinstance(part, SkippedRequest):
            skipped.append(part)
            continue
        if isinstance(part, Visit):
            visits.append(part)
            sources[part.id] = VisitSource(r.id, day)  # type: ignore[attr-defined]
            continue
        ride, spans, common, terms = part
        # The request's required and preferred workers are its drivers (ride_builder keeps them off the escort).
        common.update(required_workers=terms.required, preferred_workers=terms.preferred)
        dest = places.get(ride.destination)
        if dest is None:
            words = explanations.unknown_destination(r.id, ride.destination)  # type: ignore[attr-defined]
            skipped.append(SkippedRequest(r.id, words.en, words.pl,  # type: ignore[attr-defined]
                                          mandatory=bool(r.mandatory)))  # type: ignore[attr-defined]
            continue
        dest_loc = locs.add(dest.id, dest.lat, dest.lon)
        pending_rides.append((r, home, dest_loc, common))
    rides: list[Ride] = []
    built_rides: list[BuiltRide] = []
    if pending_rides:
        car_matrix, _ = travel_rows(travel, locs.points, "car")
        assistance = services.get(ASSISTANCE_SERVICE)
        assistant_kinds = frozenset(WorkerKind(k) for k in getattr(assistance, "worker_kinds", ()) or ()) or frozenset(
            {WorkerKind.PERSONAL_ASSISTANT})
        assistant_skills = frozenset(getattr(assistance, "required_skills", ()) or ())
        for r, home, dest_loc, common in pending_rides:
            driver_fields = dict(common, worker_kinds=common["worker_kinds"] or frozenset({WorkerKind.DRIVER}),
                                 soft_windows=False, max_lateness=0)
            parts = build_ride(r, day, tz, home, dest_loc, car_matrix, ride_settings, driver_fields,
                               assistant_kinds, assistant_skills)
            visits += parts.visits
            rides += parts.rides
            dependencies += parts.dependencies
            sources.update(parts.sources)
            built_rides += parts.built
    # Follow-ups (e.g. medication checks) become dependencies when both happen today.
    first_visit = {}
    for v in visits:
        src = sources[v.id]
        first_visit.setdefault(src.request_id, v.id)
    for r in requests:
        follows = getattr(r, "follows", None)
        if follows and follows in request_ids and r.id in first_visit and follows in first_visit:  # type: ignore[attr-defined]
            dependencies.append(
                Dependency(first_visit[follows], first_visit[r.id],  # type: ignore[attr-defined]
                           int(r.follow_min_delay), r.follow_max_delay)  # type: ignore[attr-defined]
            )
    modes = sorted({w.travel_mode for w in workers}, key=lambda m: m.value) or [TravelMode.CAR]
    travel_times, distances = {}, {}
    for mode in modes:
        travel_times[mode], distances[mode] = travel_rows(travel, locs.points, mode.value)
    problem = Problem(
        locations=tuple(Location(name, lat, lon) for name, (lat, lon) in zip(locs.names, locs.points)),
        travel_times=travel_times,
        workers=tuple(workers),
        visits=tuple(visits),
        dependencies=tuple(dependencies),
        rides=tuple(rides),
        distances=distances,
        weights=weights or Weights(),
        name=f"roster {day.isoformat()}",
    )
    return BuiltProblem(problem, sources, locs.names, skipped, built_rides, tz, labour_limits)


def _request_part(r: object, senior: object, service: object, home: int, day: dt.date, tz: str,
                  on_duty: Mapping[str, Worker], pin: PinLike | None,
                  served_before: Iterable[str]) -> Visit | SkippedRequest | tuple[object, Sequence[tuple[int, int]],
                                                                                  dict, _WorkerTerms]:
    """One request of the day (its senior known, her home at location ``home``): the visit of a
    request that is not a ride, why it cannot be planned, or a ride's parts for ``build_ride`` (the
    ride, its windows, the fields its legs share and its worker terms)."""
    spans = visit_windows.day_minutes(day, visit_windows.windows_of(r), tz)
    if not spans:
        return _emptied_window(r, day, tz)
    ride = r.ride  # type: ignore[attr-defined]
    kinds = getattr(service, "worker_kinds", None)
    common = dict(
        required_skills=frozenset(r.required_skills),  # type: ignore[attr-defined]
        worker_kinds=frozenset(WorkerKind(k) for k in kinds) if kinds else frozenset(),
        mandatory=bool(r.mandatory),  # type: ignore[attr-defined]
        priority=int(r.priority),  # type: ignore[attr-defined]
        soft_windows=bool(r.soft_window),  # type: ignore[attr-defined]
        max_lateness=int(r.max_lateness),  # type: ignore[attr-defined]
        client_id=senior.id,  # type: ignore[attr-defined]
    )
    terms = _worker_terms(r, senior, day, tz, on_duty, common, spans, None if ride else pin, served_before)
    if isinstance(terms, SkippedRequest):
        return terms
    common["forbidden_workers"] = terms.forbidden
    if ride is not None:
        return ride, spans, common, terms
    gender, strict = care_rules.gender_terms(senior, service)
    return Visit(
        id=f"{r.id}@{day.isoformat()}",  # type: ignore[attr-defined]
        location=home,
        duration=int(r.duration),  # type: ignore[attr-defined]
        windows=tuple(TimeWindow(a, b) for a, b in spans),
        workers_needed=int(r.workers_needed),  # type: ignore[attr-defined]
        required_workers=terms.required,
        preferred_workers=terms.preferred,
        gender_preference=Gender(gender) if gender else None,
        gender_strict=strict,
        pinned_worker=terms.pinned_worker,
        pinned_start=terms.pinned_start,
        **common,
    )


def with_request(built: BuiltProblem, day: dt.date, request: object, senior: object, service: object,
                 travel: TravelTimeProvider) -> BuiltProblem:
    """``built`` (the day's problem from what is stored) with one more request that is not stored and
    not a ride (a recommendation for a request given inline), exactly as :func:`build_problem` would
    build the day with it as its last request: her home the last location if it is a new place,
    the visit after the day's other visits and before the ride legs (which are built after every
    request), the travel matrices of the locations then.  No follow-up can name a request that is
    not stored, so the dependencies stay as they are.  Reading and building the whole day again
    for one visit took seconds at 10x."""
    p = built.problem
    tz = built.tz or "Europe/Warsaw"
    if getattr(request, "ride", None) is not None:
        raise ValueError("a ride's legs are built with the day (build_problem)")
    locs = _Locations()
    for loc in p.locations:
        locs.add(loc.id, loc.lat, loc.lon)  # type: ignore[arg-type]
    home = locs.add(f"senior:{senior.id}", senior.lat, senior.lon)  # type: ignore[attr-defined]
    on_duty = {w.id: w for w in p.workers}
    part = _request_part(request, senior, service, home, day, tz, on_duty, None, ())
    if isinstance(part, tuple):  # pragma: no cover - rides refused above
        raise ValueError("a ride's legs are built with the day (build_problem)")
    visits, sources = p.visits, built.sources
    skipped = built.skipped
    if isinstance(part, SkippedRequest):
        skipped = [*skipped, part]
    else:
        legs = {vid for vid, src in sources.items() if src.leg != VISIT}
        at = next((i for i, v in enumerate(visits) if v.id in legs), len(visits))  # before the first ride leg
        visits = (*visits[:at], part, *visits[at:])
        sources = {vid: src for vid, src in sources.items() if vid not in legs}
        sources[part.id] = VisitSource(request.id, day)  # type: ignore[attr-defined]
        sources.update({vid: src for vid, src in built.sources.items() if vid in legs})
    locations, travel_times, distances = p.locations, p.travel_times, p.distances
    if len(locs.points) > len(p.locations):
        locations = (*p.locations, Location(locs.names[-1], *locs.points[-1]))
        travel_times, distances = {}, {}
        for mode in p.travel_times:
            travel_times[mode], distances[mode] = travel_rows(travel, locs.points, mode.value)
    problem = replace(p, locations=locations, travel_times=travel_times, distances=distances, visits=tuple(visits))
    return replace(built, problem=problem, sources=sources, location_names=list(locs.names), skipped=list(skipped))


def _emptied_window(r: object, day: dt.date, tz: str) -> SkippedRequest:
    """Why request ``r`` has no window on ``day``: each start lies in the DST gap and reads after its end."""
    start = r.window_start  # type: ignore[attr-defined]
    reading = read_local(day, start, tz)
    windows = visit_windows.windows_of(r)
    rid = r.id  # type: ignore[attr-defined]
    words = explanations.window_emptied_by_dst(rid, day, visit_windows.text(windows), len(windows) > 1, start, reading)
    return SkippedRequest(rid, words.en, words.pl, "window_emptied_by_dst", bool(r.mandatory))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _WorkerTerms:
    """Who may, should and must not do one request's visits on the day, and its pin."""

    required: frozenset[str]
    preferred: frozenset[str]
    forbidden: frozenset[str]
    pinned_worker: str | None = None
    pinned_start: int | None = None


def _can_do(worker: Worker, common: Mapping[str, object]) -> bool:
    kinds = common["worker_kinds"]
    return (not kinds or worker.kind in kinds) and common["required_skills"] <= worker.skills  # type: ignore[operator]


def _worker_terms(
    r: object, senior: object, day: dt.date, tz: str, on_duty: Mapping[str, Worker], common: Mapping[str, object],
    spans: Sequence[tuple[int, int]], pin: PinLike | None, served_before: Iterable[str] = (),
) -> _WorkerTerms | SkippedRequest:
    """The request's worker lists on ``day`` (the senior's and its own), or why it cannot be planned.

    Forbidden: the senior's and the request's.  Preferred: the senior's regular workers and the
    request's preferred ones who can do the visit; when none of them can (none on record, or all
    off that day) and a week is planned, those who served the senior earlier that week who can
    (continuity of care).  The record comes first: the optimizer has one preference tier, and
    adding the week's workers to the regular ones would let a stranger of Monday keep the senior
    from her regular carer for the rest of the week.  Required: only these may do it; if fewer of
    them work that day than the visit needs, the request is skipped with a reason naming them
    (they are off, or forbidden since), rather than left to "no eligible worker".  A pin is
    hard as well, so a pin that cannot hold that day skips the request with why.
    """
    rid, mandatory = r.id, bool(r.mandatory)  # type: ignore[attr-defined]
    forbidden_all = {*senior.forbidden_workers, *(getattr(r, "forbidden_workers", None) or ())}  # type: ignore[attr-defined]
    forbidden = frozenset(x for x in forbidden_all if x in on_duty)
    wanted = {*senior.regular_workers, *(getattr(r, "preferred_workers", None) or ())}  # type: ignore[attr-defined]
    preferred = frozenset(x for x in wanted if x in on_duty and x not in forbidden and _can_do(on_duty[x], common))
    if not preferred:  # the record first; the week's own continuity where it names nobody who can come today
        preferred = frozenset(x for x in served_before
                              if x in on_duty and x not in forbidden and _can_do(on_duty[x], common))
    named = list(dict.fromkeys(getattr(r, "required_workers", None) or ()))
    required = frozenset(x for x in named if x in on_duty and x not in forbidden_all)
    needed = int(r.workers_needed)  # type: ignore[attr-defined]
    if named and len(required) < needed:
        words = explanations.required_workers_away(rid, day, named, [x for x in named if x not in required])
        return SkippedRequest(rid, words.en, words.pl, "required_worker_not_on_duty", mandatory)
    pinned_worker = pin.worker_id if pin is not None else None
    if pinned_worker is not None:
        worker = on_duty.get(pinned_worker)
        if worker is None:
            words = explanations.pinned_worker_off(rid, day, pinned_worker)
            return SkippedRequest(rid, words.en, words.pl, "pinned_worker_not_on_duty", mandatory)
        if pinned_worker in forbidden or (named and pinned_worker not in required) or not _can_do(worker, common) \
                or needed > 1:
            words = explanations.pinned_worker_excluded(rid, day, pinned_worker)
            return SkippedRequest(rid, words.en, words.pl, "pinned_worker_excluded", mandatory)
    pinned_start = None
    if pin is not None and pin.start is not None:
        pinned_start = local_time_to_minutes(day, pin.start, tz)
        late = int(common["max_lateness"]) if common["soft_windows"] else 0  # type: ignore[call-overload]
        if not visit_windows.start_fits(spans, pinned_start, late):
            windows = visit_windows.text(visit_windows.windows_of(r))
            words = explanations.pinned_start_outside(rid, day, pin.start, windows)
            return SkippedRequest(rid, words.en, words.pl, "pinned_start_outside_windows", mandatory)
    return _WorkerTerms(required if named else frozenset(), preferred, forbidden, pinned_worker, pinned_start)


def _within_car_hours(day: dt.date, tz: str, shifts: list[Shift], car: object) -> tuple[list[Shift], int]:
    """The driver's shifts cut to the car's availability window, and the window's end.

    A driver uses one car per shift (the car assigned to them): outside the car's hours
    they have nothing to drive, so that part of the shift is not planned.
    """
    opens = local_time_to_minutes(day, car.available_from, tz)  # type: ignore[attr-defined]
    closes = local_time_to_minutes(day, car.available_to, tz)  # type: ignore[attr-defined]
    cut = [Shift(max(s.start, opens), min(s.end, closes)) for s in shifts]
    return [s for s in cut if s.end > s.start], closes
