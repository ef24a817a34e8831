"""``solve(problem, params) -> Solution``: the optimizer's one entry point."""

from __future__ import annotations

import time
from dataclasses import replace

from optimizer.decompose import Area, split
from optimizer.evaluate import evaluate
from optimizer.explain import explain_unassigned
from optimizer.model import Problem, ReasonCode, Route, SolveStats, Solution, Unassigned
from optimizer.params import SolveParams
from optimizer.repair import fill_gaps
from optimizer.routing import RawResult, solve_routing, to_routes


EXPLAIN_RESERVE = 0.1
"""Share of a split day's time limit kept for the explanations of unplaced visits."""


def solve(problem: Problem, params: SolveParams | None = None) -> Solution:
    """Plan the day: routes with times, every unplaced visit with a reason, KPIs and stats.

    Pure: the result depends only on ``problem`` and ``params`` (with a wall-clock time
    limit, also on how far the search got in that time).  Days larger than
    ``params.max_visits_per_area`` are split into areas solved one after another.
    """
    params = params or SolveParams()
    started = time.monotonic()
    areas = split(problem, params.max_visits_per_area, params.seed)
    routes: list[Route] = []
    dropped: list[str] = []
    status, found, elapsed, objective = [], 0, 0.0, 0
    for done, area in enumerate(areas):
        area_params = params
        if len(areas) > 1 and params.time_limit_s is not None:
            # Whatever the earlier areas and the split took is taken off the later ones, and a
            # tenth of the limit is kept for explaining unplaced visits at the end.
            left = params.time_limit_s * (1 - EXPLAIN_RESERVE) - (time.monotonic() - started)
            area_params = replace(params, time_limit_s=max(0.5, left / (len(areas) - done)))
        raw = solve_routing(area.problem, area_params)
        routes.extend(_to_global(area, to_routes(area.problem, raw)))
        dropped.extend(area.problem.visits[i].id for i in raw.dropped_visits)
        status.append(raw.status)
        found += raw.solutions_found
        elapsed += raw.elapsed_s
        objective += raw.objective
    order = {v.id: i for i, v in enumerate(problem.visits)}
    dropped.sort(key=order.__getitem__)
    if len(areas) > 1 and dropped:
        routes, dropped = fill_gaps(problem, routes, dropped)
    routes.sort(key=lambda r: (r.worker_id, r.shift_index))
    if params.explain:
        unassigned = explain_unassigned(problem, routes, dropped)
    else:
        unassigned = [
            Unassigned(vid, ReasonCode.NOT_FOUND, "Not placed (reasons not computed).",
                       "Nie zaplanowano (bez wyjaśnienia).")
            for vid in dropped
        ]
    solution = Solution(tuple(routes), tuple(unassigned))
    evaluation = evaluate(problem, solution)
    stats = SolveStats(
        status=status[0] if len(set(status)) == 1 else ",".join(status),
        objective=evaluation.total,
        elapsed_s=elapsed,
        solutions_found=found,
        time_limit_s=params.time_limit_s,
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


__all__ = ["solve", "RawResult"]
