"""carepath's optimizer: a day's problem in, routes with times and reasons for what is left out.

The public API, and the only names code outside this package uses::

    from optimizer import Problem, SolveParams, MaxRuntime, solve, check, is_feasible, evaluate
    solution = solve(problem, SolveParams(seed=0), MaxRuntime(10))
    assert is_feasible(check(problem, solution))

* the problem and solution types (``optimizer.model``);
* ``solve(problem, params, stop)`` and its steps for a split day run apart (``plan_areas``,
  ``search_stop``, ``area_weights``, ``area_budgets``, ``area_stop``, ``solve_one_area``, ``unsolved``, ``finish``; ``AreaResult`` and its
  JSON); its parameters (``SolveParams``, ``Progress``,
  ``load_params``, ``load_weights``) and stopping criteria (``optimizer.stop``);
* ``check`` / ``is_feasible`` (the independent checker) and ``evaluate`` (KPIs and the
  objective, term by term);
* the JSON format: ``read_problem``, ``write_problem``, ``read_solution``,
  ``write_solution``, their dict forms, and ``FormatError``;
* the live day: ``plan_edit`` (a stored plan changed one visit at a time, timed by the engine:
  ``stored_route``, ``time_with_visit``, ``kept``, ``solution_of``, ``Timer``, ``RouteKey``,
  ``NotTimed``) and ``recommend`` (who can take one visit, when, at what cost:
  ``Recommendation``, ``Refusal``, ``NotRecommendable``, ``best_start``);
* a few rules the dispatch layer reports with: ``explain_unassigned``, ``shift_end_limit``,
  ``rides_by_visit``, ``due_minute``.

``solve`` is loaded on first use, so reading, checking and evaluating plans never imports
OR-Tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optimizer.checker import Rule, Violation, check, is_feasible
from optimizer.evaluate import TERM_NAMES, Evaluation, evaluate
from optimizer.jsonio import (
    FormatError,
    area_result_from_dict,
    area_result_to_dict,
    check_problem,
    dumps,
    problem_from_dict,
    problem_to_dict,
    read_problem,
    read_solution,
    solution_from_dict,
    solution_to_dict,
    write_problem,
    write_solution,
)
from optimizer.model import (
    AreaResult,
    BreakRule,
    BreakTaken,
    Dependency,
    Gender,
    Kpis,
    Location,
    PlannedVisit,
    Problem,
    REASON_CASES,
    ReasonCase,
    ReasonCode,
    Ride,
    Route,
    Shift,
    Solution,
    SolveStats,
    Stop,
    TimeWindow,
    TravelMode,
    Unassigned,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)
from optimizer.explain import explain_unassigned
from optimizer.objective import due_minute
from optimizer.params import Progress, SolveParams, load_params, load_weights
from optimizer.plan_edit import NotTimed, RouteKey, Timer, kept, solution_of, stored_route, time_with_visit
from optimizer.recommend import NotRecommendable, Recommendation, Refusal, best_start, recommend
from optimizer.rules import rides_by_visit, shift_end_limit
from optimizer.matrix import LazyMatrix, is_lazy
from optimizer.stop import Cancel, FirstOf, MaxIterations, MaxRuntime, NoLimit, StoppingCriterion

if TYPE_CHECKING:
    from optimizer.areas import NOT_SOLVED, area_budgets, area_stop, area_weights, finish, plan_areas, search_stop, solve_one_area, unsolved
    from optimizer.decompose import Area
    from optimizer.solver import solve

_LAZY = {"solve": "optimizer.solver", "plan_areas": "optimizer.areas", "search_stop": "optimizer.areas",
         "area_budgets": "optimizer.areas", "area_stop": "optimizer.areas", "area_weights": "optimizer.areas", "solve_one_area": "optimizer.areas", "unsolved": "optimizer.areas",
         "finish": "optimizer.areas", "NOT_SOLVED": "optimizer.areas", "Area": "optimizer.decompose"}
"""Names loaded on first use: they import OR-Tools."""


def __getattr__(name: str) -> Any:
    """``solve`` and the steps of a split solve on first use (they import OR-Tools)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
    "LazyMatrix",
    "is_lazy",
    "Area",
    "AreaResult",
    "NOT_SOLVED",
    "BreakRule",
    "BreakTaken",
    "Cancel",
    "Dependency",
    "Evaluation",
    "FirstOf",
    "FormatError",
    "Gender",
    "Kpis",
    "Location",
    "MaxIterations",
    "MaxRuntime",
    "NoLimit",
    "NotRecommendable",
    "NotTimed",
    "PlannedVisit",
    "Problem",
    "Progress",
    "REASON_CASES",
    "ReasonCase",
    "ReasonCode",
    "Recommendation",
    "Refusal",
    "Ride",
    "Route",
    "RouteKey",
    "Rule",
    "Shift",
    "Solution",
    "SolveParams",
    "SolveStats",
    "Stop",
    "StoppingCriterion",
    "TERM_NAMES",
    "TimeWindow",
    "Timer",
    "TravelMode",
    "Unassigned",
    "Violation",
    "Visit",
    "Weights",
    "Worker",
    "WorkerKind",
    "area_result_from_dict",
    "area_result_to_dict",
    "area_budgets",
    "area_stop",
    "area_weights",
    "best_start",
    "check",
    "check_problem",
    "due_minute",
    "dumps",
    "evaluate",
    "explain_unassigned",
    "finish",
    "is_feasible",
    "kept",
    "load_params",
    "load_weights",
    "plan_areas",
    "problem_from_dict",
    "problem_to_dict",
    "read_problem",
    "read_solution",
    "recommend",
    "rides_by_visit",
    "search_stop",
    "shift_end_limit",
    "solution_from_dict",
    "solution_of",
    "solution_to_dict",
    "solve",
    "solve_one_area",
    "stored_route",
    "time_with_visit",
    "unsolved",
    "write_problem",
    "write_solution",
]
