"""Solution evaluator: KPIs and the objective, term by term, recomputed from the stops.

Why
---
Dispatchers and benchmarks need to know what a plan's cost is made of (how much is
travel, how much is a dropped visit) and to compare plans from different sources (solver
versions, hand-made plans, VROOM) on the same scale.  So the evaluator recomputes
everything from the problem and the solution's stops and never trusts route totals; the
cost terms are the search's own (``optimizer.objective``).  Like the
checker it does not import the solver or ``ortools``.

The evaluator assumes a structurally sound solution (run :func:`optimizer.checker.check`
first): routes of unknown workers or shifts, and stops of unknown visits, are ignored.

Definitions
-----------
* A visit is *placed* when at least one route has a stop for it; a route is *used* when it
  has a stop; a worker is *used* when one of their routes is.
* Travel minutes (and metres) follow the worker's matrix from the start location through
  each visit (leaving from its ``exit_location``) back to the end location, for used routes.
* Waiting is ``start - arrival`` per stop (never negative); work is ``end - start`` per used
  route; overtime is ``max(0, end - shift.end)`` per used route.
* Lateness is per *visit* (a two-person visit is late once for its client): minutes its
  start falls after the end of its latest window.
* Utilisation: service minutes / the shift minutes (``end - start``) of the used routes.
* Continuity: of the stops of placed visits that name preferred workers, the share made by
  one of them; 1.0 when no placed visit names any (nothing to lose).
* Distance: ``None`` unless ``problem.distances`` has the mode of every used route.

Objective terms (``Evaluation.terms``)
--------------------------------------
The terms and their total are the optimizer's own objective (``optimizer.objective``, where
each term is defined), computed for this plan: what the search minimised is what is
reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from optimizer.model import Kpis, Problem, Route, Shift, Solution, Stop, TravelMode, Visit, Worker
from optimizer.objective import TERM_NAMES, Objective, TimedRoute

__all__ = ["TERM_NAMES", "Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """What a plan achieves (``kpis``) and what it costs, term by term (``terms``, ``total``)."""

    kpis: Kpis
    terms: dict[str, int]
    """Objective contribution per term (keys: ``TERM_NAMES``, all present)."""
    total: int


@dataclass(frozen=True)
class _Used:
    """A used route with its worker and shift resolved."""

    route: Route
    worker: Worker
    shift: Shift


def _used_routes(problem: Problem, solution: Solution) -> list[_Used]:
    """Routes with stops of known workers and shifts: the only ones that cost or count."""
    workers = problem.worker_by_id()
    out = []
    for route in solution.routes:
        worker = workers.get(route.worker_id)
        if route.stops and worker is not None and 0 <= route.shift_index < len(worker.shifts):
            out.append(_Used(route, worker, worker.shifts[route.shift_index]))
    return out


def _known_stops(used: _Used, visits: Mapping[str, Visit]) -> list[tuple[Stop, Visit]]:
    """The route's stops paired with their visits (stops of unknown visits are ignored)."""
    return [(s, visits[s.visit_id]) for s in used.route.stops if s.visit_id in visits]


def _path_length(matrix: tuple[tuple[int, ...], ...], used: _Used, visits: Mapping[str, Visit]) -> int:
    """Sum of the matrix over start -> visits (in, then out at exit) -> end."""
    total, place = 0, used.worker.start_location
    for _, visit in _known_stops(used, visits):
        total += matrix[place][visit.location]
        place = visit.exit_location
    return total + matrix[place][used.worker.end_location]


def _distance(problem: Problem, used: list[_Used], visits: Mapping[str, Visit]) -> int | None:
    """Metres driven/walked, or None when some used mode has no distance matrix (no partial sums)."""
    if not problem.distances:
        return None
    modes: set[TravelMode] = {u.worker.travel_mode for u in used}
    if not modes <= set(problem.distances):
        return None
    return sum(_path_length(problem.distances[u.worker.travel_mode], u, visits) for u in used)


def _visit_starts(used: list[_Used], visits: Mapping[str, Visit]) -> dict[str, int]:
    """Placed visit -> its start (the earliest stop's, should two-person starts differ)."""
    starts: dict[str, int] = {}
    for u in used:
        for stop, visit in _known_stops(u, visits):
            starts[visit.id] = min(stop.start, starts.get(visit.id, stop.start))
    return starts


def _lateness(visit: Visit, start: int) -> int:
    """Minutes past the latest window end (a start in a gap is a checker matter, not lateness)."""
    return max(0, start - max(w.end for w in visit.windows)) if visit.windows else 0


def _continuity(used: list[_Used], visits: Mapping[str, Visit]) -> tuple[float, int]:
    """(share of preference-bearing stops made by a preferred worker, stops by someone else)."""
    with_pref = done_by_preferred = 0
    for u in used:
        for _, visit in _known_stops(u, visits):
            if visit.preferred_workers:
                with_pref += 1
                done_by_preferred += u.worker.id in visit.preferred_workers
    share = done_by_preferred / with_pref if with_pref else 1.0
    return share, with_pref - done_by_preferred


def _kpis(problem: Problem, used: list[_Used], visits: Mapping[str, Visit]) -> Kpis:
    """All KPIs, from the stops and the matrices only (route totals are not read)."""
    starts = _visit_starts(used, visits)
    by_priority: dict[int, tuple[int, int]] = {}
    for visit in problem.visits:
        placed, total = by_priority.get(visit.priority, (0, 0))
        by_priority[visit.priority] = (placed + (visit.id in starts), total + 1)
    all_stops = [(u, s) for u in used for s, _ in _known_stops(u, visits)]
    service = sum(s.end - s.start for _, s in all_stops)
    shift_minutes = sum(u.shift.end - u.shift.start for u in used)
    return Kpis(
        visits_total=len(problem.visits),
        visits_placed=len(starts),
        mandatory_total=sum(v.mandatory for v in problem.visits),
        mandatory_placed=sum(v.mandatory and v.id in starts for v in problem.visits),
        placed_by_priority=dict(sorted(by_priority.items())),
        travel_minutes=sum(_path_length(problem.travel_times[u.worker.travel_mode], u, visits) for u in used),
        service_minutes=service,
        waiting_minutes=sum(max(0, s.start - s.arrival) for _, s in all_stops),
        work_minutes=sum(u.route.end - u.route.start for u in used),
        overtime_minutes=sum(max(0, u.route.end - u.shift.end) for u in used),
        lateness_minutes=sum(_lateness(visits[vid], start) for vid, start in starts.items()),
        utilisation=service / shift_minutes if shift_minutes else 0.0,
        continuity_share=_continuity(used, visits)[0],
        workers_used=len({u.worker.id for u in used}),
        distance_m=_distance(problem, used, visits),
        max_lateness_minutes=max((_lateness(visits[vid], start) for vid, start in starts.items()), default=0),
    )


# ----------------------------------------------------------------------------- terms


def _terms(problem: Problem, used: list[_Used], visits: Mapping[str, Visit]) -> dict[str, int]:
    """Objective contribution of each term, by ``optimizer.objective`` (the search's own)."""
    index = {v.id: vi for vi, v in enumerate(problem.visits)}
    workers = {w.id: wi for wi, w in enumerate(problem.workers)}
    routes = []
    for u in used:
        stops = _known_stops(u, visits)
        routes.append(TimedRoute(workers[u.worker.id], u.route.shift_index, [index[v.id] for _, v in stops],
                                 [s.start for s, _ in stops], u.route.end,
                                 sum(max(0, s.start - s.arrival) for s, _ in stops)))
    return Objective(problem).terms(routes)


def evaluate(problem: Problem, solution: Solution) -> Evaluation:
    """KPIs and objective terms of ``solution``, recomputed from its stops."""
    visits = problem.visit_by_id()
    used = _used_routes(problem, solution)
    kpis = _kpis(problem, used, visits)
    terms = _terms(problem, used, visits)
    return Evaluation(kpis=kpis, terms=terms, total=sum(terms.values()))
