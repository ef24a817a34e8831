"""``explain._displaced``: the stop that would have to give way for an unplaced visit.

The clash may come from the visits' times, from the drive between them, or from a break
that sits at the stop's place; in every case the explanation names that stop.  (These pin
the displacement search while its per-worker route index and memoised route blocks,
``explain._by_worker`` and ``_STOPS_MEMO``, keep it from rescanning every route per visit.)
"""

from __future__ import annotations

import pytest

from optimizer.model import BreakRule, ReasonCode, Shift, Visit
from tests.optimizer.builders import OFFICE, A, B, problem, solve_ok, visit, worker


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
    between them (a search that skipped stops by their times alone would blame no one)."""
    vs = [keep, visit("LOW", A, 30, [(100, 100)])]
    sol = solve_ok(problem([worker("W1")], vs))
    [u] = sol.unassigned
    assert (u.visit_id, u.reason, u.details["would_displace"]) == ("LOW", ReasonCode.DISPLACED, "KEEP")


def test_displaced_search_keeps_stops_whose_removal_moves_a_break() -> None:
    """S (at A, 20-40, mandatory) comes before the day's break (5 min at exactly 45), so the break
    is counted at A; LOW (at the office, only at minute 50) would fit if S gave way, because
    the break would then be at the office.  S ends early enough to come before LOW, yet it is
    the answer (a search that skipped stops by time and travel alone would blame no one)."""
    w = worker("W1", Shift(0, 300, breaks=(BreakRule(5, 45, 45),)))
    vs = [visit("S", A, 20, [(20, 20)], mandatory=True), visit("LOW", OFFICE, 10, [(50, 50)])]
    sol = solve_ok(problem([w], vs))
    [u] = sol.unassigned
    assert (u.visit_id, u.reason, u.details["would_displace"]) == ("LOW", ReasonCode.DISPLACED, "S")
