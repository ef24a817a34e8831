"""Stopping as one object: a deadline and a cancel, passed down to every phase of ``solve``.

No test here waits on wall time: deadlines run on a clock the test owns (``FakeClock``), and
cancels are set by the solve's own callbacks.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

import optimizer.areas
from optimizer import Cancel, FirstOf, MaxIterations, MaxRuntime, NoLimit, ReasonCode, solve
from optimizer.model import ReasonCase
from optimizer.checker import check, is_feasible
from optimizer.construct import construct
from optimizer.lns import improve
from optimizer.rules import eligible_workers
from optimizer.areas import EXPLAIN_RESERVE
from tests.optimizer.builders import PARAMS, A, B, C, problem, visit, worker


class FakeClock:
    """A monotonic clock that moves ``tick`` seconds each time it is read, and jumps when told."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now = 1000.0
        self.tick = tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def over_booked_day():
    """One worker, fifteen optional hour-long visits in a ten-hour shift: six stay out."""
    places = (A, B, C)
    return problem([worker("W1")], [visit(f"V{i}", places[i % 3], 60, priority=1 + i % 3) for i in range(15)])


def test_criteria_on_an_injected_clock() -> None:
    """MaxRuntime ends at its deadline on its clock, reports what is left and the share used;
    MaxIterations ends after its count of calls; FirstOf ends with the first of them; within()
    adds a nearer deadline on the same clock; a set Cancel stops and says it was a cancel."""
    clock = FakeClock()
    limit = MaxRuntime(10, clock)
    assert not limit() and limit.remaining() == 10 and limit.fraction() == 0
    clock.advance(4)
    assert limit.remaining() == 6 and limit.fraction() == pytest.approx(0.4)
    part = limit.within(2)
    assert part.remaining() == 2 and not part()
    clock.advance(2)
    assert part() and not limit()
    clock.advance(4)
    assert limit() and limit.remaining() == 0
    rounds = MaxIterations(3)
    assert [rounds() for _ in range(4)] == [False, False, False, True]
    flag = threading.Event()
    either = FirstOf(NoLimit(), Cancel(flag))
    assert not either() and not either.cancelled and either.remaining() is None
    flag.set()
    assert either() and either.cancelled


def test_the_time_limit_bounds_the_whole_call_explanations_included(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 1,000 s on the test's clock the search ends by the explanation reserve and the
    explanations (20 s each here) at the deadline: the call returns within 5 % of the limit,
    the plan passes the checker, and the visits left unexplained say their reason was not
    computed.  (On the real clock, unplaced visits were explained after the whole budget.)"""
    clock = FakeClock(tick=1.0)
    began_explaining: list[float] = []
    real = optimizer.areas.explain_unassigned

    def slow_explanations(*args, **kwargs):
        began_explaining.append(clock.now)
        clock.tick = 20.0  # from now on each check of the deadline is one 20 s explanation later
        return real(*args, **kwargs)

    monkeypatch.setattr(optimizer.areas, "explain_unassigned", slow_explanations)
    day = over_booked_day()
    t0 = clock.now
    sol = solve(day, replace(PARAMS, lns_share=1.0, lns_iterations=None), MaxRuntime(1000, clock))
    assert clock.now - t0 <= 1000 * 1.05
    assert is_feasible(check(day, sol))
    assert began_explaining and began_explaining[0] - t0 <= 1000 * (1 - EXPLAIN_RESERVE) + 10
    explained = [u for u in sol.unassigned if u.details.get("case") != ReasonCase.NOT_EXPLAINED]
    not_computed = [u for u in sol.unassigned if u.details.get("case") == ReasonCase.NOT_EXPLAINED]
    assert explained and not_computed
    assert {u.visit_id for u in sol.unassigned} | set(sol.assignments()) == {v.id for v in day.visits}
    assert sol.stats is not None and 990 <= sol.stats.time_limit_s <= 1000  # what was left at the call


def test_a_cancel_ends_the_solve_with_its_best_plan() -> None:
    """A cancel raised at OR-Tools' first solution ends that search at once, the LNS and the
    explanations do not start, and solve returns the plan it has (checked) with status
    CANCELLED; every visit is accounted for."""
    flag = threading.Event()
    seen: list[int] = []

    def on_progress(progress) -> None:
        seen.append(progress.solutions_found)
        flag.set()

    day = over_booked_day()
    sol = solve(day, replace(PARAMS, on_progress=on_progress), FirstOf(NoLimit(), Cancel(flag)))
    assert sol.stats is not None and sol.stats.status == "CANCELLED"
    assert seen == [1]  # OR-Tools' first solution was its last
    assert is_feasible(check(day, sol))
    assert all(u.reason == ReasonCode.NOT_FOUND for u in sol.unassigned)
    assert {u.visit_id for u in sol.unassigned} | set(sol.assignments()) == {v.id for v in day.visits}


class SetAfter:
    """A cancel flag that is set from its ``calls``-th check on (a dispatcher who cancels while
    the search runs, at a point the test knows)."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.checks = 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.calls


def test_a_cancel_ends_the_lns_and_the_construction() -> None:
    """The LNS checks its criterion once per round: cancelled at its 7th check it has run 6
    rounds and keeps its best plan; a construction cancelled before it starts places nothing."""
    day = over_booked_day()
    vehicles = [(0, 0)]
    eligible = [eligible_workers(day, v) for v in day.visits]
    built = construct(day, vehicles, eligible)
    assert built.builder is not None
    stats = improve(built.builder, seed=0, stop=FirstOf(MaxIterations(500), Cancel(SetAfter(7))))
    assert stats.iterations == 6 and stats.best_cost <= stats.start_cost
    assert construct(day, vehicles, eligible, Cancel(SetAfter(1))).placed == set()



def test_a_split_day_keeps_time_for_the_later_areas_first_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Areas of 6, 5 and 8 visits whose first plans take 40 s a visit (they always run, whatever
    the area's share) on a 1,000 s limit: with the later first plans kept back at the rate the
    first area showed, the areas end by the reserve for repair and explanations (850 s); shared
    evenly, the last area's 320 s first plan would have run 36 s into it."""
    from optimizer.nodes import RawResult
    from optimizer.solver import SPLIT_EXPLAIN_RESERVE
    from tests.optimizer.test_decompose import day

    clock = FakeClock()
    t0 = clock.now
    ended: list[float] = []

    def area_search(problem, params, stop):
        first = 40.0 * len(problem.visits)
        clock.advance(max(first, stop.remaining()))  # the first plan, then the search fills the share
        return RawResult("FAKE", 0, [], list(range(len(problem.visits))), 0, 0.0, first)

    def repair(problem, routes, dropped, stop):
        ended.append(clock.now - t0)
        return routes, dropped

    monkeypatch.setattr(optimizer.areas, "solve_area", area_search)
    monkeypatch.setattr(optimizer.areas, "fill_gaps", repair)
    p = day()
    sol = solve(p, replace(PARAMS, max_visits_per_area=8, explain=False), MaxRuntime(1000, clock))
    assert sol.stats is not None and sol.stats.parameters["areas"] == 3
    assert ended and ended[0] <= 1000 * (1 - SPLIT_EXPLAIN_RESERVE) + 1e-6


def test_a_split_day_gives_each_area_search_time_in_proportion_to_its_visits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Areas of 6, 5 and 8 visits share the search's 850 s (a 1,000 s limit less the reserve) as
    6:5:8 when their first plans take no time: 268, 224 and 358 s.  Equal shares (283 s each)
    made the areas take equal times, so a split day on two queue workers took whole rounds of
    areas (benchmarks/README, "Areas of a split day solved in parallel")."""
    from optimizer.nodes import RawResult
    from optimizer.solver import SPLIT_EXPLAIN_RESERVE
    from tests.optimizer.test_decompose import day

    clock = FakeClock()
    given: list[tuple[int, float]] = []

    def area_search(problem, params, stop):
        given.append((len(problem.visits), stop.remaining()))
        clock.advance(stop.remaining())
        return RawResult("FAKE", 0, [], list(range(len(problem.visits))), 0, 0.0, 0.0)

    monkeypatch.setattr(optimizer.areas, "solve_area", area_search)
    monkeypatch.setattr(optimizer.areas, "fill_gaps", lambda problem, routes, dropped, stop: (routes, dropped))
    solve(day(), replace(PARAMS, max_visits_per_area=8, explain=False), MaxRuntime(1000, clock))
    search = 1000 * (1 - SPLIT_EXPLAIN_RESERVE)
    total = sum(n for n, _ in given)
    assert sorted(n for n, _ in given) == [5, 6, 8]
    for n, seconds in given:
        assert seconds == pytest.approx(search * n / total)
