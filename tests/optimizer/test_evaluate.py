"""The evaluator: KPIs and objective terms on a hand-computed day.

    locations 0 office, 1 A, 2 B, 3 C; car minutes (metres are 500 x minutes):
        0: 0 10 20 15 / 1: 10 0 10 25 / 2: 20 10 0 10 / 3: 15 25 10 0

    W1 carer F, shift 08:00-10:00 (+30 overtime)
        08:00 leave, A @1 travel 10, start 08:10 (window 08:00-08:05, soft: 5 min late) - 09:10
        B @2 travel 10, start 09:20 - 09:50, back 10:10 (travel 20): 10 min overtime
    W2 carer M, shift 08:00-12:00
        08:00 leave, E @2 travel 20, arrive 08:20, wait 10, start 08:30 - 08:50, back 09:10
    W3 carer F, shift 08:00-16:00, not used (empty route)
    C (optional, priority 3) and D (mandatory) are dropped.

    preferences: A prefers W2 (done by W1: non-preferred), B prefers W1, E prefers W2;
    B prefers a male worker (soft; W1 is female: one gender mismatch).
    previous plan: A/W1 (kept), E/W1 (moved to W2), C/W2 (dropped): two changes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.checker import check
from optimizer.evaluate import TERM_NAMES, Evaluation, evaluate
from optimizer.objective import fair_shares
from optimizer.model import (
    Gender,
    PlannedVisit,
    Problem,
    ReasonCode,
    Route,
    Shift,
    Solution,
    Stop,
    TimeWindow,
    TravelMode,
    Unassigned,
    Visit,
    Weights,
)
from tests.optimizer.builders import CAR, A, B, C, problem, visit, worker

METRES = tuple(tuple(500 * t for t in row) for row in CAR)


def day() -> Problem:
    workers = (
        worker("W1", Shift(480, 600, 30), gender=Gender.FEMALE),
        worker("W2", Shift(480, 720), gender=Gender.MALE),
        worker("W3", Shift(480, 960), gender=Gender.FEMALE),
    )
    visits = (
        visit("A", A, 60, [(480, 485)], soft_windows=True, max_lateness=30, mandatory=True, priority=5,
              preferred_workers={"W2"}),
        visit("B", B, 30, [(540, 600)], gender_preference=Gender.MALE, preferred_workers={"W1"}),
        visit("C", C, 45, [(480, 700)], priority=3),
        visit("D", C, 30, [(480, 700)], mandatory=True),
        visit("E", B, 20, [(510, 600)], priority=2, preferred_workers={"W2"}),
    )
    return problem(
        workers, visits, weights=Weights(),
        distances={TravelMode.CAR: METRES},
        previous_plan=(
            PlannedVisit("A", "W1", 490),
            PlannedVisit("E", "W1", 510),
            PlannedVisit("C", "W2", 600),
        ),
    )


def plan() -> Solution:
    r1 = Route("W1", 0, 480, 610, (
        Stop("A", 1, arrival=490, start=490, end=550, travel=10, waiting=0),
        Stop("B", 2, arrival=560, start=560, end=590, travel=10, waiting=0),
    ), travel_minutes=40, service_minutes=90, overtime_minutes=10)
    r2 = Route("W2", 0, 480, 550, (
        Stop("E", 2, arrival=500, start=510, end=530, travel=20, waiting=10),
    ), travel_minutes=40, service_minutes=20, waiting_minutes=10)
    r3 = Route("W3", 0, 480, 480, ())
    dropped = tuple(Unassigned(v, ReasonCode.NO_WORKER_FREE, {"case": "off_shift"}) for v in ("C", "D"))
    return Solution((r1, r2, r3), dropped)


EXPECTED_TERMS = {
    "drop_mandatory": 10_000_000,  # D
    "drop_optional": 300_000,  # C, priority 3 x 100 000
    "travel": 800,  # (40 + 40) min x 10
    "lateness": 250,  # A 5 min late x 50
    "max_lateness": 0,  # max_lateness_minute defaults to 0
    "overtime": 400,  # W1 10 min x 40
    "waiting": 0,  # wait_minute defaults to 0
    "non_preferred_worker": 300,  # A done by W1, prefers W2
    "gender_mismatch": 500,  # B prefers male, W1 is female
    "changed_from_previous": 100_000,  # E moved W1 -> W2, C dropped (A kept: W1 at 490): 2 x 50 000
    "imbalance": 3721,  # W1: 90 service vs fair share 29 -> 61^2
}


def test_example_plan_is_feasible() -> None:
    """The hand-computed example is a feasible plan; the checker only warns about mandatory D."""
    assert [(v.rule, v.visit_id) for v in check(day(), plan())] == [("mandatory_unassigned", "D")]


def test_kpis_hand_computed() -> None:
    """Every KPI matches the hand computation in the module docstring."""
    k = evaluate(day(), plan()).kpis
    assert (k.visits_total, k.visits_placed, k.mandatory_total, k.mandatory_placed) == (5, 3, 2, 1)
    assert dict(k.placed_by_priority) == {1: (1, 2), 2: (1, 1), 3: (0, 1), 5: (1, 1)}
    assert (k.travel_minutes, k.service_minutes, k.waiting_minutes) == (80, 110, 10)
    assert (k.work_minutes, k.overtime_minutes, k.lateness_minutes) == (200, 10, 5)
    assert k.utilisation == pytest.approx(110 / (120 + 240))  # W3's unused shift does not count
    assert k.continuity_share == pytest.approx(2 / 3)
    assert k.workers_used == 2
    assert k.distance_m == 80 * 500


def test_fair_share_of_a_shift() -> None:
    """Fair share = floor(1.1 x 185 requested min x shift min / 840 shift min of the day)."""
    shares = fair_shares(day())
    assert shares[(0, 0)] == 29  # W1's 120 min shift: 29.07
    assert shares[(1, 0)] == 58  # W2's 240 min shift: 58.14


def test_terms_and_total_hand_computed() -> None:
    """Each objective term and the total match the hand computation."""
    ev = evaluate(day(), plan())
    assert isinstance(ev, Evaluation)
    assert set(ev.terms) == set(TERM_NAMES)
    assert ev.terms == EXPECTED_TERMS
    assert ev.total == sum(EXPECTED_TERMS.values()) == 10_405_971


def test_route_totals_are_not_trusted() -> None:
    """Wrong route totals in the solution do not change the evaluation: it recomputes from stops."""
    routes = tuple(
        replace(r, travel_minutes=999, service_minutes=999, waiting_minutes=999, overtime_minutes=9, distance_m=1)
        for r in plan().routes
    )
    assert evaluate(day(), replace(plan(), routes=routes)) == evaluate(day(), plan())


def test_weights_scale_terms() -> None:
    """Terms use the problem's weights: waiting costs when wait_minute > 0; imbalance 0 switches it off."""
    problem = replace(day(), weights=Weights(wait_minute=3, imbalance=0, travel_minute=1))
    ev = evaluate(problem, plan())
    assert (ev.terms["waiting"], ev.terms["imbalance"], ev.terms["travel"]) == (30, 0, 80)


def test_max_lateness_term_is_the_worst_single_lateness() -> None:
    """max_lateness_minute prices the largest lateness of one visit (A: 5 min), once."""
    problem = replace(day(), weights=Weights(max_lateness_minute=7))
    ev = evaluate(problem, plan())
    assert ev.kpis.max_lateness_minutes == 5
    assert ev.terms["max_lateness"] == 35


def test_distance_unknown_without_matrix_for_the_mode() -> None:
    """distance_m is None when the problem has no distance matrix for a used worker's mode."""
    problem = replace(day(), distances={})
    assert evaluate(problem, plan()).kpis.distance_m is None


def test_nothing_planned() -> None:
    """An empty plan: every visit dropped, every previous assignment changed, no used workers."""
    sol = Solution((), tuple(Unassigned(v.id, ReasonCode.NOT_FOUND) for v in day().visits))
    ev = evaluate(day(), sol)
    assert (ev.kpis.visits_placed, ev.kpis.workers_used, ev.kpis.utilisation) == (0, 0, 0.0)
    assert ev.kpis.continuity_share == 1.0
    assert ev.kpis.distance_m == 0
    assert ev.terms["drop_mandatory"] == 2 * 10_000_000
    assert ev.terms["drop_optional"] == (1 + 3 + 2) * 100_000  # B, C, E; A and D are mandatory
    assert ev.terms["changed_from_previous"] == 3 * 50_000
    assert ev.total == 20_000_000 + 600_000 + 150_000


def test_two_person_visit_late_once_charged_per_stop_for_preferences() -> None:
    """A two-person visit is late once (per client) but non-preferred cost counts each worker's stop."""
    problem = replace(
        day(),
        visits=(Visit("T", 1, 30, (TimeWindow(480, 485),), soft_windows=True, max_lateness=30,
                      workers_needed=2, preferred_workers=frozenset({"W3"})),),
        previous_plan=(),
    )
    stop = Stop("T", 1, arrival=490, start=490, end=520, travel=10, waiting=0)
    sol = Solution((
        Route("W1", 0, 480, 530, (stop,)),
        Route("W2", 0, 480, 530, (stop,)),
    ), ())
    ev = evaluate(problem, sol)
    assert ev.kpis.lateness_minutes == 5
    assert ev.terms["non_preferred_worker"] == 2 * 300
    assert ev.kpis.continuity_share == 0.0
    assert (ev.kpis.service_minutes, ev.kpis.travel_minutes) == (60, 40)
