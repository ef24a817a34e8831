"""Both-or-neither pairs hold even when taking the orphan out breaks its route's timing.

Regression (found by the solver property test, 2026-12-06): V4 (two workers, ends at another
location) is the first half of a both-or-neither pair whose second half V2 cannot be placed.
On W1's route V4 is what brings the worker to V7's door in time, so the route cannot be
re-timed without V4 and ``Builder.take_out`` refused; the plan kept V4 without V2 and the
independent checker rejected it.  Now the orphan goes, with the route-mates that need it.
"""

from __future__ import annotations

from optimizer.checker import check, is_feasible
from optimizer.model import (
    Dependency, Location, Problem, Shift, TimeWindow, TravelMode, Visit, Weights, Worker, WorkerKind,
)
from optimizer.params import SolveParams
from optimizer import solve

PARAMS = SolveParams(time_limit_s=None, solution_limit=30, seed=0, metaheuristic="GREEDY_DESCENT", lns_iterations=30)


def _problem() -> Problem:
    """The property test's shrunk example, with default fields left out."""
    return Problem(
        locations=(Location(id="L0"), Location(id="L1"), Location(id="L2")),
        travel_times={TravelMode.CAR: ((0, 0, 30), (0, 0, 0), (0, 0, 0)),
                      TravelMode.WALK: ((0, 0, 33), (0, 0, 0), (33, 0, 0))},
        workers=(
            Worker(id="W0", kind=WorkerKind.CARER, shifts=(Shift(start=0, end=1), Shift(start=37, end=364)),
                   start_location=0, end_location=0),
            Worker(id="W1", kind=WorkerKind.CARER, shifts=(Shift(start=87, end=404),), start_location=2,
                   end_location=0, travel_mode=TravelMode.WALK),
        ),
        visits=(
            Visit(id="V0", location=0, duration=27, windows=(TimeWindow(0, 1),), soft_windows=True, workers_needed=2,
                  pinned_start=0, client_id="S0", end_location=0),
            Visit(id="V1", location=0, duration=0, windows=(TimeWindow(0, 7),), required_skills=frozenset({"a"}),
                  soft_windows=True, pinned_start=0, client_id="S0", end_location=0),
            Visit(id="V2", location=0, duration=0, windows=(TimeWindow(0, 86),), mandatory=True, priority=2,
                  workers_needed=2, client_id="S0"),
            Visit(id="V3", location=0, duration=48, windows=(TimeWindow(0, 1), TimeWindow(86, 127)),
                  required_skills=frozenset({"a"}), mandatory=True, pinned_start=0, client_id="S0"),
            Visit(id="V4", location=2, duration=0, windows=(TimeWindow(0, 131), TimeWindow(247, 251)), mandatory=True,
                  priority=4, workers_needed=2, client_id="S0", end_location=0),
            Visit(id="V5", location=0, duration=0, windows=(TimeWindow(0, 1),), priority=3, workers_needed=2,
                  pinned_start=0, client_id="S0", end_location=0),
            Visit(id="V6", location=0, duration=0, windows=(TimeWindow(0, 345),), client_id="S0"),
            Visit(id="V7", location=0, duration=0, windows=(TimeWindow(0, 108),), workers_needed=2, client_id="S0"),
        ),
        dependencies=(Dependency(before="V4", after="V2", min_delay=61, both_or_neither=True),),
        weights=Weights(imbalance=0),
    )


def test_an_orphan_that_its_route_needs_still_goes_and_the_plan_is_feasible() -> None:
    """V2 cannot be placed, so V4 is not placed either, and the independent checker accepts the plan."""
    problem = _problem()
    solution = solve(problem, PARAMS)
    assert is_feasible(check(problem, solution)), [v.message for v in check(problem, solution)]
    placed = set(solution.assignments())
    assert "V2" not in placed and "V4" not in placed
    reasons = {u.visit_id: u.reason.value for u in solution.unassigned}
    assert reasons["V4"] == "dependency_not_satisfiable"
