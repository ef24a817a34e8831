"""``solve(problem, params, stop) -> Solution``: the optimizer's one entry point.

Composed of the steps of ``optimizer.areas`` (plan the areas, solve each, finish), which a
planning job on PostgreSQL also runs apart, with its areas solved by queue workers: one path.
"""

from __future__ import annotations

from optimizer.areas import (
    EXPLAIN_RESERVE,
    SPLIT_EXPLAIN_RESERVE,
    area_stop,
    area_weights,
    finish,
    plan_areas,
    search_stop,
    solve_one_area,
)
from optimizer.model import AreaResult, Problem, Solution
from optimizer.params import SolveParams
from optimizer.stop import StoppingCriterion, from_limit


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
    areas = plan_areas(problem, params)
    search = search_stop(stop, len(areas), limit, started, params.explain)
    weights = area_weights(areas)
    results: list[AreaResult] = []
    first_s, first_visits = 0.0, 0
    for done, area in enumerate(areas):
        # The later areas' first plans (which always run) are kept back at the rate measured so far.
        later = sum(len(a.problem.visits) for a in areas[done + 1:])
        kept = first_s / first_visits * later if first_visits else 0.0
        results.append(solve_one_area(area.problem, params, area_stop(search, weights[done:], kept)))
        first_s, first_visits = first_s + results[-1].first_plan_s, first_visits + len(area.problem.visits)
    return finish(problem, areas, results, params, stop, limit)


__all__ = ["EXPLAIN_RESERVE", "SPLIT_EXPLAIN_RESERVE", "solve"]
