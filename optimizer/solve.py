"""``solve(problem, params) -> Solution``: the optimizer's one entry point."""

from __future__ import annotations

from optimizer.explain import explain_unassigned
from optimizer.model import Problem, ReasonCode, SolveStats, Solution, Unassigned
from optimizer.params import SolveParams
from optimizer.routing import solve_routing, to_routes


def solve(problem: Problem, params: SolveParams | None = None) -> Solution:
    """Plan the day: routes with times, every unplaced visit with a reason, KPIs and stats.

    Pure: the result depends only on ``problem`` and ``params`` (with a wall-clock time
    limit, also on how far the search got in that time).
    """
    params = params or SolveParams()
    raw = solve_routing(problem, params)
    routes = to_routes(problem, raw)
    dropped = [problem.visits[i].id for i in raw.dropped_visits]
    if params.explain:
        unassigned = explain_unassigned(problem, routes, dropped)
    else:
        unassigned = [
            Unassigned(vid, ReasonCode.NOT_FOUND, "Not placed (reasons not computed).",
                       "Nie zaplanowano (bez wyjaśnienia).")
            for vid in dropped
        ]
    solution = Solution(tuple(routes), tuple(unassigned))
    from optimizer.evaluate import evaluate  # the shared KPI and objective arithmetic

    evaluation = evaluate(problem, solution)
    stats = SolveStats(
        status=raw.status,
        objective=evaluation.total,
        elapsed_s=raw.elapsed_s,
        solutions_found=raw.solutions_found,
        time_limit_s=params.time_limit_s,
        seed=params.seed,
        parameters={**params.recorded(), "routing_objective": raw.objective},
    )
    return Solution(solution.routes, solution.unassigned, evaluation.kpis, stats)
