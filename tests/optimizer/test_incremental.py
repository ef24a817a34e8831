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

import pickle

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer import construct as construct_module
from optimizer.construct import Builder
from optimizer.evaluate import evaluate
from optimizer.lns import improve
from optimizer.model import BreakRule, Dependency, Problem, Shift
from optimizer.stop import MaxIterations
from optimizer import timing as timing_module
from optimizer.timing import RETIME_PASSES, FixedStarts, PickupLater, Resume, RouteSummary
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
    for route in b.routes:
        _check_route(b, route, b.route_summary(route, b.fixed))


def _check_route(b, route, kept) -> None:
    """Every insertion into ``route`` (a visit at every position, a ride at every pair of
    positions) and every removal of one or two stops, timed from ``kept`` (its summary, or
    None), is ``simulate``'s; what its bounds rule out (``may_insert``, ``_ride_pairs``) is
    what ``simulate`` cannot time (or the full evaluation would not try either)."""
    p, fixed = b.p, b.fixed
    on_route = {vi for vi, _ in route.stops}
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
    worker = p.workers[route.worker_index]
    for pickup, dropoff in sorted({ride_[:2] for ride_ in b.ride_at.values()}):
        if pickup in on_route or dropoff in on_route:
            continue
        kept_pairs = {(i, j) for _, i, j in b._ride_pairs(pickup, dropoff, None, route, worker, fixed)}
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
        return (i, j) in {(x, y) for _, x, y in b._ride_pairs(pickup, dropoff, None, route, worker, b.fixed)}
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
    assert _searched(p, "incremental", False) == _searched(p, "incremental", True)


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
    waiting = 0
    for route in b.routes:
        if not route.stops:
            continue
        kept = b.route_summary(route, b.fixed)
        assert kept is not None  # a summary, however far its pass got
        waiting += kept.later is not None
        _check_route(b, route, kept)
    event(f"routes whose pickup waits: {min(waiting, 2)}")


def test_an_insertion_that_meets_the_old_pass_stops_where_it_stopped() -> None:
    """The route V1, R0's pickup, R0's drop-off: the drop-off's window opens at 300 and the
    senior may ride 30 minutes, so the route's own pass stops at the drop-off (the pickup must
    wait).  V2 inserted first reaches V1 as the old pass did (V1 waits for its window), so the
    resumed pass takes the old pass's answer from there (``RouteSummary.later``) and moves the
    pickup: the same timing as ``simulate``."""
    trip = ride("R0", A, C, (300, 310), max_ride=30)
    p = rides_problem([driver("D0")], trip)
    p = replace(p, visits=tuple(p.visits) + (visit("V1", B, 10, [(100, 600)], worker_kinds={DRIVER}),
                                              visit("V2", OFFICE, 10, [(0, 600)], worker_kinds={DRIVER})))
    b = built(p)
    up, down, v1, v2 = (b.index[i] for i in ("R0-up", "R0-down", "V1", "V2"))
    route = next(r for r in b.routes if p.workers[r.worker_index].id == "D0")
    assert b.time_routes([(route, [(v1, 0), (up, 0), (down, 0)])], b.fixed)
    kept = b.route_summary(route, b.fixed)
    assert kept is not None and kept.later is not None and kept.later.pickup == up
    stops = [(v2, 0)] + route.stops
    timing = b.insertion_simulate(route, stops, 0, 1, 1, b.fixed)[0]
    assert timing is not None and timing == b.simulate(route, stops, b.fixed)
    assert timing.starts[2] == 300 - 30 - 5  # the pickup waits: 30 minutes in the car, 5 at the door


@pytest.mark.parametrize("change", ["set", "del", "pop", "popitem", "update", "ior", "setdefault", "clear"])
def test_a_changed_fixed_start_is_seen_by_the_kept_pass(change: str) -> None:
    """The kept pass is checked against the fixed starts by their version
    (``timing.FixedStarts``): every way of changing the dict is seen at once, and the pass is
    the one ``simulate`` gives with the new fixed starts."""
    p = problem([worker("W1")], [visit("V1", A, 30, [(0, 600)]), visit("V2", B, 30, [(0, 600)])])
    b = built(p)
    [route] = [r for r in b.routes if r.stops]
    first = route.stops[0][0]
    b.fixed = FixedStarts({first: 200})
    kept = b.route_summary(route, b.fixed)
    assert kept.timing.starts[0] == 200
    assert b.route_summary(route, b.fixed) is kept  # nothing changed: the same pass
    if change == "set":
        b.fixed[first] = 250
    elif change == "del":
        del b.fixed[first]
    elif change == "pop":
        b.fixed.pop(first)
    elif change == "popitem":
        b.fixed.popitem()
    elif change == "update":
        b.fixed.update({first: 250})
    elif change == "ior":
        b.fixed |= {first: 250}
    elif change == "setdefault":
        del b.fixed[first]
        b.fixed.setdefault(first, 250)
    else:
        b.fixed.clear()
    moved = b.route_summary(route, b.fixed)
    assert moved is not kept and moved.timing == b.simulate(route, route.stops, b.fixed)
    if first in b.fixed:
        assert moved.timing.starts[0] == 250
    else:  # as early as the drive from the start place allows
        assert moved.timing.starts[0] == p.travel_times["car"][0][p.visits[first].location]


def test_fixed_starts_remember_which_visits_recent_changes_touched() -> None:
    """``FixedStarts.unchanged_since``: a kept pass timed a few changes ago still holds when
    none touched its visits; a write that changes nothing is no change; too many changes, or
    changes forgotten, answer False (the caller then compares stop by stop)."""
    f = FixedStarts({1: 10})
    v = f.version
    f[2] = 5
    assert f.unchanged_since(v, frozenset({1})) and not f.unchanged_since(v, frozenset({2}))
    now = f.version
    f[1] = 10
    f.pop(7, None)
    f.update({2: 5})
    f.setdefault(1, 99)
    assert f.version == now and f == {1: 10, 2: 5}
    with pytest.raises(KeyError):
        f.pop(7)
    del f[2]
    assert not f.unchanged_since(now, frozenset({2})) and f.unchanged_since(now, frozenset({1, 3}))
    for k in range(FixedStarts.RECENT + 1):
        f[3] = k
    assert not f.unchanged_since(now, frozenset({1}))  # too many to look through
    recent = f.version
    for k in range(FixedStarts.LOG_SIZE + 1):
        f[4] = k
    assert f.unchanged_since(f.version - 1, frozenset({1}))
    assert not f.unchanged_since(recent, frozenset({1}))  # forgotten
    assert len(f._log) <= FixedStarts.LOG_SIZE


def test_a_change_to_a_visit_off_the_route_keeps_its_pass() -> None:
    """A fixed start set or taken away for a visit on no stop of the route leaves the route's
    kept pass as it is (the same object, not timed again); one for its own visit does not."""
    p = problem([worker("W1")], [visit("V1", A, 30, [(0, 600)]), visit("V2", B, 30, [(0, 600)]),
                                 visit("V3", C, 30, [(0, 600)])])
    b = built(p)
    [route] = [r for r in b.routes if r.stops]
    b.take_out(b.index["V3"])
    b.fixed = FixedStarts()
    kept = b.route_summary(route, b.fixed)
    b.fixed[b.index["V3"]] = 300
    assert b.route_summary(route, b.fixed) is kept
    del b.fixed[b.index["V3"]]
    assert b.route_summary(route, b.fixed) is kept
    b.fixed[route.stops[-1][0]] = 400
    moved = b.route_summary(route, b.fixed)
    assert moved is not kept and moved.timing == b.simulate(route, route.stops, b.fixed)
    assert moved.timing.starts[-1] == 400


def test_another_fixed_starts_dict_is_seen_by_the_kept_pass() -> None:
    """A new dict of fixed starts whose change count happens to equal the old one's is still
    another dict: the pass is checked stop by stop (and a plain dict always is)."""
    p = problem([worker("W1")], [visit("V1", A, 30, [(0, 600)]), visit("V2", B, 30, [(0, 600)])])
    b = built(p)
    [route] = [r for r in b.routes if r.stops]
    first = route.stops[0][0]
    b.fixed = FixedStarts({first: 200})
    b.fixed[first] = 210
    assert b.route_summary(route, b.fixed).timing.starts[0] == 210
    other = FixedStarts({first: 250})
    other[first] = 260
    assert other.version == b.fixed.version
    b.fixed = other
    assert b.route_summary(route, b.fixed).timing.starts[0] == 260
    b.fixed = {first: 300}
    assert b.route_summary(route, b.fixed).timing.starts[0] == 300
    assert pickle.loads(pickle.dumps(other)) == other  # (and it pickles)


def _reference_retime_linked(b) -> bool:
    """``Plan.retime_linked`` as it was before it watched only the tied stops and resumed
    from kept passes: every stop's floor and start looked at, every route timed whole.

    A second copy of the algorithm on purpose (``duplicates`` reports it): the oracle for the
    restrictions the production one makes for speed, which the incremental/full comparison
    cannot see (they apply in both modes)."""
    p = b.p
    linked = {vi for vi in b.placed if (vi in b.before or vi in b.after or p.visits[vi].workers_needed > 1)
              and p.visits[vi].id not in b.pins}
    if not linked:
        return False
    fixed = {vi: s for vi, s in b.fixed.items() if vi not in linked}
    floors: dict[int, int] = {}
    for _ in range(RETIME_PASSES):
        timed, starts_of, changed = {}, {}, False
        for route in b.routes:
            if not route.stops:
                continue
            res = b.simulate_pass(route, route.stops, fixed, floors)
            if res is None:
                return False
            if isinstance(res, PickupLater):
                pickup, not_before = res
                if pickup in fixed or floors.get(pickup, -1) >= not_before:
                    return False
                floors[pickup] = not_before
                changed = True
                continue
            timed[route.vehicle] = res
            for (vi, _), s in zip(route.stops, res.starts):
                starts_of.setdefault(vi, []).append(s)
        if changed:
            continue
        for vi, ss in starts_of.items():
            if len(ss) > 1 and min(ss) != max(ss):
                floors[vi] = max(ss)
                changed = True
        for later_vi, links in b.before.items():
            if later_vi not in starts_of:
                continue
            sb = max(starts_of[later_vi])
            for a, dmin, dmax in links:
                if a not in starts_of:
                    continue
                sa = max(starts_of[a])
                if sb < sa + dmin:
                    floors[later_vi] = max(floors.get(later_vi, 0), sa + dmin)
                    changed = True
                if dmax is not None and sb > sa + dmax:
                    floors[a] = max(floors.get(a, 0), sb - dmax)
                    changed = True
        if changed:
            continue
        worked: dict[int, int] = {}
        for v, timing in timed.items():
            wi = b.routes[v].worker_index
            worked[wi] = worked.get(wi, 0) + timing.end - timing.departure
        if any(p.workers[wi].max_work_minutes is not None and m > p.workers[wi].max_work_minutes
               for wi, m in worked.items()):
            return False
        for v, timing in timed.items():
            b.routes[v].apply(b.routes[v].stops, timing)
        for vi in linked:
            b.fixed[vi] = max(starts_of[vi])
        return True
    return False


@SETTINGS
@given(problems())
def test_retime_linked_is_the_whole_route_reference(p: Problem) -> None:
    """``retime_linked`` (only tied stops watched, routes resumed from their kept passes) does
    what the reference re-timing of every stop of every route does, on random days with links,
    rides and pins, after a few LNS rounds (so visits have left and starts are not the earliest)."""
    outcomes = []
    for retime in (lambda b: b.retime_linked(), _reference_retime_linked):
        b = built(p)
        improve(b, seed=0, stop=MaxIterations(3))
        for vi in sorted(b.placed)[::3]:  # some visits leave: the linked ones may start earlier
            if b.p.visits[vi].id not in b.pins:
                b.take_out(vi)
        applied = retime(b)
        outcomes.append((applied, [(r.stops, r.starts, r.end) for r in b.routes], dict(b.fixed)))
    assert outcomes[0] == outcomes[1]


@st.composite
def linked_days(draw) -> Problem:
    """Two or three carers and 4-9 visits with wide windows, several of them linked (a
    dependency with a delay, two-person visits) and some with breaks in the shift: days on
    which ``retime_linked`` has work every call (the general generator links few visits)."""
    workers = [worker(f"W{i}", Shift(0, 600, 30, (BreakRule(20, 200, 320),) if draw(st.booleans()) else ()))
               for i in range(draw(st.integers(2, 3)))]
    visits = []
    for j in range(draw(st.integers(4, 9))):
        a = draw(st.integers(0, 300))
        visits.append(visit(f"V{j}", draw(st.integers(0, 3)), draw(st.integers(10, 45)),
                            [(a, a + draw(st.integers(60, 300)))],
                            workers_needed=2 if draw(st.integers(0, 3)) == 0 else 1))
    deps = []
    for j in range(1, len(visits)):
        if draw(st.integers(0, 2)) == 0:
            lo = draw(st.integers(0, 60))
            deps.append(Dependency(visits[j - 1].id, visits[j].id, lo, lo + draw(st.integers(0, 120))))
    return problem(workers, visits, dependencies=tuple(deps))


@SETTINGS
@given(linked_days(), st.sampled_from(["leave", "swap", "hold", "hold later"]))
def test_retime_linked_passes_kept_across_calls_follow_the_plan(p: Problem, change: str) -> None:
    """``retime_linked`` keeps its passes from one call to the next (``Plan._retimed``): a
    route whose stops or fixed starts changed in between is timed again, the rest are not.
    Between two calls some visits leave, or some routes take their first two stops the other
    way round (as many stops as before), or some stops are held at (or after) the start they
    have (the same stops, other fixed starts); the second call does what the reference does."""
    outcomes = []
    for retime in (lambda b: b.retime_linked(), _reference_retime_linked):
        b = built(p)
        improve(b, seed=0, stop=MaxIterations(3))
        b.retime_linked()  # its passes are kept now
        if change == "leave":
            for vi in sorted(b.placed)[::4]:
                if b.p.visits[vi].id not in b.pins:
                    b.take_out(vi)
        elif change == "swap":
            # Linked starts are retime_linked's to set: the swapped route is timed without them.
            free = {vi: s for vi, s in b.fixed.items() if vi not in b.before and vi not in b.after
                    and b.p.visits[vi].workers_needed == 1}
            for route in b.routes:
                if len(route.stops) >= 2:
                    swapped = [route.stops[1], route.stops[0]] + route.stops[2:]
                    timing = b.simulate(route, swapped, free)
                    if timing is not None:
                        route.apply(swapped, timing)
        else:
            later = 5 if change == "hold later" else 0
            for route in b.routes:
                for (vi, _), start in list(zip(route.stops, route.starts))[::2]:
                    b.fixed[vi] = start + later
        applied = retime(b)
        outcomes.append((applied, [(r.stops, r.starts, r.end) for r in b.routes], dict(b.fixed)))
    event(f"applied: {outcomes[0][0]}")
    assert outcomes[0] == outcomes[1]


def test_a_summary_for_a_placed_visit_held_elsewhere_is_timed_with_it() -> None:
    """``summary_with`` asks the plan's own fixed starts only while the visit being inserted is
    on no route; a visit already placed (a two-person visit's first copy, say) held at another
    start than the plan's gives the pass with that start, as ``route_summary`` does."""
    p = problem([worker("W1")], [visit("V1", A, 30, [(0, 600)]), visit("V2", B, 30, [(0, 600)])])
    b = built(p)
    [route] = [r for r in b.routes if r.stops]
    first = route.stops[0][0]
    assert first in b.placed
    held = {**b.fixed, first: 200}
    kept = b.summary_with(route, held, first)
    assert kept.timing.starts[0] == 200 and kept.timing == b.simulate(route, route.stops, held)


# ---------------------------------------------------------------- the route scan in C (optimizer/_scan.c)


def test_the_compiled_scan_was_built() -> None:
    """The install built ``optimizer._scan`` (optional, so a broken build would otherwise only
    make the search slower, silently)."""
    assert construct_module._compiled is not None


def _both_scans(b, vi: int, forced: int | None = None, best_only: bool = False) -> tuple[list, list]:
    """``_candidates`` with the route scan in C and in Python, from the same random state."""
    out = []
    state = b.blink_rng.getstate() if b.blink_rng is not None else None
    for compiled in (True, False):
        if state is not None:
            b.blink_rng.setstate(state)
        b.compiled_scan = compiled
        try:
            out.append(b._candidates(vi, forced, best_only=best_only))
        finally:
            b.compiled_scan = True
    return out[0], out[1]


@SETTINGS
@given(problems() | linked_days() | waiting_rides(), st.sampled_from([0.0, 0.3]))
def test_the_compiled_scan_gives_the_python_candidates(p: Problem, blink: float) -> None:
    """Every visit's candidates (each route's cheapest position) are the same with the scan in
    C and in Python, with and without random blinks (drawn from the same stream in the same
    order), for the plan after a few LNS rounds and with a visit held at a start."""
    import random

    b = built(p)
    improve(b, seed=0, stop=MaxIterations(3))
    b.blink, b.blink_rng = blink, random.Random(7)
    for vi in range(len(p.visits)):
        if vi in b.placed:
            continue
        compiled, python = _both_scans(b, vi)
        assert compiled == python
        compiled, python = _both_scans(b, vi, best_only=True)
        assert compiled == python
        lo = min(w.start for w in p.visits[vi].windows)
        compiled, python = _both_scans(b, vi, forced=lo + 5)
        assert compiled == python
        event(f"candidates found: {bool(compiled)}")


@SETTINGS
@given(waiting_rides() | problems())
def test_the_compiled_ride_options_are_the_python_ones(p: Problem) -> None:
    """A ride's least travel part on a route and its pairs worth timing (``_ride_options``) are
    the same in C (``optimizer._scan.ride_pairs``) and in Python, on every route of the plan
    after a few LNS rounds, with the route's kept pass and without, and with the pickup held at
    a start."""
    b = built(p)
    improve(b, seed=0, stop=MaxIterations(3))
    for pairs in _ride_options_both_ways(b, (5,)):
        event(f"pairs: {bool(pairs)}")


def _ride_options_both_ways(b, delays: tuple[int, ...]) -> list[list]:
    """``_ride_options`` of every ride on every route it is not on, the pickup free or held at
    each of ``delays`` after its window opens, with the route's kept pass and without, each
    asked in C and in Python and held equal; the pairs of each answer."""
    out = []
    for pickup, dropoff in sorted({ride_[:2] for ride_ in b.ride_at.values()}):
        lo = min(w.start for w in b.p.visits[pickup].windows)
        for route in b.routes:
            if {pickup, dropoff} & {vi for vi, _ in route.stops}:
                continue
            worker = b.p.workers[route.worker_index]
            for forced in (None, *(lo + d for d in delays)):
                fixed = b.fixed if forced is None else {**b.fixed, pickup: forced}
                for kept in (b.summary_with(route, fixed, pickup), None):
                    answers = []
                    for compiled in (True, False):
                        b.compiled_scan = compiled
                        try:
                            answers.append(b._ride_options(pickup, dropoff, forced, route, worker, fixed, kept))
                        finally:
                            b.compiled_scan = True
                    assert answers[0] == answers[1], (pickup, dropoff, route.vehicle, forced, kept is None)
                    out.append(answers[0][1])
    return out


def _kielce_small() -> Problem:
    """The golden harness's small Kielce day (150 seniors, 16 workers, rides of the senior taxi
    among them), stored as problem JSON."""
    import gzip
    import json
    from pathlib import Path

    from optimizer.jsonio import problem_from_dict

    with gzip.open(Path(__file__).parent / "golden_days" / "days.json.gz", "rt", encoding="utf-8") as f:
        return problem_from_dict(json.load(f)["kielce-small"])


def test_the_compiled_ride_options_are_the_python_ones_on_a_kielce_day() -> None:
    """The same on a generated Kielce day, after 0, 10 and 30 LNS rounds, every ride on every
    route, the pickup free or held at a start between its window's opening and three hours
    later: the random days are too small to reach every branch (a drop-off that ends just in
    time, an old stop that can no longer start after the pickup, a pair far apart)."""
    b = built(_kielce_small())
    assert len({ride_[:2] for ride_ in b.ride_at.values()}) >= 5
    seen = {"pairs": 0, "apart": 0}
    for rounds in (0, 10, 20):
        improve(b, seed=rounds, stop=MaxIterations(rounds))
        for pairs in _ride_options_both_ways(b, (0, 60, 180)):
            seen["pairs"] += len(pairs)
            seen["apart"] += sum(1 for _, i, j in pairs if j > i)
    assert seen["pairs"] > 100 and seen["apart"] > 10, seen


def test_the_compiled_ride_options_refuse_what_is_not_a_route() -> None:
    """Malformed input is an error, not a crash: a stop that is not a (visit, copy) tuple, fewer
    starts than stops, a visit past the lists."""
    ride_pairs = construct_module._compiled.ride_pairs
    matrix = [[0, 5], [5, 0]]
    args = dict(loc_in=[0, 1], loc_out=[0, 1], latest_start=[600, 600], durations=[10, 10],
                windows=[[(0, 600)], [(0, 600)]], fixed={})
    tail = (0, 0, 0, 0, 600, 10, 10, 1, None, None, None, None)

    def call(stops, starts, pickup=0, dropoff=1):
        return ride_pairs(matrix, stops, starts, *args.values(), pickup, dropoff, *tail)

    assert call([], []) == (10, [(10, 0, 0)])  # from place 0: the pickup there, 5 to the drop-off, 5 back
    with pytest.raises(TypeError, match="stop"):
        call([0], [0])
    with pytest.raises(IndexError):
        call([(0, 0)], [])
    with pytest.raises(IndexError):
        call([], [], pickup=7)


def _searched(p: Problem, switch: str, on: bool) -> tuple:
    """The plan construction and 8 LNS rounds end on with ``Builder.<switch>`` on or off."""
    setattr(Builder, switch, on)
    try:
        b = built(p)
        improve(b, seed=0, stop=MaxIterations(8))
    finally:
        setattr(Builder, switch, True)
    return [(r.stops, r.starts) for r in b.routes], b.placed, b.fixed


@SETTINGS
@pytest.mark.parametrize("switch", ["compiled_scan", "compiled_forward"])
@given(p=problems() | linked_days() | waiting_rides())
def test_the_search_takes_the_same_steps_in_c_and_in_python(switch: str, p: Problem) -> None:
    """Construction and LNS rounds end on the same plan with the route scan (``compiled_scan``)
    and the forward pass (``compiled_forward``) in C and in Python."""
    assert _searched(p, switch, True) == _searched(p, switch, False)


def test_the_compiled_scan_refuses_what_is_not_a_plan() -> None:
    """Malformed input is an error, not a crash: an offer that is not the builder's tuple."""
    b = built(problem([worker("W1")], [visit("V1", A, 30), visit("V2", B, 30)]))
    with pytest.raises(TypeError, match="offer"):
        construct_module._compiled.scan(b, 0, [(0,)], 0, 600, b.fixed, None, set(), None, None, 0.0, None)
    with pytest.raises(TypeError, match="fixed starts"):
        construct_module._compiled.scan(b, 0, b.offers(0), 0, 600, [], None, set(), None, None, 0.0, None)


def test_the_compiled_scan_keeps_a_visit_that_fits_to_the_minute() -> None:
    """V2 (30 minutes, from 60) fits before V1, fixed at 100, exactly: it starts at 60, ends at 90,
    and the drive to V1 is 10 minutes.  Both scans keep that position (the bounds' test is
    "no later than", not "earlier than")."""
    p = problem([worker("W1")], [visit("V1", B, 30, pinned_start=100), visit("V2", A, 30, [(60, 600)])])
    b = built(p)
    v1, v2 = b.index["V1"], b.index["V2"]
    b.take_out(v2)
    [route] = [r for r in b.routes if r.stops]
    assert route.stops == [(v1, 0)] and route.starts == [100]
    compiled, python = _both_scans(b, v2)
    assert compiled == python
    assert (route.vehicle, 0, 60) in [(v, pos, start) for _, v, pos, start in compiled]


# ---------------------------------------------------------------- the forward pass in C (optimizer/_timing.c)


def test_the_compiled_forward_pass_was_built() -> None:
    """The install built ``optimizer._timing`` (optional, so a broken build would only make the
    search slower, silently)."""
    assert timing_module._compiled is not None


def _pass(b, compiled: bool, *args, **kwargs):
    """``Plan._forward`` in C or in Python, with what it leaves behind: (its answer, the plan's
    ``_deferred``, the summary recorded (its fields), the resume's ``converged``)."""
    b.compiled_forward = compiled
    b._deferred = None
    try:
        res = b._forward(*args, **kwargs)
    finally:
        b.compiled_forward = True
    record, resume = kwargs.get("record"), kwargs.get("resume")
    kept = None if record is None else (record.states, record.starts, record.breaks)
    return res, b._deferred, kept, None if resume is None else resume.converged


@SETTINGS
@given(problems() | linked_days() | waiting_rides())
def test_the_compiled_forward_pass_is_the_python_one(p: Problem) -> None:
    """On random days after a few LNS rounds, for every route: its pass recorded from scratch
    (``route_summary``'s), every visit inserted at every position and every stop taken out
    (resumed from the kept pass), the pass with floors (``retime_linked``'s) and the break-free
    bounds give the same answer and leave the same state, in C and in Python (a route with a
    visit that carries a load goes to Python either way)."""
    b = built(p)
    improve(b, seed=0, stop=MaxIterations(3))
    for route in b.routes:
        for defer_first in (True, False):
            records = [RouteSummary(list(route.stops), [b.fixed.get(vi) for vi, _ in route.stops], defer_first)
                       for _ in range(2)]
            later = {} if b.ride_at else None
            c, py = (_pass(b, compiled, route, route.stops, b.fixed, later, defer_first, record=record)
                     for compiled, record in zip((True, False), records))
            assert c == py
        for held in (b.fixed, {**b.fixed, **{vi: s + 3 for (vi, _), s in zip(route.stops, route.starts)}}):
            passes = []
            for compiled in (True, False):
                b.compiled_forward = compiled
                bounded = RouteSummary(list(route.stops), [], True)
                try:
                    b._bounds(route, bounded, held)
                finally:
                    b.compiled_forward = True
                passes.append((bounded.free_lb, bounded.latest, bounded.ends, bounded.nexts))
            assert passes[0] == passes[1]  # the break-free bounds (``_bounds``) too
        kept = b.route_summary(route, b.fixed)
        if kept is None:
            continue
        n = len(route.stops)
        for vi in range(len(p.visits)):
            if vi in b.placed:
                continue
            for pos in range(min(n + 1, len(kept.states))):  # (as far as the kept pass got)
                stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                c, py = (_pass(b, compiled, route, stops, b.fixed, {} if b.ride_at else None, True,
                               resume=Resume(kept, pos, pos + 1, 1)) for compiled in (True, False))
                assert c == py
        for k in range(min(n, len(kept.states))):
            stops = route.stops[:k] + route.stops[k + 1:]
            c, py = (_pass(b, compiled, route, stops, b.fixed, {} if b.ride_at else None, True,
                           resume=Resume(kept, k, k, -1)) for compiled in (True, False))
            assert c == py
        floors = {vi: s + 7 for (vi, _), s in zip(route.stops, route.starts)}
        c, py = (_pass(b, compiled, route, route.stops, b.fixed, floors) for compiled in (True, False))
        assert c == py
        event(f"route timed: {c[0] is not None}")


def test_the_compiled_forward_pass_refuses_what_is_not_a_route() -> None:
    """Malformed input is an error, not a crash: a context of the wrong shape, a stop that is not
    a (visit, copy) tuple, a visit not in the problem."""
    b = built(problem([worker("W1")], [visit("V1", A, 30), visit("V2", B, 30)]))
    [route] = [r for r in b.routes if r.stops]
    ctx = b._timing_ctx(route)
    with pytest.raises(TypeError, match="ctx"):
        timing_module._compiled.forward(b, ctx[:5], route.stops, b.fixed, None, True, None, None)
    with pytest.raises(TypeError, match="stop"):
        timing_module._compiled.forward(b, ctx, [0], b.fixed, None, True, None, None)
    with pytest.raises(IndexError, match="visit"):
        timing_module._compiled.forward(b, ctx, [(99, 0)], b.fixed, None, True, None, None)


def _both_passes(p: Problem, stops_ids: list[str], fixed: dict[str, int] | None = None, defer_first: bool = True):
    """One worker's route of ``stops_ids`` passed from scratch, recorded, in C and in Python."""
    b = built(p)
    route = b.routes[0]
    stops = [(b.index[v], 0) for v in stops_ids]
    held = {b.index[v]: s for v, s in (fixed or {}).items()}
    out = []
    for compiled in (True, False):
        record = RouteSummary(list(stops), [held.get(vi) for vi, _ in stops], defer_first)
        out.append(_pass(b, compiled, route, stops, held, None, defer_first, record=record))
    assert out[0] == out[1]
    return out[0]


def test_a_break_before_the_first_visit_is_as_late_as_the_visit_allows() -> None:
    """A 30-minute break due by 100 and a first visit from 200: the break cannot wait past the
    visit, so it is taken before it, as late as its window allows (100-130), not at the start."""
    p = problem([worker("W1", Shift(0, 600, 0, (BreakRule(30, 0, 100),)))], [visit("V1", A, 30, [(200, 300)])])
    res, _, (_, starts, breaks), _ = _both_passes(p, ["V1"])
    assert res is not None and starts == [200] and breaks == [(100, 130)]


def test_a_route_that_ends_too_late_keeps_no_trailing_break() -> None:
    """The break due at 90-95 is taken after the last visit; driving home after it ends the route
    at 110, past the shift's end (100, no overtime): the pass fails, and what it recorded has no
    break in it (the trailing ones are taken only with a route that can end)."""
    p = problem([worker("W1", Shift(0, 100, 0, (BreakRule(20, 90, 95),)))], [visit("V1", A, 50, [(0, 100)])])
    res, _, (_, starts, breaks), _ = _both_passes(p, ["V1"])
    assert res is None and starts == [10] and breaks == []


def test_a_fixed_start_outside_the_windows_is_not_timed() -> None:
    """A visit held at 50 whose window opens at 100 cannot start then: the pass fails."""
    p = problem([worker("W1")], [visit("V1", A, 30, [(100, 200)])])
    res, _, (_, starts, _), _ = _both_passes(p, ["V1"], {"V1": 50})
    assert res is None and starts == []


def test_a_break_that_can_no_longer_start_fails_the_route() -> None:
    """Two breaks due at once: the first (0-10) pushes the second, due by 9, to start at 10:
    too late, so the route cannot be timed."""
    p = problem([worker("W1", Shift(0, 600, 0, (BreakRule(10, 0, 0), BreakRule(5, 0, 9))))],
                [visit("V1", A, 30, [(0, 600)])])
    res, _, _, _ = _both_passes(p, ["V1"])
    assert res is None


@SETTINGS
@given(problems() | linked_days() | waiting_rides())
def test_the_objective_kept_per_route_is_the_objective_worked_out_afresh(p: Problem) -> None:
    """``Objective.terms`` keeps each route's part (``_route_terms``) across the search's calls;
    on a re-plan, after LNS rounds (routes changed, put back, changed again), after every
    route's end moves (same visits and starts, more overtime) and after its starts move (same
    visits and end), it prices the plan as a new ``Objective`` does."""
    from optimizer.model import PlannedVisit
    from optimizer.objective import Objective

    # A re-plan of the first plan, each visit a little later than it was: moved starts count.
    first = built(p)
    p = replace(p, previous_plan=tuple(PlannedVisit(p.visits[vi].id, p.workers[r.worker_index].id, s + 20)
                                       for r in first.routes for (vi, _), s in zip(r.stops, r.starts)))
    b = built(p)
    improve(b, seed=0, stop=MaxIterations(6))
    routes = b.timed_routes()
    assert b.cost.terms(routes) == Objective(p).terms(routes)
    later = [replace(r, end=r.end + 45) for r in routes]
    assert b.cost.terms(later) == Objective(p).terms(later)
    moved = [replace(r, starts=[s + 20 for s in r.starts]) for r in routes]  # back where they were
    assert b.cost.terms(moved) == Objective(p).terms(moved)


def test_a_car_full_before_a_pickup_cannot_take_it() -> None:
    """One seat: the second senior cannot board before the first is dropped off (both passes
    fail at the second pickup), but can after."""
    p = rides_problem([driver("D0", seats=1)], ride("R1", A, C, (100, 300)), ride("R2", B, C, (100, 300)))
    res, _, (_, starts, _), _ = _both_passes(p, ["R1-up", "R2-up", "R1-down", "R2-down"])
    assert res is None and len(starts) == 2
    res, *_ = _both_passes(p, ["R1-up", "R1-down", "R2-up", "R2-down"])
    assert res is not None


@pytest.mark.parametrize("max_ride, waits", [(35, False), (34, True)])
def test_a_ride_as_long_as_allowed_is_not_held_back(max_ride: int, waits: bool) -> None:
    """Picked up at A (10-15), driven to C (25 minutes), dropped off at 40: a 25-minute ride,
    plus the drop-off's window opening at 50, 35 minutes in the car.  Allowed 35, it stands; allowed
    34, the pickup is asked to start a minute later (``PickupLater``)."""
    p = rides_problem([driver("D0")], ride("R1", A, C, (50, 300), max_ride=max_ride))
    res, _, (_, starts, _), _ = _both_passes(p, ["R1-up", "R1-down"])
    if waits:
        assert res == PickupLater(_index(p, "R1-up"), 11)
    else:
        assert res is not None and res.starts == [10, 50]


def _index(p: Problem, vid: str) -> int:
    return next(i for i, v in enumerate(p.visits) if v.id == vid)


@SETTINGS
@given(problems() | linked_days() | waiting_rides())
def test_a_snapshot_is_the_plan_as_it_was_after_rounds_that_change_it(p: Problem) -> None:
    """The search's snapshot keeps the routes' lists without copying them (they are replaced,
    never changed in place); after rounds and a removal, restoring it gives the plan exactly as
    a deep copy taken at the same moment has it."""
    import copy

    from optimizer.lns import Search

    b = built(p)
    search = Search(b, seed=0)
    snap = search.snapshot()
    frozen = copy.deepcopy([(r.stops, r.starts, r.span, r.travel, r.departure, r.end, r.breaks) for r in b.routes])
    fixed, placed = dict(b.fixed), set(b.placed)
    improve(b, seed=1, stop=MaxIterations(5))
    for vi in sorted(b.placed)[::2]:
        if b.p.visits[vi].id not in b.pins:
            b.take_out(vi)
    b.fixed[len(p.visits)] = 0  # (a start held since, of no visit of the plan: it must go too)
    search.restore(snap)
    assert [(r.stops, r.starts, r.span, r.travel, r.departure, r.end, r.breaks) for r in b.routes] == frozen
    assert b.fixed == fixed and isinstance(b.fixed, FixedStarts) and b.placed == placed
