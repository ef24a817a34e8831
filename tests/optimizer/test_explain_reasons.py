"""Reason codes say exactly what happened (issue 14, item 6).

* ``displaced_by_higher_priority`` only when the visit that would have to give way outranks
  the unplaced one (mandatory over optional, then a higher priority).  When the time is held
  by a visit that matters as much (two mandatory visits, one slot) or less (the search kept
  the wrong one), the reason is ``no_worker_free_in_window`` and ``details`` name the visits
  in the way.
* A visit for two workers at once with only one who may do it says it needs two workers
  (``not_enough_eligible_workers``), not "nobody has the skills" or "everyone is excluded".

The optimizer gives codes, cases and facts; the sentences are ``dispatch.planning.explanations``'s (its
tests word these same cases).

Every plan here is checked by the independent checker: the solver's through ``solve_ok``, and
the one explained against a problem it was not solved for through ``check`` directly.
"""

from __future__ import annotations

from dataclasses import replace

from optimizer.checker import check, is_feasible
from optimizer.explain import explain_unassigned
from optimizer.model import ReasonCase, ReasonCode, Shift, Solution
from optimizer.stop import MaxIterations
from tests.optimizer.test_constraints import A, plan, problem, reason, solve_ok, visit, worker


def test_a_lower_priority_visit_in_the_way_is_not_displaced_by_higher_priority() -> None:
    """One slot; the plan holds FIRST (priority 2) and leaves SECOND (priority 5) out.  Explained for
    the problem where FIRST has the higher priority it is ``displaced_by_higher_priority``; for the
    problem where SECOND is the higher one, the very same plan is ``no_worker_free_in_window``
    naming FIRST, and never claims a higher priority displaced it."""
    w = worker("W1", Shift(0, 100))
    kept_high = problem([w], [visit("FIRST", A, 80, [(0, 100)], priority=5),
                              visit("SECOND", A, 80, [(0, 100)], priority=2)])
    solution = solve_ok(kept_high)
    assert plan(solution) == {"W1": ["FIRST"]}
    assert reason(solution, "SECOND").reason == ReasonCode.DISPLACED

    # The same plan, judged for a day where FIRST is the less important visit.
    swapped = replace(kept_high, visits=(replace(kept_high.visits[0], priority=2),
                                         replace(kept_high.visits[1], priority=5)))
    [u] = explain_unassigned(swapped, list(solution.routes), ["SECOND"])
    assert is_feasible(check(swapped, Solution(solution.routes, (u,))))
    assert u.reason == ReasonCode.NO_WORKER_FREE
    assert u.details["would_displace"] == "FIRST" and u.details["blocking_visits"] == ["FIRST"]
    assert (u.details["displaced_priority"], u.details["own_priority"]) == (2, 5)
    assert u.details["case"] == ReasonCase.KEPT_LESS_IMPORTANT


def test_two_mandatory_visits_for_one_slot_name_each_other_without_a_higher_priority() -> None:
    """Two mandatory visits, room for one: the one left out was not displaced by a more important
    visit (both are mandatory); it is ``no_worker_free_in_window`` with the other one named."""
    w = worker("W1", Shift(0, 100))
    vs = [visit("M1", A, 80, [(0, 100)], mandatory=True, priority=1),
          visit("M2", A, 80, [(0, 100)], mandatory=True, priority=5)]
    sol = solve_ok(problem([w], vs))
    [placed] = plan(sol)["W1"]
    [left] = {"M1", "M2"} - {placed}
    u = reason(sol, left)
    assert u.reason == ReasonCode.NO_WORKER_FREE
    assert u.details["would_displace"] == placed and u.details["blocking_visits"] == [placed]
    assert u.details["displaced_mandatory"] is True and u.details["own_mandatory"] is True
    assert u.details["case"] == ReasonCase.SAME_RANK


def test_two_optional_visits_of_the_same_priority_are_not_displaced_by_higher_priority() -> None:
    """Two optional priority-3 visits, room for one: the other is ``no_worker_free_in_window``."""
    w = worker("W1", Shift(0, 100))
    sol = solve_ok(problem([w], [visit("P", A, 80, [(0, 100)], priority=3),
                                 visit("Q", A, 80, [(0, 100)], priority=3)]))
    [u] = sol.unassigned
    assert u.reason == ReasonCode.NO_WORKER_FREE
    assert u.details["would_displace"] in {"P", "Q"} - {u.visit_id}


def test_two_person_visit_with_one_eligible_worker_says_it_needs_two() -> None:
    """A two-person visit whose second worker is forbidden for the senior, or lacks the skill,
    is ``not_enough_eligible_workers`` naming the one who may go (the case says which of the two
    it is); with both excluded it stays ``forbidden_workers_only``."""
    ws = [worker("W1", skills={"lift"}), worker("W2", skills={"lift"}), worker("W3", home=A)]
    forbidden = solve_ok(problem(ws, [visit("V", A, 30, workers_needed=2, required_skills={"lift"},
                                            forbidden_workers={"W2"})]))
    u = reason(forbidden, "V")
    assert u.reason == ReasonCode.NOT_ENOUGH_ELIGIBLE
    assert u.details["eligible_workers"] == ["W1"] and u.details["workers_needed"] == 2
    assert sorted(u.details["skilled_workers"]) == ["W1", "W2"]
    assert u.details["case"] == ReasonCase.TOO_FEW_ALLOWED

    unskilled = solve_ok(problem([ws[0], ws[2]], [visit("V", A, 30, workers_needed=2, required_skills={"lift"})]))
    u = reason(unskilled, "V")
    assert u.reason == ReasonCode.NOT_ENOUGH_ELIGIBLE
    assert u.details["skilled_workers"] == ["W1"]
    assert u.details["case"] == ReasonCase.TOO_FEW_SKILLED and u.details["required_skills"] == ["lift"]

    both_out = solve_ok(problem(ws, [visit("V", A, 30, workers_needed=2, required_skills={"lift"},
                                          forbidden_workers={"W1", "W2"})]))
    assert reason(both_out, "V").reason == ReasonCode.FORBIDDEN_ONLY


def test_two_person_visit_with_one_eligible_worker_on_shift_says_it_needs_both_at_once() -> None:
    """Two eligible workers, only one on shift in the window: ``no_worker_free_in_window`` saying it
    needs two workers at once and naming the one who is on shift."""
    ws = [worker("W1", home=A), worker("W2", Shift(100, 600))]
    sol = solve_ok(problem(ws, [visit("V", A, 30, [(0, 105)], workers_needed=2)]))
    u = reason(sol, "V")
    assert u.reason == ReasonCode.NO_WORKER_FREE
    assert u.details["on_shift_in_window"] == ["W1"]
    assert u.details["case"] == ReasonCase.NEEDS_TOGETHER and u.details["workers_needed"] == 2
    assert u.details["windows"] == [[0, 105]]


def test_rides_follow_the_same_rule() -> None:
    """One one-seat car, two rides due at C at the same time: a mandatory ride in the way of an
    optional one displaces it (higher priority); two mandatory rides only name each other."""
    from tests.optimizer.test_constraints import C, driver, ride, rides_problem

    car = driver("W1", seats=1)
    sol = solve_ok(rides_problem([car], ride("R1", A, C, (60, 70), mandatory=True), ride("R2", A, C, (60, 70))))
    u = reason(sol, "R2-up")
    assert u.reason == ReasonCode.DISPLACED and u.details["displaced_mandatory"] is True

    sol = solve_ok(rides_problem([car], ride("R1", A, C, (60, 70), mandatory=True),
                                 ride("R2", A, C, (60, 70), mandatory=True)))
    [left] = {u.visit_id.split("-")[0] for u in sol.unassigned}
    u = reason(sol, f"{left}-up")
    assert u.reason == ReasonCode.NO_WORKER_FREE
    assert u.details["would_displace"].split("-")[0] == ({"R1", "R2"} - {left}).pop()
    assert u.details["case"] == ReasonCase.SAME_RANK and u.details["ride"] == [f"{left}-up", f"{left}-down"]


def test_reasons_that_need_no_routes_are_given_even_after_the_deadline() -> None:
    """With the explanation time already spent (a loaded machine), a visit nobody has the skills for
    still says so, and one everyone is excluded from too; a visit that only the routes could explain is
    left out (the solver marks it "reasons not computed").  A CI run under load once reported a
    skill-less visit as "not found by the search"."""
    ws = [worker("W1"), worker("W2")]
    day = problem(ws, [visit("FREE", A, 30), visit("SKILL", A, 30, required_skills={"insulin_pump"}),
                       visit("BANNED", A, 30, forbidden_workers={"W1", "W2"})])
    spent = MaxIterations(0)
    assert spent()
    out = {u.visit_id: u for u in explain_unassigned(day, [], ["FREE", "SKILL", "BANNED"], spent)}
    assert set(out) == {"SKILL", "BANNED"}
    assert out["SKILL"].reason == ReasonCode.NO_SKILLED_WORKER
    assert out["SKILL"].details["case"] == ReasonCase.NOBODY_HAS_SKILLS
    assert out["BANNED"].reason == ReasonCode.FORBIDDEN_ONLY
    assert is_feasible(check(day, Solution((), tuple(out.values()) + (
        explain_unassigned(day, [], ["FREE"])[0],))))


def test_when_time_runs_out_the_most_important_visits_are_explained_first() -> None:
    """With time for two explanations, the mandatory visit and then the priority-5 one get their
    reasons, whatever their place in the list; the reasons come back in the list's order.  On a
    region's day the reserve does not explain every visit left out, and the dispatcher needs the
    reasons for the mandatory ones first."""
    ws = [worker("W1", Shift(0, 60))]
    day = problem(ws, [visit("LOW", A, 30, [(300, 360)], priority=1),
                       visit("HIGH", A, 30, [(300, 360)], priority=5),
                       visit("MUST", A, 30, [(300, 360)], mandatory=True)])
    out = explain_unassigned(day, [], ["LOW", "HIGH", "MUST"], MaxIterations(2))
    assert [u.visit_id for u in out] == ["HIGH", "MUST"]
    assert all(u.reason == ReasonCode.NO_WORKER_FREE for u in out)
    every = explain_unassigned(day, [], ["LOW", "HIGH", "MUST"])
    assert [u.visit_id for u in every] == ["LOW", "HIGH", "MUST"]  # with time, all, in order
