"""SISR for plain VRPTW (``optimizer.vrptw_search``) on small random instances.

Every plan the search returns is checked by re-simulation here (not by the module's own
feasibility test): each customer once, windows, capacity, return to the depot in time.
"""

from __future__ import annotations

import math
import random

import pytest

from optimizer.model import Location, Problem, Shift, TimeWindow, TravelMode, Visit, Weights, Worker, WorkerKind
from optimizer.vrptw_search import Vrptw, improve_plan, plain_vrptw, routes_cost


def _problem(n: int = 30, vehicles: int = 8, seed: int = 1) -> Problem:
    rng = random.Random(seed)
    xy = [(50.0, 50.0)] + [(rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(n)]
    times = tuple(tuple(math.ceil(math.dist(a, b)) for b in xy) for a in xy)
    visits = []
    for c in range(1, n + 1):
        start = rng.randrange(0, 400)
        visits.append(Visit(id=str(c), location=c, duration=10,
                            windows=(TimeWindow(start, start + rng.randrange(60, 200)),),
                            mandatory=True, demand={"load": rng.randrange(1, 20)}))
    workers = tuple(Worker(id=f"v{k}", kind=WorkerKind.DRIVER, shifts=(Shift(0, 800),), start_location=0,
                           end_location=0, capacity={"load": 100}) for k in range(vehicles))
    return Problem(locations=tuple(Location(str(i)) for i in range(n + 1)), travel_times={TravelMode.CAR: times},
                   workers=workers, visits=tuple(visits), distances={TravelMode.CAR: times},
                   weights=Weights(imbalance=0, travel_minute=1))


def _resimulate(problem: Problem, routes: list[list[int]]) -> int:
    """Independent check of a plan in visit numbers (1-based); returns its travel."""
    times = problem.travel_times[TravelMode.CAR]
    served = sorted(c for r in routes for c in r)
    assert served == list(range(1, len(problem.visits) + 1))
    assert sum(1 for r in routes if r) <= len(problem.workers)
    total = 0
    for r in routes:
        t, load, prev = 0, 0, 0
        for c in r:
            v = problem.visits[c - 1]
            t = max(t + times[prev][c], v.windows[0].start)
            assert t <= v.windows[0].end
            t += v.duration
            load += v.demand["load"]
            total += times[prev][c]
            prev = c
        assert load <= 100
        assert t + times[prev][0] <= 800
        total += times[prev][0]
    return total


def _one_per_route(inst: Vrptw) -> list[list[int]]:
    return [[c] for c in range(1, inst.n + 1)]


def test_plain_vrptw_detects_the_plain_case_and_rejects_extras() -> None:
    """A windows + capacity + travel day converts; a day with a two-person visit does not."""
    problem = _problem()
    assert plain_vrptw(problem, "distance") is not None
    visits = list(problem.visits)
    v = visits[0]
    visits[0] = Visit(id=v.id, location=v.location, duration=v.duration, windows=v.windows, mandatory=True,
                      demand=dict(v.demand), workers_needed=2)
    assert plain_vrptw(Problem(problem.locations, problem.travel_times, problem.workers, tuple(visits),
                               distances=problem.distances, weights=problem.weights), "distance") is None


def test_sisr_improves_a_trivial_plan_and_stays_feasible() -> None:
    """From one customer per route (enough vehicles), 300 iterations cut the cost a lot and the
    re-simulated plan serves everyone within windows, capacity and the depot's hours."""
    problem = _problem(n=20, vehicles=20)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    start = _one_per_route(inst)
    routes, stats = improve_plan(inst, start, seed=3, max_iterations=300)
    travel = _resimulate(problem, routes)
    assert travel == routes_cost(inst, routes) == stats.best_cost
    assert stats.best_cost < 0.7 * routes_cost(inst, start)


def test_sisr_is_deterministic_for_an_iteration_limit() -> None:
    """Same seed and iteration limit: the same plan."""
    problem = _problem(n=20, vehicles=20, seed=2)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    a, _ = improve_plan(inst, _one_per_route(inst), seed=5, max_iterations=100)
    b, _ = improve_plan(inst, _one_per_route(inst), seed=5, max_iterations=100)
    assert a == b


def test_sisr_rejects_an_infeasible_start() -> None:
    """A start plan missing a customer is refused rather than silently repaired."""
    problem = _problem(n=10, vehicles=10)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    with pytest.raises(ValueError):
        improve_plan(inst, _one_per_route(inst)[1:], max_iterations=5)


def test_incremental_route_arrays_match_a_full_recomputation() -> None:
    """After many rounds (accepted and rejected), every route's departure / latest-start /
    arc arrays, load and cost equal a from-scratch recomputation, and each customer's route
    index is right: the O(1) insertion checks rest on these arrays."""
    from optimizer.vrptw_search import Sisr, solution_feasible

    problem = _problem(n=40, vehicles=40, seed=4)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    start, _ = improve_plan(inst, _one_per_route(inst), seed=1, max_iterations=200)
    search = Sisr(inst, seed=7)
    plan = start
    for _ in range(15):
        best, stats = search.run(plan, max_iterations=40, t0=2.0, tf=0.5)
        assert solution_feasible(inst, best) and routes_cost(inst, best) == stats.best_cost
        for ri, path in enumerate(search.paths):
            kept = (search.depart[ri][:], search.latest[ri][:], search.arc[ri][:], search.load[ri],
                    search.rcost[ri])
            search._set(ri, list(path))
            assert kept == (search.depart[ri], search.latest[ri], search.arc[ri], search.load[ri],
                            search.rcost[ri])
            assert all(search.route_of[c] == ri for c in path[1:-1])
        plan = search.routes()
        assert len(plan) <= inst.vehicles
        _resimulate(problem, plan)


# ---------------------------------------------------------------- the compiled rounds (optimizer/_sisr.c)

from hypothesis import given, settings, strategies as st  # noqa: E402

from optimizer import vrptw_search  # noqa: E402
from optimizer.stop import StoppingCriterion  # noqa: E402


def test_the_compiled_rounds_were_built() -> None:
    """The install built optimizer._sisr (it is optional, so a broken build would otherwise only
    show as a slower search)."""
    assert vrptw_search._compiled is not None


@pytest.mark.parametrize("core", ["compiled", "python"])
def test_each_core_improves_a_trivial_plan_and_stays_feasible(core: str) -> None:
    """Both cores: from one customer per route, the plan they return is feasible when
    re-simulated here, its travel is the cost they report, and it is far cheaper."""
    problem = _problem(n=40, vehicles=40, seed=6)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    start = _one_per_route(inst)
    routes, stats = improve_plan(inst, start, seed=2, max_iterations=2000, core=core)
    assert _resimulate(problem, routes) == routes_cost(inst, routes) == stats.best_cost
    assert stats.iterations == 2000 and stats.start_cost == routes_cost(inst, start)
    assert stats.best_cost < 0.5 * stats.start_cost


def test_the_compiled_rounds_are_deterministic_and_the_seed_matters() -> None:
    problem = _problem(n=40, vehicles=40, seed=8)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    runs = [improve_plan(inst, _one_per_route(inst), seed=s, max_iterations=300, core="compiled")[0]
            for s in (5, 5, 6)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_the_compiled_rounds_reach_the_python_quality() -> None:
    """Same rounds, other random numbers: over five instances the compiled core's costs after
    3,000 rounds are within 2 % of the Python core's in total (the search is the same)."""
    totals = {"compiled": 0, "python": 0}
    for seed in range(5):
        problem = _problem(n=40, vehicles=40, seed=seed)
        inst = plain_vrptw(problem, "distance")
        assert inst is not None
        for core in totals:
            routes, stats = improve_plan(inst, _one_per_route(inst), seed=1, max_iterations=3000, core=core)
            totals[core] += _resimulate(problem, routes)
    assert totals["compiled"] <= 1.02 * totals["python"]


class _AfterCalls(StoppingCriterion):
    """Stops on its ``calls``-th question; reports the share of its calls used."""

    def __init__(self, calls: int) -> None:
        self.calls, self.asked = calls, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked >= self.calls

    def fraction(self) -> float | None:
        return self.asked / self.calls


def test_the_compiled_rounds_ask_the_stopping_criterion_every_16_rounds() -> None:
    """No clock in C: the caller's criterion ends the run (asked before round 1, 17, 33, ...)."""
    problem = _problem(n=30, vehicles=30, seed=3)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    stop = _AfterCalls(4)
    routes, stats = improve_plan(inst, _one_per_route(inst), seed=1, stop=stop, core="compiled")
    assert stop.asked == 4 and stats.iterations == 48
    _resimulate(problem, routes)


def test_the_compiled_rounds_pass_on_an_error_of_the_criterion() -> None:
    class Broken(StoppingCriterion):
        def __call__(self) -> bool:
            raise RuntimeError("cancel store unreachable")

    problem = _problem(n=10, vehicles=10)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    with pytest.raises(RuntimeError, match="cancel store unreachable"):
        improve_plan(inst, _one_per_route(inst), stop=Broken(), core="compiled")


def test_the_compiled_rounds_refuse_malformed_input() -> None:
    """Arrays of the wrong size and customers out of range are a ValueError, not a crash."""
    problem = _problem(n=10, vehicles=10)
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    compiled = vrptw_search._compiled
    assert compiled is not None
    args = dict(travel=inst.travel.astype("int64"), cost=inst.cost.astype("int64")[:5],
                service=inst.service.astype("int64"), ready=inst.ready.astype("int64"),
                due=inst.due.astype("int64"), demand=inst.demand.astype("int64"), capacity=100, vehicles=10,
                routes=[[1]], seed=0, avg_removed=10.0, max_string=10.0, split_rate=0.5, split_depth=0.5,
                blink=0.01, route_filter=15, t0=0.3, tf=0.01, stop=None, max_iterations=5)
    with pytest.raises(ValueError, match="int64"):
        compiled.run(**args)
    args["cost"] = inst.cost.astype("int64")
    args["routes"] = [[0, 1]]
    with pytest.raises(ValueError, match="out of range"):
        compiled.run(**args)
    args["routes"] = [[1], [1]]
    with pytest.raises(ValueError, match="twice"):
        compiled.run(**args)
    args["routes"], args["max_string"] = [[1]], 0.0
    with pytest.raises(ValueError, match="max_string"):
        compiled.run(**args)
    with pytest.raises(ValueError, match="core"):
        improve_plan(inst, _one_per_route(inst), max_iterations=5, core="fortran")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 25), seed=st.integers(0, 10_000), tight=st.booleans(), iters=st.integers(1, 400))
def test_the_compiled_rounds_keep_random_small_plans_feasible(n: int, seed: int, tight: bool, iters: int) -> None:
    """Random small instances (narrow windows and small vehicles or wide ones): whatever the
    compiled rounds return is feasible when re-simulated independently, never dearer than the
    start, and its cost is the one reported."""
    rng = random.Random(seed)
    xy = [(50.0, 50.0)] + [(rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(n)]
    times = tuple(tuple(math.ceil(math.dist(a, b)) for b in xy) for a in xy)
    visits = []
    for c in range(1, n + 1):
        # Each customer reachable straight from the depot, so one route per customer is a start.
        start = rng.randrange(times[0][c], 300)
        width = rng.randrange(5, 40) if tight else rng.randrange(60, 400)
        visits.append(Visit(id=str(c), location=c, duration=rng.randrange(1, 20),
                            windows=(TimeWindow(start, start + width),), mandatory=True,
                            demand={"load": rng.randrange(1, 30 if tight else 10)}))
    workers = tuple(Worker(id=f"v{k}", kind=WorkerKind.DRIVER, shifts=(Shift(0, 800),), start_location=0,
                           end_location=0, capacity={"load": 40}) for k in range(n))
    problem = Problem(locations=tuple(Location(str(i)) for i in range(n + 1)),
                      travel_times={TravelMode.CAR: times}, workers=workers, visits=tuple(visits),
                      distances={TravelMode.CAR: times}, weights=Weights(imbalance=0, travel_minute=1))
    inst = plain_vrptw(problem, "distance")
    assert inst is not None
    start_plan = _one_per_route(inst)
    routes, stats = improve_plan(inst, start_plan, seed=seed, max_iterations=iters, core="compiled")
    total = _resimulate(problem, routes)
    assert total == stats.best_cost <= routes_cost(inst, start_plan)
