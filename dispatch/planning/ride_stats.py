"""Senior-taxi figures of a plan: rides planned, shared rides, cars, kilometres, ride times.

Used by the demo summary and by ``benchmarks/rides.py``; computed from the plan itself (the
solution's stops and the problem's matrices), never estimated.

Definitions:

* a **ride** is one trip of a request (the outbound trip, or the return); it is *planned*
  when both its pickup and its drop-off are on a route;
* a planned ride is **shared** when another passenger is in the car at some moment between
  its pickup and its drop-off;
* a **car** is a route (worker and shift) with at least one ride stop: a driver uses one car
  per shift;
* **vehicle km**: the road distance (``problem.distances`` of the worker's travel mode) those
  routes drive, from the start location over every stop (a stop is left from its
  ``exit_location``) back to the end location;
* **car hours**: the span of those routes, leaving the base to coming back;
* **passengers per car-hour**: people carried (senior, companion, assistant) over planned
  rides / car hours;
* **ride-time excess**: minutes in the car (end of the pickup service to the start of the
  drop-off service) minus the direct drive between the two places;
* **returns missing**: requests whose outbound trip is planned but whose return trip is not
  (the optimizer cannot make one depend on the other both ways): a dispatcher must act on
  each before publishing.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean
from typing import Sequence

from dispatch.planning.ride_builder import BuiltRide
from optimizer import Problem, Route, Solution, Stop


@dataclass(frozen=True)
class RideStats:
    rides_total: int
    rides_planned: int
    outbound_planned: int
    outbound_total: int
    return_planned: int
    return_total: int
    shared_rides: int
    cars_used: int
    vehicle_km: float
    car_hours: float
    passengers: int
    passengers_per_car_hour: float
    excess_mean_min: float
    excess_max_min: int
    wheelchair_planned: int
    returns_missing: int = 0

    @property
    def rides_unplaced(self) -> int:
        return self.rides_total - self.rides_planned

    def as_dict(self) -> dict[str, float | int]:
        return {**self.__dict__, "rides_unplaced": self.rides_unplaced}


def _route_metres(problem: Problem, route: Route) -> int:
    worker = problem.worker_by_id()[route.worker_id]
    matrix = problem.distances.get(worker.travel_mode)
    if matrix is None or not route.stops:
        return 0
    visits = problem.visit_by_id()
    here, total = worker.start_location, 0
    for stop in route.stops:
        total += matrix[here][stop.location]
        here = visits[stop.visit_id].exit_location
    return total + matrix[here][worker.end_location]


def _shared(route: Route, pickups: dict[str, BuiltRide], dropoffs: dict[str, BuiltRide]) -> set[int]:
    """ids (``id()``) of the rides of ``route`` that had company on board."""
    on_board: dict[int, BuiltRide] = {}
    shared: set[int] = set()
    for stop in route.stops:
        if stop.visit_id in pickups:
            ride = pickups[stop.visit_id]
            if on_board:
                shared.add(id(ride))
                shared.update(on_board)
            on_board[id(ride)] = ride
        elif stop.visit_id in dropoffs:
            on_board.pop(id(dropoffs[stop.visit_id]), None)
    return shared


def ride_stats(problem: Problem, solution: Solution, rides: Sequence[BuiltRide]) -> RideStats:
    """The figures above for ``solution`` of ``problem`` whose trips are ``rides``."""
    stops: dict[str, Stop] = {s.visit_id: s for r in solution.routes for s in r.stops}
    pickups = {r.pickup: r for r in rides}
    dropoffs = {r.dropoff: r for r in rides}
    ride_visits = set(pickups) | set(dropoffs)
    planned = [r for r in rides if r.pickup in stops and r.dropoff in stops]
    car_routes = [rt for rt in solution.routes if any(s.visit_id in ride_visits for s in rt.stops)]
    shared: set[int] = set()
    for route in car_routes:
        shared |= _shared(route, pickups, dropoffs)
    metres = sum(_route_metres(problem, rt) for rt in car_routes)
    hours = sum(rt.end - rt.start for rt in car_routes) / 60
    passengers = sum(r.passengers for r in planned)
    excess = [stops[r.dropoff].start - stops[r.pickup].end - r.direct_minutes for r in planned]
    outbound = [r for r in rides if r.trip == "outbound"]
    back = [r for r in rides if r.trip == "return"]
    planned_ids = {id(r) for r in planned}
    out_planned = {r.request_id for r in outbound if id(r) in planned_ids}
    missing = sum(1 for r in back if r.request_id in out_planned and id(r) not in planned_ids)
    return RideStats(
        rides_total=len(rides),
        rides_planned=len(planned),
        outbound_planned=sum(1 for r in planned if r.trip == "outbound"),
        outbound_total=len(outbound),
        return_planned=sum(1 for r in planned if r.trip == "return"),
        return_total=len(back),
        shared_rides=sum(1 for r in planned if id(r) in shared),
        cars_used=len(car_routes),
        vehicle_km=round(metres / 1000, 1),
        car_hours=round(hours, 2),
        passengers=passengers,
        passengers_per_car_hour=round(passengers / hours, 2) if hours else 0.0,
        excess_mean_min=round(mean(excess), 1) if excess else 0.0,
        excess_max_min=max(excess) if excess else 0,
        wheelchair_planned=sum(1 for r in planned if r.wheelchair),
        returns_missing=missing,
    )
