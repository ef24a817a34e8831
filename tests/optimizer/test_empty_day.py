"""A day with nothing to place is answered without a search (issue 21: it used to run the whole time limit)."""

from __future__ import annotations

from optimizer.checker import check, is_feasible
from optimizer.params import SolveParams
from optimizer import solve
from tests.optimizer.builders import problem, worker


def test_empty_day_returns_the_empty_plan_without_searching() -> None:
    """No visits: the empty plan with zero KPIs, and the stats show no search ran (no solution
    searched for, no search time), although a long time limit was allowed."""
    day = problem([worker("W0"), worker("W1")], [])
    solution = solve(day, SolveParams(time_limit_s=5))
    assert solution.routes == () and solution.unassigned == ()
    assert solution.stats is not None
    assert solution.stats.status == "NO_VISITS"
    assert solution.stats.solutions_found == 0 and solution.stats.elapsed_s == 0.0
    assert solution.stats.objective == 0 and solution.stats.time_limit_s == 5
    assert solution.kpis is not None
    assert (solution.kpis.visits_total, solution.kpis.visits_placed, solution.kpis.workers_used) == (0, 0, 0)
    assert is_feasible(check(day, solution))
