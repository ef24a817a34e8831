"""Displacement: a re-plan's move that makes room on one route for work the plan leaves out.

Why a move of its own: on a re-plan every published stop sits at its published start
(``optimizer.warm``) and costs ``changed_from_previous`` when it moves, and the LNS puts the
stops it removed back first (``construct.insertion_order`` ranks the previous plan's visits
ahead of new work), each where it was.  So work that fits only if something gives way -- a
visit added to the day that needs a less important one's time, a broken car's ride that needs
a gap in another car's route -- stays out: random removals rarely clear the right stretch of
the right route, and when they do the old stops take it back.  Measured on the Kielce day
before this move (benchmarks/README.md, issue 16): one visit added left out; a broken car's
ride legs 8 of 10 left out.

The move, for one left-out *unit* (a visit, or a ride with both legs and everything linked
to it: its escort, its return trip): pick a route that can carry the unit's first piece
(a ride's driver with room in the car, a shift covering its windows), take out a short run of
that route's stops in the time it needs -- only stops that matter no more than the unit,
never frozen or pinned work -- insert the unit first (a ride as a whole, on one car and
driver), clearing one more route for a later piece that does not fit (an escort, a return
trip), then put the removed stops back -- at their published start where that is the
cheaper place (``Builder.reinsert``), else wherever they fit now, often another car's gaps --
and keep the result only if the objective (``optimizer.objective``) is lower.  A run of
stops that leaves can be a whole ride too (``Mover.remove_all`` takes a ride out whole), so
a ride can also be *re-assigned* to another car to make room.

Used by the LNS (``optimizer.lns``) only when the problem has a previous plan: a sweep over
the left-out units before its rounds, then a share of its rounds.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from optimizer.construct import Builder, insertion_order
from optimizer.objective import drop_rank

MAX_RUN = 3
"""Most consecutive stops of one route a trial takes out (each may move: 50,000 by default)."""
MARGIN = 20
"""Minutes before and after a piece's windows in which a route's stops are in its way
(travel to and from it)."""
SWEEP_TRIES = 12
"""Trials per left-out unit in the sweep before the LNS rounds."""
ROUND_CHOICES = 6
"""A displacement round draws its trial among this many of the unit's cheapest."""


class Mover(Protocol):
    """What the move needs of the search it runs in (``optimizer.lns.Search``)."""

    b: Builder
    displace_rng: random.Random
    order: list[int]
    """``construct.insertion_order`` of the problem, computed once."""

    def remove_all(self, chosen: Iterable[int]) -> list[int] | None:
        """Take ``chosen`` (and what goes with each) out; None if a route broke (restore then)."""
        ...

    def snapshot(self) -> tuple: ...

    def restore(self, snap: tuple) -> None: ...

    def cost(self) -> int:
        """The objective of the plan as it stands (``optimizer.objective``)."""
        ...


@dataclass(frozen=True)
class Trial:
    """Clear ``victims`` (placed visit indices, in route order) on ``vehicle`` for a unit."""

    vehicle: int
    victims: tuple[int, ...]
    value: int
    """What the victims would cost if all were left out: the cheaper trials are tried first."""


# ---------------------------------------------------------------------- units and pieces


def unit_of(b: Builder, vi: int, order: list[int] | None = None) -> list[int]:
    """The left-out visits that go with ``vi``: its ride's other leg, the visits linked to it
    by a dependency either way (escorts, the return trip), transitively; in insertion order."""
    seen: set[int] = set()
    stack = [vi]
    while stack:
        x = stack.pop()
        if x in seen or x in b.placed:
            continue
        seen.add(x)
        ride = b.ride_at.get(x)
        if ride is not None:
            stack.extend(ride[:2])
        stack.extend(a for a, _, _ in b.before.get(x, []))
        stack.extend(c for c, _, _ in b.after.get(x, []))
    return [x for x in (order if order is not None else insertion_order(b.p, b.pins, b.eligible)) if x in seen]


def left_out_units(b: Builder, order: list[int]) -> list[list[int]]:
    """Every left-out unit that can go somewhere, the most valuable first (what leaving it
    out costs: ``Objective.drop`` of its visits).  ``order``: ``insertion_order``."""
    units: list[list[int]] = []
    done: set[int] = set()
    for vi in order:
        if vi in b.placed or vi in done or not b.eligible[vi]:
            continue
        unit = unit_of(b, vi, order)
        done.update(unit)
        units.append(unit)
    return sorted(units, key=lambda u: -unit_value(b, u))


def unit_value(b: Builder, unit: Iterable[int]) -> int:
    return sum(b.cost.drop(x) for x in unit)


def unit_rank(b: Builder, unit: Iterable[int]) -> int:
    """The unit's importance: its most important visit's ``drop_rank``.  Stops that rank
    higher are never taken out for it."""
    return max(drop_rank(b.p, b.p.visits[x]) for x in unit)


def pieces(b: Builder, unit: list[int]) -> list[tuple[int, ...]]:
    """The unit as what goes on one route together (a ride's two legs, or one visit), each
    piece after the pieces its visits follow (a return trip after the outbound ride, an
    escort after its pickup): the first piece is the one the rest hang on."""
    found: list[tuple[int, ...]] = []
    seen: set[int] = set()
    for vi in unit:
        if vi in seen:
            continue
        ride = b.ride_at.get(vi)
        piece = (ride[0], ride[1]) if ride is not None else (vi,)
        seen.update(piece)
        found.append(piece)
    members = set(unit)
    out: list[tuple[int, ...]] = []
    done: set[int] = set()
    while found:
        ready = next((pc for pc in found
                      if all(a in done or a not in members for x in pc for a, _, _ in b.before.get(x, []))),
                     found[0])  # (a cycle cannot be planned anyway: keep the order)
        found.remove(ready)
        out.append(ready)
        done.update(ready)
    return out


# ---------------------------------------------------------------------- where to make room


def _span(b: Builder, piece: tuple[int, ...]) -> tuple[int, int]:
    """Minutes the piece may occupy: its first window's start to its last visit's latest end,
    widened by ``MARGIN``."""
    p = b.p
    lo = min(w.start for w in p.visits[piece[0]].windows)
    hi = max(b.latest_start[x] + p.visits[x].duration for x in piece)
    return lo - MARGIN, hi + MARGIN


def _can_carry(b: Builder, vehicle: int, piece: tuple[int, ...]) -> bool:
    """Whether the route's worker may do every visit of the piece, with room in the car for
    a ride and a shift that meets the piece's span."""
    route = b.routes[vehicle]
    wi = route.worker_index
    if any(wi not in b.eligible[x] for x in piece):
        return False
    worker = b.p.workers[wi]
    for x in piece:
        pin = b.pins.get(b.p.visits[x].id)
        if pin is not None and pin[0] and worker.id not in pin[0]:
            return False
    ride = b.ride_at.get(piece[0])
    if ride is not None and any(q > worker.capacity.get(k, 0) for k, q in ride[2].items()):
        return False
    shift = worker.shifts[route.shift_index]
    lo, hi = _span(b, piece)
    return shift.start < hi and b.end_limit[(wi, route.shift_index)] > lo


def trials(b: Builder, piece: tuple[int, ...], rank: int, keep: frozenset[int] = frozenset()) -> list[Trial]:
    """Runs of at most ``MAX_RUN`` consecutive stops in the piece's way on every route that
    could carry it, the cheapest first: stops of the unit's rank or below, not frozen or
    pinned, not in ``keep`` (the unit's pieces already placed).  A run ends at a stop that
    may not leave."""
    p = b.p
    lo, hi = _span(b, piece)
    vehicles = {v for x in piece[:1] for wi in b.eligible[x] for v in b.by_worker.get(wi, [])}
    out: list[Trial] = []
    for v in sorted(vehicles):
        if not _can_carry(b, v, piece):
            continue
        route = b.routes[v]
        kind = p.workers[route.worker_index].kind
        in_way = [(vi, vi not in keep and p.visits[vi].id not in b.pins and drop_rank(p, p.visits[vi]) <= rank)
                  for (vi, _), s in zip(route.stops, route.starts)
                  if s < hi and s + p.visits[vi].duration_for(kind) > lo]
        for first in range(len(in_way)):
            run: list[int] = []
            for vi, movable in in_way[first:first + MAX_RUN]:
                if not movable:
                    break
                run.append(vi)
                out.append(Trial(v, tuple(run), sum(b.cost.drop(x) for x in run)))
    out.sort(key=lambda t: (t.value, len(t.victims), t.vehicle, t.victims))
    return out


# ---------------------------------------------------------------------- the move


def attempt(m: Mover, unit: list[int], lead: Trial, current: int) -> int | None:
    """Clear ``lead`` for the unit's first piece, place the unit, put the removed stops back;
    the new cost if lower than ``current`` (the plan changed), else None (the plan as it was)."""
    b = m.b
    snap = m.snapshot()
    rank = unit_rank(b, unit)
    removed = m.remove_all(lead.victims)
    if removed is None:
        m.restore(snap)
        return None
    for k, piece in enumerate(pieces(b, unit)):
        if piece[0] in b.placed:
            continue
        if k == 0:
            # On the route cleared for it (elsewhere nothing changed); a two-person visit
            # needs a second route, any.
            b.only = {lead.vehicle} if b.p.visits[piece[0]].workers_needed == 1 else None
            try:
                b.insert(piece[0])
            finally:
                b.only = None
        elif not b.insert(piece[0]):
            # A later piece (an escort, a return trip) that does not fit: clear the cheapest
            # route for it too, once.
            more = next(iter(trials(b, piece, rank, frozenset(unit))), None)
            taken = m.remove_all(more.victims) if more is not None else None
            if taken is None:
                m.restore(snap)
                return None
            removed.extend(taken)
            b.insert(piece[0])
        if k == 0 and piece[0] not in b.placed:
            m.restore(snap)
            return None
    gone = set(removed)
    for vi in m.order:
        if vi in gone and vi not in b.placed:
            put_back(b, vi)
    b.drop_orphans()
    cost = m.cost()
    if cost < current:
        return cost
    m.restore(snap)
    return None


def put_back(b: Builder, vi: int) -> bool:
    """Insert a stop that gave way, back at its previous-plan start where that is the cheaper
    place (``Builder.reinsert``)."""
    starts = {s for (x, _), s in b.previous_start.items() if x == vi}
    return b.reinsert(vi, starts.pop() if len(starts) == 1 else None)


def sweep(m: Mover, current: int, out_of_time: Callable[[], bool]) -> tuple[int, int]:
    """Each left-out unit, the most valuable first: its cheapest trials (at most
    ``SWEEP_TRIES``) until one lowers the objective.  Returns (cost, units placed).
    ``out_of_time()`` is asked before each trial."""
    placed = 0
    for unit in left_out_units(m.b, m.order):
        if any(vi in m.b.placed for vi in unit):
            continue  # placed since, with an earlier unit's displaced stops
        for lead in trials(m.b, pieces(m.b, unit)[0], unit_rank(m.b, unit))[:SWEEP_TRIES]:
            if out_of_time():
                return current, placed
            cost = attempt(m, unit, lead, current)
            if cost is not None:
                current, placed = cost, placed + 1
                break
    return current, placed


def displace_round(m: Mover, current: int) -> int | None:
    """One LNS round: a left-out unit drawn by value, one of its cheapest trials at random;
    the new cost if the plan got cheaper, else None (unchanged)."""
    b = m.b
    units = left_out_units(b, m.order)
    if not units:
        return None
    unit = m.displace_rng.choices(units, weights=[unit_value(b, u) for u in units])[0]
    options = trials(b, pieces(b, unit)[0], unit_rank(b, unit))[:ROUND_CHOICES]
    if not options:
        return None
    return attempt(m, unit, m.displace_rng.choice(options), current)
