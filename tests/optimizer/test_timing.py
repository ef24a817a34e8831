"""The route-timing engine (``optimizer.timing``): the rules its two questions share.

``Plan.simulate`` (the search) and ``free_gaps`` (the explanations' insertion test) apply the
same shift end: overtime allowed, never into the worker's next shift.  They used to differ,
so a visit the search could never place was explained as "a free slot exists".
"""

from __future__ import annotations

from optimizer.model import ReasonCode, Shift
from tests.optimizer.builders import A, problem, solve_ok, visit, worker


def test_overtime_into_the_next_shift_is_no_free_slot() -> None:
    """W1 works 0-100 (60 min overtime allowed) and again from 120.  The visit at A can only
    start at 100-105 and lasts 30: done at 130, back at the office at 140, in the second
    shift.  The search cannot place it, and the explanation agrees: no worker is free (not
    "a free slot exists")."""
    day = problem([worker("W1", Shift(0, 100, 60), Shift(120, 600))],
                  [visit("LATE", A, 30, [(100, 105)], mandatory=True)])
    sol = solve_ok(day)
    [u] = sol.unassigned
    assert u.reason == ReasonCode.NO_WORKER_FREE


def test_overtime_before_the_next_shift_is_a_slot() -> None:
    """The same day with the second shift from 150: the visit fits in the first shift's
    overtime (back at 140), and the search places it there."""
    day = problem([worker("W1", Shift(0, 100, 60), Shift(150, 600))],
                  [visit("LATE", A, 30, [(100, 105)], mandatory=True)])
    sol = solve_ok(day)
    assert sol.unassigned == () and sol.routes[0].shift_index == 0
