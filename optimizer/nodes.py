"""A problem's vehicles and nodes, and plans written as node sequences.

One vehicle per (worker, shift); one node per visit and worker it needs (a two-person
visit has two nodes, its copies 0 and 1), then one node per start or end place.  The
OR-Tools model (``routing``), our construction's plans and the repair of split days all
describe a plan the same way, as a ``RawResult`` of node sequences with their start
minutes, which ``to_routes`` turns into the published ``model.Route``s.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.model import BreakTaken, Problem, Route, Stop
from optimizer.objective import TimedRoute
from optimizer.timing import Plan, arrivals


@dataclass(frozen=True)
class Vehicle:
    worker_index: int
    shift_index: int


@dataclass(frozen=True)
class Node:
    """A routing node: a visit slot, or a start/end place."""

    location: int
    exit_location: int
    visit_index: int | None = None
    copy: int = 0


@dataclass
class RawRoute:
    vehicle: int
    nodes: list[int]
    starts: list[int]
    route_start: int
    route_end: int
    breaks: list[tuple[int, int]]


@dataclass
class RawResult:
    status: str
    objective: int
    routes: list[RawRoute]
    dropped_visits: list[int]
    solutions_found: int
    elapsed_s: float
    first_plan_s: float = 0.0
    """Seconds from the start of the area's search to its first plan (our construction, with
    OR-Tools' model when there was time for it): ``solve`` keeps that much per visit for the
    areas still to come, so the limit holds on a day of many areas."""


def build_nodes(problem: Problem) -> tuple[list[Vehicle], list[Node], list[list[int]], list[int], list[int]]:
    """Vehicles, nodes, node ids per visit, and per vehicle its start and end node."""
    vehicles = [
        Vehicle(wi, si) for wi, w in enumerate(problem.workers) for si, _ in enumerate(w.shifts)
    ]
    nodes: list[Node] = []
    visit_nodes: list[list[int]] = []
    for vi, visit in enumerate(problem.visits):
        ids = []
        for c in range(max(1, visit.workers_needed)):
            ids.append(len(nodes))
            nodes.append(Node(visit.location, visit.exit_location, vi, c))
        visit_nodes.append(ids)
    place_node: dict[int, int] = {}

    def place(loc: int) -> int:
        if loc not in place_node:
            place_node[loc] = len(nodes)
            nodes.append(Node(loc, loc))
        return place_node[loc]

    starts = [place(problem.workers[v.worker_index].start_location) for v in vehicles]
    ends = [place(problem.workers[v.worker_index].end_location) for v in vehicles]
    return vehicles, nodes, visit_nodes, starts, ends


def raw_plan(plan: Plan, status: str, objective: int = 0, solutions_found: int = 1,
             elapsed_s: float = 0.0) -> RawResult:
    """A plan of the route-timing engine (our construction, LNS or repair) as a raw result."""
    _, _, visit_nodes, _, _ = build_nodes(plan.p)
    routes = [
        RawRoute(r.vehicle, [visit_nodes[vi][c] for vi, c in r.stops], list(r.starts), r.departure, r.end,
                 list(r.breaks))
        for r in plan.routes
    ]
    dropped = [vi for vi in range(len(plan.p.visits)) if vi not in plan.placed]
    return RawResult(status, objective, routes, dropped, solutions_found, elapsed_s)


def timed_routes(problem: Problem, raw: RawResult) -> list[TimedRoute]:
    """The raw plan's routes with stops, as the objective reads them."""
    vehicles, nodes, *_ = build_nodes(problem)
    out = []
    for rr in raw.routes:
        if not rr.nodes:
            continue
        veh = vehicles[rr.vehicle]
        worker = problem.workers[veh.worker_index]
        order = [nodes[n].visit_index for n in rr.nodes]
        visits = [problem.visits[vi] for vi in order]  # type: ignore[index]
        legs = [(v.location, v.exit_location, s, s + v.duration_for(worker.kind)) for v, s in zip(visits, rr.starts)]
        arrived = arrivals(problem.travel_times[worker.travel_mode], worker.start_location, rr.route_start, legs,
                           sorted(rr.breaks))
        waiting = sum(s - a for s, (a, _) in zip(rr.starts, arrived))
        out.append(TimedRoute(veh.worker_index, veh.shift_index, order, list(rr.starts), rr.route_end, waiting))  # type: ignore[arg-type]
    return out


def to_routes(problem: Problem, raw: RawResult) -> list[Route]:
    """Turn raw node sequences into timed routes with arrival, waiting and travel per stop
    (``timing.arrivals``); routes without stops are left out."""
    vehicles, nodes, *_ = build_nodes(problem)
    out = []
    for rr in raw.routes:
        if not rr.nodes:
            continue
        veh = vehicles[rr.vehicle]
        worker = problem.workers[veh.worker_index]
        shift = worker.shifts[veh.shift_index]
        matrix = problem.travel_times[worker.travel_mode]
        breaks = sorted(rr.breaks)
        visits = [problem.visits[nodes[node].visit_index] for node in rr.nodes]  # type: ignore[index]
        ends = [start + visit.duration_for(worker.kind) for visit, start in zip(visits, rr.starts)]
        legs = [(v.location, v.exit_location, start, end) for v, start, end in zip(visits, rr.starts, ends)]
        stops = tuple(
            Stop(visit.id, visit.location, arrival, start, end, travel, start - arrival)
            for visit, start, end, (arrival, travel) in zip(
                visits, rr.starts, ends, arrivals(matrix, worker.start_location, rr.route_start, legs, breaks))
        )
        distance = None
        if worker.travel_mode in problem.distances:
            dm = problem.distances[worker.travel_mode]
            distance, prev = 0, worker.start_location
            for visit in visits:
                distance += dm[prev][visit.location]
                prev = visit.exit_location
            distance += dm[prev][worker.end_location]
        out.append(
            Route(
                worker_id=worker.id,
                shift_index=veh.shift_index,
                start=rr.route_start,
                end=rr.route_end,
                stops=stops,
                breaks=tuple(BreakTaken(s, e) for s, e in breaks),
                travel_minutes=sum(s.travel for s in stops) + matrix[visits[-1].exit_location][worker.end_location],
                service_minutes=sum(s.end - s.start for s in stops),
                waiting_minutes=sum(s.waiting for s in stops),
                overtime_minutes=max(0, rr.route_end - shift.end),
                distance_m=distance,
            )
        )
    return out
