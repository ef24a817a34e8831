"""The explanation's shortcuts change no answer (hypothesis).

``explain._displaced`` skips stops whose removal cannot free a slot for the unplaced visit
(too late to follow it, or early enough to precede it, and not the first or last stop of a
route under a cap on working time).  On random small days, explaining the solver's plan
with and without that pruning must give the same reasons, messages and details.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import optimizer.explain as explain
from optimizer.model import Problem, ReasonCode, Visit
from optimizer.solve import solve
from tests.optimizer.test_constraints import A, B, problem, visit, worker
from tests.optimizer.test_solver_properties import PARAMS, problems


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problems())
def test_pruned_displacement_search_gives_the_same_explanations(p: Problem) -> None:
    sol = solve(p, PARAMS)
    unplaced = [u.visit_id for u in sol.unassigned]
    pruned = explain.explain_unassigned(p, list(sol.routes), unplaced)
    explain.PRUNE_DISPLACED = False
    try:
        full = explain.explain_unassigned(p, list(sol.routes), unplaced)
    finally:
        explain.PRUNE_DISPLACED = True
    assert pruned == full
    assert pruned == list(sol.unassigned)


@pytest.mark.parametrize(
    "keep",
    [
        # Starts 5 min after LOW would end: free without the 10 min drive B -> A, not with it.
        visit("KEEP", B, 30, [(135, 135)], mandatory=True),
        # Ends 5 min before LOW's only start: free without the 10 min drive A -> B, not with it.
        visit("KEEP", B, 35, [(60, 60)], mandatory=True),
        # Overlaps LOW outright.
        visit("KEEP", A, 60, [(100, 100)], mandatory=True),
    ],
    ids=["after", "before", "overlap"],
)
def test_displaced_reason_names_the_stop_only_travel_makes_a_conflict(keep: Visit) -> None:
    """LOW (optional, at A, only at minute 100 for 30 min) cannot be placed because of KEEP;
    the explanation must name KEEP, also where KEEP clashes with LOW only through the drive
    between them (a pruning that forgot travel would skip it and blame no single visit)."""
    vs = [keep, visit("LOW", A, 30, [(100, 100)])]
    sol = solve(problem([worker("W1")], vs), PARAMS)
    [u] = sol.unassigned
    assert (u.visit_id, u.reason, u.details["would_displace"]) == ("LOW", ReasonCode.DISPLACED, "KEEP")
