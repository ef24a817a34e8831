"""Turning a peer's answer (visit orders, maybe start times) into carepath routes.

Why this module exists: the checker must judge every peer's plan by carepath's rules, so
each plan has to become an ``optimizer.model.Solution`` with stops, arrivals, waiting and
breaks stated exactly as carepath states them.  Two ways:

* :func:`route_from_times` keeps the peer's own start times (VROOM reports them) and only
  derives arrivals and totals, so a peer whose timing differs from carepath's rules is
  caught by the checker rather than silently repaired.
* :func:`retimed_route` takes only the visit order (PyVRP, which has no breaks) and
  schedules it as early as possible, inserting each required break where it fits; a
  route that cannot take its breaks is returned without them and the checker reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer import evaluate
from optimizer import (
    BreakRule,
    BreakTaken,
    Problem,
    ReasonCase,
    ReasonCode,
    Route,
    Shift,
    SolveStats,
    Solution,
    Stop,
    Unassigned,
    Visit,
    Worker,
)
from optimizer import shift_end_limit

TWO_PERSON = "two-person visit (no synchronised starts)"
DEPENDENCY = "linked by a dependency (no precedence between visits)"
RIDE = "ride leg (pickup and delivery with room on board: not modelled by the adapter)"
SEVERAL_WINDOWS = "several time windows"


@dataclass(frozen=True)
class Vehicle:
    """One (worker, shift): the unit every peer calls a vehicle."""

    worker_index: int
    shift_index: int


def vehicles_of(problem: Problem) -> list[Vehicle]:
    return [Vehicle(wi, si) for wi, w in enumerate(problem.workers) for si, _ in enumerate(w.shifts)]


def split_expressible(
    problem: Problem,
    *,
    two_person: bool,
    dependencies: bool,
    rides: bool,
    several_windows: bool = True,
) -> tuple[list[int], dict[str, list[str]]]:
    """Indices of the visits a peer can be given, and the ids of the others by reason.

    The flags say what the peer supports.  A visit with several reasons is counted under
    the first of: two-person, dependency, ride, several windows.
    """
    linked = {d.before for d in problem.dependencies} | {d.after for d in problem.dependencies}
    # Pooled rides (pickup and drop-off legs sharing a car, room on board, ride times) are a
    # pickup-and-delivery problem none of the adapters models: their legs are left out for
    # every peer (VROOM has "shipments", a possible future adapter feature).
    legs = {r.pickup for r in problem.rides} | {r.dropoff for r in problem.rides}
    keep: list[int] = []
    left_out: dict[str, list[str]] = {}
    for vi, v in enumerate(problem.visits):
        reason = None
        if v.workers_needed > 1 and not two_person:
            reason = TWO_PERSON
        elif v.id in linked and not dependencies:
            reason = DEPENDENCY
        elif v.id in legs or (v.end_location is not None and v.end_location != v.location and not rides):
            reason = RIDE
        elif len(v.windows) > 1 and not several_windows:
            reason = SEVERAL_WINDOWS
        if reason is None:
            keep.append(vi)
        else:
            left_out.setdefault(reason, []).append(v.id)
    return keep, left_out


def hard_window(visit: Visit, horizon: int) -> tuple[int, int]:
    """The single window a peer gets: the visit's window, hard (soft lateness is not offered)."""
    if not visit.windows:
        return 0, horizon
    return min(w.start for w in visit.windows), max(w.end for w in visit.windows)


def horizon_of(problem: Problem) -> int:
    ends = [s.end + s.max_overtime for w in problem.workers for s in w.shifts]
    ends += [tw.end + v.max_lateness for v in problem.visits for tw in v.windows]
    return max(ends + [0]) + 1


# ------------------------------------------------------------------------------ routes


def _totals(problem: Problem, worker: Worker, stops: list[Stop], visits: list[Visit]) -> tuple[int, int | None]:
    """(travel minutes including the way back, metres or None) along the stops."""
    matrix = problem.travel_times[worker.travel_mode]
    dist = problem.distances.get(worker.travel_mode)
    travel, metres, place = 0, 0, worker.start_location
    for v in visits:
        travel += matrix[place][v.location]
        metres += dist[place][v.location] if dist else 0
        place = v.exit_location
    travel += matrix[place][worker.end_location]
    metres += dist[place][worker.end_location] if dist else 0
    return travel, (metres if dist else None)


def _route(problem: Problem, vehicle: Vehicle, stops: list[Stop], visits: list[Visit],
           breaks: list[tuple[int, int]], start: int, end: int) -> Route:
    worker = problem.workers[vehicle.worker_index]
    shift = worker.shifts[vehicle.shift_index]
    travel, metres = _totals(problem, worker, stops, visits)
    return Route(
        worker_id=worker.id,
        shift_index=vehicle.shift_index,
        start=start,
        end=end,
        stops=tuple(stops),
        breaks=tuple(BreakTaken(s, e) for s, e in sorted(breaks)),
        travel_minutes=travel,
        service_minutes=sum(s.end - s.start for s in stops),
        waiting_minutes=sum(s.waiting for s in stops),
        overtime_minutes=max(0, end - shift.end),
        distance_m=metres,
    )


def _arrival(left: int, leg: int, breaks: list[tuple[int, int]]) -> int:
    """Arrival after leaving at ``left``: breaks starting before the arrival delay it (checker rule)."""
    arrival = left + leg
    for s, e in sorted(breaks):
        if left <= s < arrival:
            arrival += e - s
    return arrival


def route_from_times(problem: Problem, vehicle: Vehicle, order: list[int], starts: list[int],
                     breaks: list[tuple[int, int]], route_start: int, route_end: int | None = None) -> Route:
    """A route with the peer's own start times; arrivals and totals derived from them.

    Nothing is corrected: a start before the arrival, a missed window or a break during a
    visit stays in the route for the checker to report.
    """
    worker = problem.workers[vehicle.worker_index]
    matrix = problem.travel_times[worker.travel_mode]
    stops: list[Stop] = []
    visits = [problem.visits[vi] for vi in order]
    place, left = worker.start_location, route_start
    for visit, start in zip(visits, starts):
        leg = matrix[place][visit.location]
        arrival = _arrival(left, leg, breaks)
        end = start + visit.duration_for(worker.kind)
        stops.append(Stop(visit.id, visit.location, arrival, start, end, leg, start - arrival))
        place, left = visit.exit_location, end
    home = _arrival(left, matrix[place][worker.end_location], breaks)
    end = home if route_end is None else route_end
    return _route(problem, vehicle, stops, visits, breaks, route_start, end)


def _start_in_windows(visit: Visit, arrival: int) -> int | None:
    """Earliest allowed start at or after ``arrival`` (soft lateness as the checker allows)."""
    if not visit.windows:
        return arrival
    for w in sorted(visit.windows, key=lambda w: w.start):
        if arrival <= w.end:
            return max(arrival, w.start)
    last = max(w.end for w in visit.windows)
    if visit.soft_windows and arrival <= last + visit.max_lateness:
        return arrival
    return None


@dataclass
class _Timed:
    starts: list[int]
    breaks: list[tuple[int, int]]
    start: int
    end: int


def _schedule(problem: Problem, worker: Worker, shift: Shift, limit: int, visits: list[Visit],
              plan: dict[int, list[BreakRule]], strict: bool) -> _Timed | None:
    """Earliest schedule of the visits in order, breaks taken before leaving for stop k.

    ``plan[k]`` are the break rules taken before travelling to stop k (k = len: before the
    way back).  With ``strict`` a missed window or shift end gives None; otherwise the
    visit starts on arrival anyway (for the checker to report).
    """
    matrix = problem.travel_times[worker.travel_mode]
    place = worker.start_location
    if plan.get(0):
        depart = max(shift.start, plan[0][0].earliest)
    elif visits:
        first = visits[0]
        opens = min((w.start for w in first.windows), default=shift.start)
        depart = max(shift.start, opens - matrix[place][first.location])
    else:
        depart = shift.start
    t, starts, breaks = depart, [], []
    for k in range(len(visits) + 1):
        for rule in plan.get(k, []):
            b = max(t, rule.earliest)
            if b > rule.latest:
                return None
            breaks.append((b, b + rule.duration))
            t = b + rule.duration
        if k == len(visits):
            break
        visit = visits[k]
        arrival = t + matrix[place][visit.location]
        start = _start_in_windows(visit, arrival)
        if start is None:
            if strict:
                return None
            start = arrival
        starts.append(start)
        t = start + visit.duration_for(worker.kind)
        place = visit.exit_location
    end = t + matrix[place][worker.end_location]
    if strict and end > limit:
        return None
    return _Timed(starts, breaks, depart, end)


def retimed_route(problem: Problem, vehicle: Vehicle, order: list[int]) -> tuple[Route, bool]:
    """Schedule a peer's visit order as early as possible and fit the shift's breaks in.

    Breaks are placed one rule at a time at the position that ends the route earliest;
    if some rule fits nowhere the route is returned without breaks (checker: break missing)
    and the flag says so.
    """
    worker = problem.workers[vehicle.worker_index]
    shift = worker.shifts[vehicle.shift_index]
    limit = shift_end_limit(worker, vehicle.shift_index)
    visits = [problem.visits[vi] for vi in order]
    timed = None
    if visits and shift.breaks:
        plan: dict[int, list[BreakRule]] = {}
        lowest = 0
        for rule in sorted(shift.breaks, key=lambda r: r.earliest):
            best: tuple[int, int, _Timed] | None = None
            for k in range(lowest, len(visits) + 1):
                trial = {**plan, k: [*plan.get(k, []), rule]}
                got = _schedule(problem, worker, shift, limit, visits, trial, strict=True)
                if got is not None and (best is None or got.end < best[2].end):
                    best = (k, got.end, got)
            if best is None:
                timed = None
                break
            plan = {**plan, best[0]: [*plan.get(best[0], []), rule]}
            lowest, timed = best[0], best[2]
    fitted = timed is not None or not (visits and shift.breaks)
    if timed is None:
        timed = _schedule(problem, worker, shift, limit, visits, {}, strict=False)
        assert timed is not None
    route = route_from_times(problem, vehicle, order, timed.starts, timed.breaks, timed.start, timed.end)
    return route, fitted


def retimed_with_breaks(problem: Problem, vehicle: Vehicle, order: list[int]) -> tuple[Route, list[int]]:
    """:func:`retimed_route`, dropping visits (lowest priority, optional first) until the breaks fit.

    For peers without breaks: the adapter, not the peer, makes room, and says how many
    visits it took out (they become unplaced).
    """
    order, removed = list(order), []
    while True:
        route, fitted = retimed_route(problem, vehicle, order)
        if fitted or not order:
            return route, removed
        worst = min(order, key=lambda vi: (problem.visits[vi].mandatory, problem.visits[vi].priority, -vi))
        order.remove(worst)
        removed.append(worst)


# ---------------------------------------------------------------------------- solution


def assemble(problem: Problem, routes: list[Route], left_out: dict[str, list[str]], peer: str,
             status: str, elapsed_s: float, time_limit: float | None, seed: int = 0) -> Solution:
    """A full solution: routes, every other visit unassigned (left out or not placed), KPIs.

    Unplaced visits get ``not_found_by_search`` (case ``not_explained``) with the peer named in
    ``details["solver"]``; visits the peer was never given say why in ``details["left_out"]``.
    """
    placed = {s.visit_id for r in routes for s in r.stops}
    why = {vid: reason for reason, ids in left_out.items() for vid in ids}
    unassigned = []
    for v in problem.visits:
        if v.id in placed:
            continue
        facts: dict[str, object] = {"case": ReasonCase.NOT_EXPLAINED.value, "solver": peer}
        if v.id in why:
            facts["left_out"] = why[v.id]
        unassigned.append(Unassigned(v.id, ReasonCode.NOT_FOUND, facts))
    routes = sorted((r for r in routes if r.stops), key=lambda r: (r.worker_id, r.shift_index))
    solution = Solution(tuple(routes), tuple(unassigned))
    ev = evaluate(problem, solution)
    stats = SolveStats(status, ev.total, elapsed_s, 1, time_limit, seed, {"peer": peer})
    return Solution(solution.routes, solution.unassigned, ev.kpis, stats)
