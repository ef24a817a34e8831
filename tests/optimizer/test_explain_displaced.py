"""``explain._displaced``: the stop that would have to give way for an unplaced visit.

The clash may come from the visits' times, from the drive between them, or from a break
that sits at the stop's place; in every case the explanation names that stop.  (These pin
the displacement search while its per-worker route index and memoised route blocks,
``explain._by_worker`` and ``_STOPS_MEMO``, keep it from rescanning every route per visit.)
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import explain
from optimizer.model import BreakRule, Problem, ReasonCode, Shift, Visit
from tests.optimizer.builders import OFFICE, A, B, C, problem, solve_ok, visit, worker


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


# ----------------------------------------------------------------- the exact pruning of candidates
# ``explain._removal_may_free`` skips stops whose removal cannot open a slot in the visit's window,
# and the slot search after a removal looks only at the gaps it changed (``explain._removal_effect``;
# issue 19: at 30x most visits went unexplained for want of time).  Both claim to be exact, so the
# reasons with them must equal the reasons of the unpruned full search, which these tests run beside.



def reasons(p: Problem, sol, without: tuple[object, str, object] | None = None) -> list:
    """The reasons for ``sol``'s unplaced visits; ``without``: with (object, attribute) patched to
    the value given, to turn a cut off and get the reference the cut must agree with."""
    ids = [u.visit_id for u in sol.unassigned]
    if without is None:
        return explain.explain_unassigned(p, list(sol.routes), ids)
    with patch.object(*without):
        return explain.explain_unassigned(p, list(sol.routes), ids)


def _reasons(p: Problem, sol, pruned: bool) -> list:
    # Unpruned: no removal judged (``_removal_effect`` None), every stop tested, every gap searched.
    return reasons(p, sol, None if pruned else (explain, "_removal_effect", lambda *args: None))


def test_pruning_skips_stops_far_from_the_window_and_keeps_the_answer() -> None:
    """W1's day is four fixed stops (60, 120, 180, 400); LOW fits only at 400.  Removing the 120
    or the 180 stop opens time long before 400 (their next stops start at 180 and 400, too
    early for 30 minutes from 400), so they are not tested; the answer is still the 400 stop."""
    fixed = [visit(f"M{t}", A if i % 2 else B, 30, [(t, t)], mandatory=True) for i, t in enumerate((60, 120, 180, 400))]
    p = problem([worker("W1")], fixed + [visit("LOW", A, 30, [(400, 400)])])
    sol = solve_ok(p)
    [u] = sol.unassigned
    assert (u.reason, u.details["would_displace"]) == (ReasonCode.DISPLACED, "M400")
    [route] = sol.routes
    w = p.workers[0]
    kept = [route.stops[k].visit_id for k in range(len(route.stops))
            if explain._removal_may_free(p, w, route.shift_index, route, k, 30, (400, 400))]
    assert kept == ["M60", "M400"]  # the first and last blocks always; the middle two pruned
    assert _reasons(p, sol, pruned=True) == _reasons(p, sol, pruned=False)


@st.composite
def busy_days(draw: st.DrawFn) -> Problem:
    """One or two workers (a break sometimes, a working-time cap sometimes) whose day is a row of
    fixed mandatory stops with short gaps, and a few optional visits with narrow windows that fit
    only where a stop gives way: often a stop in the middle of a route, the case the pruning
    decides (a slot opening by a few minutes, or not)."""
    workers = [worker(f"W{i}", Shift(0, 600, breaks=(BreakRule(15, 200, 320),)) if draw(st.booleans()) else Shift(0, 600),
                      home=draw(st.sampled_from((OFFICE, A, B, C))),
                      max_work=draw(st.sampled_from((None, None, 300, 450))))
               for i in range(draw(st.integers(1, 2)))]
    visits = []
    step = draw(st.integers(35, 70))
    t = draw(st.integers(0, 60))
    for i in range(draw(st.integers(3, 9))):
        visits.append(visit(f"M{i}", draw(st.sampled_from((A, B, C))), draw(st.integers(15, 30)), [(t, t + draw(st.integers(0, 5)))],
                            mandatory=True))
        t += step + draw(st.integers(-5, 10))
    for i in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, min(570, t)))
        visits.append(visit(f"O{i}", draw(st.sampled_from((OFFICE, A, B, C))), draw(st.integers(10, 50)),
                            [(start, start + draw(st.integers(0, 20)))], priority=draw(st.integers(1, 5))))
    return problem(workers, visits)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_days())
def test_pruned_and_full_displacement_search_give_the_same_reasons_on_busy_days(p: Problem) -> None:
    sol = solve_ok(p)  # the independent checker passes the plan
    assert _reasons(p, sol, pruned=True) == _reasons(p, sol, pruned=False)

