"""The search's start: what the LNS's annealing is scaled to, and the order the construction
places visits in (issue 19 item 5: on the 1x Kielce day given VROOM's 220 visits the first plan
left 15 mandatory visits out, their penalties set the temperature, and the search wandered on
travel to the end).

* ``lns.annealing_scale`` is the plan's cost without the drop penalties of what is left out:
  checked against the objective's own terms on random small days;
* ``construct.insertion_order`` places, among equally important visits, the one fewer workers
  may do first, so a general visit does not take the only qualified worker's time;
* the LNS has the whole time on general days (``lns_share`` 1), linked days keep their split
  (``lns_share_linked``), and ``lns_share`` 0 still means OR-Tools alone everywhere.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from dataclasses import replace

from optimizer.construct import construct, insertion_order
from optimizer.lns import annealing_scale, plan_cost
from optimizer import check, evaluate, is_feasible, solve
from optimizer.model import Dependency, PlannedVisit, Problem
from optimizer.params import Progress, SolveParams
from optimizer.rules import eligible_workers
from optimizer.search import _linked_profile
from tests.optimizer.builders import OFFICE, A, problem, solve_ok, visit, worker
from tests.optimizer.test_explain_displaced import busy_days


def _first_plan(p: Problem):
    vehicles = [(wi, si) for wi, w in enumerate(p.workers) for si in range(len(w.shifts))]
    return construct(p, vehicles, [eligible_workers(p, v) for v in p.visits]).builder


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_days())
def test_annealing_scale_is_the_cost_without_the_drops(p: Problem) -> None:
    b = _first_plan(p)
    terms = b.cost.terms(b.timed_routes(waiting=p.weights.wait_minute > 0))
    cost = plan_cost(b)
    assert cost == sum(terms.values())
    assert annealing_scale(b, cost) == cost - terms["drop_mandatory"] - terms["drop_optional"]


def test_a_day_leaving_a_mandatory_visit_out_anneals_on_its_routing_cost() -> None:
    # Two 60-minute visits that must start in the same five minutes, one worker: one stays out.
    p = problem([worker("W")], [visit("V1", A, 60, [(30, 35)], mandatory=True),
                                visit("V2", A, 60, [(30, 35)], mandatory=True)])
    b = _first_plan(p)
    assert len(b.placed) == 1
    cost = plan_cost(b)
    assert cost >= 10_000_000  # the drop penalty of a mandatory visit
    assert annealing_scale(b, cost) == 2 * 10 * p.weights.travel_minute  # office -> A -> office


def _skill_day() -> Problem:
    # S is qualified for dementia care, C is not; both live at the office.  G (anyone) and X
    # (dementia care) must both start at 30-35 and last 60 minutes: each worker can do one.
    # G comes first in the visits and is as important, as wide and as early as X.
    return problem([worker("S", skills={"dementia"}), worker("C")],
                   [visit("G", A, 60, [(30, 35)], mandatory=True),
                    visit("X", A, 60, [(30, 35)], mandatory=True, required_skills={"dementia"})])


def test_the_visit_fewer_workers_may_do_goes_in_first() -> None:
    p = _skill_day()
    eligible = [eligible_workers(p, v) for v in p.visits]
    assert [len(e) for e in eligible] == [2, 1]
    assert insertion_order(p, {}) == [0, 1]  # without eligibility: the order of the visits
    assert insertion_order(p, {}, eligible) == [1, 0]
    b = _first_plan(p)
    assert b.placed == {0, 1}  # G first would have taken S (the first of two equal choices)
    done = {p.workers[r.worker_index].id: [p.visits[vi].id for vi, _ in r.stops] for r in b.routes if r.stops}
    assert done == {"S": ["X"], "C": ["G"]}


def test_the_solved_skill_day_places_both_and_passes_the_checker() -> None:
    # The whole solve would likely find this without the rule too (its search runs after the
    # construction); what it shows is that the plan the rule leads to is valid and kept.
    sol = solve_ok(_skill_day())  # the independent checker passes the plan
    assert {u.visit_id for u in sol.unassigned} == set()
    assert {s.visit_id: r.worker_id for r in sol.routes for s in r.stops} == {"X": "S", "G": "C"}


def test_general_days_give_the_lns_the_whole_time_and_linked_days_keep_their_split() -> None:
    general = _skill_day()
    linked = problem([worker("W")], [visit("V1", A, 30, mandatory=True), visit("V2", A, 30, mandatory=True)],
                     dependencies=(Dependency("V1", "V2", 60, None),))
    defaults = SolveParams()
    assert defaults.lns_share == 1.0
    assert _linked_profile(general, defaults).lns_share == 1.0
    assert _linked_profile(linked, defaults).lns_share == defaults.lns_share_linked == 0.5
    ortools_alone = replace(defaults, lns_share=0.0)
    assert _linked_profile(general, ortools_alone).lns_share == 0.0
    assert _linked_profile(linked, ortools_alone).lns_share == 0.0


def test_on_a_replan_a_visit_left_out_takes_its_lost_previous_entry_out_of_the_scale() -> None:
    # The previous plan had both visits on W at 30 (a day that changed: they cannot both be there
    # now); whichever stays out costs its drop penalty and its previous entry as a change, and
    # neither is what the annealing trades.
    p = problem([worker("W")], [visit("V1", A, 60, [(30, 35)], priority=2), visit("V2", A, 60, [(30, 35)], priority=2)],
                previous_plan=(PlannedVisit("V1", "W", 30), PlannedVisit("V2", "W", 30)))
    b = _first_plan(p)
    assert len(b.placed) == 1
    terms = b.cost.terms(b.timed_routes(waiting=p.weights.wait_minute > 0))
    cost = plan_cost(b)
    assert terms["changed_from_previous"] == p.weights.changed_from_previous  # the left-out visit's entry
    assert annealing_scale(b, cost) == cost - terms["drop_optional"] - terms["changed_from_previous"]
    assert annealing_scale(b, cost) == 2 * 10 * p.weights.travel_minute


def test_with_the_lns_alone_the_first_plan_is_reported_before_any_improvement() -> None:
    # One visit, one worker: the first plan is the best there is, so the LNS never improves on it;
    # a planning job's progress must still show the plan (it stayed empty when OR-Tools, which
    # reported the first plan, stopped running on general days).
    p = problem([worker("W")], [visit("V1", A, 30, mandatory=True)])
    seen: list[Progress] = []
    sol = solve(p, SolveParams(time_limit_s=0.5, seed=0, on_progress=seen.append))
    assert is_feasible(check(p, sol))
    assert seen and seen[0].visits_placed == 1 and seen[0].visits_total == 1
    assert seen[0].best_cost == evaluate(p, sol).total
