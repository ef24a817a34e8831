"""A re-plan's first plan starts from the previous plan itself, where it still holds.

Why not rebuild it by insertion: cheapest insertion times every stop at its earliest start in a
route that is still being filled in, so a stop lands earlier than it was, a break falls elsewhere,
the next stop no longer fits where it was, and one visit on another worker starts a cascade
(measured on the Kielce day with one visit added: rebuilt by insertion, 24 % of the published
stops changed before the search had even started).  Here the previous plan's routes are loaded as
they were, each stop at its previous start (held there: ``Plan.fixed``), dropping only what no
longer holds (a visit gone or changed so it no longer fits there, a worker's shift cut, a pin
elsewhere) with whatever is linked to it.  New work then goes where it fits without moving
anything, and the search moves published stops only where the objective says it pays
(``changed_from_previous``).
"""

from __future__ import annotations

from optimizer.construct import Builder
from optimizer.timing import FixedStarts


def seed_previous(builder: Builder) -> set[int]:
    """Load ``builder.p.previous_plan`` into the empty ``builder`` as far as it still holds; returns
    the visit indices placed (their starts fixed where the previous plan had them)."""
    p = builder.p
    if not p.previous_plan:
        return set()
    worker_index = {w.id: i for i, w in enumerate(p.workers)}
    entries: dict[int, list[tuple[int, int]]] = {}
    for pv in p.previous_plan:
        vi, wi = builder.index.get(pv.visit_id), worker_index.get(pv.worker_id)
        if vi is not None and wi is not None:
            entries.setdefault(vi, []).append((wi, pv.start))
    seats: dict[int, list[tuple[int, int]]] = {}
    """Visit -> [(vehicle, start)], one per copy: where it goes back."""
    for vi, es in entries.items():
        visit = p.visits[vi]
        starts = {s for _, s in es}
        pin = builder.pins.get(visit.id)
        if len(es) != visit.workers_needed or len(starts) != 1:
            continue
        start = starts.pop()
        if builder.window_at(vi, start) != start or (pin is not None and pin[1] is not None and pin[1] != start):
            continue
        seat = []
        for wi, _ in es:
            if wi not in builder.eligible[vi] or (pin is not None and pin[0] and p.workers[wi].id not in pin[0]):
                break
            vehicle = next((v for v in builder.by_worker.get(wi, [])
                            if p.workers[wi].shifts[builder.routes[v].shift_index].start <= start
                            <= builder.end_limit[(wi, builder.routes[v].shift_index)]), None)
            if vehicle is None:
                break
            seat.append((vehicle, start))
        else:
            seats[vi] = seat
    keep = _linked_whole(builder, set(seats), {vi: s[0][1] for vi, s in seats.items()})
    for _ in range(len(keep) + 1):
        fixed = {**builder.fixed, **{vi: seats[vi][0][1] for vi in keep}}
        changes = _routes(builder, keep, seats)
        failed = None
        for route, stops in changes:
            if builder.simulate(route, stops, fixed) is None:
                failed = _first_failing(builder, route, stops, fixed)
                break
        if failed is None:
            if builder.time_routes(changes, fixed, work_caps=True):
                builder.fixed = FixedStarts(fixed)
                builder.placed |= keep
                return keep
            return set()  # a working-time cap the previous plan breaks now: build it afresh
        keep = _linked_whole(builder, keep - {failed}, {vi: seats[vi][0][1] for vi in keep})
    return set()


def _routes(builder: Builder, keep: set[int], seats: dict[int, list[tuple[int, int]]]):
    by_vehicle: dict[int, list[tuple[int, int, int]]] = {}
    for vi in keep:
        for copy, (vehicle, start) in enumerate(seats[vi]):
            by_vehicle.setdefault(vehicle, []).append((start, vi, copy))
    return [(builder.routes[v], [(vi, copy) for _, vi, copy in sorted(stops)]) for v, stops in by_vehicle.items()]


def _first_failing(builder: Builder, route, stops, fixed) -> int:
    """The first stop of ``stops`` whose prefix can no longer be timed on ``route``."""
    for k in range(1, len(stops) + 1):
        if builder.simulate(route, stops[:k], fixed) is None:
            return stops[k - 1][0]
    return stops[-1][0]


def _linked_whole(builder: Builder, keep: set[int], start: dict[int, int]) -> set[int]:
    """``keep`` less every visit whose links no longer hold without the others: a ride's two legs
    both or neither, ``after`` only with its ``before`` at a delay still allowed, a both-or-neither
    ``before`` only with its ``after``."""
    keep = set(keep)
    changed = True
    while changed:
        changed = False
        for vi in list(keep):
            ride = builder.ride_at.get(vi)
            if ride is not None and not (ride[0] in keep and ride[1] in keep):
                keep.discard(vi)
                changed = True
                continue
            for before, low, high in builder.before.get(vi, []):
                gap = start[vi] - start[before] if before in keep else None
                if gap is None or gap < low or (high is not None and gap > high):
                    keep.discard(vi)
                    changed = True
                    break
        for a, b in builder.both:
            if a in keep and b not in keep:
                keep.discard(a)
                changed = True
    return keep
