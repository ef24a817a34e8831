"""Incremental route evaluation (issue #19 item 4): the same timings and prices as whole routes.

Our construction and the LNS time an insertion from the route's kept forward pass
(``timing.Plan.route_summary``, ``insertion_simulate``), skip positions its break-free bounds
rule out (``may_insert``) and price only the stops whose start changed
(``construct.Builder.time_delta``).  On random small days (the solver property generator:
breaks, rides, two-person visits, dependencies, pins, soft windows, working-time caps,
matrices without the triangle inequality) these tests hold that to the whole-route engine and
to ``evaluate``: one timing engine, one objective.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer.construct import Builder
from optimizer.evaluate import evaluate
from optimizer.lns import improve
from optimizer.model import Problem
from optimizer.stop import MaxIterations
from tests.optimizer.builders import OFFICE, A, B, C, problem, visit, worker
from tests.optimizer.test_constraints import DRIVER, driver, ride, rides_problem
from tests.optimizer.test_objective import built, published
from tests.optimizer.test_solver_properties import _examples, problems

SETTINGS = settings(max_examples=_examples(15), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(problems())
def test_insertion_timing_is_the_whole_route_timing(p: Problem) -> None:
    """For every visit, route and position (and every pair of positions for a ride), and for
    every run of one or two stops taken out, the incremental timing is exactly
    ``simulate``'s, and a position ``may_insert`` rules out (or a ride's pair of positions
    its bounds rule out) is one ``simulate`` cannot time."""
    b = built(p)
    fixed = b.fixed
    for route in b.routes:
        on_route = {vi for vi, _ in route.stops}
        kept = b.route_summary(route, fixed)
        n = len(route.stops)
        for vi in range(len(p.visits)):
            if vi in on_route:
                continue
            for pos in range(n + 1):
                stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                whole = b.simulate(route, stops, fixed)
                assert b.insertion_simulate(route, stops, pos, pos + 1, 1, fixed)[0] == whole
                if kept is not None and not b.may_insert(route, kept, vi, pos, fixed):
                    assert whole is None
        for k in range(n):
            for gone in (1, 2):
                stops = route.stops[:k] + route.stops[k + gone:]
                assert (b.insertion_simulate(route, stops, k, k, -gone, fixed)[0]
                        == b.simulate(route, stops, fixed))
        for pickup, dropoff in sorted({ride[:2] for ride in b.ride_at.values()}):
            if pickup in on_route or dropoff in on_route:
                continue
            worker = p.workers[route.worker_index]
            kept_pairs = {(i, j) for _, i, j in b._ride_pairs(pickup, dropoff, None, route, worker, 0, fixed)}
            for i in range(n + 1):
                for j in range(i, n + 1):
                    stops = route.stops[:i] + [(pickup, 0)] + route.stops[i:j] + [(dropoff, 0)] + route.stops[j:]
                    whole = b.simulate(route, stops, fixed)
                    assert b.insertion_simulate(route, stops, i, j + 2, 2, fixed)[0] == whole
                    if (i, j) not in kept_pairs:
                        assert whole is None or not _plausible(b, pickup, dropoff, route, i, j)


def _plausible(b, pickup: int, dropoff: int, route, i: int, j: int) -> bool:
    """Whether the full evaluation would time pickup at ``i`` and drop-off at ``j`` (its own
    cheap filters, ``Plan.incremental`` off): only such pairs must survive the bounds."""
    b.incremental = False
    try:
        worker = b.p.workers[route.worker_index]
        return (i, j) in {(x, y) for _, x, y in b._ride_pairs(pickup, dropoff, None, route, worker, 0, b.fixed)}
    finally:
        b.incremental = True


@SETTINGS
@given(problems())
def test_insertion_price_is_the_difference_evaluate_reports(p: Problem) -> None:
    """Placing a left-out visit at a position costs, by the incremental price (travel, the
    changed stops' time terms, preferences, balance, less its drop penalty), exactly the
    difference of ``evaluate``'s totals before and after.  Waiting and the largest lateness
    are weighted 0 here: the insertion price leaves them out by design (waiting is not priced
    per insertion; the largest lateness is priced against the plan's cap)."""
    p = replace(p, weights=replace(p.weights, wait_minute=0, max_lateness_minute=0))
    b = built(p)
    w = p.weights
    before = evaluate(p, published(b)).total
    for vi, visit in enumerate(p.visits):
        if (vi in b.placed or visit.workers_needed > 1 or vi in b.ride_at or vi in b.before or vi in b.after
                or visit.id in b.pins):
            continue
        for v, route in enumerate(b.routes):
            if route.worker_index not in b.eligible[vi]:
                continue
            worker = p.workers[route.worker_index]
            for pos in range(len(route.stops) + 1):
                stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                timing, conv, summary = b.insertion_simulate(route, stops, pos, pos + 1, 1, b.fixed)
                if timing is None or not b.work_ok(route, timing.end - timing.departure):
                    continue
                delta = b.time_delta(route, pos, stops, timing, conv, summary)
                if delta is None:
                    delta = (b.time_penalty(route, stops, timing.starts, timing.end)
                             - b.time_penalty(route, route.stops, route.starts, route.end))
                price = ((timing.travel - route.travel) * w.travel_minute + delta
                         + b.cost.assignment(visit, worker) + b.imbalance_delta(route, b.durations[worker.kind][vi])
                         - b.cost.drop(vi))
                saved = ([r.clone() for r in b.routes], dict(b.fixed), set(b.placed))
                b._commit(vi, 0, v, pos, None)
                assert evaluate(p, published(b)).total - before == price
                b.routes, b.fixed, b.placed = saved


@SETTINGS
@given(problems())
def test_the_search_takes_the_same_steps_either_way(p: Problem) -> None:
    """Construction and LNS rounds end on the same plan with whole-route evaluation and with
    the incremental one: the bounds only skip positions that could not be the cheapest."""
    plans = []
    for incremental in (False, True):
        Builder.incremental = incremental
        try:
            b = built(p)
            improve(b, seed=0, stop=MaxIterations(8))
        finally:
            Builder.incremental = True
        plans.append(([(r.stops, r.starts) for r in b.routes], b.placed, b.fixed))
    assert plans[0] == plans[1]


@st.composite
def waiting_rides(draw) -> Problem:
    """A driver's day of rides whose drop-off windows open late, some with a ride-time limit:
    timed from the earliest starts, a senior would sit in the car too long, so the route's own
    pass stops at that drop-off and ``simulate`` moves the pickup later (``PickupLater``)."""
    places = (A, B, C, OFFICE)
    trips = []
    for k in range(draw(st.integers(2, 4))):
        frm, to = draw(st.sampled_from(places)), draw(st.sampled_from(places))
        opens = draw(st.integers(60, 300))
        trips.append(ride(f"R{k}", frm, to, (opens, opens + draw(st.integers(0, 40))),
                          max_ride=draw(st.sampled_from([None, 15, 30, 45])),
                          pick_window=(draw(st.integers(0, 60)), 600)))
    extra = [visit(f"V{k}", draw(st.sampled_from(places)), 10, [(w0, w0 + draw(st.integers(10, 120)))],
                   worker_kinds={DRIVER})
             for k in range(draw(st.integers(0, 3))) for w0 in [draw(st.integers(0, 400))]]
    drivers = [driver(f"D{k}") for k in range(draw(st.integers(1, 2)))]
    p = rides_problem(drivers, *trips)
    return replace(p, visits=tuple(p.visits) + tuple(extra))


@SETTINGS
@given(waiting_rides())
def test_a_route_whose_pickup_waits_is_timed_from_its_summary(p: Problem) -> None:
    """A driver's route whose own pass needs a pickup moved keeps its summary as far as the
    drop-off (it used to keep none, and every insertion timed the whole route again): every
    insertion of a visit or a ride, and every removal, timed from it is ``simulate``'s."""
    b = built(p)
    fixed = b.fixed
    waiting = 0
    for route in b.routes:
        if not route.stops:
            continue
        kept = b.route_summary(route, fixed)
        assert kept is not None  # a summary, however far its pass got
        waiting += kept.later is not None
        on_route = {vi for vi, _ in route.stops}
        n = len(route.stops)
        for vi in range(len(p.visits)):
            if vi in on_route or vi in b.ride_at:
                continue
            for pos in range(n + 1):
                stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                assert b.insertion_simulate(route, stops, pos, pos + 1, 1, fixed)[0] == b.simulate(route, stops, fixed)
        for pickup, dropoff in sorted({ride_[:2] for ride_ in b.ride_at.values()}):
            if pickup in on_route:
                continue
            for i in range(n + 1):
                for j in range(i, n + 1):
                    stops = route.stops[:i] + [(pickup, 0)] + route.stops[i:j] + [(dropoff, 0)] + route.stops[j:]
                    assert (b.insertion_simulate(route, stops, i, j + 2, 2, fixed)[0]
                            == b.simulate(route, stops, fixed))
        for k in range(n):
            stops = route.stops[:k] + route.stops[k + 1:]
            assert b.insertion_simulate(route, stops, k, k, -1, fixed)[0] == b.simulate(route, stops, fixed)
    event(f"routes whose pickup waits: {min(waiting, 2)}")


def test_a_changed_fixed_start_is_seen_by_the_kept_pass() -> None:
    """The kept pass is checked against the fixed starts by their version
    (``timing.FixedStarts``): fixing a stop's start, unfixing it or replacing the dict is seen
    at once, and the pass is the one ``simulate`` gives with the new fixed starts."""
    p = problem([worker("W1")], [visit("V1", A, 30, [(0, 600)]), visit("V2", B, 30, [(0, 600)])])
    b = built(p)
    [route] = [r for r in b.routes if r.stops]
    first = route.stops[0][0]
    kept = b.route_summary(route, b.fixed)
    assert b.route_summary(route, b.fixed) is kept  # nothing changed: the same pass
    b.fixed[first] = 200
    moved = b.route_summary(route, b.fixed)
    assert moved is not kept and moved.timing == b.simulate(route, route.stops, b.fixed)
    assert moved.timing.starts[0] == 200
    b.fixed.pop(first)
    assert b.route_summary(route, b.fixed).timing == b.simulate(route, route.stops, b.fixed)
    assert b.route_summary(route, b.fixed).timing.starts[0] < 200
    b.fixed = {first: 300}  # a plain dict: compared stop by stop
    assert b.route_summary(route, b.fixed).timing.starts[0] == 300
