"""Our own large-neighbourhood search: remove related visits, re-insert them exactly.

OR-Tools' local search cannot see cross-route rules (two workers starting together, a visit
a set time after another), so on home-care days it mostly rejects its own moves late and
stops improving.  This search works on whole visits instead: it removes a handful of
related visits (close in place and time, or one worker's stretch of the day) together with
anything that depends on them, then re-inserts them and every unplaced visit with the
sync-aware insertion of ``construct.Builder`` (which schedules start times exactly and
keeps linked visits' starts fixed).  A new plan is kept when it is cheaper, or slightly
dearer with a small, shrinking probability (simulated annealing), so the search can leave
a local optimum.

On a re-plan (a previous plan is given) it also makes room on purpose for work left out that
fits only if something gives way (``optimizer.displace``): a sweep before the rounds, then a
share of the rounds.

It stops when its stopping criterion (``optimizer.stop``) says so: a number of rounds, a
deadline, a cancel; with a round limit only, it is deterministic for a given seed.
"""

from __future__ import annotations

import logging
import math
import random
from operator import itemgetter
from collections.abc import Iterable
from dataclasses import dataclass

from optimizer.construct import Builder, insertion_order
from optimizer.displace import displace_round, sweep
from optimizer.model import Problem
from optimizer.stop import StoppingCriterion
from optimizer.timing import FixedStarts, RouteState

log = logging.getLogger(__name__)

_visit_of = itemgetter(0)
"""A stop's visit index (a C call: ``remove`` looks through every route's stops each time)."""

SA_START = 0.002
"""Start temperature of the annealing, as a share of the first plan's cost less its drop
penalties (``annealing_scale``)."""
SA_END = 0.00005
"""End temperature, as a share of the same."""
SA_DEFAULT_ROUNDS = 1000
BLINK = 0.02
"""Share of insertion positions the reinsertion skips at random, so that the same removal
can lead to different plans (SISR's blinks)."""

DISPLACE_SHARE = 0.15
"""Share of a re-plan's rounds that are displacement moves (``optimizer.displace``)."""
DISPLACE_SWEEP_SHARE = 0.5
"""Most of a re-plan's LNS time the displacement sweep before the rounds may take."""

FREED_MARGIN = 90
"""Minutes around the removed visits' starts in which an unplaced visit may now fit."""


def chosen_set(chosen: list[int], dependents: dict[int, list[int]]) -> set[int]:
    """The visits a removal of ``chosen`` takes out: them and what depends on them."""
    out: set[int] = set()
    stack = list(chosen)
    while stack:
        x = stack.pop()
        if x not in out:
            out.add(x)
            stack.extend(dependents.get(x, []))
    return out


class RemovalBreaksRoute(Exception):
    """Taking a visit out made its route infeasible (travel times not metric, breaks)."""


@dataclass
class LnsStats:
    iterations: int = 0
    improvements: int = 0
    start_cost: int = 0
    best_cost: int = 0


def plan_cost(builder: Builder) -> int:
    """The objective (``optimizer.objective``) of the builder's plan: what ``evaluate``
    reports for it."""
    return builder.cost.cost(builder.timed_routes(waiting=builder.p.weights.wait_minute > 0))


def annealing_scale(builder: Builder, cost: int) -> int:
    """The part of a plan's ``cost`` the annealing's temperature is a share of: all but what
    leaving each unplaced visit out costs (``Objective.drop``: its drop penalty and, on a
    re-plan, its previous-plan entries counted as changes).  Published stops that moved stay
    in it (each a ``changed_from_previous``): on a re-plan they are what the search trades.

    Why not the whole cost: a first plan that leaves mandatory visits out costs 10,000,000 a
    visit, so on the 1x Kielce day given VROOM's 220 visits (15 out after the construction)
    the temperature ended at 7,500, 750 travel minutes: the search wandered on travel to the
    end and kept whatever best it met by chance (1,712-2,327 travel minutes at 10 s against
    1,499 from VROOM's plan, whose cost has no drops).  Placing a visit lowers the cost by its
    whole penalty, so it is taken at any temperature; the temperature is for trading travel,
    lateness and preferences, and is now a share of those.
    """
    placed = builder.placed
    return cost - sum(builder.cost.drop(vi) for vi in range(len(builder.p.visits)) if vi not in placed)


class Search:
    def __init__(self, builder: Builder, seed: int) -> None:
        self.b = builder
        self.rng = random.Random(seed)
        self.displace_rng = random.Random(seed + 1)
        """Draws of the re-plan's displacement rounds (``optimizer.displace``), apart from
        ``rng`` so the other rounds draw as they would without them."""
        p = builder.p
        by_worker: dict[int, list[int]] = {}
        for r in builder.routes:
            by_worker.setdefault(r.worker_index, []).append(r.vehicle)
        self.vehicles_of = [[v for wi in builder.eligible[vi] for v in by_worker.get(wi, [])]
                            for vi in range(len(p.visits))]
        self.near: dict[int, list[int]] = {}
        self.order = insertion_order(p, builder.pins, builder.eligible)
        """Hardest first (``construct.insertion_order``), computed once."""
        self.linked = bool(p.dependencies) or any(v.workers_needed > 1 for v in p.visits)
        self.dependents: dict[int, list[int]] = {}
        for d in p.dependencies:
            a, c = builder.index[d.before], builder.index[d.after]
            self.dependents.setdefault(a, []).append(c)
            if d.max_delay is not None or d.both_or_neither:
                # A pair held within a delay window leaves together: with the first visit's
                # start fixed, the second could only go back where it was, and vice versa.
                self.dependents.setdefault(c, []).append(a)

    # ------------------------------------------------------------------ state

    def snapshot(self) -> tuple:
        """The plan as it stands, to go back to (``restore``).  A route's lists are kept, not
        copied: they are never changed in place (``RouteState.apply`` replaces them), and
        copying every route's lists was a twentieth of a round on the demo day."""
        b = self.b
        return ([(r.stops, r.starts, r.span, r.travel, r.departure, r.end, r.breaks) for r in b.routes],
                dict(b.fixed), set(b.placed))

    def restore(self, snap: tuple) -> None:
        routes, fixed, placed = snap
        self.b.routes = [RouteState(v, wi, si, *parts)
                         for (v, (wi, si)), parts in zip(enumerate(self.b.vehicles), routes)]
        if isinstance(self.b.fixed, FixedStarts):
            self.b.fixed.set_to(fixed)  # in place: the kept passes of untouched routes hold
        elif self.b.fixed != fixed:
            self.b.fixed = FixedStarts(fixed)
        self.b.placed = set(placed)

    def cost(self) -> int:
        return plan_cost(self.b)

    def remove_all(self, chosen: Iterable[int]) -> list[int] | None:
        """``remove`` of each of ``chosen``; None if a removal broke a route (the caller
        restores its snapshot)."""
        out: list[int] = []
        try:
            for vi in chosen:
                out.extend(self.remove(vi))
        except RemovalBreaksRoute:
            return None
        return out

    def leaving_with(self, vi: int) -> set[int] | None:
        """``vi`` and every placed visit that must leave the plan with it (its ride's other leg,
        what depends on it, transitively); None if one of them is pinned.

        Why: a pinned visit stays, so the visit it depends on must stay too.  Taking out the
        ``before`` of a pinned ``after`` left the ``after`` planned alone when the ``before`` did
        not fit back (the checker's dependency_before_unassigned; found by the objective property
        test)."""
        b = self.b
        group: set[int] = set()
        stack = [vi]
        while stack:
            x = stack.pop()
            if x in group or x not in b.placed:
                continue
            ride = b.ride_at.get(x)
            members = {x} if ride is None else {ride[0], ride[1]}
            if any(b.p.visits[y].id in b.pins for y in members):
                return None
            group |= members
            for y in members:
                stack.extend(self.dependents.get(y, []))
        return group

    def remove(self, vi: int, where: dict[int, list[int]] | None = None) -> list[int]:
        """Take ``vi`` (all its copies) and every placed visit depending on it out of the plan;
        nothing if one of those is pinned (``leaving_with``).  ``where``: the vehicles each
        placed visit is on, if the caller has them (``run`` collects them once a round); it
        stays true while visits only leave, so one serves a round's removals (looking through
        every route for each visit was a tenth of an LNS round on the demo day)."""
        b = self.b
        out: list[int] = []
        if self.leaving_with(vi) is None:
            return out
        stack = [vi]
        while stack:  # (nothing pinned is reached: ``leaving_with`` said so)
            x = stack.pop()
            if x not in b.placed:
                continue
            ride = b.ride_at.get(x)
            group = {x} if ride is None else {ride[0], ride[1]}  # a ride leaves the car whole
            for y in group:
                b.placed.discard(y)
                b.fixed.pop(y, None)
                out.append(y)
            if where is None:
                routes = [route for route in b.routes if not group.isdisjoint(map(_visit_of, route.stops))]
            else:
                routes = [b.routes[v] for v in sorted({v for y in group for v in where.get(y, ())})]
            for route in routes:
                if not b.retime_without(route, group):
                    # A removal can break a route (triangle inequality, breaks): undo the round.
                    w = b.p.workers[route.worker_index]
                    raise RemovalBreaksRoute(f"removing a visit breaks {w.id}'s route in shift {route.shift_index}")
            for y in group:
                stack.extend(self.dependents.get(y, []))
        return out

    # ------------------------------------------------------------------ neighbourhoods

    def _related(self, k: int) -> list[int]:
        """A random placed visit and the k-1 placed visits nearest to it in place and time."""
        b = self.b
        placed = sorted(b.placed)
        if not placed:
            return []
        seed = self.rng.choice(placed)
        starts = {}
        for route in b.routes:
            for (vi, _), s in zip(route.stops, route.starts):
                starts[vi] = s
        p = b.p
        matrix = next(iter(p.travel_times.values()))
        loc = p.visits[seed].location
        scored = sorted(
            placed,
            key=lambda vi: matrix[loc][p.visits[vi].location] + abs(starts.get(vi, 0) - starts.get(seed, 0)) / 4
            + self.rng.random() * 5,
        )
        return scored[:k]

    def _route_stretch(self, k: int) -> list[int]:
        """A run of consecutive visits of one worker."""
        routes = [r for r in self.b.routes if r.stops]
        if not routes:
            return []
        route = self.rng.choice(routes)
        start = self.rng.randrange(len(route.stops))
        return [vi for vi, _ in route.stops[start : start + k]]

    def _unplaced_neighbours(self, k: int) -> list[int]:
        """Visits placed near an unplaced one: making room where the plan is short."""
        b = self.b
        missing = [vi for vi in range(len(b.p.visits)) if vi not in b.placed]
        if not missing:
            return self._related(k)
        target = self.rng.choice(missing)
        p = b.p
        matrix = next(iter(p.travel_times.values()))
        loc = p.visits[target].location
        window = p.visits[target].windows[0]
        starts = {}
        for route in b.routes:
            for (vi, _), s in zip(route.stops, route.starts):
                starts[vi] = s
        scored = sorted(
            b.placed,
            key=lambda vi: abs(starts[vi] - window.start) / 2 + matrix[loc][p.visits[vi].location]
            + self.rng.random() * 5,
        )
        return scored[: k - 1]

    def _make_room(self, k: int) -> tuple[list[int], int | None]:
        """Clear the time an unplaced visit needs on as many eligible routes as it needs workers.

        ``_unplaced_neighbours`` frees room near a missing visit, scattered over routes; a
        two-person visit needs two workers free at the same minutes, which scattered removals
        almost never give (Kielce demo day: 2 of 5 two-person visits placed against 212 of
        231 single ones).  Here one missing visit (mandatory, higher-priority and two-person
        ones drawn more often) picks one of its windows and ``workers_needed`` eligible
        routes whose shift covers it, and everything those routes do in that stretch leaves;
        the missing visit is then inserted first.  Returns (visits to remove, the target).

        Used on every day, not only linked ones (until 2026-12-07): a one-person visit only a
        few qualified workers may do is short of room the same way (the 1x Kielce day given
        VROOM's 220 visits: the last ones left out were visits 4 workers may do).
        """
        b = self.b
        p = b.p
        missing = [vi for vi in range(len(p.visits)) if vi not in b.placed and self.vehicles_of[vi]
                   and p.visits[vi].id not in b.pins and vi not in b.ride_at]
        if not missing:
            return self._unplaced_neighbours(k), None
        weights = [(10 if p.visits[vi].mandatory else 1) * p.visits[vi].priority * p.visits[vi].workers_needed
                   for vi in missing]
        target = self.rng.choices(missing, weights=weights)[0]
        visit = p.visits[target]
        lo, hi = self.rng.choice(b.windows[target])
        routes = []
        for v in set(self.vehicles_of[target]):
            route = b.routes[v]
            shift = p.workers[route.worker_index].shifts[route.shift_index]
            if shift.start <= hi and shift.end >= lo + visit.duration:
                routes.append(route)
        if len(routes) < visit.workers_needed:
            return self._unplaced_neighbours(k), None
        self.rng.shuffle(routes)
        # Prefer routes with the least work in the stretch: they give way most cheaply.
        begin, finish = lo - visit.duration - FREED_MARGIN, hi + visit.duration + FREED_MARGIN
        busy = {route.vehicle: [vi for (vi, _), s in zip(route.stops, route.starts) if begin <= s <= finish]
                for route in routes}
        routes.sort(key=lambda r: len(busy[r.vehicle]) + self.rng.random() * 2)
        out: list[int] = []
        for route in routes[: visit.workers_needed]:
            out.extend(vi for vi in busy[route.vehicle] if vi not in out)
        return out, target

    def _strings(self, k: int) -> list[int]:
        """Strings of consecutive visits from the routes passing nearest a random visit.

        The removal of slack induction by string removals (Christiaens and Vanden Berghe,
        2020): cutting short runs out of several neighbouring routes at once lets the
        reinsertion re-draw where those routes meet, which removing scattered visits does not.
        """
        b = self.b
        placed = sorted(b.placed)
        if not placed:
            return []
        seed = self.rng.choice(placed)
        where: dict[int, tuple[int, int]] = {}
        for route in b.routes:
            for pos, (vi, _) in enumerate(route.stops):
                where.setdefault(vi, (route.vehicle, pos))
        longest = max(1, min(10, k // 2))
        out: list[int] = []
        done: set[int] = set()
        for vi in self._nearest(seed):
            if len(out) >= k:
                break
            if vi not in where:
                continue
            v, pos = where[vi]
            if v in done:
                continue
            done.add(v)
            stops = b.routes[v].stops
            length = self.rng.randint(1, min(longest, len(stops)))
            first = self.rng.randint(max(0, pos - length + 1), min(pos, len(stops) - length))
            out.extend(x for x, _ in stops[first:first + length] if x not in out)
        return out

    def _nearest(self, vi: int) -> list[int]:
        """Visits by travel time from ``vi`` (itself first), computed once per visit."""
        hit = self.near.get(vi)
        if hit is None:
            p = self.b.p
            matrix = next(iter(p.travel_times.values()))
            loc = p.visits[vi].location
            hit = sorted(range(len(p.visits)), key=lambda x: (matrix[loc][p.visits[x].location], x != vi, x))
            self.near[vi] = hit
        return hit

    def _reinsertion_order(self, todo: set[int]) -> list[int]:
        """Hardest first most of the time; otherwise random, far-from-start first or by window.

        Greedy reinsertion in one fixed order rebuilds the same plan again and again; varied
        orders (as SISR does) let the same removal lead to different plans.  Visits that
        must follow others still come after them (``insertion_order`` keeps chains).
        """
        order = [vi for vi in self.order if vi in todo]
        pick = self.rng.random()
        p = self.b.p
        if pick < 0.25:
            self.rng.shuffle(order)
        elif pick < 0.4:
            matrix = next(iter(p.travel_times.values()))
            home = p.workers[0].start_location if p.workers else 0
            order.sort(key=lambda vi: -matrix[home][p.visits[vi].location])
        elif pick < 0.55:
            order.sort(key=lambda vi: min(w.start for w in p.visits[vi].windows))
        return order

    def _may_fit(self, vi: int, freed: dict[int, tuple[int, int]]) -> bool:
        windows = self.b.windows[vi]
        for v in self.vehicles_of[vi]:
            span = freed.get(v)
            if span is None:
                continue
            lo, hi = span[0] - FREED_MARGIN, span[1] + FREED_MARGIN
            if any(a <= hi and b >= lo for a, b in windows):
                return True
        return False

    # ------------------------------------------------------------------ search

    @staticmethod
    def _temperature(t_start: float, t_end: float, it: int, stop: StoppingCriterion) -> float:
        """Geometric cooling from ``t_start`` to ``t_end`` over the run (the share of ``stop``'s
        rounds or seconds used).

        Cooling per round made long runs greedy after a thousand rounds, however long the
        budget; cooling over the share of the budget used keeps accepting small worsenings
        (and so leaving local optima) until near the end.  Without any limit it cools as if
        the run were ``SA_DEFAULT_ROUNDS`` long.
        """
        done = stop.fraction()
        if done is None:
            done = it / SA_DEFAULT_ROUNDS
        return t_start * (t_end / t_start) ** min(1.0, done)

    def run(self, stop: StoppingCriterion, on_improvement=None) -> LnsStats:
        b = self.b
        stats = LnsStats()
        current = best = plan_cost(b)
        stats.start_cost = stats.best_cost = current
        best_snap = self.snapshot()
        started = stop.clock()
        scale = annealing_scale(b, current)
        t_start = max(1.0, SA_START * scale)
        t_end = max(0.1, SA_END * scale)
        temperature = t_start
        n = len(b.p.visits)
        replan = bool(b.p.previous_plan)
        if replan:
            # Work left out that fits only if something gives way: tried on purpose first.
            left = stop.remaining()
            swept = stop.clock()
            until = None if left is None else stop.clock() + left * DISPLACE_SWEEP_SHARE
            current, placed = sweep(self, current, lambda: stop.cancelled or (
                until is not None and stop.clock() > until))
            log.info("displacement sweep: %d left-out units placed, cost %d, %.2f s", placed, current,
                     stop.clock() - swept)
            if current < best:
                best, best_snap = current, self.snapshot()
                stats.improvements += 1
                if on_improvement is not None:
                    on_improvement(0, current, len(b.placed), stop.clock() - started)
        it = 0
        while not stop():  # a deadline, a round limit or a cancel: the best plan so far stays
            it += 1
            if replan and self.displace_rng.random() < DISPLACE_SHARE:
                cost = displace_round(self, current)
                if cost is not None:
                    current = cost
                    if cost < best:
                        best, best_snap = cost, self.snapshot()
                        stats.improvements += 1
                        if on_improvement is not None:
                            on_improvement(it, cost, len(b.placed), stop.clock() - started)
                temperature = self._temperature(t_start, t_end, it, stop)
                continue
            snap = self.snapshot()
            k = self.rng.randint(3, max(4, min(25, n // 8 + 3)))
            pick = self.rng.random()
            first: int | None = None
            if pick < 0.3:
                chosen = self._related(k)
            elif pick < 0.45:
                chosen = self._route_stretch(k)
            elif pick < 0.75:
                chosen = self._strings(k)
            elif pick < 0.9:
                chosen = self._unplaced_neighbours(k)
            else:
                chosen, first = self._make_room(k)
            removed: list[int] = []
            freed: dict[int, tuple[int, int]] = {}
            taken = chosen_set(chosen, self.dependents)
            where: dict[int, list[int]] = {}
            for route in b.routes:
                v = route.vehicle
                for (vi, _), start in zip(route.stops, route.starts):
                    on = where.get(vi)
                    if on is None:
                        where[vi] = [v]
                    else:
                        on.append(v)
                    if vi in taken:
                        lo, hi = freed.get(v, (start, start))
                        freed[v] = (min(lo, start), max(hi, start))
            try:
                for vi in chosen:
                    removed.extend(self.remove(vi, where))
            except RemovalBreaksRoute:
                self.restore(snap)
                continue
            if self.linked:
                b.retime_linked()  # what stayed may now start earlier: room for the reinsertion
            # Unplaced visits get another try only where this round freed room (in time too).
            todo = set(removed) | {
                vi for vi in range(n)
                if vi not in b.placed and self._may_fit(vi, freed)
            }
            order = self._reinsertion_order(todo)
            if first is not None:
                order = [first] + [vi for vi in order if vi != first]
            b.blink, b.blink_rng = BLINK, self.rng
            try:
                for vi in order:
                    if vi not in b.placed:
                        b.insert(vi)
            finally:
                b.blink = 0.0
            b.drop_orphans()
            cost = plan_cost(b)
            if cost < current or self.rng.random() < math.exp(-(cost - current) / temperature):
                current = cost
                if cost < best:
                    best = cost
                    best_snap = self.snapshot()
                    stats.improvements += 1
                    if on_improvement is not None:
                        on_improvement(it, cost, len(b.placed), stop.clock() - started)
            else:
                self.restore(snap)
            temperature = self._temperature(t_start, t_end, it, stop)
        self.restore(best_snap)
        stats.iterations = it
        stats.best_cost = best
        return stats


def improve(builder: Builder, *, seed: int, stop: StoppingCriterion, on_improvement=None) -> LnsStats:
    """Improve the builder's plan in place until ``stop`` says so (asked once per round:
    ``MaxIterations(n)`` runs n rounds); return what the search did.  A cancel or a deadline
    keeps the best plan found so far.

    ``on_improvement(round, cost, visits placed, seconds)`` is called on each new best.
    """
    return Search(builder, seed).run(stop, on_improvement)


__all__ = ["improve", "plan_cost", "LnsStats", "Problem"]
