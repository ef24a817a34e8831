"""Stored data for one day -> an optimizer ``Problem``, and the map back to requests.

Rules of the domain that the optimizer does not know live here:

* Times: local wall-clock times become minutes from the day's origin (local midnight,
  through UTC), so DST days are 23 or 25 hours long without special cases.
* Breaks (Kodeks pracy art. 134): 15 minutes once the day's working time is 6 hours or
  more, another 15 minutes above 9 hours.  The break goes into the worker's longest shift,
  not in its first or last hour, because a break at the door is no break.
* Overtime: employees on a basic or equivalent working-time system may run up to 60 minutes
  over, at a cost; civil contracts (zlecenie) and part-timers may not (the contract sets
  their hours).
* Start and end: home, or the centre's office for workers who start there.
* Rides (senior taxi), until the pooled-ride model lands: a ride is a driver's visit that
  starts at the senior's door and ends at the destination (the driver helps the senior to
  the car and into the clinic); the return is a second ride after the appointment, linked
  to the first by a dependency.  A wheelchair ride needs a driver whose car has a
  wheelchair place.
* Continuity: the senior's regular workers are preferred; forbidden workers are excluded;
  the senior's preferred gender is a soft preference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol, Sequence

from dispatch.timeutil import local_time_to_minutes
from dispatch.travel import TravelTimeProvider
from optimizer.model import (
    BreakRule,
    Dependency,
    Gender,
    Location,
    Problem,
    Shift,
    TimeWindow,
    TravelMode,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)

WHEELCHAIR_CAR = "wheelchair_car"
"""Skill a driver gets for the day when the car they drive has a wheelchair place."""

DOOR_TO_CAR_MINUTES = 10
"""Helping the senior from the flat to the car, and from the car into the clinic."""
RETURN_WINDOW_MINUTES = 45
"""How long after the appointment's expected end the return pickup may start."""

OVERTIME_BY_CONTRACT = {"etat_podstawowy": 60, "etat_rownowazny": 60}


class PlaceLike(Protocol):
    id: str
    kind: object
    lat: float
    lon: float


@dataclass(frozen=True)
class VisitSource:
    """What a problem visit stands for: a request on a day, and which leg for rides."""

    request_id: str
    date: dt.date
    leg: str = "visit"  # visit | outbound | return


@dataclass
class BuiltProblem:
    problem: Problem
    sources: dict[str, VisitSource]
    location_names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(request id, why) for requests that could not become visits at all."""


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


def _mode(value: object) -> TravelMode:
    return TravelMode(getattr(value, "value", value))


def _kind(value: object) -> WorkerKind:
    return WorkerKind(getattr(value, "value", value))


def _value(value: object) -> str:
    return str(getattr(value, "value", value))


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
) -> BuiltProblem:
    """The optimizer problem for ``day`` from stored rows (or fixture objects of the same shape).

    ``worker_days`` are objects with ``worker`` and ``shifts`` (the day's shift rows);
    ``requests`` are the requests that occur on ``day``.
    """
    locs = _Locations()
    office = next((p for p in places.values() if _value(p.kind) == "office"), None)
    office_loc = locs.add(office.id, office.lat, office.lon) if office else None
    workers: list[Worker] = []
    for wd in worker_days:
        w = wd.worker  # type: ignore[attr-defined]
        home = locs.add(f"home:{w.id}", w.home_lat, w.home_lon)
        base = office_loc if (w.starts_at_office and office_loc is not None) else home
        plain = [
            Shift(local_time_to_minutes(day, s.start, tz), local_time_to_minutes(day, s.end, tz))
            for s in wd.shifts  # type: ignore[attr-defined]
        ]
        overtime = OVERTIME_BY_CONTRACT.get(_value(w.contract), 0)
        rules = break_rules(plain)
        shifts = tuple(Shift(s.start, s.end, overtime, rules[i]) for i, s in enumerate(plain))
        skills = set(w.skills)
        car = cars.get(w.car_id) if w.car_id else None
        capacity: dict[str, int] = {}
        if car is not None:
            capacity = {"seats": car.seats, "wheelchair": car.wheelchair_places}  # type: ignore[attr-defined]
            if car.wheelchair_places > 0:  # type: ignore[attr-defined]
                skills.add(WHEELCHAIR_CAR)
        workers.append(
            Worker(
                id=w.id,
                kind=_kind(w.kind),
                shifts=shifts,
                start_location=base,
                end_location=base,
                travel_mode=_mode(w.travel_mode),
                skills=frozenset(skills),
                gender=Gender(w.gender) if w.gender in ("F", "M") else None,
                max_work_minutes=w.max_daily_minutes,
                capacity=capacity,
            )
        )
    worker_ids = {w.id for w in workers}
    kinds_by_id = {w.id: w.kind for w in workers}
    skills_by_id = {w.id: w.skills for w in workers}
    visits: list[Visit] = []
    sources: dict[str, VisitSource] = {}
    dependencies: list[Dependency] = []
    skipped: list[tuple[str, str]] = []
    requests = list(requests)
    request_ids = {r.id for r in requests}  # type: ignore[attr-defined]

    def service_kinds(r: object) -> frozenset[WorkerKind]:
        service = services.get(_value(r.service))  # type: ignore[attr-defined]
        kinds = getattr(service, "worker_kinds", None)
        return frozenset(_kind(k) for k in kinds) if kinds else frozenset()

    pending_rides: list[tuple[object, int, int, int]] = []
    for r in requests:
        senior = seniors.get(r.senior_id)  # type: ignore[attr-defined]
        if senior is None:
            skipped.append((r.id, f"unknown senior {r.senior_id}"))  # type: ignore[attr-defined]
            continue
        home = locs.add(f"senior:{senior.id}", senior.lat, senior.lon)  # type: ignore[attr-defined]
        regular = frozenset(x for x in senior.regular_workers if x in worker_ids)  # type: ignore[attr-defined]
        forbidden = frozenset(x for x in senior.forbidden_workers if x in worker_ids)  # type: ignore[attr-defined]
        start = local_time_to_minutes(day, r.window_start, tz)  # type: ignore[attr-defined]
        end = local_time_to_minutes(day, r.window_end, tz)  # type: ignore[attr-defined]
        pref_gender = getattr(senior, "preferred_gender", None)
        ride = r.ride  # type: ignore[attr-defined]
        common = dict(
            required_skills=frozenset(r.required_skills),  # type: ignore[attr-defined]
            worker_kinds=service_kinds(r),
            mandatory=bool(r.mandatory),  # type: ignore[attr-defined]
            priority=int(r.priority),  # type: ignore[attr-defined]
            soft_windows=bool(r.soft_window),  # type: ignore[attr-defined]
            max_lateness=int(r.max_lateness),  # type: ignore[attr-defined]
            forbidden_workers=forbidden,
            client_id=senior.id,  # type: ignore[attr-defined]
        )
        if ride is None:
            vid = f"{r.id}@{day.isoformat()}"  # type: ignore[attr-defined]
            # A regular worker is preferred only for visits they can actually do.
            preferred = frozenset(
                x for x in regular
                if kinds_by_id[x] in (common["worker_kinds"] or {kinds_by_id[x]})
                and common["required_skills"] <= skills_by_id[x]
            )
            visits.append(
                Visit(
                    id=vid,
                    location=home,
                    duration=int(r.duration),  # type: ignore[attr-defined]
                    windows=(TimeWindow(start, end),),
                    workers_needed=int(r.workers_needed),  # type: ignore[attr-defined]
                    preferred_workers=preferred,
                    gender_preference=Gender(pref_gender) if pref_gender in ("F", "M") else None,
                    **common,
                )
            )
            sources[vid] = VisitSource(r.id, day)  # type: ignore[attr-defined]
            continue
        dest = places.get(ride.destination)
        if dest is None:
            skipped.append((r.id, f"unknown destination {ride.destination}"))  # type: ignore[attr-defined]
            continue
        dest_loc = locs.add(dest.id, dest.lat, dest.lon)
        pending_rides.append((r, home, dest_loc, start))
    car_matrix = None
    if pending_rides:
        car_matrix, _ = travel.matrix(locs.points, "car")
    for r, home, dest_loc, start in pending_rides:
        ride = r.ride  # type: ignore[attr-defined]
        direct = car_matrix[home][dest_loc]  # type: ignore[index]
        ride_minutes = DOOR_TO_CAR_MINUTES + direct + DOOR_TO_CAR_MINUTES
        appointment = local_time_to_minutes(day, ride.appointment, tz)
        latest = min(local_time_to_minutes(day, r.window_end, tz), appointment - ride_minutes)  # type: ignore[attr-defined]
        skills = set(r.required_skills)  # type: ignore[attr-defined]
        if ride.wheelchair:
            skills.add(WHEELCHAIR_CAR)
        base = dict(
            required_skills=frozenset(skills),
            worker_kinds=service_kinds(r) or frozenset({WorkerKind.DRIVER}),
            mandatory=bool(r.mandatory),  # type: ignore[attr-defined]
            priority=int(r.priority),  # type: ignore[attr-defined]
            client_id=r.senior_id,  # type: ignore[attr-defined]
        )
        if latest < start:
            skipped.append((r.id, "the appointment is too early for a pickup inside the requested window"))  # type: ignore[attr-defined]
            continue
        out_id = f"{r.id}@{day.isoformat()}/out"  # type: ignore[attr-defined]
        visits.append(Visit(id=out_id, location=home, end_location=dest_loc, duration=ride_minutes,
                            windows=(TimeWindow(start, latest),), **base))
        sources[out_id] = VisitSource(r.id, day, "outbound")  # type: ignore[attr-defined]
        if ride.return_trip:
            back = car_matrix[dest_loc][home]  # type: ignore[index]
            back_minutes = DOOR_TO_CAR_MINUTES + back + DOOR_TO_CAR_MINUTES
            ready = appointment + int(ride.appointment_minutes)
            ret_id = f"{r.id}@{day.isoformat()}/return"  # type: ignore[attr-defined]
            visits.append(Visit(id=ret_id, location=dest_loc, end_location=home, duration=back_minutes,
                                windows=(TimeWindow(ready, ready + RETURN_WINDOW_MINUTES),), **base))
            sources[ret_id] = VisitSource(r.id, day, "return")  # type: ignore[attr-defined]
            dependencies.append(Dependency(out_id, ret_id, min_delay=ride_minutes))
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
        minutes, metres = travel.matrix(locs.points, mode.value)
        travel_times[mode] = tuple(tuple(row) for row in minutes)
        distances[mode] = tuple(tuple(row) for row in metres)
    problem = Problem(
        locations=tuple(Location(name, lat, lon) for name, (lat, lon) in zip(locs.names, locs.points)),
        travel_times=travel_times,
        workers=tuple(workers),
        visits=tuple(visits),
        dependencies=tuple(dependencies),
        distances=distances,
        weights=weights or Weights(),
        name=f"roster {day.isoformat()}",
    )
    return BuiltProblem(problem, sources, locs.names, skipped)
