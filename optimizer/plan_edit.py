"""A stored plan, changed one visit at a time: hand edits and recommended insertions.

A published roster is what workers were told, so a change to it moves as little as it can:
routes the change does not touch stay exactly as stored (their stops, times and breaks), and
the routes it touches are timed again by the one route-timing engine (``timing.Plan``) with
every stop kept at its stored start.  Only when a stop cannot stay (the visit put before it
runs into it) do the stops after the change move later, each no earlier than it was.

Feasibility is not decided here: the engine times routes on a *relaxed* copy of the problem
(windows, overtime and working-time caps, rides and capacities lifted), so a change that
breaks a rule still gets times, and the independent checker (``checker.check``) then says
which rule it breaks, where and by how many minutes.  What the engine cannot time even then
(the worker cannot get there by the start asked for) is answered as :class:`NotTimed`.

The cost of a plan is ``objective.Objective``'s, computed from the routes exactly as
``evaluate`` computes it, so a cost difference here is ``evaluate``'s difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from optimizer.model import (
    BreakTaken, Problem, ReasonCase, ReasonCode, Route, Solution, Stop, TimeWindow, Unassigned, Visit, Worker,
)
from optimizer.nodes import RawResult, RawRoute, build_nodes, to_routes
from optimizer.objective import Objective, TimedRoute
from optimizer.timing import Plan, PickupLater, RouteState, Timing

FAR = 10**7
"""A minute past any day: the relaxed problem's window ends and overtime."""

RouteKey = tuple[str, int]
"""(worker id, shift index)."""


def stored_route(problem: Problem, worker_id: str, shift_index: int, stops: Sequence[Stop],
                 breaks: Sequence[tuple[int, int]], *, visits: Mapping[str, Visit] | None = None,
                 workers: Mapping[str, Worker] | None = None) -> Route:
    """A route as a roster stores it (its stops with arrival, start, end, travel, waiting, and
    its breaks), with what the roster does not store worked out the way ``nodes.to_routes``
    made it: the departure (the first arrival less its travel and the breaks before the first
    start) and the end (the last stop's end, the way back and the breaks after it).  ``visits`` and
    ``workers`` are the problem's by id when the caller has them (reading a whole day's routes: the
    maps made per route were a second of a 10x day)."""
    worker = (workers or problem.worker_by_id())[worker_id]
    shift = worker.shifts[shift_index]
    visits = visits or problem.visit_by_id()
    matrix = problem.travel_times[worker.travel_mode]
    ordered = sorted(stops, key=lambda s: s.start)
    pauses = sorted(breaks)
    first, last = ordered[0], ordered[-1]
    departure = first.arrival - first.travel - sum(e - s for s, e in pauses if e <= first.start)
    back = matrix[visits[last.visit_id].exit_location][worker.end_location]
    end = last.end + back + sum(e - s for s, e in pauses if s >= last.end)
    travel = sum(s.travel for s in ordered) + back
    return Route(worker_id, shift_index, departure, end, tuple(ordered),
                 tuple(BreakTaken(s, e) for s, e in pauses), travel, sum(s.end - s.start for s in ordered),
                 sum(s.waiting for s in ordered), max(0, end - shift.end))


def relaxed(problem: Problem, breaks: bool = True) -> Problem:
    """``problem`` without the rules the checker judges better than a failed timing: every
    window open all day, unlimited overtime (never into the next shift), no working-time cap,
    no rides or capacities, no pins (the caller fixes starts); ``breaks`` False drops the
    break rules too."""
    visits = tuple(replace(v, windows=(TimeWindow(0, FAR),), soft_windows=False, max_lateness=0, demand={},
                           pinned_worker=None, pinned_start=None) for v in problem.visits)
    workers = tuple(replace(w, max_work_minutes=None, capacity={}, shifts=tuple(
        replace(s, max_overtime=FAR, breaks=s.breaks if breaks else ()) for s in w.shifts)) for w in problem.workers)
    return replace(problem, visits=visits, workers=workers, rides=(), dependencies=(), previous_plan=(),
                   freeze_until=None)


class NotTimed(Exception):
    """The engine cannot time the route even with the rules relaxed: a stop cannot be reached
    by its start.  ``earliest``: the earliest start the visit could have there (None: unknown)."""

    def __init__(self, worker_id: str, visit_id: str, asked: int | None, earliest: int | None) -> None:
        super().__init__(f"worker {worker_id} cannot be at visit {visit_id} by minute {asked}"
                         + (f"; the earliest is minute {earliest}" if earliest is not None else ""))
        self.worker_id = worker_id
        self.visit_id = visit_id
        self.asked = asked
        self.earliest = earliest


@dataclass(frozen=True)
class Wanted:
    """One stop of a route to time: the visit, and its start (kept exactly) or ``None`` (any
    start no earlier than ``floor``)."""

    visit_id: str
    start: int | None
    floor: int = 0


class Timer:
    """Times single routes with the engine on the relaxed problem (see the module docstring)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.plans = [self._plan(relaxed(problem)), self._plan(relaxed(problem, breaks=False))]
        self.index = {v.id: i for i, v in enumerate(problem.visits)}
        self.vehicle = {(problem.workers[wi].id, si): v for v, (wi, si) in enumerate(self.plans[0].vehicles)}

    @staticmethod
    def _plan(p: Problem) -> Plan:
        return Plan(p, [(wi, si) for wi, w in enumerate(p.workers) for si, _ in enumerate(w.shifts)])

    def time(self, key: RouteKey, wanted: Sequence[Wanted]) -> Route | None:
        """The route of ``key`` doing ``wanted`` in that order, or None for an empty route.

        Stops with a start keep it; the others start as early as the engine allows, no earlier
        than their floor.  Raises :class:`NotTimed` when a kept start cannot be reached."""
        if not wanted:
            return None
        stops = [(self.index[w.visit_id], 0) for w in wanted]
        fixed = {self.index[w.visit_id]: w.start for w in wanted if w.start is not None}
        floors = {self.index[w.visit_id]: w.floor for w in wanted if w.start is None}
        for plan in self.plans:
            timing = self._simulate(plan, key, stops, fixed, floors)
            if timing is not None:
                return self._route(plan, key, stops, timing)
        raise self._why_not(key, wanted, stops, fixed, floors)

    def _simulate(self, plan: Plan, key: RouteKey, stops: list[tuple[int, int]], fixed: dict[int, int],
                  floors: dict[int, int]) -> Timing | None:
        state = RouteState(self.vehicle[key], *plan.vehicles[self.vehicle[key]])
        for defer in (True, False):
            res = plan.simulate_pass(state, stops, fixed, floors, defer)
            if isinstance(res, Timing):
                return res
            if isinstance(res, PickupLater):  # no rides in the relaxed problem; never expected
                return None
        return None

    def _route(self, plan: Plan, key: RouteKey, stops: list[tuple[int, int]], timing: Timing) -> Route:
        """The timed stops as a ``model.Route`` by ``nodes.to_routes``, on a problem cut down to this
        worker and these visits (same places and matrices), so it costs the route, not the day."""
        worker = plan.p.workers[plan.vehicles[self.vehicle[key]][0]]
        visits = tuple(plan.p.visits[vi] for vi, _ in stops)
        tiny = replace(plan.p, workers=(worker,), visits=visits, dependencies=(), rides=())
        _, _, visit_nodes, _, _ = build_nodes(tiny)
        raw = RawResult("EDIT", 0, [RawRoute(key[1], [visit_nodes[i][0] for i in range(len(visits))],
                                             list(timing.starts), timing.departure, timing.end,
                                             list(timing.breaks))], [], 1, 0.0)
        (route,) = to_routes(tiny, raw)
        return route

    def _why_not(self, key: RouteKey, wanted: Sequence[Wanted], stops: list[tuple[int, int]],
                 fixed: dict[int, int], floors: dict[int, int]) -> NotTimed:
        """The first kept start that cannot be reached, with the earliest it could be."""
        plan = self.plans[1]
        for k, w in enumerate(wanted):
            if w.start is None:
                continue
            vi = self.index[w.visit_id]
            loose = {i: s for i, s in fixed.items() if i != vi}
            timing = self._simulate(plan, key, stops, loose, {**floors, vi: 0})
            if timing is None:
                continue
            if timing.starts[k] > w.start:
                return NotTimed(key[0], w.visit_id, w.start, timing.starts[k])
        return NotTimed(key[0], wanted[0].visit_id, wanted[0].start, None)


def kept(route: Route | None, skip: Iterable[str] = ()) -> list[Wanted]:
    """The stops of a stored route (minus ``skip``) as stops to keep where they are."""
    if route is None:
        return []
    gone = set(skip)
    return [Wanted(s.visit_id, s.start) for s in route.stops if s.visit_id not in gone]


def with_visit(route: Route | None, visit_id: str, start: int, skip: Iterable[str] = ()) -> list[Wanted]:
    """The stops of ``route`` (minus ``skip``) with ``visit_id`` added at ``start``, in time order."""
    stops = kept(route, {visit_id, *skip})
    pos = sum(1 for w in stops if w.start is not None and w.start <= start)
    return stops[:pos] + [Wanted(visit_id, start)] + stops[pos:]


def loosened(wanted: Sequence[Wanted], visit_id: str) -> list[Wanted]:
    """``wanted`` with the stops after ``visit_id`` free to move later (each no earlier than it was)."""
    out, after = [], False
    for w in wanted:
        if after and w.start is not None:
            out.append(Wanted(w.visit_id, None, w.start))
        else:
            out.append(w)
        after = after or w.visit_id == visit_id
    return out


def time_with_visit(timer: Timer, key: RouteKey, route: Route | None, visit_id: str, start: int,
                    skip: Iterable[str] = (), pinned: Iterable[str] = ()) -> Route:
    """``route`` with ``visit_id`` at ``start``: everything else where it was if that can be
    timed, else the stops after it moved later as needed (pinned ones never).  Raises
    :class:`NotTimed`."""
    wanted = with_visit(route, visit_id, start, skip)
    try:
        out = timer.time(key, wanted)
    except NotTimed:
        keep = set(pinned)
        out = timer.time(key, [w if w.visit_id in keep else x for w, x in zip(wanted, loosened(wanted, visit_id))])
    assert out is not None
    return out


# --------------------------------------------------------------------------- a whole plan


def solution_of(problem: Problem, routes: Mapping[RouteKey, Route]) -> Solution:
    """The plan of ``routes``; every visit not in a route is unassigned (not explained: the
    caller explains what it keeps)."""
    placed = {s.visit_id for r in routes.values() for s in r.stops}
    unassigned = tuple(Unassigned(v.id, ReasonCode.NOT_FOUND, {"case": ReasonCase.NOT_EXPLAINED.value})
                       for v in problem.visits if v.id not in placed)
    return Solution(tuple(sorted(routes.values(), key=lambda r: (r.worker_id, r.shift_index))), unassigned)


class Costs:
    """The objective of plans of one problem, term by term, as ``evaluate`` computes it."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.objective = Objective(problem)
        self.visit_index = {v.id: i for i, v in enumerate(problem.visits)}
        self.worker_index = {w.id: i for i, w in enumerate(problem.workers)}
        self._timed: dict[int, tuple[Route, TimedRoute]] = {}

    def timed(self, route: Route) -> TimedRoute:
        """``route`` as the objective reads it (remembered per route object: routes are immutable,
        and a search prices many plans that share most of their routes)."""
        hit = self._timed.get(id(route))
        if hit is not None and hit[0] is route:
            return hit[1]
        timed = self._timed_route(route)
        self._timed[id(route)] = (route, timed)
        return timed

    def _timed_route(self, route: Route) -> TimedRoute:
        known = [s for s in route.stops if s.visit_id in self.visit_index]
        return TimedRoute(self.worker_index[route.worker_id], route.shift_index,
                          [self.visit_index[s.visit_id] for s in known], [s.start for s in known], route.end,
                          sum(max(0, s.start - s.arrival) for s in known))

    def terms(self, routes: Iterable[Route]) -> dict[str, int]:
        return self.objective.terms(self.timed(r) for r in routes if r.stops and r.worker_id in self.worker_index)


def term_change(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Per term, after minus before (terms that do not change left out)."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


__all__ = [
    "Costs", "NotTimed", "RouteKey", "Timer", "Wanted", "kept", "loosened", "relaxed", "solution_of",
    "stored_route", "term_change", "time_with_visit", "with_visit",
]
