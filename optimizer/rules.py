"""Rules of the problem shared by the solver, the construction, the LNS and the explainer.

Kept apart from ``routing`` (the one module that imports OR-Tools) so that everything else
can use them without loading the solver.
"""

from __future__ import annotations

from typing import Mapping

from optimizer.model import Problem, Ride, Visit, Worker


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


def eligible_workers(problem: Problem, visit: Visit) -> list[int]:
    """Workers who may do the visit by the hard rules: skills, required/forbidden, gender, pin,
    and for a ride, a car with room for its passengers."""
    out = []
    ride = _rides_of(problem).get(visit.id)
    for wi, w in enumerate(problem.workers):
        if not visit.required_skills <= w.skills:
            continue
        if ride is not None and not car_fits(w, ride.load):
            continue
        if visit.worker_kinds and w.kind not in visit.worker_kinds:
            continue
        if visit.required_workers and w.id not in visit.required_workers:
            continue
        if w.id in visit.forbidden_workers:
            continue
        if visit.gender_strict and visit.gender_preference and w.gender != visit.gender_preference:
            continue
        if visit.pinned_worker is not None and w.id != visit.pinned_worker:
            continue
        out.append(wi)
    return out


def drop_penalty(problem: Problem, visit: Visit, pinned: bool = False) -> int:
    """What leaving ``visit`` out costs: mandatory (or pinned) at a price nothing else reaches,
    otherwise per priority; times the workers it needs.

    Why times the workers: a two-person visit takes two workers' time, so at one visit's
    price an over-booked day always gains by dropping it for two single visits of the same
    priority, and two-person visits (the seniors who need lifting, i.e. the most dependent)
    were the ones left out (Kielce demo day: 2 of 5 placed against 212 of 231 single visits;
    issue #8).  Priced per worker, a two-person visit weighs the same per worker-hour as a
    single one.
    """
    w = problem.weights
    if pinned or visit.mandatory or visit.pinned_worker is not None or visit.pinned_start is not None:
        base = w.drop_mandatory
    else:
        base = w.drop_per_priority * max(1, visit.priority)
    return base * max(1, visit.workers_needed)


def preference_costs(problem: Problem, visit: Visit, worker: Worker, previous: dict[str, str]) -> int:
    """Soft costs of giving ``visit`` to ``worker``: continuity, gender, plan stability."""
    w = problem.weights
    cost = 0
    if visit.preferred_workers and worker.id not in visit.preferred_workers:
        cost += w.non_preferred_worker
    if visit.gender_preference and not visit.gender_strict and worker.gender != visit.gender_preference:
        cost += w.gender_mismatch
    before = previous.get(visit.id)
    if before is not None and before != worker.id:
        cost += w.changed_from_previous
    return cost


def fair_shares(problem: Problem) -> list[tuple[int, int, int]]:
    """(worker index, shift index, fair service minutes) per shift; see ``Weights.imbalance``."""
    total_service = sum(v.duration * max(1, v.workers_needed) for v in problem.visits)
    shifts = [(wi, si, s.end - s.start) for wi, w in enumerate(problem.workers) for si, s in enumerate(w.shifts)]
    total_shift = sum(m for _, _, m in shifts) or 1
    return [(wi, si, int(1.1 * total_service * m / total_shift)) for wi, si, m in shifts]




def shift_end_limit(worker: Worker, shift_index: int) -> int:
    """Latest end of a route in this shift: shift end plus overtime, but never into the
    worker's next shift (one person cannot be on two routes at once)."""
    shift = worker.shifts[shift_index]
    limit = shift.end + shift.max_overtime
    later = [s.start for s in worker.shifts if s.start >= shift.end]
    return min([limit, *later])
