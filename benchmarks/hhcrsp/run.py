"""Solve one instance with carepath or with the plain baseline, scored by the same evaluator.

Each function returns one results.json entry: the keys issue #8 requires (``instance``,
``time_s``, ``cost``, ``routes``) plus ``solver``, the cost terms, feasibility and the list
of violations, so a reader can see *why* a number is what it is.  ``cost`` is None when the
solver returned no plan.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.hhcrsp.baseline import solve_baseline
from benchmarks.hhcrsp.convert import SCALE, to_problem, to_routes
from benchmarks.hhcrsp.evaluate import Evaluation, Routes, evaluate, routes_to_json
from benchmarks.hhcrsp.instance import Instance
from optimizer import check, is_feasible
from optimizer import Solution
from optimizer import SolveParams
from optimizer import solve


def _entry(inst: Instance, solver: str, elapsed: float, routes: Routes | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"instance": inst.name, "solver": solver, "patients": len(inst.patients),
                           "caregivers": len(inst.caregivers), "time_s": round(elapsed, 2)}
    if routes is None:
        out.update(cost=None, feasible=False, routes=None, violations=["no solution"])
    else:
        ev: Evaluation = evaluate(inst, routes)
        out.update(
            cost=round(ev.cost, 4),
            distance=round(ev.distance, 4),
            total_tardiness=round(ev.total_tardiness, 4),
            max_tardiness=round(ev.max_tardiness, 4),
            feasible=ev.feasible,
            violations=list(ev.violations)[:20],
            routes=routes_to_json(routes),
        )
    out.update(extra)
    return out


def default_params(time_limit_s: float, seed: int) -> SolveParams:
    """carepath's search for this family: the defaults, without explanations of unplaced
    visits (every visit is mandatory and placed; explaining costs time after the limit)."""
    return SolveParams(time_limit_s=time_limit_s, seed=seed, explain=False)


def run_carepath(inst: Instance, time_limit_s: float, seed: int = 0, params: SolveParams | None = None) -> dict[str, Any]:
    """carepath on ``inst``; the plan is also run through ``optimizer.checker`` on the scaled
    problem (``checker_ok``, ``checker_violations``) and any unplaced visit is listed."""
    problem = to_problem(inst)
    began = time.monotonic()
    solution: Solution = solve(problem, params or default_params(time_limit_s, seed))
    elapsed = time.monotonic() - began
    violations = check(problem, solution)
    stats = solution.stats
    routes = to_routes(inst, solution)
    entry = _entry(
        inst, "carepath", elapsed, routes,
        checker_ok=is_feasible(violations),
        checker_violations=[f"{v.rule}: {v.message}" for v in violations][:20],
        unplaced=[u.visit_id for u in solution.unassigned],
        carepath_objective=None if stats is None else stats.objective,
        carepath_status=None if stats is None else stats.status,
        scale=SCALE,
    )
    if solution.unassigned:
        entry["feasible"] = False
    return entry


def run_baseline(inst: Instance, time_limit_s: float) -> dict[str, Any]:
    """The plain OR-Tools model of issue #8 on ``inst``."""
    res = solve_baseline(inst, time_limit_s)
    return _entry(inst, "ortools-plain", res.elapsed_s, res.routes, ortools_status=res.status)
