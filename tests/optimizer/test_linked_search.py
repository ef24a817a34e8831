"""The compiled search for plain linked days (``optimizer.linked_search``, ``optimizer/_linked.c``).

Every plan is checked by the independent checker (``optimizer.checker``), and the C search's
own price of its plan is compared with ``optimizer.objective``'s price of the same plan after
``timing.Plan`` re-timed it: two independent timings of the same routes must agree.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from optimizer import SolveParams, solve
from optimizer.checker import check, is_feasible
from optimizer.construct import construct
from optimizer.linked_search import _compiled, improve_linked, plain_linked_day, search_linked
from optimizer.lns import plan_cost
from optimizer.model import (
    BreakRule,
    Dependency,
    Location,
    Problem,
    Shift,
    TimeWindow,
    TravelMode,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)
from optimizer.rules import allowed_workers

ROOT = Path(__file__).resolve().parents[2]
HHCRSP_25 = ROOT / "benchmarks" / "instances" / "hhcrsp" / "hhcrsp-025-1.json"
WEIGHTS = Weights(drop_mandatory=1_000_000, drop_per_priority=1_000, travel_minute=1, lateness_minute=1,
                  overtime_minute=0, non_preferred_worker=0, gender_mismatch=0, changed_from_previous=0,
                  imbalance=0, wait_minute=0, max_lateness_minute=1)
DETERMINISTIC = SolveParams(time_limit_s=None, solution_limit=20, seed=0, metaheuristic="GREEDY_DESCENT",
                            lns_iterations=20, explain=True)


def linked_day(seed: int, n: int, workers: int, pairs: int, skills: int = 2, tight: bool = False) -> Problem:
    """A random day of the Mankowska kind: one office, carers with one or more of ``skills``
    services, mandatory visits with one soft window each, ``pairs`` of them linked (at the
    same time, or the second 0-60 minutes after the first), each pair on two carers."""
    rng = random.Random(seed)
    xy = [(50.0, 50.0)] + [(rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(n)]
    times = tuple(tuple(math.ceil(math.dist(a, b)) for b in xy) for a in xy)
    names = [f"s{k}" for k in range(skills)]
    carers = []
    for k in range(workers):
        own = {names[k % skills]} | {s for s in names if rng.random() < 0.4}
        carers.append(Worker(id=f"c{k}", kind=WorkerKind.CARER, shifts=(Shift(0, 2000),), start_location=0,
                             end_location=0, skills=frozenset(own)))
    visits = []
    for i in range(1, n + 1):
        open_ = rng.randrange(0, 400)
        width = rng.randrange(10, 40) if tight else 120
        visits.append(Visit(id=f"v{i}", location=i, duration=rng.randrange(5, 30),
                            windows=(TimeWindow(open_, open_ + width),), required_skills=frozenset({rng.choice(names)}),
                            mandatory=True, soft_windows=True, max_lateness=1500))
    deps = []
    order = list(range(n))
    rng.shuffle(order)
    for k in range(min(pairs, n // 2)):
        a, b = visits[order[2 * k]], visits[order[2 * k + 1]]
        if rng.random() < 0.5:
            deps.append(Dependency(a.id, b.id, 0, 0, different_workers=True))
        else:
            lo = rng.randrange(0, 30)
            deps.append(Dependency(a.id, b.id, lo, lo + rng.randrange(0, 40), different_workers=True))
    return Problem(locations=tuple(Location(f"L{i}") for i in range(n + 1)), travel_times={TravelMode.CAR: times},
                   workers=tuple(carers), visits=tuple(visits), dependencies=tuple(deps), weights=WEIGHTS)


def _builder(problem: Problem):
    vehicles = [(wi, si) for wi, w in enumerate(problem.workers) for si in range(len(w.shifts))]
    return construct(problem, vehicles, allowed_workers(problem)).builder


def test_the_linked_search_was_built() -> None:
    """It is optional at install, so a broken build would only show as worse linked days."""
    assert _compiled is not None


def test_a_plain_linked_day_is_recognised_and_anything_else_is_not() -> None:
    day = linked_day(1, 20, 4, 6)
    assert plain_linked_day(day) is not None
    v = day.visits[0]
    w = day.workers[0]
    others = {
        "an optional visit": replace(day, visits=(replace(v, mandatory=False),) + day.visits[1:]),
        "a two-person visit": replace(day, visits=(replace(v, workers_needed=2),) + day.visits[1:]),
        "two windows": replace(day, visits=(replace(v, windows=(TimeWindow(0, 10), TimeWindow(50, 60))),)
                               + day.visits[1:]),
        "a break": replace(day, workers=(replace(w, shifts=(Shift(0, 2000, breaks=(BreakRule(30, 100, 300),)),)),)
                           + day.workers[1:]),
        "a preferred carer": replace(day, visits=(replace(v, preferred_workers=frozenset({"c1"})),) + day.visits[1:]),
        "a balance cost": replace(day, weights=replace(WEIGHTS, imbalance=1)),
        "no links at all": replace(day, dependencies=()),
        "a pinned visit": replace(day, visits=(replace(v, pinned_worker="c0"),) + day.visits[1:]),
    }
    for what, other in others.items():
        assert plain_linked_day(other) is None, what
    assert plain_linked_day(day, linked_share=0.9) is None  # 12 of 20 linked


def test_its_price_equals_the_objective_after_the_general_timing() -> None:
    """The C search times and prices its plan itself; loaded into ``timing.Plan`` and priced by
    ``optimizer.objective`` the same plan costs the same (travel, lateness, largest lateness)."""
    for seed in range(6):
        problem = linked_day(seed, 30, 5, 10, tight=seed % 2 == 1)
        day = plain_linked_day(problem)
        assert day is not None
        builder = _builder(problem)
        stats = improve_linked(builder, day, seed=seed, max_iterations=3000)
        assert stats is not None, seed
        assert len(builder.placed) == len(problem.visits)
        assert plan_cost(builder) == stats.cost, seed


def test_it_is_deterministic_for_a_round_limit_and_never_worse_than_its_start() -> None:
    problem = linked_day(3, 30, 5, 10)
    day = plain_linked_day(problem)
    assert day is not None
    builder = _builder(problem)
    start = [[vi for vi, _ in r.stops] for r in builder.routes]
    start_cost = plan_cost(builder)
    runs = [search_linked(day, start, seed=s, max_iterations=2000) for s in (4, 4, 5)]
    assert all(r is not None for r in runs)
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]  # type: ignore[index]
    assert runs[0][2].cost <= start_cost  # type: ignore[index]


def test_solve_uses_it_on_a_linked_day_and_the_checker_accepts_the_plan() -> None:
    """A generated 25-patient Mankowska-like day through ``solve`` (deterministic: a round
    limit): every visit placed, the checker finds nothing, and the plan is cheaper than the
    general search's with the same settings."""
    from benchmarks.hhcrsp.convert import to_problem
    from benchmarks.hhcrsp.instance import read_instance

    problem = to_problem(read_instance(HHCRSP_25))
    ours = solve(problem, DETERMINISTIC)
    assert ours.stats is not None and ours.stats.status == "LINKED_SEARCH"
    assert not ours.unassigned and is_feasible(check(problem, ours))
    general = solve(problem, replace(DETERMINISTIC, linked_search=False))
    assert general.stats is not None and general.stats.status != "LINKED_SEARCH"
    assert ours.stats.objective < general.stats.objective


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(2, 16), workers=st.integers(2, 4), pairs=st.integers(1, 6),
       tight=st.booleans())
def test_random_small_linked_days_get_checked_plans(seed: int, n: int, workers: int, pairs: int, tight: bool) -> None:
    """Random small linked days through ``solve`` with a round limit: the plan passes the
    checker; when the compiled search ran, every visit is placed and its price is the
    objective's."""
    problem = linked_day(seed, n, workers, pairs, tight=tight)
    solution = solve(problem, DETERMINISTIC)
    assert is_feasible(check(problem, solution)), [v.message for v in check(problem, solution)]
    assert solution.stats is not None
    if solution.stats.status == "LINKED_SEARCH":
        assert not solution.unassigned


def test_a_cycle_of_links_has_no_schedule_and_is_never_returned() -> None:
    """Two simultaneous pairs on two carers, ordered crosswise on both routes, need each start
    before itself: such a plan has no schedule, and the start plan that has one is refused a
    move into it (the result re-simulates)."""
    problem = linked_day(11, 4, 2, 0)
    v = problem.visits
    problem = replace(problem, visits=tuple(replace(x, required_skills=frozenset()) for x in v),
                      dependencies=(Dependency("v1", "v2", 0, 0, different_workers=True),
                                    Dependency("v3", "v4", 0, 0, different_workers=True)))
    day = plain_linked_day(problem)
    assert day is not None
    with pytest.raises(ValueError, match="no schedule"):
        search_linked(day, [[0, 2], [3, 1]], max_iterations=10)  # v1 < v3 = v4 < v2 = v1
    found = search_linked(day, [[0, 2], [1, 3]], seed=1, max_iterations=500)
    assert found is not None
    routes, starts, _ = found
    for r, s in zip(routes, starts):
        assert s == sorted(s)
    start = {vi: s for r, ss in zip(routes, starts) for vi, s in zip(r, ss)}
    assert start[0] == start[1] and start[2] == start[3]


def test_malformed_input_is_a_clear_error() -> None:
    problem = linked_day(2, 6, 2, 2)
    day = plain_linked_day(problem)
    assert day is not None
    with pytest.raises(ValueError, match="one list per worker"):
        search_linked(day, [[0]], max_iterations=5)
    with pytest.raises(ValueError, match="repeated|not allowed"):
        search_linked(day, [[0, 0], []], max_iterations=5)
    bad = replace(day, due=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="sizes"):
        search_linked(bad, [[], []], max_iterations=5)
    with pytest.raises(ValueError, match="stopping criterion"):
        search_linked(day, [[], []])


def _open_route_day() -> Problem:
    """W0 (office to office) already visits U; W1 starts at A and ends at B, 100 minutes apart,
    with V half-way between them and 5 minutes from U.  Linked: U and Y (at U's place)."""
    xy = [(0, 0), (15, -50), (15, 50), (15, 0), (10, 0)]  # office, A, B, V, U
    times = tuple(tuple(math.ceil(math.dist(a, b)) for b in xy) for a in xy)
    w0 = Worker(id="W0", kind=WorkerKind.CARER, shifts=(Shift(0, 1000),), start_location=0, end_location=0)
    w1 = Worker(id="W1", kind=WorkerKind.CARER, shifts=(Shift(0, 1000),), start_location=1, end_location=2)
    visits = tuple(Visit(id=vid, location=loc, duration=1, windows=(TimeWindow(0, 900),), mandatory=True)
                   for vid, loc in (("U", 4), ("Y", 4), ("V", 3)))
    return Problem(locations=tuple(Location(f"L{i}") for i in range(5)), travel_times={TravelMode.CAR: times},
                   workers=(w0, w1), visits=visits, dependencies=(Dependency("U", "Y", 0, None),), weights=WEIGHTS)


def test_opening_an_empty_route_is_priced_as_the_whole_way_out_and_back() -> None:
    """V on W1's empty route would cost A->V->B = 100 minutes of travel (an empty route travels
    nothing), after U on W0 10 minutes.  Priced as a detour from A to B (a bug found in review:
    0 minutes), the search opened W1's route."""
    day = plain_linked_day(_open_route_day())
    assert day is not None
    found = search_linked(day, [[0, 1], []], max_iterations=0)
    assert found is not None
    routes, _, stats = found
    assert routes[1] == [] and sorted(routes[0]) == [0, 1, 2]
    assert stats.cost == 30  # office->U 10, U->Y 0, Y->V 5, V->office 15 (or U, V, Y: 10 + 5 + 5 + 10)


def test_the_first_placement_of_left_out_visits_skips_no_position() -> None:
    """Visits the start plan leaves out are placed without random skips: with a blink of 0.99
    (each position skipped with that probability) V still finds its only good place."""
    day = plain_linked_day(_open_route_day())
    assert day is not None
    for seed in range(20):
        found = search_linked(day, [[0, 1], []], seed=seed, blink=0.99, max_iterations=0)
        assert found is not None, seed


def test_search_settings_out_of_range_are_refused() -> None:
    day = plain_linked_day(_open_route_day())
    assert day is not None
    for bad in ({"max_string": 0.0}, {"max_string": 65.0}, {"avg_removed": 0.0}, {"blink": 1.0}):
        with pytest.raises(ValueError, match="max_string|avg_removed|blink"):
            search_linked(day, [[0, 1, 2], []], max_iterations=1, **bad)
