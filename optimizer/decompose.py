"""Split a large day into independent areas, each with its own pool of workers.

One OR-Tools model over thousands of visits and hundreds of workers is slow to build and
slow to search (measured: 22 s to build and 100 s to construct at 10x the Kielce demo).
Home care is organised by territory anyway ("rejony opiekuńcze"), so a large day is cut
into areas of at most ``max_visits`` visits by k-means over where the seniors live, and the
workers are shared out between areas in proportion to each area's demand for their kind,
nearest first.  A senior's visits, and visits linked by dependencies, always stay together.

The price: a worker never crosses into another area, so a plan can be a little worse than
one solved as a whole, and a worker required by (or pinned to) visits in two areas can serve
only one of them (the one with more such visits).  ``solve`` says in its stats when it decomposed, and into how many.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

import numpy as np

from optimizer.matrix import as_row, dense_block, is_lazy
from optimizer.model import Problem
from optimizer.rules import frozen_visits


@dataclass(frozen=True)
class Area:
    """One independent sub-problem and how its indices map back."""

    problem: Problem
    visit_ids: tuple[str, ...]
    worker_ids: tuple[str, ...]
    locations: tuple[int, ...]
    """Global location index of each of the area's locations."""


def _groups(problem: Problem) -> list[list[int]]:
    """Visit indices that must stay together: same client, linked by a dependency, the two
    legs of a ride, or the frozen work of one worker (a re-plan)."""
    parent = list(range(len(problem.visits)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    index = {v.id: i for i, v in enumerate(problem.visits)}
    by_client: dict[str, int] = {}
    for i, v in enumerate(problem.visits):
        if v.client_id is not None:
            if v.client_id in by_client:
                union(by_client[v.client_id], i)
            else:
                by_client[v.client_id] = i
    for d in problem.dependencies:
        union(index[d.before], index[d.after])
    for r in problem.rides:  # a ride's two legs are one car's
        union(index[r.pickup], index[r.dropoff])
    frozen = frozen_visits(problem)
    first_frozen: dict[str, int] = {}
    for pv in problem.previous_plan:  # a worker's frozen work is in one area, with the worker
        if pv.visit_id in frozen and pv.visit_id in index:
            if pv.worker_id in first_frozen:
                union(first_frozen[pv.worker_id], index[pv.visit_id])
            else:
                first_frozen[pv.worker_id] = index[pv.visit_id]
    groups: dict[int, list[int]] = {}
    for i in range(len(problem.visits)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _coords(problem: Problem, loc: int) -> tuple[float, float]:
    place = problem.locations[loc]
    if place.lat is None or place.lon is None:
        return (float(loc), 0.0)
    return (place.lat, place.lon * math.cos(math.radians(place.lat)))


def _anchor(problem: Problem, group: list[int]) -> tuple[float, float]:
    """Where a group lives: its first visit that starts and ends at one place (a home)."""
    for i in group:
        if problem.visits[i].end_location is None:
            return _coords(problem, problem.visits[i].location)
    return _coords(problem, problem.visits[group[0]].location)


def _kmeans(points: np.ndarray, weights: np.ndarray, k: int, seed: int, iterations: int = 30) -> np.ndarray:
    """Weighted k-means (k-means++ start); returns a label per point.  Deterministic per seed."""
    rng = random.Random(seed)
    centres = [points[rng.randrange(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None, :, :]) ** 2).sum(-1), axis=1)
        probs = d2 * weights
        total = probs.sum()
        pick = rng.random() * total if total > 0 else 0.0
        centres.append(points[min(int(np.searchsorted(np.cumsum(probs), pick)), len(points) - 1)])
    c = np.array(centres)
    labels = np.zeros(len(points), dtype=int)
    for _ in range(iterations):
        labels = ((points[:, None, :] - c[None, :, :]) ** 2).sum(-1).argmin(axis=1)
        for j in range(k):
            mask = labels == j
            if mask.any():
                c[j] = np.average(points[mask], axis=0, weights=weights[mask])
    return labels


def split(problem: Problem, max_visits: int, seed: int = 0) -> list[Area]:
    """Areas of at most about ``max_visits`` visits, each with a proportional worker pool."""
    groups = _groups(problem)
    k = max(1, math.ceil(len(problem.visits) / max_visits))
    if k == 1:
        return [Area(_dense(problem), tuple(v.id for v in problem.visits), tuple(w.id for w in problem.workers),
                     tuple(range(len(problem.locations))))]
    points = np.array([_anchor(problem, g) for g in groups])
    weights = np.array([float(len(g)) for g in groups])
    labels = _kmeans(points, weights, k, seed)
    centres = np.array([
        np.average(points[labels == j], axis=0, weights=weights[labels == j]) if (labels == j).any() else points[0]
        for j in range(k)
    ])
    area_visits: list[list[int]] = [[] for _ in range(k)]
    for g, label in zip(groups, labels):
        area_visits[label].extend(g)
    area_visits, centres = _rebalance(problem, groups, labels, points, weights, centres, max_visits, seed)
    area_workers = _share_workers(problem, area_visits, centres)
    if problem.previous_plan:
        area_visits, area_workers = _follow_previous(problem, groups, area_visits, area_workers)
    whole: dict[int, np.ndarray] = {}
    return [_sub_problem(problem, sorted(vs), ws, whole) for vs, ws in zip(area_visits, area_workers) if vs]


def _dense(problem: Problem) -> Problem:
    """``problem`` with its matrices in memory: a day of one area searched on lazy rows
    (``optimizer.matrix``) would pay a Python call per row read in the hot loops."""
    if not any(map(is_lazy, (*problem.travel_times.values(), *problem.distances.values()))):
        return problem
    everything = np.arange(len(problem.locations))
    made: dict[int, object] = {}
    return replace(problem, travel_times={m: _area_matrix(t, everything, {}, made, False)
                                          for m, t in problem.travel_times.items()},
                   distances={m: _area_matrix(t, everything, {}, made, True) for m, t in problem.distances.items()})


def _area_matrix(matrix, index: np.ndarray, whole: dict[int, np.ndarray], made: dict[int, object],
                 metres: bool):
    """The block of ``matrix`` for the places ``index``, made once per matrix (``made``: the
    geodesic metres are one matrix for every mode, and stay one).  Minutes are tuples of Python
    ints, as the search has always read them (small ints are shared, 8 bytes a cell); metres,
    read only for the KPIs, are rows of machine integers (a Python int per metre value was
    most of an area's memory)."""
    key = id(matrix)
    if key not in made:
        cells = dense_block(matrix, index, whole)
        made[key] = tuple(as_row(row) for row in cells) if metres else tuple(map(tuple, cells.tolist()))
    return made[key]


def _follow_previous(problem: Problem, groups: list[list[int]], area_visits: list[list[int]],
                     area_workers: list[list[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """On a re-plan, areas follow the previous plan's routes: each worker goes to the area holding
    most of their previous visits (frozen ones first), and each group of visits to the area of its
    previous workers, so a published stop and its worker are planned together (split afresh, a
    worker's route would be cut between areas and its stops given to others; measured on the 10x
    Kielce day: 14 % of the stops changed with one visit added).  A worker's frozen work is one
    group (``_groups``), planned in that worker's area whatever else moves."""
    k = len(area_visits)
    index = {v.id: i for i, v in enumerate(problem.visits)}
    workers = {w.id: i for i, w in enumerate(problem.workers)}
    frozen = frozen_visits(problem)
    area_of_visit = {vi: j for j, vs in enumerate(area_visits) for vi in vs}
    area_of_worker = {wi: j for j, ws in enumerate(area_workers) for wi in ws}
    entries: dict[int, list[tuple[int, int, bool]]] = {}
    votes: dict[int, list[int]] = {}
    for pv in problem.previous_plan:
        vi, wi = index.get(pv.visit_id), workers.get(pv.worker_id)
        if vi is None or wi is None:
            continue
        entries.setdefault(vi, []).append((pv.start, wi, pv.visit_id in frozen))
        votes.setdefault(wi, [0] * k)[area_of_visit[vi]] += 1_000 if pv.visit_id in frozen else 1
    for wi, counts in votes.items():
        area_of_worker[wi] = max(range(k), key=lambda j: (counts[j], j == area_of_worker.get(wi)))
    for group in groups:
        held = sorted(e for vi in group for e in entries.get(vi, ()))
        if not held:
            continue
        fixed = [wi for _, wi, is_frozen in held if is_frozen]
        target = area_of_worker[fixed[0] if fixed else held[0][1]]
        for vi in group:
            area_of_visit[vi] = target
        for wi in fixed:
            area_of_worker[wi] = target
    out_visits: list[list[int]] = [[] for _ in range(k)]
    for vi in sorted(area_of_visit):
        out_visits[area_of_visit[vi]].append(vi)
    out_workers: list[list[int]] = [[] for _ in range(k)]
    for wi in sorted(area_of_worker):
        out_workers[area_of_worker[wi]].append(wi)
    return out_visits, out_workers


def _rebalance(problem, groups, labels, points, weights, centres, max_visits, seed):
    """Split areas much larger than ``max_visits`` again (k-means makes uneven clusters)."""
    out_visits: list[list[int]] = []
    out_centres: list[np.ndarray] = []
    for j in range(len(centres)):
        members = [gi for gi, label in enumerate(labels) if label == j]
        size = sum(len(groups[gi]) for gi in members)
        if not members:
            continue
        if size <= 1.25 * max_visits or len(members) < 2:
            out_visits.append([i for gi in members for i in groups[gi]])
            out_centres.append(centres[j])
            continue
        parts = math.ceil(size / max_visits)
        sub_labels = _kmeans(points[members], weights[members], parts, seed + j + 1)
        for q in range(parts):
            chosen = [members[t] for t in range(len(members)) if sub_labels[t] == q]
            if chosen:
                out_visits.append([i for gi in chosen for i in groups[gi]])
                out_centres.append(np.average(points[chosen], axis=0, weights=weights[chosen]))
    return out_visits, np.array(out_centres)


#: The weight of one visit that requires (or is pinned to) a worker when workers are shared out.
_HARD_PULL = 100_000
#: The weight of one previous-plan visit of a worker (more than any number of regular seniors).
_PREVIOUS_PULL = 1_000
#: The weight of frozen work: its worker goes to its area whatever the quota (the work has happened,
#: and an area without its worker would plan it again: the checker's ``frozen_changed``).
_FROZEN_PULL = 100 * _HARD_PULL


def _share_workers(problem: Problem, area_visits: list[list[int]], centres: np.ndarray) -> list[list[int]]:
    """Workers to areas: each kind in proportion to the area's minutes for it, nearest first; a worker
    required by (or pinned to) an area's visits goes there first, then regular carers to their seniors.
    On a re-plan a worker goes where their previous-plan visits are (frozen ones as hard as a pin),
    so a published stop stays within reach of its worker."""
    k = len(area_visits)
    frozen = frozen_visits(problem)
    previous: dict[str, list[tuple[str, int]]] = {}
    for pv in problem.previous_plan:
        previous.setdefault(pv.visit_id, []).append(
            (pv.worker_id, _FROZEN_PULL if pv.visit_id in frozen else _PREVIOUS_PULL))
    kinds = sorted({w.kind for w in problem.workers}, key=lambda x: x.value)
    preferred_in: list[dict[str, int]] = []
    for vs in area_visits:
        counts: dict[str, int] = {}
        for i in vs:
            visit = problem.visits[i]
            for wid in visit.preferred_workers:
                counts[wid] = counts.get(wid, 0) + 1
            # A visit only some workers may do (required, pinned) pulls them harder than any
            # number of regular seniors: elsewhere they could never do it.
            for wid in {*visit.required_workers, *([visit.pinned_worker] if visit.pinned_worker else [])}:
                counts[wid] = counts.get(wid, 0) + _HARD_PULL
            for wid, pull in previous.get(visit.id, ()):
                counts[wid] = counts.get(wid, 0) + pull
        preferred_in.append(counts)
    out: list[list[int]] = [[] for _ in range(k)]
    for kind in kinds:
        pool = [wi for wi, w in enumerate(problem.workers) if w.kind == kind]
        demand = np.array([
            sum(problem.visits[i].duration * problem.visits[i].workers_needed for i in vs
                if not problem.visits[i].worker_kinds or kind in problem.visits[i].worker_kinds)
            for vs in area_visits
        ], dtype=float)
        if demand.sum() == 0:
            demand = np.array([len(vs) for vs in area_visits], dtype=float)
        quota = np.floor(demand / demand.sum() * len(pool)).astype(int)
        for j in np.argsort(-(demand / demand.sum() * len(pool) - quota))[: len(pool) - quota.sum()]:
            quota[j] += 1
        pairs = []
        for wi in pool:
            wp = np.array(_coords(problem, problem.workers[wi].start_location))
            for j in range(k):
                # Continuity first: a worker goes where their regular seniors are.
                regulars = preferred_in[j].get(problem.workers[wi].id, 0)
                pairs.append((-regulars, float(((wp - centres[j]) ** 2).sum()), wi, j))
        pairs.sort()
        taken: set[int] = set()
        for pull, _, wi, j in pairs:
            if wi in taken or (quota[j] <= 0 and -pull < _FROZEN_PULL):
                continue
            out[j].append(wi)
            taken.add(wi)
            quota[j] -= 1
    return out


def _sub_problem(problem: Problem, visit_idx: list[int], worker_idx: list[int], whole: dict[int, np.ndarray]) -> Area:
    """The area's problem with its own (smaller) location index and matrices (``whole``: a dense
    matrix of the day as one numpy array, made for the first area and reused by the others; a
    lazy one computes just the area's block)."""
    visits = [problem.visits[i] for i in visit_idx]
    workers = [problem.workers[i] for i in worker_idx]
    used = sorted(
        {v.location for v in visits} | {v.exit_location for v in visits}
        | {w.start_location for w in workers} | {w.end_location for w in workers}
    )
    remap = {old: new for new, old in enumerate(used)}
    idx = np.array(used)
    made: dict[int, object] = {}

    ids = {v.id for v in visits}
    here = {w.id for w in workers}
    new_visits = tuple(
        replace(
            v,
            location=remap[v.location],
            end_location=None if v.end_location is None else remap[v.end_location],
            preferred_workers=v.preferred_workers & here,
            forbidden_workers=v.forbidden_workers & here,
        )
        for v in visits
    )
    new_workers = tuple(
        replace(w, start_location=remap[w.start_location], end_location=remap[w.end_location]) for w in workers
    )
    worker_ids = {w.id for w in workers}
    sub_problem = replace(
        problem,
        locations=tuple(problem.locations[i] for i in used),
        travel_times={m: _area_matrix(t, idx, whole, made, False) for m, t in problem.travel_times.items()},
        distances={m: _area_matrix(t, idx, whole, made, True) for m, t in problem.distances.items()},
        workers=new_workers,
        visits=new_visits,
        dependencies=tuple(d for d in problem.dependencies if d.before in ids and d.after in ids),
        rides=tuple(r for r in problem.rides if r.pickup in ids and r.dropoff in ids),
        previous_plan=tuple(
            pv for pv in problem.previous_plan if pv.visit_id in ids and pv.worker_id in worker_ids
        ),
    )
    return Area(sub_problem, tuple(v.id for v in visits), tuple(w.id for w in workers), tuple(used))
