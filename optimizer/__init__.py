"""carepath's optimizer: a day's problem in, routes with times and reasons for what is left out.

The public API, and the only names code outside this package uses::

    from optimizer import Problem, SolveParams, MaxRuntime, solve, check, is_feasible, evaluate
    solution = solve(problem, SolveParams(seed=0), MaxRuntime(10))
    assert is_feasible(check(problem, solution))

* the problem and solution types (``optimizer.model``);
* ``solve(problem, params, stop)`` and its parameters (``SolveParams``, ``Progress``,
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
from optimizer.stop import Cancel, FirstOf, MaxIterations, MaxRuntime, NoLimit, StoppingCriterion

if TYPE_CHECKING:
    from optimizer.solver import solve


def __getattr__(name: str) -> Any:
    """``solve`` on first use (it imports OR-Tools)."""
    if name == "solve":
        from optimizer.solver import solve

        globals()["solve"] = solve
        return solve
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
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
    "best_start",
    "check",
    "check_problem",
    "due_minute",
    "dumps",
    "evaluate",
    "explain_unassigned",
    "is_feasible",
    "kept",
    "load_params",
    "load_weights",
    "problem_from_dict",
    "problem_to_dict",
    "read_problem",
    "read_solution",
    "recommend",
    "rides_by_visit",
    "shift_end_limit",
    "solution_from_dict",
    "solution_of",
    "solution_to_dict",
    "solve",
    "stored_route",
    "time_with_visit",
    "write_problem",
    "write_solution",
]
