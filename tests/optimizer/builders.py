"""One way to build optimizer test problems: the shared builder of the optimizer tests.

The map used unless a test says otherwise (car minutes; walking is twice as long):

    locations 0 office, 1 A, 2 B, 3 C
        0: 0 10 20 15
        1: 10 0 10 25
        2: 20 10 0 10
        3: 15 25 10 0

``worker`` / ``visit`` / ``problem`` build tiny days with defaults every test would repeat
(one 0-600 shift, a visit any time in 0-600, workload balance off), ``solve_ok`` solves one
deterministically and insists on a plan the independent checker accepts, fully accounted
for, with bilingual reasons; the rest read a solution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from optimizer.checker import check, is_feasible
from optimizer.construct import construct
from dispatch.planning.explanations import explain_unassigned
from optimizer.model import (
    REASON_CASES,
    Gender,
    Location,
    Problem,
    Shift,
    Solution,
    Stop,
    TimeWindow,
    TravelMode,
    Unassigned,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)
from optimizer.params import SolveParams
from optimizer.rules import eligible_workers
from optimizer import solve

CAR = (
    (0, 10, 20, 15),
    (10, 0, 10, 25),
    (20, 10, 0, 10),
    (15, 25, 10, 0),
)
OFFICE, A, B, C = 0, 1, 2, 3
ROOT = Path(__file__).resolve().parents[2]
PARAMS = SolveParams(time_limit_s=None, solution_limit=50, seed=0, metaheuristic="GREEDY_DESCENT")
"""Deterministic and terminating.  Not the default guided local search: without a time limit
OR-Tools' GLS never stops on some one-visit days (see test_solution_limit_alone_terminates)."""
NO_BALANCE = Weights(imbalance=0)
CARER = WorkerKind.CARER
SPECIALIST = WorkerKind.SPECIALIST_CARER


def worker(
    wid: str,
    *shifts: Shift,
    home: int = OFFICE,
    kind: WorkerKind = CARER,
    mode: TravelMode = TravelMode.CAR,
    skills: Iterable[str] = (),
    gender: Gender | None = None,
    max_work: int | None = None,
    capacity: dict[str, int] | None = None,
) -> Worker:
    """A worker living at ``home`` (start and end); one 0-600 shift unless given."""
    return Worker(
        id=wid,
        kind=kind,
        shifts=shifts or (Shift(0, 600),),
        start_location=home,
        end_location=home,
        travel_mode=mode,
        skills=frozenset(skills),
        gender=gender,
        max_work_minutes=max_work,
        capacity=capacity or {},
    )


def visit(vid: str, loc: int, duration: int = 30, windows: Iterable[tuple[int, int]] = ((0, 600),), **kw: Any) -> Visit:
    """A visit at ``loc``; set-valued keywords may be given as any iterable."""
    for key in ("required_skills", "worker_kinds", "required_workers", "preferred_workers", "forbidden_workers"):
        if key in kw:
            kw[key] = frozenset(kw[key])
    return Visit(vid, loc, duration, tuple(TimeWindow(a, b) for a, b in windows), **kw)


def problem(
    workers: Iterable[Worker],
    visits: Iterable[Visit],
    *,
    car: tuple[tuple[int, ...], ...] = CAR,
    weights: Weights = NO_BALANCE,
    locations: Iterable[Location] | None = None,
    **kw: Any,
) -> Problem:
    """A problem on the ``car`` matrix, with walking twice as long; places ``L0``, ``L1``, ...
    without coordinates unless ``locations`` are given."""
    walk = tuple(tuple(2 * t for t in row) for row in car)
    return Problem(
        locations=tuple(locations) if locations is not None else tuple(Location(f"L{i}") for i in range(len(car))),
        travel_times={TravelMode.CAR: car, TravelMode.WALK: walk},
        workers=tuple(workers),
        visits=tuple(visits),
        weights=weights,
        **kw,
    )


def solve_ok(p: Problem, params: SolveParams = PARAMS) -> Solution:
    """Solve, then insist on a clean, fully accounted plan, each unplaced visit with a reason and its case."""
    sol = solve(p, params)
    violations = check(p, sol)
    errors = [f"{v.rule}: {v.message}" for v in violations if v.severity == "error"]
    assert is_feasible(violations), errors
    placed = sol.assignments()
    dropped = {u.visit_id for u in sol.unassigned}
    for v in p.visits:
        assert (v.id in placed) != (v.id in dropped), v.id
        if v.id in placed:
            assert len(placed[v.id]) == v.workers_needed
    for u in sol.unassigned:
        assert_case(u)
    return sol


def plan(sol: Solution) -> dict[str, list[str]]:
    """worker id -> visit ids in the order done (over the worker's shifts in order)."""
    out: dict[str, list[str]] = {}
    for r in sorted(sol.routes, key=lambda r: (r.worker_id, r.shift_index)):
        out.setdefault(r.worker_id, []).extend(s.visit_id for s in r.stops)
    return out


def who(sol: Solution, vid: str) -> set[str]:
    return {w for w, _ in sol.assignments().get(vid, [])}


def stop(sol: Solution, vid: str) -> Stop:
    [found] = [s for r in sol.routes for s in r.stops if s.visit_id == vid]
    return found


def start(sol: Solution, vid: str) -> int:
    starts = {s for _, s in sol.assignments()[vid]}
    assert len(starts) == 1
    return starts.pop()


def sol_entry(sol: Solution, vid: str) -> list[tuple[str, int]]:
    """[(worker, start)] of a visit, sorted."""
    return sorted(sol.assignments().get(vid, []))


def constructed(p: Problem) -> dict[str, tuple[str, int]]:
    """visit id -> (worker, start) in the first plan of the construction heuristic alone."""
    vehicles = [(wi, si) for wi, w in enumerate(p.workers) for si in range(len(w.shifts))]
    built = construct(p, vehicles, [eligible_workers(p, v) for v in p.visits])
    return {
        p.visits[vi].id: (p.workers[r.worker_index].id, s)
        for r in built.routes for (vi, _), s in zip(r.stops, r.starts)
    }


def reason(sol: Solution, vid: str) -> Unassigned:
    [u] = [u for u in sol.unassigned if u.visit_id == vid]
    return u


def dropped(sol: Solution) -> set[str]:
    return {u.visit_id for u in sol.unassigned}


def assert_case(u: Unassigned) -> None:
    """The reason says which case under its code it is, with every fact its sentences need (worded here
    by ``dispatch.planning.explanations``, times as minutes: these problems have no day)."""
    assert u.details.get("case") in REASON_CASES[u.reason], (u.reason, u.details)
    explain_unassigned(u, None, strict=True)


