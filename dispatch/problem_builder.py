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
* Rides (senior taxi): pooled rides, a pickup and a drop-off visit per trip, built by
  ``dispatch.ride_builder`` (windows from the appointment, ride-time limit, return trip,
  on-call return, escort).  Drivers are the ``driver`` workers with the driving licence (the
  taxi service's kinds and skills); each drives the car assigned to them for the whole day,
  so the car's seats and wheelchair places are the driver's ``capacity``, and the car's
  availability window cuts the shifts of whoever works with it (drivers; the handyman and
  his van too); no car, no rides: a driver without a car has no room for a passenger.
* Continuity: the senior's regular workers are preferred; forbidden workers are excluded;
  the senior's preferred gender is a soft preference.
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol, Sequence

import numpy as np

from dispatch.ride_builder import BuiltRide, RideSettings, build_ride
from dispatch.ride_legs import VisitSource
from dispatch.timeutil import local_time_to_minutes
from dispatch.travel import TravelTimeProvider
from optimizer.model import (
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
    a cell, and turn into numpy without copying cell by cell.
    """
    cells = np.asarray(matrix, dtype=np.int64)
    return tuple(array("q", row.tobytes()) for row in cells)

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
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(request id, why) for requests that could not become visits at all."""
    rides: list[BuiltRide] = field(default_factory=list)
    """Every trip built (outbound and return), for ride reports."""


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
    ride_settings: RideSettings | None = None,
) -> BuiltProblem:
    """The optimizer problem for ``day`` from stored rows (or fixture objects of the same shape).

    ``worker_days`` are objects with ``worker`` and ``shifts`` (the day's shift rows);
    ``requests`` are the requests that occur on ``day``; ``ride_settings`` the taxi model's
    knobs (defaults: ``RideSettings()``).
    """
    ride_settings = ride_settings or RideSettings()
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
        car = cars.get(w.car_id) if w.car_id else None
        car_until: int | None = None
        if car is not None:
            plain, car_until = _within_car_hours(day, tz, plain, car)
            if not plain:
                continue  # the car is not available during any of the driver's shifts
        rules = break_rules(plain)
        shifts = tuple(
            Shift(s.start, s.end, overtime if car_until is None else max(0, min(overtime, car_until - s.end)), rules[i])
            for i, s in enumerate(plain)
        )
        skills = set(w.skills)
        capacity: dict[str, int] = {}
        if car is not None:
            capacity = {"seats": car.seats, "wheelchair": car.wheelchair_places}  # type: ignore[attr-defined]
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

    pending_rides: list[tuple[object, int, int, dict]] = []
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
        pending_rides.append((r, home, dest_loc, common))
    rides: list[Ride] = []
    built_rides: list[BuiltRide] = []
    if pending_rides:
        car_matrix, _ = travel.matrix(locs.points, "car")
        assistance = services.get(ASSISTANCE_SERVICE)
        assistant_kinds = frozenset(_kind(k) for k in getattr(assistance, "worker_kinds", ()) or ()) or frozenset(
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
        minutes, metres = travel.matrix(locs.points, mode.value)
        travel_times[mode] = matrix_rows(minutes)
        distances[mode] = matrix_rows(metres)
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
    return BuiltProblem(problem, sources, locs.names, skipped, built_rides)


def _within_car_hours(day: dt.date, tz: str, shifts: list[Shift], car: object) -> tuple[list[Shift], int]:
    """The driver's shifts cut to the car's availability window, and the window's end.

    A driver uses one car per shift (the car assigned to them): outside the car's hours
    they have nothing to drive, so that part of the shift is not planned.
    """
    opens = local_time_to_minutes(day, car.available_from, tz)  # type: ignore[attr-defined]
    closes = local_time_to_minutes(day, car.available_to, tz)  # type: ignore[attr-defined]
    cut = [Shift(max(s.start, opens), min(s.end, closes)) for s in shifts]
    return [s for s in cut if s.end > s.start], closes
