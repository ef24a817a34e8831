"""Hard rules of the problem shared by the solver, the construction, the LNS and the explainer:
who may do a visit, what is pinned or frozen, how late a route may end.  (What a plan costs
is ``optimizer.objective``'s.)

Kept apart from ``routing`` (the one module that imports OR-Tools) so that everything else
can use them without loading the solver.
"""

from __future__ import annotations

from typing import Mapping

from optimizer.model import Problem, Ride, Visit, Worker, WorkerKind


def rides_by_visit(problem: Problem) -> dict[str, Ride]:
    """Visit id -> the ride it is the pickup or the drop-off of."""
    out: dict[str, Ride] = {}
    for ride in problem.rides:
        out[ride.pickup] = ride
        out[ride.dropoff] = ride
    return out


def car_fits(worker: Worker, load: Mapping[str, int]) -> bool:
    """Whether the worker's car has room for ``load`` when empty (seats, wheelchair places)."""
    return all(worker.capacity.get(k, 0) >= q for k, q in load.items() if q > 0)


_RIDES_CACHE: dict[int, tuple[Problem, dict[str, Ride]]] = {}


def _rides_of(problem: Problem) -> dict[str, Ride]:
    """``rides_by_visit``, memoised per problem object (eligibility is asked once per visit)."""
    if not problem.rides:
        return {}
    hit = _RIDES_CACHE.get(id(problem))
    if hit is None or hit[0] is not problem:
        _RIDES_CACHE.clear()
        hit = (problem, rides_by_visit(problem))
        _RIDES_CACHE[id(problem)] = hit
    return hit[1]


def frozen_visits(problem: Problem) -> frozenset[str]:
    """Visits of the previous plan that started before ``freeze_until``: work that has happened."""
    if problem.freeze_until is None:
        return frozenset()
    return frozenset(pv.visit_id for pv in problem.previous_plan if pv.start < problem.freeze_until)


def effective_pins(problem: Problem) -> dict[str, tuple[frozenset[str], int | None]]:
    """Visit id -> (allowed worker ids or empty, fixed start or None), from pins and frozen work."""
    pins: dict[str, tuple[frozenset[str], int | None]] = {}
    for v in problem.visits:
        if v.pinned_worker is not None or v.pinned_start is not None:
            workers = frozenset({v.pinned_worker}) if v.pinned_worker else frozenset()
            pins[v.id] = (workers, v.pinned_start)
    if problem.freeze_until is not None:
        frozen: dict[str, list[tuple[str, int]]] = {}
        for pv in problem.previous_plan:
            if pv.start < problem.freeze_until:
                frozen.setdefault(pv.visit_id, []).append((pv.worker_id, pv.start))
        for vid, entries in frozen.items():
            pins[vid] = (frozenset(w for w, _ in entries), entries[0][1])
    return pins


def qualified(skills: frozenset[str], kind: WorkerKind, visit: Visit) -> bool:
    """Whether a worker with ``skills`` of ``kind`` may do ``visit`` by what the worker is: every
    skill it requires, and one of its worker kinds if it names any (who the worker is, gender
    and car come on top: :func:`eligible_workers`)."""
    return visit.required_skills <= skills and (not visit.worker_kinds or kind in visit.worker_kinds)


def eligible_workers(problem: Problem, visit: Visit) -> list[int]:
    """Workers who may do the visit by the hard rules: skills, required/forbidden, gender, pin,
    and for a ride, a car with room for its passengers (worker indices, ascending).

    The rules that depend on what a worker is (skills, kind, gender, car) are decided once per
    kind of worker (``_worker_groups``), not once per worker: the passes over a whole region's
    day (the repair, the explanations) ask it for 10,000 visits of 1,200 workers, which took
    25 s worker by worker (measured at 30x, ``benchmarks/README.md``)."""
    ride = _rides_of(problem).get(visit.id)
    named = visit.required_workers or visit.forbidden_workers or visit.pinned_worker is not None
    out: list[int] = []
    for (skills, kind, gender, capacity), members in _worker_groups(problem):
        if not qualified(skills, kind, visit):
            continue
        if ride is not None and not all(capacity.get(k, 0) >= q for k, q in ride.load.items() if q > 0):
            continue
        if visit.gender_strict and visit.gender_preference and gender != visit.gender_preference:
            continue
        if not named:
            out.extend(members)
            continue
        workers = problem.workers
        for wi in members:
            wid = workers[wi].id
            if visit.required_workers and wid not in visit.required_workers:
                continue
            if wid in visit.forbidden_workers:
                continue
            if visit.pinned_worker is not None and wid != visit.pinned_worker:
                continue
            out.append(wi)
    out.sort()
    return out


def allowed_workers(problem: Problem) -> list[list[int]]:
    """Per visit, the workers who may do it (``eligible_workers``) and, when it is pinned or
    frozen (``effective_pins``), only its pinned workers among them: what a search assigns from."""
    pins = effective_pins(problem)
    out = []
    for visit in problem.visits:
        workers = eligible_workers(problem, visit)
        pinned = pins.get(visit.id, (frozenset(), None))[0]
        if pinned:
            workers = [wi for wi in workers if problem.workers[wi].id in pinned]
        out.append(workers)
    return out


_GROUPS_CACHE: dict[int, tuple[Problem, list[tuple[tuple, list[int]]]]] = {}


def _worker_groups(problem: Problem) -> list[tuple[tuple, list[int]]]:
    """The workers by what the hard rules read of them ((skills, kind, gender, capacity) ->
    indices), memoised per problem object."""
    hit = _GROUPS_CACHE.get(id(problem))
    if hit is None or hit[0] is not problem:
        groups: dict[tuple, list[int]] = {}
        for wi, w in enumerate(problem.workers):
            key = (w.skills, w.kind, w.gender, tuple(sorted(w.capacity.items())))
            groups.setdefault(key, []).append(wi)
        _GROUPS_CACHE.clear()
        hit = (problem, [((s, k, g, dict(c)), members) for (s, k, g, c), members in groups.items()])
        _GROUPS_CACHE[id(problem)] = hit
    return hit[1]


def shift_end_limit(worker: Worker, shift_index: int) -> int:
    """Latest end of a route in this shift: shift end plus overtime, but never into the
    worker's next shift (one person cannot be on two routes at once)."""
    shift = worker.shifts[shift_index]
    limit = shift.end + shift.max_overtime
    later = [s.start for s in worker.shifts if s.start >= shift.end]
    return min([limit, *later])
