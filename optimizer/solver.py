"""``solve(problem, params, stop) -> Solution``: the optimizer's one entry point."""

from __future__ import annotations

from dataclasses import replace

from optimizer.decompose import Area, split
from optimizer.evaluate import evaluate
from optimizer.explain import explain_unassigned
from optimizer.model import Problem, ReasonCase, ReasonCode, Route, SolveStats, Solution, Unassigned
from optimizer.nodes import to_routes
from optimizer.params import SolveParams
from optimizer.repair import fill_gaps
from optimizer.search import solve_area
from optimizer.stop import StoppingCriterion, from_limit

EXPLAIN_RESERVE = 0.10
"""Share of the time kept after the search for explaining unplaced visits (one area).
Measured: the benchmark's demo day (517 visits, no rides, 10 s) explains in 0.07 s, but the
demo centre's day with senior-taxi rides (532 visits, 92 unplaced, 2026-12-07) takes 0.46 s on
an idle machine; at 3 % (0.3 s) 32 ride legs ended "reasons not computed".  A tenth leaves
room for a busy machine."""
SPLIT_EXPLAIN_RESERVE = 0.15
"""The same on a day split into areas, where the repair pass runs too.  Measured on the 10x
Kielce day (3,352 visits, 7 areas, 60 s, the machine shared): explanations take 8.5 s."""


def solve(problem: Problem, params: SolveParams | None = None, stop: StoppingCriterion | None = None) -> Solution:
    """Plan the day: routes with times, every unplaced visit with a reason, KPIs and stats.

    Pure: the result depends only on ``problem``, ``params`` and when ``stop`` says to end
    (``optimizer.stop``; by default ``params.time_limit_s`` as a run-time limit).  The stop
    bounds the whole call: the search of each area gets its share of the time before the
    reserve for explanations, the repair and the explanations end at the deadline (visits
    not explained by then say so), and a cancel ends every phase with the best plan so far
    (status ``CANCELLED``).  A first plan (our construction) is always made, unless
    cancelled.  Days larger than ``params.max_visits_per_area`` are split into areas solved
    one after another.
    """
    params = params or SolveParams()
    stop = stop if stop is not None else from_limit(params.time_limit_s)
    started = stop.clock()
    limit = stop.remaining()
    areas = split(problem, params.max_visits_per_area, params.seed)
    search_stop = stop
    if limit is not None:
        reserve = SPLIT_EXPLAIN_RESERVE if len(areas) > 1 else EXPLAIN_RESERVE if params.explain else 0.0
        # (One area and no explanations: nothing runs after the search that needs the time;
        # Solomon at 10 s returned at 9 s with that second unused.)
        search_stop = stop.within(limit * (1 - reserve) - (stop.clock() - started))
    routes: list[Route] = []
    dropped: list[str] = []
    status, found, elapsed, objective = [], 0, 0.0, 0
    for done, area in enumerate(areas):
        area_stop = search_stop
        if len(areas) > 1 and limit is not None:
            # Whatever the earlier areas took is taken off the later ones.
            area_stop = search_stop.within((search_stop.remaining() or 0.0) / (len(areas) - done))
        raw = solve_area(area.problem, params, area_stop)
        routes.extend(_to_global(area, to_routes(area.problem, raw)))
        dropped.extend(area.problem.visits[i].id for i in raw.dropped_visits)
        status.append(raw.status)
        found += raw.solutions_found
        elapsed += raw.elapsed_s
        objective += raw.objective
    order = {v.id: i for i, v in enumerate(problem.visits)}
    dropped.sort(key=order.__getitem__)
    if len(areas) > 1 and dropped:
        routes, dropped = fill_gaps(problem, routes, dropped, stop)
    routes.sort(key=lambda r: (r.worker_id, r.shift_index))
    unassigned = explain_unassigned(problem, routes, dropped, stop) if params.explain else []
    explained = {u.visit_id for u in unassigned}
    unassigned += [
        Unassigned(vid, ReasonCode.NOT_FOUND, {"case": ReasonCase.NOT_EXPLAINED.value})
        for vid in dropped if vid not in explained
    ]
    solution = Solution(tuple(routes), tuple(unassigned))
    evaluation = evaluate(problem, solution)
    stats = SolveStats(
        status="CANCELLED" if stop.cancelled else status[0] if len(set(status)) == 1 else ",".join(status),
        objective=evaluation.total,
        elapsed_s=elapsed,
        solutions_found=found,
        time_limit_s=None if limit is None else round(limit, 3),
        seed=params.seed,
        parameters={**params.recorded(), "routing_objective": objective, "areas": len(areas),
                    "objective_terms": dict(evaluation.terms)},
    )
    return Solution(solution.routes, solution.unassigned, evaluation.kpis, stats)


def _to_global(area: Area, routes: list[Route]) -> list[Route]:
    """Area routes with location indices mapped back to the whole problem's."""
    if len(area.locations) == len(area.problem.locations) and area.locations == tuple(range(len(area.locations))):
        return routes
    loc = area.locations
    return [replace(r, stops=tuple(replace(s, location=loc[s.location]) for s in r.stops)) for r in routes]


__all__ = ["solve"]
