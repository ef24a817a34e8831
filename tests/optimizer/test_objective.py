"""One objective: the search prices plans exactly as ``evaluate`` reports them.

``optimizer.objective`` defines every cost term; our construction and LNS (``lns.plan_cost``),
the check of OR-Tools' plans (``search.raw_cost``) and ``evaluate`` all call it.  These tests
pin the cases where the copies used to disagree, then compare the two on random plans.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.checker import check, is_feasible
from optimizer.construct import construct
from optimizer.evaluate import evaluate
from optimizer.lns import improve, plan_cost
from optimizer.model import PlannedVisit, Problem, Shift, Solution, Weights
from optimizer.nodes import raw_plan, to_routes
from optimizer.rules import eligible_workers
from optimizer.search import raw_cost
from optimizer.stop import MaxIterations
from tests.optimizer.builders import OFFICE, A, B, C, problem, solve_ok, visit, worker
from tests.optimizer.test_solver_properties import PARAMS, _examples, problems


def built(p: Problem):
    """Our construction's plan of ``p`` (the search's own state)."""
    vehicles = [(wi, si) for wi, w in enumerate(p.workers) for si in range(len(w.shifts))]
    builder = construct(p, vehicles, [eligible_workers(p, v) for v in p.visits]).builder
    assert builder is not None
    return builder


def published(builder) -> Solution:
    """The builder's plan as a solution (its unplaced visits with a placeholder reason)."""
    from optimizer.model import ReasonCode, Unassigned

    raw = raw_plan(builder, "TEST")
    out = tuple(Unassigned(builder.p.visits[vi].id, ReasonCode.NOT_FOUND) for vi in raw.dropped_visits)
    return Solution(tuple(to_routes(builder.p, raw)), out)


def test_optional_two_person_visit_left_out_costs_the_same_in_search_and_evaluate() -> None:
    """An optional priority-3 two-person visit that cannot be placed (one worker on duty) costs
    3 x 100,000 x 2 workers = 600,000 in the search and in ``evaluate`` (which said 300,000)."""
    p = problem([worker("W1")], [visit("LIFT", A, 30, priority=3, workers_needed=2)])
    builder = built(p)
    assert builder.placed == set()
    ev = evaluate(p, published(builder))
    assert ev.terms["drop_optional"] == 600_000
    assert plan_cost(builder) == ev.total == 600_000


def test_pinned_optional_visit_left_out_is_priced_as_mandatory_everywhere() -> None:
    """A pin that cannot hold leaves an optional visit out at the mandatory price, in the search
    and in ``evaluate`` alike (``evaluate`` charged its priority)."""
    p = problem([worker("W1")], [visit("P", A, 30, windows=[(100, 200)], pinned_start=50)])
    builder = built(p)
    assert builder.placed == set()
    ev = evaluate(p, published(builder))
    assert (ev.terms["drop_mandatory"], ev.terms["drop_optional"]) == (10_000_000, 0)
    assert plan_cost(builder) == ev.total


def test_a_visit_of_the_previous_plan_left_out_counts_as_a_change_in_the_search() -> None:
    """A re-planned visit that no longer fits is a change of plan for the search as for
    ``evaluate`` (the search used to charge only its drop penalty)."""
    p = problem([worker("W1")], [visit("GONE", A, 30, windows=[(700, 800)])],
                previous_plan=(PlannedVisit("GONE", "W1", 700),))
    builder = built(p)
    assert builder.placed == set()
    ev = evaluate(p, published(builder))
    assert ev.terms["changed_from_previous"] == Weights().changed_from_previous
    assert plan_cost(builder) == ev.total == 100_000 + Weights().changed_from_previous


def test_two_person_visit_kept_by_its_previous_workers_is_no_change() -> None:
    """A two-person visit done again by both of its previous workers is no change (the search
    charged the copy whose worker was not the *last* previous entry)."""
    p = problem([worker("W1"), worker("W2")], [visit("PAIR", B, 30, workers_needed=2)],
                previous_plan=(PlannedVisit("PAIR", "W1", 20), PlannedVisit("PAIR", "W2", 20)))
    builder = built(p)
    sol = published(builder)
    assert sorted(w for w, _ in sol.assignments()["PAIR"]) == ["W1", "W2"]
    ev = evaluate(p, sol)
    assert ev.terms["changed_from_previous"] == 0
    assert plan_cost(builder) == ev.total


def test_two_person_visit_late_once_and_waiting_priced_by_the_search() -> None:
    """A late two-person visit is late once (per client) and waiting costs ``wait_minute``, in
    the search's cost as in ``evaluate``'s."""
    weights = Weights(imbalance=0, wait_minute=2)
    p = problem(
        [worker("W1"), worker("W2")],
        [visit("LATE", A, 30, windows=[(0, 0)], soft_windows=True, max_lateness=60, workers_needed=2,
               pinned_start=20),
         visit("WAIT", B, 30, windows=[(200, 300)])],
        weights=weights,
    )
    builder = built(p)
    sol = published(builder)
    assert is_feasible(check(p, sol))
    ev = evaluate(p, sol)
    assert ev.kpis.lateness_minutes == 20 and ev.terms["lateness"] == 20 * 50
    assert ev.terms["waiting"] > 0
    assert plan_cost(builder) == ev.total


def test_a_one_worker_visit_on_two_routes_is_placed_once_and_late_by_its_first_start() -> None:
    """A plan from outside the search may put a one-worker visit on two routes: it counts as
    placed once (its drop penalty spared once) and late by its earliest start, as a two-person
    visit's copies do; the routes' kept parts would count it twice."""
    from optimizer.objective import Objective, TimedRoute

    p = problem([worker("W1"), worker("W2")],
                [visit("DUP", A, 30, windows=[(0, 10)], soft_windows=True, max_lateness=200),
                 visit("OUT", B, 30, mandatory=True), visit("OK", C, 30)],
                weights=Weights(imbalance=0))
    objective = Objective(p)
    dup, out, ok = 0, 1, 2
    twice = objective.terms([TimedRoute(0, 0, [dup, ok], [40, 100], 200), TimedRoute(1, 0, [dup], [25], 100)])
    once = objective.terms([TimedRoute(0, 0, [dup, ok], [25, 100], 200)])
    assert twice["lateness"] == once["lateness"] == 15 * p.weights.lateness_minute
    assert twice["max_lateness"] == once["max_lateness"] == 15 * p.weights.max_lateness_minute
    assert twice["drop_mandatory"] == once["drop_mandatory"] == objective.left_out[out][1]
    assert twice["drop_optional"] == once["drop_optional"] == 0


def test_fair_share_is_exact_integer_arithmetic() -> None:
    """The imbalance term's fair share is floor(11/10 x requested x shift / all shifts) in
    integers, one definition for the search and ``evaluate``."""
    from optimizer.objective import fair_shares

    p = problem([worker("W1"), worker("W2")], [visit("V", OFFICE, 100)])
    assert fair_shares(p) == {(0, 0): 55, (1, 0): 55}  # 1.1 x 100 x 600 / 1200


@settings(max_examples=_examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problems(), st.integers(0, 3))
def test_search_cost_equals_evaluate_on_random_plans(p: Problem, seed: int) -> None:
    """On random days, every plan the search holds (its construction, then after each few LNS
    rounds) costs in ``lns.plan_cost`` exactly what ``evaluate`` reports for it published, and
    ``solve``'s routing objective (OR-Tools' plan priced by ``search.raw_cost``, or the LNS's)
    equals the objective it reports."""
    builder = built(p)
    for _ in range(3):
        sol = published(builder)
        assert is_feasible(check(p, sol))
        assert plan_cost(builder) == evaluate(p, sol).total
        assert raw_cost(p, raw_plan(builder, "TEST")) == evaluate(p, sol).total
        improve(builder, seed=seed, stop=MaxIterations(4))
    solved = solve_ok(p, replace(PARAMS, seed=seed))
    assert solved.stats is not None
    assert solved.stats.parameters["routing_objective"] == solved.stats.objective


def test_frozen_work_is_never_traded_for_a_mandatory_visit() -> None:
    """Re-planning at minute 60: F (at C, 15 min away) started at 50 and is frozen; M, mandatory
    at the office, could only start at 50 too.  Both left out would cost the same at the
    mandatory price, and dropping F saves its travel, so OR-Tools used to drop the work that had
    happened (the checker's frozen_changed; found by the re-planning property test).  Frozen
    work costs more than any mandatory visit: F stays, M is the one left out."""
    p = problem([worker("W1", Shift(0, 100))],
                [visit("F", C, 30, [(0, 100)]), visit("M", OFFICE, 30, [(50, 50)], mandatory=True)],
                previous_plan=(PlannedVisit("F", "W1", 50),), freeze_until=60)
    sol = solve_ok(p)
    assert sol.assignments() == {"F": [("W1", 50)]}
    assert [u.visit_id for u in sol.unassigned] == ["M"]
