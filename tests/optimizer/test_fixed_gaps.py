"""The quick tests on routes whose stops have fixed starts (a published plan loaded for the
explanations and for the repair across areas; issue 19: they were most of a region's day's
tail after the search):

* ``Plan.ride_may_fit`` spares a ride's full insertion test on a car whose fixed stops leave no
  gap at the ride's time;
* ``Builder._candidates`` skips a position before a stop whose fixed start cannot wait for the
  visit and the drive from it.

Both claim to be exact (they rule out only what cannot be timed), so these tests time what they
rule out, and check that the explanations with the ride test equal those without it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer.explain_rides import PlanProbe
from optimizer.model import BreakRule, Problem, Ride, Shift
from optimizer.timing import Plan
from tests.optimizer.builders import OFFICE, A, B, C, problem, solve_ok, visit, worker
from tests.optimizer.test_explain_displaced import busy_days, reasons

PLACES = (OFFICE, A, B, C)


@st.composite
def busy_ride_days(draw: st.DrawFn) -> Problem:
    """One or two drivers (two seats; a break sometimes) whose day is a row of mandatory rides
    and single stops in narrow windows, and a few optional rides with narrow windows (a
    ride-time limit sometimes) that fit only in some gaps, or share the car with a booked ride."""
    drivers = [worker(f"D{i}", Shift(0, 600, breaks=(BreakRule(15, 200, 320),)) if draw(st.booleans()) else Shift(0, 600),
                      home=draw(st.sampled_from(PLACES)), capacity={"seats": 2})
               for i in range(draw(st.integers(1, 2)))]
    visits, rides = [], []
    t = draw(st.integers(0, 60))
    for i in range(draw(st.integers(2, 7))):
        if draw(st.booleans()):
            up, down = f"M{i}-up", f"M{i}-down"
            trip = draw(st.integers(15, 40))
            visits += [visit(up, draw(st.sampled_from(PLACES)), 5, [(t, t + draw(st.integers(0, 5)))], mandatory=True),
                       visit(down, draw(st.sampled_from(PLACES)), 5, [(t, t + trip + 20)], mandatory=True)]
            rides.append(Ride(up, down, {"seats": draw(st.integers(1, 2))}))
            t += trip + draw(st.integers(10, 40))
        else:
            visits.append(visit(f"M{i}", draw(st.sampled_from(PLACES)), draw(st.integers(10, 30)),
                                [(t, t + draw(st.integers(0, 5)))], mandatory=True))
            t += draw(st.integers(30, 70))
    for i in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, min(560, t)))
        up, down = f"O{i}-up", f"O{i}-down"
        visits += [visit(up, draw(st.sampled_from(PLACES)), 5, [(start, start + draw(st.integers(0, 20)))], priority=draw(st.integers(1, 5))),
                   visit(down, draw(st.sampled_from(PLACES)), 5, [(start, start + draw(st.integers(10, 60)))], priority=1)]
        rides.append(Ride(up, down, {"seats": 1}, draw(st.sampled_from((None, 30, 60)))))
    return problem(drivers, visits, rides=tuple(rides))


def _fits_somewhere(plan: Plan, route, pickup: int, dropoff: int) -> bool:
    """Whether any pair of positions (pickup no later than drop-off) of ``route`` can be timed."""
    stops = route.stops
    for i in range(len(stops) + 1):
        for j in range(i, len(stops) + 1):
            trial = stops[:i] + [(pickup, 0)] + stops[i:j] + [(dropoff, 0)] + stops[j:]
            if plan.simulate(route, trial, plan.fixed) is not None:
                return True
    return False


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_ride_days())
def test_a_route_ruled_out_has_no_pair_of_positions_that_can_be_timed(p: Problem) -> None:
    sol = solve_ok(p)  # the independent checker passes the plan
    probe = PlanProbe(p, list(sol.routes))
    b = probe.builder
    b.routes, b.fixed = list(probe.routes), dict(probe.fixed)
    out = {u.visit_id for u in sol.unassigned}
    for ride in p.rides:
        if ride.pickup not in out:
            continue
        pickup, dropoff = b.index[ride.pickup], b.index[ride.dropoff]
        for route in b.routes:
            if not b.ride_may_fit(route, pickup, dropoff, b.fixed):
                event("a route ruled out")
                assert not _fits_somewhere(b, route, pickup, dropoff), (ride, route.stops, route.starts)


def _reasons(p: Problem, sol, quick_test: bool) -> list:
    return reasons(p, sol, None if quick_test else (Plan, "ride_may_fit", lambda *args: True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_ride_days())
def test_ride_reasons_are_the_same_with_and_without_the_quick_test(p: Problem) -> None:
    sol = solve_ok(p)
    assert _reasons(p, sol, quick_test=True) == _reasons(p, sol, quick_test=False)


@pytest.mark.parametrize(
    ("up", "down", "fits"),
    [
        # Between S1 and S2, the drop-off ending the minute S2 starts (at B, no drive).
        ((A, 140), (B, (155, 160)), True),
        # The same a minute later: the drop-off cannot wait for S2's end (its window is over).
        ((A, 141), (B, (156, 161)), False),
        # Picked up between S1 and S2, dropped at C between S2 and S3 (B to C 10 minutes): the
        # drop-off ends the minute S3 starts.
        ((A, 130), (C, (200, 200)), True),
        # The same dropped off a minute later: it would end after S3's start.
        ((A, 130), (C, (201, 201)), False),
        # A pickup whose only minute leaves no time to reach S2 (A to B 10 minutes), and every
        # later gap opens after that minute.
        ((A, 150), (B, (150, 300)), False),
    ],
    ids=["same-gap-edge", "same-gap-late", "later-gap-edge", "later-gap-late", "pickup-stuck"],
)
def test_the_quick_test_at_the_edges_of_fixed_gaps(up: tuple[int, int], down: tuple[int, tuple[int, int]], fits: bool) -> None:
    """D's day is three fixed stops: S1 at A 100-130, S2 at B 160-190, S3 at C 205-235.  A ride
    (5 minutes each end) fits or not by a minute; the quick test says so exactly where the
    full timing of every pair of positions does (it may only say "may fit" more often)."""
    d = worker("D", capacity={"seats": 2})
    fixed = [visit("S1", A, 30, [(100, 100)], mandatory=True), visit("S2", B, 30, [(160, 160)], mandatory=True),
             visit("S3", C, 30, [(205, 205)], mandatory=True)]
    routes = list(solve_ok(problem([d], fixed)).routes)
    ride = [visit("up", up[0], 5, [(up[1], up[1])]), visit("down", down[0], 5, [down[1]])]
    probe = PlanProbe(problem([d], fixed + ride, rides=(Ride("up", "down", {"seats": 1}),)), routes)
    b = probe.builder
    b.fixed = dict(probe.fixed)
    [route] = probe.routes
    assert [b.p.visits[vi].id for vi, _ in route.stops] == ["S1", "S2", "S3"]
    assert route.starts == [100, 160, 205]
    pickup, dropoff = b.index["up"], b.index["down"]
    assert _fits_somewhere(b, route, pickup, dropoff) is fits
    assert b.ride_may_fit(route, pickup, dropoff, b.fixed) is fits


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_days())
def test_a_position_skipped_before_a_fixed_stop_cannot_be_timed(p: Problem) -> None:
    """Every position of an unplaced visit that the fixed-start test in ``_candidates`` skips
    (on the plan loaded with every start fixed, as the repair loads it) fails ``simulate``."""
    sol = solve_ok(p)
    probe = PlanProbe(p, list(sol.routes))
    b = probe.builder
    b.routes, b.fixed = list(probe.routes), dict(probe.fixed)
    for u in sol.unassigned:
        vi = b.index[u.visit_id]
        visit = p.visits[vi]
        lo = min(w.start for w in visit.windows)
        for route in b.routes:
            worker = p.workers[route.worker_index]
            travel = p.travel_times[worker.travel_mode]
            for pos, (after, _) in enumerate(route.stops):
                held = b.fixed[after]
                if held < lo + visit.duration_for(worker.kind) + travel[b.loc_out[vi]][b.loc_in[after]]:
                    event("a position skipped")
                    trial = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                    assert b.simulate(route, trial, b.fixed) is None, (u.visit_id, pos, route.starts)
