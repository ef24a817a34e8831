"""Split days: areas keep linked visits together, and the repair pass fills gaps across areas.

The day: two clusters of homes 20 km apart (west around x=0, east around x=20), carers
living in each, two drivers; rides from west homes to an east clinic, a medication check
linked to a west visit, a two-person visit.  With ``max_visits_per_area`` small the day is
split; every plan is checked by the independent checker.
"""

from __future__ import annotations

import math
from dataclasses import replace

from optimizer.checker import check, is_feasible
from optimizer.decompose import split
from optimizer.model import (
    Dependency,
    Location,
    Problem,
    Ride,
    Shift,
    TimeWindow,
    Visit,
    Worker,
    WorkerKind,
)
from optimizer.params import SolveParams
from optimizer.repair import fill_gaps
from optimizer import solve
from tests.optimizer.builders import problem, worker

PARAMS = SolveParams(time_limit_s=None, solution_limit=20, seed=0, lns_iterations=30)
WEST = [(0.0, float(i)) for i in range(6)]
EAST = [(20.0, float(i)) for i in range(6)]
POINTS = [(10.0, -5.0)] + WEST + EAST  # 0: office; 1-6 west; 7-12 east (12: clinic)
CLINIC = 12


def _matrix() -> tuple[tuple[int, ...], ...]:
    """Car minutes: 2 min per km (city driving), at least 1 between two places."""
    return tuple(
        tuple(0 if i == j else max(1, math.ceil(2 * math.dist(a, b))) for j, b in enumerate(POINTS))
        for i, a in enumerate(POINTS)
    )


def _worker(wid: str, home: int, kind: WorkerKind = WorkerKind.CARER, **kw) -> Worker:
    return worker(wid, Shift(420, 960), home=home, kind=kind, **kw)


def day() -> Problem:
    visits = []
    for i in range(1, 12):
        visits.append(Visit(f"care-{i}", i, 45, (TimeWindow(480, 900),), client_id=f"s{i}",
                            worker_kinds=frozenset({WorkerKind.CARER}), mandatory=True))
    visits.append(Visit("med-check", 2, 15, (TimeWindow(480, 960),), client_id="s2b",
                        worker_kinds=frozenset({WorkerKind.CARER})))
    visits.append(Visit("lift", 9, 30, (TimeWindow(600, 720),), client_id="s9", workers_needed=2,
                        worker_kinds=frozenset({WorkerKind.CARER})))
    rides = []
    for i in (1, 3, 5):
        up = Visit(f"ride-{i}-up", i, 5, (TimeWindow(480, 720),), client_id=f"s{i}",
                   worker_kinds=frozenset({WorkerKind.DRIVER}))
        down = Visit(f"ride-{i}-down", CLINIC, 5, (TimeWindow(600, 660),), client_id=f"s{i}",
                     worker_kinds=frozenset({WorkerKind.DRIVER}))
        visits += [up, down]
        rides.append(Ride(up.id, down.id, {"seats": 1}, 90))
    workers = [
        _worker("carer-w1", 1), _worker("carer-w2", 4), _worker("carer-e1", 8), _worker("carer-e2", 10),
        _worker("driver-w", 2, WorkerKind.DRIVER, capacity={"seats": 4}),
        _worker("driver-e", 11, WorkerKind.DRIVER, capacity={"seats": 4}),
    ]
    return problem(
        workers, visits, car=_matrix(),
        locations=(Location(f"L{i}", lat=50.0 + y / 111.0, lon=20.0 + x / 71.0) for i, (x, y) in enumerate(POINTS)),
        dependencies=(Dependency("care-2", "med-check", 60, 240),),
        rides=tuple(rides),
    )


def test_areas_keep_rides_dependencies_and_clients_together() -> None:
    """Both legs of every ride, both ends of every dependency, each senior's visits: one area."""
    p = day()
    areas = split(p, max_visits=8, seed=0)
    assert len(areas) >= 2
    area_of = {vid: k for k, a in enumerate(areas) for vid in a.visit_ids}
    assert set(area_of) == {v.id for v in p.visits}
    for r in p.rides:
        assert area_of[r.pickup] == area_of[r.dropoff]
    for d in p.dependencies:
        assert area_of[d.before] == area_of[d.after]
    for a in areas:  # each sub-problem carries its own rides and is self-consistent
        ids = set(a.visit_ids)
        assert {r.pickup for r in a.problem.rides} <= ids
        assert len(a.problem.rides) == sum(1 for r in p.rides if r.pickup in ids)


def test_split_day_is_planned_feasibly() -> None:
    """Solving with small areas gives a checked plan with the rides whole."""
    p = day()
    sol = solve(p, replace(PARAMS, max_visits_per_area=8))
    assert sol.stats is not None and sol.stats.parameters["areas"] >= 2
    assert is_feasible(check(p, sol)), [v.message for v in check(p, sol)]
    placed = sol.assignments()
    for r in p.rides:
        assert (r.pickup in placed) == (r.dropoff in placed)
    assert len(placed) + len(sol.unassigned) == len(p.visits)


def test_fill_gaps_places_a_visit_without_moving_anything() -> None:
    """A visit left out of a plan goes where a worker has room; every other stop keeps its start."""
    p = day()
    without = replace(p, visits=tuple(v for v in p.visits if v.id != "care-6"))
    sol = solve(without, PARAMS)
    assert "care-6" not in sol.assignments()
    routes, still = fill_gaps(p, list(sol.routes), ["care-6"])
    assert still == []
    repaired = replace(sol, routes=tuple(routes), unassigned=())
    missing = {v.id for v in p.visits} - set(repaired.assignments()) - {u.visit_id for u in sol.unassigned}
    assert missing == set()
    assert is_feasible(check(p, replace(repaired, unassigned=sol.unassigned))), [
        v.message for v in check(p, replace(repaired, unassigned=sol.unassigned))]
    before = {(s.visit_id, r.worker_id): s.start for r in sol.routes for s in r.stops}
    after = {(s.visit_id, r.worker_id): s.start for r in routes for s in r.stops}
    assert {k: after[k] for k in before} == before
    assert any(s.visit_id == "care-6" for r in routes for s in r.stops)


def test_fill_gaps_leaves_what_does_not_fit() -> None:
    """A visit whose window no worker can reach stays unplaced and the plan is unchanged."""
    p = day()
    late = Visit("too-late", 6, 45, (TimeWindow(950, 955),), worker_kinds=frozenset({WorkerKind.CARER}))
    p = replace(p, visits=p.visits + (late,))
    sol = solve(replace(p, visits=p.visits[:-1]), PARAMS)
    routes, still = fill_gaps(p, list(sol.routes), ["too-late"])
    assert still == ["too-late"]
    assert routes == list(sol.routes)


def test_a_required_or_pinned_worker_goes_to_the_area_of_the_visit() -> None:
    """An east senior's visit only the west carer may do (required), and one pinned to the other west carer:
    each worker joins the east area, whatever their home and their quota; the split plan places both."""
    p = day()
    p = replace(p, visits=tuple(
        replace(v, required_workers=frozenset({"carer-w1"})) if v.id == "care-9"
        else replace(v, pinned_worker="carer-w2") if v.id == "care-10" else v
        for v in p.visits))
    areas = split(p, max_visits=8, seed=0)
    assert len(areas) >= 2
    area_of_worker = {wid: k for k, a in enumerate(areas) for wid in a.worker_ids}
    area_of_visit = {vid: k for k, a in enumerate(areas) for vid in a.visit_ids}
    assert area_of_worker["carer-w1"] == area_of_visit["care-9"]
    assert area_of_worker["carer-w2"] == area_of_visit["care-10"]
    sol = solve(p, replace(PARAMS, max_visits_per_area=8))
    assert is_feasible(check(p, sol)), [v.message for v in check(p, sol)]
    placed = sol.assignments()
    assert [w for w, _ in placed["care-9"]] == ["carer-w1"] and [w for w, _ in placed["care-10"]] == ["carer-w2"]
