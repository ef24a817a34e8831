"""A first plan built by our own insertion heuristic, aware of every cross-route rule.

OR-Tools' first-solution heuristics insert one node at a time, so they cannot place a
two-person visit (two nodes that must start together on two workers) and often fail the
whole first solution when such visits exist.  This module inserts visits in order of
difficulty (pinned, mandatory, two-person, dependency chains, tight windows first), each at
its cheapest feasible place, with starts of synchronised and dependent visits fixed once
placed.  The result seeds the OR-Tools search and is the fallback if that search fails.

Every insertion is timed exactly by the route-timing engine (``optimizer.timing``), so it
applies the same rules as the repair, the LNS and the explanations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

from optimizer.model import Problem, Visit
from optimizer.objective import Objective
from optimizer.stop import StoppingCriterion
from optimizer.timing import INF, Plan, RouteState

try:  # the position scan in C (optimizer/_scan.c), built at install when a compiler is there
    from optimizer import _scan as _compiled
except ImportError:  # pragma: no cover - an install without a C compiler
    _compiled = None

LINK_BREADTH = 6
"""Routes tried per visit when a linked pair is inserted together."""
LINK_TRIES = 8
"""Route pairs re-checked exactly, cheapest estimate first."""


@dataclass
class Construction:
    routes: list[RouteState]
    fixed_start: dict[int, int]
    placed: set[int]
    builder: "Builder | None" = None


class Builder(Plan):
    """Sequential cheapest insertion, every insertion timed exactly by the route-timing
    engine (``timing.Plan``)."""

    compiled_scan = True
    """Whether ``_candidates`` scans the routes in C (``optimizer._scan``) when it was built; the
    tests run both, and ``benchmarks/lns_speed.py --modes python`` the Python one."""

    def __init__(self, problem: Problem, vehicles: list[tuple[int, int]], eligible: list[list[int]]):
        super().__init__(problem, vehicles)
        self.eligible = eligible  # per visit: eligible worker indices
        self.cost = Objective(problem)
        """Every cost term (``optimizer.objective``): insertions are priced with it."""
        self.late_cap = 0
        """The plan's largest lateness before the current insertion (see ``insert``)."""
        self.blink = 0.0
        """Share of insertion positions skipped at random (set by the LNS: SISR's "blinks")."""
        self.blink_rng: random.Random | None = None
        self.only: set[int] | None = None
        """Routes (vehicles) insertions may use; None: all.  Set by ``optimizer.displace`` to
        place work on the one route it cleared for it."""
        self._offers: list[list[tuple] | None] = [None] * len(problem.visits)
        """Per visit, once asked for (``offers``): what its insertions need of each eligible worker."""
        self._penalties: dict[int, tuple[list, list, int, int]] = {}
        """Per vehicle, its route's time terms as last worked out without a kept pass
        (``route_penalty``), with the stops, starts and end they were for."""

    def offers(self, vi: int) -> list[tuple]:
        """Per eligible worker of visit ``vi``: (worker index, worker, the visit's duration for
        them, their durations per visit, their travel matrix, ``Objective.assignment``).

        Why kept: none of it changes during a solve, and the search asks for every visit's
        workers thousands of times (``_candidates``)."""
        kept = self._offers[vi]
        if kept is None:
            visit = self.p.visits[vi]
            kept = self._offers[vi] = [
                (wi, w, visit.duration_for(w.kind), self.durations[w.kind], self.p.travel_times[w.travel_mode],
                 self.cost.assignment(visit, w))
                for wi in self.eligible[vi] for w in (self.p.workers[wi],)]
        return kept

    # ------------------------------------------------------------------ costs

    def time_penalty(self, route: RouteState, stops: list[tuple[int, int]], starts: list[int], end: int) -> int:
        """Lateness and overtime of a timed route, in objective units."""
        return self.cost.route_time_cost(route.worker_index, route.shift_index, stops, starts, end)

    def max_late(self, stops: list[tuple[int, int]], starts: list[int]) -> int:
        """The largest lateness of one visit among ``stops`` (0 if none is late)."""
        return self.cost.max_late(stops, starts) if self.soft else 0

    def plan_max_late(self) -> int:
        """The largest lateness of any placed visit: the ``max_lateness_minute`` term's minutes."""
        if not self.soft:
            return 0
        return max((self.max_late(r.stops, r.starts) for r in self.routes), default=0)

    def service_minutes(self, route: RouteState) -> int:
        durations = self.durations[self.p.workers[route.worker_index].kind]
        return sum(durations[vi] for vi, _ in route.stops)

    def imbalance_delta(self, route: RouteState, added: int) -> int:
        """What ``added`` service minutes on ``route`` add to the imbalance term."""
        if self.p.weights.imbalance <= 0:
            return 0
        service = self.service_minutes(route)
        return (self.cost.imbalance(route.worker_index, route.shift_index, service + added)
                - self.cost.imbalance(route.worker_index, route.shift_index, service))

    # ------------------------------------------------------------------ insertion

    def _dependency_range(self, vi: int) -> tuple[int, int] | None:
        lo, hi = -INF, INF
        for a, dmin, dmax in self.before.get(vi, []):
            if a not in self.placed:
                return None
            lo = max(lo, self.fixed[a] + dmin)
            if dmax is not None:
                hi = min(hi, self.fixed[a] + dmax)
        for b, dmin, dmax in self.after.get(vi, []):
            if b in self.placed:
                hi = min(hi, self.fixed[b] - dmin)
                if dmax is not None:
                    lo = max(lo, self.fixed[b] - dmax)
        return (lo, hi) if lo <= hi else None

    def _apart_workers(self, vi: int) -> set[int]:
        """Workers already doing a visit that ``vi`` must not share a worker with."""
        linked = self.apart.get(vi)
        if not linked:
            return set()
        placed = [x for x in linked if x in self.placed]
        if not placed:
            return set()
        return {r.worker_index for r in self.routes if any(x in placed for x, _ in r.stops)}

    def _candidates(self, vi: int, forced: int | None, vehicles: set[int] | None = None,
                    best_only: bool = False) -> list[tuple[int, int, int, int]]:
        """Per eligible route, the cheapest position: (cost, vehicle, position, start).

        Positions that cannot work are skipped without simulating: after a stop that ends
        past the visit's latest start, or before a stop that must start before the visit
        could even begin.  ``vehicles``: only these routes.

        Incrementally (``Plan.incremental``, the default) positions the route's break-free
        bounds rule out are skipped (``Plan.may_insert``), the others are timed from the
        route's summary (``Plan.insertion_simulate``) and priced by the stops whose start
        changed, cheapest travel first.  The cost of a position is at least its travel,
        preference and balance part less the route's own time terms (which an insertion
        can lower, a break finding room earlier say, but not below zero), so once that bound
        exceeds the route's best, the rest are not timed.  With ``best_only`` (callers that
        take only the cheapest of all) a route whose least bound exceeds the best found
        elsewhere is skipped whole; routes go cheapest first.  The cheapest candidate is the
        one the full evaluation finds, ties in cost included (a route then left out is never
        the chosen one); benchmarks/lns_speed.py checks that both end on the same plan.
        """
        visit = self.p.visits[vi]
        apart = self._apart_workers(vi)
        pin = self.pins.get(visit.id)
        pinned_start = pin[1] if pin else None
        if forced is not None and pinned_start is not None and forced != pinned_start:
            return []  # a pinned start is never moved, not even to meet a dependency
        fixed_start = pinned_start if pinned_start is not None else forced
        lo = min(w.start for w in visit.windows) if fixed_start is None else fixed_start
        hi = (max(w.end for w in visit.windows) + (visit.max_lateness if visit.soft_windows else 0)
              if fixed_start is None else fixed_start)
        fixed = self.fixed if fixed_start is None else {**self.fixed, vi: fixed_start}
        if self.incremental and _compiled is not None and self.compiled_scan:
            blink = self.blink
            todo = _compiled.scan(self, vi, self.offers(vi), lo, hi, fixed,
                                  pin[0] if pin and pin[0] else None, apart, vehicles, self.only,
                                  blink, self.blink_rng.random if blink else None)
            return self._cheapest(vi, todo, fixed, best_only)
        out, todo = self._scan(vi, lo, hi, fixed, pin, apart, vehicles)
        if not self.incremental:
            return out
        return self._cheapest(vi, todo, fixed, best_only)

    def _scan(self, vi: int, lo: int, hi: int, fixed: dict[int, int], pin, apart: set[int],
              vehicles: set[int] | None) -> tuple[list, list]:
        """The positions of ``vi`` worth timing, per eligible route (``_candidates``; ``lo``,
        ``hi``: its earliest and latest start): (the cheapest position of each route, timed
        whole, when not ``incremental``; the routes' ``_lower_bounds`` when it is).

        ``optimizer._scan`` does the same in C (the incremental half): most of a round's time
        went to looking at routes that cannot take the visit."""
        blink, blink_rng = self.blink, self.blink_rng
        incremental = self.incremental
        routes = self.routes
        latest_start = self.latest_start
        loc_in, loc_out = self.loc_in, self.loc_out
        out = []
        todo = []
        for wi, worker, duration, durations, travel, assigned in self.offers(vi):
            if (pin and pin[0] and worker.id not in pin[0]) or wi in apart:
                continue
            for v in self.by_worker.get(wi, []):
                if (vehicles is not None and v not in vehicles) or (self.only is not None and v not in self.only):
                    continue
                route = routes[v]
                shift = worker.shifts[route.shift_index]
                if hi < shift.start or lo + duration > shift.end + shift.max_overtime:
                    continue
                positions = []
                stops, starts = route.stops, route.starts
                n = len(stops)
                for pos in range(n + 1):
                    if pos > 0 and starts[pos - 1] + durations[stops[pos - 1][0]] > hi:
                        break
                    if pos < n and latest_start[stops[pos][0]] < lo + duration:
                        continue
                    if blink and blink_rng.random() < blink:
                        continue
                    if pos < n:
                        # A stop with a fixed start starts then or not at all (``start_at``):
                        # it cannot wait for the visit and the drive from it (a repair's plan
                        # has every start fixed, and most positions end here).  After the
                        # blink's draw, so the search's random stream is the same with it.
                        held = fixed.get(stops[pos][0])
                        if held is not None and held < lo + duration + travel[loc_out[vi]][loc_in[stops[pos][0]]]:
                            continue
                    positions.append(pos)
                if not positions:
                    continue
                if not incremental:
                    best = self._route_best_full(vi, route, worker, duration, positions, fixed)
                    if best is not None:
                        out.append(best)
                    continue
                # The balance part is added when a position is priced (it only grows with
                # more work, so the bound holds without it).
                item = self._lower_bounds(vi, route, worker, positions, assigned, fixed)
                if item[0]:
                    todo.append(item)
        return out, todo

    def _cheapest(self, vi: int, todo: list, fixed: dict[int, int], best_only: bool) -> list[tuple[int, int, int, int]]:
        """Per route of ``todo`` (``_lower_bounds``' items), its cheapest position timed
        (``_route_best``); with ``best_only`` routes cheapest bound first, and those whose
        bound exceeds the best found are skipped (see ``_candidates``)."""
        routes = self.routes
        out = []
        if best_only:
            todo.sort(key=lambda item: (item[0][0], item[1]))
        bound = None
        for bounds, v, extra, kept in todo:
            if best_only and bound is not None and bounds[0][0] > bound:
                break
            best = self._route_best(vi, routes[v], bounds, extra, fixed, kept)
            if best is not None:
                out.append(best)
                if bound is None or best[0] < bound:
                    bound = best[0]
        return out

    def _lower_bounds(self, vi: int, route: RouteState, worker, positions: list[int], extra: int,
                      fixed: dict[int, int]) -> tuple[list[tuple[int, int]], int, int, object]:
        """(lower bound, position) for ``positions`` of ``route``, cheapest first: the exact
        travel and preference part of each insertion's cost (``extra``: the preferences) less
        the route's time terms (see ``_candidates``); with the vehicle, ``extra`` and the
        route's summary.  Positions the summary's break-free
        bounds rule out (``Plan.may_insert``) are left out."""
        kept = self.summary_with(route, fixed, vi) if self.plain is False or worker.shifts[route.shift_index].breaks else None
        if kept is not None:
            positions = self.insertable(kept, vi, positions, fixed)  # what cannot be timed even without breaks
            if not positions:
                return [], route.vehicle, extra, kept
        return self._priced_bounds(vi, route, worker, positions, extra, kept)

    def _priced_bounds(self, vi: int, route: RouteState, worker, positions: list[int], extra: int,
                       kept) -> tuple[list[tuple[int, int]], int, int, object]:
        """``_lower_bounds`` for the positions ``kept`` (the route's summary, or None) leaves."""
        matrix = self.p.travel_times[worker.travel_mode]
        weight = max(1, self.p.weights.travel_minute)
        stops = route.stops
        n = len(stops)
        loc_in, loc_out = self.loc_in, self.loc_out
        v_in, v_out = loc_in[vi], loc_out[vi]
        row_out = matrix[v_out]
        # The time terms can fall too (a break finding room earlier, a route now timed from
        # scratch), but never below zero: the route's own time terms are the most it saves.
        least = extra - self.route_penalty(route, kept)
        out = []
        if kept is None:
            for pos in positions:
                a = loc_out[stops[pos - 1][0]] if pos else worker.start_location
                b = loc_in[stops[pos][0]] if pos < n else worker.end_location
                delta = matrix[a][v_in] + row_out[b] - (matrix[a][b] if n else 0)
                out.append((delta * weight + least, pos))
            out.sort()
            return out, route.vehicle, extra, kept
        ends, nexts = kept.ends, kept.nexts
        for pos in positions:
            a, b = ends[pos], nexts[pos]
            out.append(((matrix[a][v_in] + row_out[b] - (matrix[a][b] if n else 0)) * weight + least, pos))
        out.sort()
        return out, route.vehicle, extra, kept

    def _route_best(self, vi: int, route: RouteState, bounds: list[tuple[int, int]], extra: int,
                    fixed: dict[int, int], kept) -> tuple[int, int, int, int] | None:
        """The cheapest position of ``vi`` on ``route`` among ``bounds`` (``_lower_bounds``),
        each timed incrementally (from ``kept``, the route's summary) and priced by what
        changed."""
        worker = self.p.workers[route.worker_index]
        w = self.p.weights
        si = route.shift_index
        balance = self.imbalance_delta(route, self.durations[worker.kind][vi])
        extra += balance
        fast = self.plain and not worker.shifts[si].breaks
        if fast:
            base = self._route_base(route)
        else:
            base_penalty = None
        best = None
        for lb, pos in bounds:
            if best is not None and lb + balance > best[0]:
                break
            if fast:
                quick = self._quick_insert(route, worker, vi, pos, fixed, base, extra)
                if quick is None:
                    continue
                cost, start = quick
            else:
                stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                sim, conv, summary = self.insertion_simulate(route, stops, pos, pos + 1, 1, fixed, kept)
                if sim is None:
                    continue
                starts, departure, end, travel, _ = sim
                if not self.work_ok(route, end - departure):
                    continue
                cost = (travel - route.travel) * max(1, w.travel_minute) + extra
                delta = self.time_delta(route, pos, stops, sim, conv, summary)
                if delta is None:
                    if base_penalty is None:
                        base_penalty = self.time_penalty(route, route.stops, route.starts, route.end)
                    delta = self.time_penalty(route, stops, starts, end) - base_penalty
                cost += delta
                if w.max_lateness_minute:
                    cost += w.max_lateness_minute * max(0, self.max_late(stops, starts) - self.late_cap)
                start = starts[pos]
            if best is None or cost < best[0] or (cost == best[0] and pos < best[2]):
                best = (cost, route.vehicle, pos, start)
        return best

    def route_penalty(self, route: RouteState, kept) -> int:
        """The route's time terms as it stands (``time_penalty``), from its summary's memo when
        the summary's timing is the route's."""
        timed = kept.timing if kept is not None else None
        if timed is None or timed.end != route.end or timed.starts != route.starts:
            # (A route without a kept pass, most on a plain day: the route's lists are replaced,
            # never changed in place, so the same lists are the same route.)
            memo = self._penalties.get(route.vehicle)
            if memo is not None and memo[0] is route.stops and memo[1] is route.starts and memo[2] == route.end:
                return memo[3]
            penalty = self.time_penalty(route, route.stops, route.starts, route.end)
            self._penalties[route.vehicle] = (route.stops, route.starts, route.end, penalty)
            return penalty
        if kept.penalty is None:
            kept.penalty = self.time_penalty(route, route.stops, route.starts, route.end)
        return kept.penalty

    def time_delta(self, route: RouteState, pos: int, stops: list[tuple[int, int]], timing, conv: int,
                   summary) -> int | None:
        """What one stop inserted at ``pos`` of ``route`` (``stops``, timed ``timing`` by
        ``Plan.insertion_simulate``, starts from ``conv`` on as the summary's) changes in the
        route's time terms (``Objective.route_time_cost``: lateness, overtime, starts moved
        from the previous plan), from the stops whose start changed only; None when the
        summary's timing is not the route's as it stands (then price the whole route)."""
        timed = summary.timing if summary is not None else None
        if timed is None or timed.end != route.end or timed.starts != route.starts:
            return None
        obj = self.cost
        wi, si = route.worker_index, route.shift_index
        starts, old = timing.starts, route.starts
        vi, copy = stops[pos]
        cost = obj.stop_time_cost(wi, vi, copy, starts[pos])
        for k in range(pos + 1, conv):
            vk, ck = stops[k]
            cost += obj.stop_time_cost(wi, vk, ck, starts[k]) - obj.stop_time_cost(wi, vk, ck, old[k - 1])
        return cost + obj.overtime_cost(wi, si, timing.end) - obj.overtime_cost(wi, si, route.end)

    def _route_best_full(self, vi: int, route: RouteState, worker, duration: int, positions: list[int],
                         fixed: dict[int, int]) -> tuple[int, int, int, int] | None:
        """The cheapest position of ``vi`` on ``route``, every position re-timed and re-priced
        whole (``Plan.incremental`` off: the code path before the summaries)."""
        visit = self.p.visits[vi]
        w_max_late = self.p.weights.max_lateness_minute
        best = None
        fast = self.plain and not worker.shifts[route.shift_index].breaks
        if fast:
            base = self._route_base(route)
        extra = self.cost.assignment(visit, worker) + self.imbalance_delta(route, duration)
        for pos in positions:
            if fast:
                quick = self._quick_insert(route, worker, vi, pos, fixed, base, extra)
                if quick is None:
                    continue
                cost, start = quick
                if best is None or cost < best[0]:
                    best = (cost, route.vehicle, pos, start)
                continue
            stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
            sim = self.simulate(route, stops, fixed)
            if sim is None:
                continue
            starts, departure, end, travel, _ = sim
            if not self.work_ok(route, end - departure):
                continue
            cost = (travel - route.travel) * max(1, self.p.weights.travel_minute)
            cost += self.time_penalty(route, stops, starts, end) - self.time_penalty(
                route, route.stops, route.starts, route.end)
            cost += extra
            if w_max_late:
                cost += w_max_late * max(0, self.max_late(stops, starts) - self.late_cap)
            if best is None or cost < best[0]:
                best = (cost, route.vehicle, pos, starts[pos])
        return best


    def drop_orphans(self) -> int:
        """Take out every ``before`` of a both-or-neither pair whose ``after`` is unplaced (with
        what depends on it, and its ride's other leg); the number of visits taken out.

        Insertion goes one visit at a time, so an outbound ride may be placed before its
        return turns out not to fit; this restores the rule afterwards.
        """
        if not self.both:
            return 0
        out = 0
        changed = True
        while changed:
            changed = False
            for a, b in self.both:
                if a in self.placed and b not in self.placed:
                    # Also a pinned visit: the pair rule is as hard as the pin, and a pin that
                    # cannot hold leaves its visit unplaced (as outside its windows).
                    taken = self.take_out(a, pinned_too=True) or self._take_out_with_route_mates(a)
                    out += len(taken)
                    changed = changed or bool(taken)
        return out

    def _take_out_with_route_mates(self, vi: int) -> list[int]:
        """Take out ``vi`` when its routes cannot be re-timed without it, by taking out the visits
        sharing its routes too, widening to the routes those touch until the rest re-times.

        Why: a visit that ends elsewhere than it starts (``end_location``) or a linked visit kept
        at its start can make the next stop reachable only through ``vi``; ``take_out`` then
        refuses and an orphan of a both-or-neither pair would stay in an infeasible plan (found
        by the solver property test).  Losing the route-mates is the price; the search may place
        them again.  Empty routes always re-time, so this ends with ``vi`` out.
        """
        seeds = {vi}
        while True:
            taken = self.take_out_group(seeds, pinned_too=True)
            if taken:
                return taken
            grown = seeds | {x for r in self.routes if any(x2 in seeds for x2, _ in r.stops) for x, _ in r.stops}
            if grown == seeds:
                return []
            seeds = grown



    def _route_base(self, route: RouteState) -> tuple[int, int, int]:
        """(time penalty, overtime part of it, largest lateness) of a route as it stands."""
        penalty = self.time_penalty(route, route.stops, route.starts, route.end)
        if not route.stops:
            return penalty, 0, 0
        shift = self.p.workers[route.worker_index].shifts[route.shift_index]
        overtime = max(0, route.end - shift.end) * self.p.weights.overtime_minute
        return penalty, overtime, self.max_late(route.stops, route.starts)

    def _quick_insert(self, route: RouteState, worker, vi: int, pos: int, fixed: dict[int, int],
                      base: tuple[int, int, int], extra: int = 0) -> tuple[int, int] | None:
        """Cost and start of ``vi`` inserted at ``pos``, for routes ``simulate`` times plainly
        (``Plan.insertion_timing``).  The cost is the same as the full evaluation's, with
        ``extra`` (the preference and balance terms, which do not depend on ``pos``) added.
        ``_commit`` times the chosen one fully."""
        q = self.insertion_timing(route, vi, pos, fixed)
        if q is None:
            return None
        w = self.p.weights
        shift = worker.shifts[route.shift_index]
        penalty, overtime, route_worst = base
        cost = q.travel_delta * max(1, w.travel_minute) + q.late_delta * w.lateness_minute
        cost += q.moved_delta * w.changed_from_previous
        cost += max(0, q.end - shift.end) * w.overtime_minute - overtime
        if w.max_lateness_minute and self.soft:
            cost += w.max_lateness_minute * max(0, max(q.worst, route_worst) - self.late_cap)
        return cost + extra, q.start

    def _commit(self, vi: int, copy: int, v: int, pos: int, fixed_start: int | None) -> None:
        route = self.routes[v]
        stops = route.stops[:pos] + [(vi, copy)] + route.stops[pos:]
        fixed = self.fixed if fixed_start is None else {**self.fixed, vi: fixed_start}
        summary = self.summary_with(route, fixed, vi) if self.incremental else None
        sim = self.insertion_simulate(route, stops, pos, pos + 1, 1, fixed, summary)[0]
        assert sim is not None
        route.apply(stops, sim)
        self.placed.add(vi)
        start = route.starts[pos]
        if fixed_start is not None or vi in self.before or vi in self.after or self.p.visits[vi].workers_needed > 1:
            self.fixed[vi] = start if fixed_start is None else fixed_start

    def insert(self, vi: int) -> bool:
        if vi in self.placed:
            return True  # placed together with the visit it follows
        visit = self.p.visits[vi]
        dep = self._dependency_range(vi)
        if dep is None:
            return False
        if self.p.weights.max_lateness_minute:
            self.late_cap = self.plan_max_late()
        ride = self.ride_at.get(vi)
        if ride is not None:
            return self._insert_ride(ride)
        if visit.workers_needed <= 1:
            partner = self._unplaced_partner(vi)
            if partner is not None and self._insert_linked(vi, partner, dep):
                return True
            return self._insert_single(vi, dep)
        return self._insert_pair(vi, dep)

    def reinsert(self, vi: int, previous: int | None) -> bool:
        """``insert``, or for a one-worker visit with a previous-plan start ``previous``,
        whichever is cheaper of that and the visit held exactly at ``previous`` (then fixed
        there, as ``optimizer.warm`` holds published stops).

        Why: ``insert`` starts a visit as early as its route allows, so a re-plan's published
        stop taken out and put back lands earlier than it was published and counts as a change
        (``changed_from_previous``) though its old time may still be free.
        """
        visit = self.p.visits[vi]
        if (previous is None or vi in self.placed or visit.workers_needed > 1 or vi in self.ride_at
                or vi in self.before or vi in self.after or visit.id in self.pins
                or self.window_at(vi, previous) != previous):
            return self.insert(vi)
        if self.p.weights.max_lateness_minute:
            self.late_cap = self.plan_max_late()
        held = min(self._candidates(vi, previous, best_only=True), default=None)
        free = min(self._candidates(vi, None, best_only=True), default=None)
        if held is not None and (free is None or held[0] <= free[0]):
            self._commit(vi, 0, held[1], held[2], previous)
            return True
        if free is not None:
            self._commit(vi, 0, free[1], free[2], None)
            return True
        return False

    def _insert_ride(self, ride: tuple[int, int, Mapping[str, int], int | None]) -> bool:
        """Pickup and drop-off together on one route, at the cheapest pair of positions.

        Every pair of positions (pickup no later than drop-off) on every route whose car has
        room is timed exactly by ``simulate``; rides already on the route may be on board in
        between (shared rides).  A pickup that must follow another visit (a return trip after
        the outbound drop-off) is tried at a few starts the dependency allows.
        """
        pickup, dropoff, _, _ = ride
        dep_p = self._dependency_range(pickup)
        dep_d = self._dependency_range(dropoff)
        if dep_p is None or dep_d is None:
            return False
        lo, hi = dep_p
        if lo == -INF and hi == INF:
            probes: list[int | None] = [None]
        else:
            probes = list(self._probe_times(self.p.visits[pickup], lo, hi))
        for forced in probes:
            best = self._ride_candidate(pickup, dropoff, forced, dep_d)
            if best is not None:
                _, v, stops, sim = best
                route = self.routes[v]
                route.apply(stops, sim)
                for vi in (pickup, dropoff):
                    self.placed.add(vi)
                    if vi in self.fixed or vi in self.before or vi in self.after:
                        self.fixed[vi] = route.starts[stops.index((vi, 0))]
                return True
        return False

    def _ride_candidate(self, pickup: int, dropoff: int, forced: int | None, dep_d: tuple[int, int]):
        """The cheapest (cost, vehicle, stops, timing) for a ride, or None.

        Position pairs that cannot work are skipped without timing them: a stop right after
        the pickup (or drop-off) that must start before the pickup (drop-off) could end,
        and drop-off positions after stops that start past the latest drop-off (its window,
        or the latest pickup plus the ride-time limit).

        Incrementally (``Plan.incremental``) routes go cheapest first by the least travel,
        preference and balance part of any pair on them, and a route's pairs go cheapest
        first by that part, each timed from the route's summary
        (``Plan.insertion_simulate``); once that part, less the route's own time terms (see
        ``_candidates``), exceeds the best cost found, the rest are not timed.  Ties in cost
        go to the pair the full evaluation meets first, so the result is the same.  A route
        with no pair worth timing is passed over before its price is worked out (on the demo
        day, most routes a ride is asked of).
        """
        p_visit, d_visit = self.p.visits[pickup], self.p.visits[dropoff]
        pin_p, pin_d = self.pins.get(p_visit.id), self.pins.get(d_visit.id)
        fixed = self.fixed  # read only here: copied only to hold a forced pickup start
        if forced is not None:
            if pin_p and pin_p[1] is not None and pin_p[1] != forced:
                return None
            fixed = {**self.fixed, pickup: forced}
        apart = self._apart_workers(pickup) | self._apart_workers(dropoff)
        allowed = set(self.eligible[pickup]) & set(self.eligible[dropoff])
        incremental = self.incremental
        prune = incremental
        jobs = []
        for wi in sorted(allowed - apart):
            worker = self.p.workers[wi]
            if any(pin and pin[0] and worker.id not in pin[0] for pin in (pin_p, pin_d)):
                continue
            added = p_visit.duration_for(worker.kind) + d_visit.duration_for(worker.kind)
            fixed_part = self.cost.assignment(p_visit, worker) + self.cost.assignment(d_visit, worker)
            for v in self.by_worker.get(wi, []):
                if self.only is not None and v not in self.only:
                    continue
                route = self.routes[v]
                if not self.ride_may_fit(route, pickup, dropoff, fixed):
                    continue
                if incremental:
                    kept = self.summary_with(route, fixed, pickup)
                    least, pairs = self._ride_options(pickup, dropoff, forced, route, worker, fixed, kept)
                else:
                    kept, least, pairs = None, 0, self._ride_pairs(pickup, dropoff, forced, route, worker, fixed)
                if not pairs:
                    continue  # (most routes: nothing to time, so nothing to price)
                fixed_costs = fixed_part + self.imbalance_delta(route, added)
                penalty = self.route_penalty(route, kept)
                # (The time terms may fall, by at most the route's own: see ``_lower_bounds``.)
                bound = least + fixed_costs - penalty if incremental else 0
                jobs.append((bound, len(jobs), route, fixed_costs, penalty, pairs, kept))
        if incremental:
            jobs.sort(key=lambda job: (job[0], job[1]))
        best = None
        best_order = (0, 0, 0)
        for bound, rank, route, fixed_costs, base_penalty, pairs, kept in jobs:
            if prune and best is not None and bound > best[0]:
                break
            if incremental:
                offset = fixed_costs - base_penalty
                pairs = sorted([(lb + offset, i, j) for lb, i, j in pairs])
            for lb, i, j in pairs:
                if prune and best is not None and lb > best[0]:
                    break
                stops = (route.stops[:i] + [(pickup, 0)] + route.stops[i:j] + [(dropoff, 0)]
                         + route.stops[j:])
                if incremental:
                    sim = self.insertion_simulate(route, stops, i, j + 2, 2, fixed, kept)[0]
                else:
                    sim = self.simulate(route, stops, fixed)
                if sim is None:
                    continue
                starts, departure, end, travel, _ = sim
                d_start = starts[j + 1]
                if not (dep_d[0] <= d_start <= dep_d[1]):
                    continue
                if not self.work_ok(route, end - departure):
                    continue
                w = self.p.weights
                cost = (travel - route.travel) * max(1, w.travel_minute) + fixed_costs
                cost += self.time_penalty(route, stops, starts, end) - base_penalty
                if w.max_lateness_minute:
                    cost += w.max_lateness_minute * max(0, self.max_late(stops, starts) - self.late_cap)
                order = (rank, i, j)
                if best is None or cost < best[0] or (cost == best[0] and order < best_order):
                    best, best_order = (cost, route.vehicle, stops, sim), order
        return best

    def _ride_pairs(self, pickup: int, dropoff: int, forced: int | None, route: RouteState, worker,
                    fixed: dict[int, int], detours: tuple[list, list, list] | None = None,
                    kept=False) -> list[tuple[int, int, int]]:
        """The (lower bound, pickup position, drop-off position) pairs of a ride worth timing
        on ``route`` (see ``_ride_candidate``), in the full evaluation's order; the bound is
        the pair's travel part (x the travel weight; 0 unless ``Plan.incremental``), to which
        the caller adds the route's other parts; ``detours``:
        the route's ``_ride_detours`` for the ride, if the caller has them; ``kept``: the
        route's summary (``Plan.summary_with``), if the caller has it.
        Incrementally, pairs that cannot be timed even without breaks (the route's summary
        bounds, as ``Plan.may_insert``) are left out."""
        dur_p, dur_d, early_p, early_d, last_d = self._ride_limits(pickup, dropoff, forced, worker)
        matrix = self.p.travel_times[worker.travel_mode]
        latest = self.latest_start
        n = len(route.stops)
        incremental = self.incremental
        if not incremental:
            kept = None
        else:
            pick, drop, both = detours if detours is not None else self._ride_detours(pickup, dropoff, route, worker)
            weight = max(1, self.p.weights.travel_minute)
            if kept is False:
                kept = self.route_summary(route, fixed)
            if kept is not None:
                stops = route.stops
                durations = self.durations[worker.kind]
                loc_in, loc_out = self.loc_in, self.loc_out
                ends, nexts = kept.ends, kept.nexts  # (the summary's: where each position comes from, goes to)
                p_in, p_out, d_in, d_out = loc_in[pickup], loc_out[pickup], loc_in[dropoff], loc_out[dropoff]
                free_lb, latest_arrival = kept.free_lb, kept.latest
        out = []
        for i in range(n + 1):
            if i > 0 and route.starts[i - 1] > latest[pickup]:
                break
            if i < n and latest[route.stops[i][0]] < early_p + dur_p:
                continue  # the stop after the pickup could not wait for it
            if kept is not None:
                # Break-free earliest times with the pickup at i (breaks only delay, and the
                # stops before i are timed as before): what cannot be timed even so is skipped.
                s_p = self.start_at(pickup, free_lb[i] + matrix[ends[i]][p_in], fixed)
                if s_p is None:
                    continue
                free, at = s_p + dur_p, p_out
            for j in range(i, n + 1):
                if j > i and route.starts[j - 1] > last_d:
                    break
                if kept is not None and j > i:
                    # Old stop j - 1 after the pickup (and the old stops between).
                    vk = stops[j - 1][0]
                    s = self.start_at(vk, free + matrix[at][loc_in[vk]], fixed)
                    if s is None:
                        break
                    free, at = s + durations[vk], loc_out[vk]
                if j < n and latest[route.stops[j][0]] < early_d + dur_d:
                    continue
                if not incremental:
                    out.append((0, i, j))
                    continue
                if kept is not None:
                    s_d = self.start_at(dropoff, free + matrix[at][d_in], fixed)
                    if s_d is None or s_d + dur_d + matrix[d_out][nexts[j]] > latest_arrival[j]:
                        continue
                delta = both[i] if j == i else pick[i] + drop[j]
                out.append((delta * weight, i, j))
        return out

    def _ride_limits(self, pickup: int, dropoff: int, forced: int | None, worker) -> tuple[int, int, int, int, int]:
        """(pickup's duration, drop-off's duration, earliest pickup start, earliest drop-off
        start, latest drop-off start) of a ride for ``worker``: the drop-off no earlier than
        the pickup's end and the trip, and no later than its window or the latest pickup plus
        the ride-time limit allow."""
        p_visit, d_visit = self.p.visits[pickup], self.p.visits[dropoff]
        max_ride = self.ride_at[pickup][3]
        dur_p, dur_d = p_visit.duration_for(worker.kind), d_visit.duration_for(worker.kind)
        matrix = self.p.travel_times[worker.travel_mode]
        early_p = forced if forced is not None else min(w_.start for w_ in p_visit.windows)
        early_d = max(min(w_.start for w_ in d_visit.windows),
                      early_p + dur_p + matrix[self.loc_out[pickup]][self.loc_in[dropoff]])
        last_d = self.latest_start[dropoff]
        if max_ride is not None:
            last_d = min(last_d, self.latest_start[pickup] + dur_p + max_ride)
        return dur_p, dur_d, early_p, early_d, last_d

    def _ride_options(self, pickup: int, dropoff: int, forced: int | None, route: RouteState, worker,
                      fixed: dict[int, int], kept) -> tuple[int, list[tuple[int, int, int]]]:
        """Incrementally, the least travel part (x the travel weight) of any pair of positions
        of a ride on ``route`` (``_ride_route_bound``) and the pairs worth timing with their
        own (``_ride_pairs``); ``kept``: the route's summary with ``fixed``.
        In C (``optimizer._scan.ride_pairs``, one pass) when it was built and
        ``compiled_scan`` is on: these loops over a route's positions were the largest part
        of a ride's insertion, and most routes end with no pair at all."""
        if _compiled is not None and self.compiled_scan:
            dur_p, dur_d, early_p, early_d, last_d = self._ride_limits(pickup, dropoff, forced, worker)
            parts = (kept.free_lb, kept.ends, kept.nexts, kept.latest) if kept is not None else (None,) * 4
            return _compiled.ride_pairs(
                self.p.travel_times[worker.travel_mode], route.stops, route.starts, self.loc_in, self.loc_out,
                self.latest_start, self.durations[worker.kind], self.windows, fixed, pickup, dropoff,
                worker.start_location, worker.end_location, early_p, early_d, last_d, dur_p, dur_d,
                max(1, self.p.weights.travel_minute), *parts)
        detours = self._ride_detours(pickup, dropoff, route, worker)
        return (self._ride_route_bound(detours),
                self._ride_pairs(pickup, dropoff, forced, route, worker, fixed, detours, kept))

    def _ride_detours(self, pickup: int, dropoff: int, route: RouteState, worker) -> tuple[list, list, list]:
        """Per position of ``route``, the travel added by the pickup alone there, by the
        drop-off alone there, and by both there one after the other (exact: travel does not
        depend on timing)."""
        matrix = self.p.travel_times[worker.travel_mode]
        loc_in, loc_out = self.loc_in, self.loc_out
        stops = route.stops
        n = len(stops)
        p_in, p_out, d_in, d_out = loc_in[pickup], loc_out[pickup], loc_in[dropoff], loc_out[dropoff]
        pick, drop, both = [], [], []
        for k in range(n + 1):
            a = loc_out[stops[k - 1][0]] if k else worker.start_location
            b = loc_in[stops[k][0]] if k < n else worker.end_location
            gone = matrix[a][b] if n else 0
            pick.append(matrix[a][p_in] + matrix[p_out][b] - gone)
            drop.append(matrix[a][d_in] + matrix[d_out][b] - gone)
            both.append(matrix[a][p_in] + matrix[p_out][d_in] + matrix[d_out][b] - gone)
        return pick, drop, both

    def _ride_route_bound(self, detours: tuple[list, list, list]) -> int:
        """The least travel part (x the travel weight) of any pair of positions of a ride on a
        route, from its ``_ride_detours``: both together somewhere, or the pickup somewhere and
        the drop-off later."""
        pick, drop, both = detours
        least = min(both)
        later = drop[-1]
        for k in range(len(pick) - 2, -1, -1):
            least = min(least, pick[k] + later)
            later = min(later, drop[k])
        return least * max(1, self.p.weights.travel_minute)

    def _unplaced_partner(self, vi: int) -> tuple[int, int, int | None] | None:
        """The one-worker visit that must follow ``vi`` and is still out, with its delays."""
        for b, dmin, dmax in self.after.get(vi, []):
            if (b not in self.placed and self.p.visits[b].workers_needed <= 1 and len(self.before.get(b, [])) == 1
                    and b not in self.ride_at):
                return b, dmin, dmax
        return None

    def _insert_linked(self, a: int, link: tuple[int, int, int | None], dep: tuple[int, int]) -> bool:
        """Place ``a`` and its follower ``b`` together, at starts that suit both routes.

        Inserting ``a`` at its own cheapest place and then ``b`` at the one start the delay
        allows often finds no room for ``b`` (a simultaneous pair needs two workers free at
        the same minute).  Here the best few places of each are paired up: for each pair of
        routes the earliest starts meeting the delay are derived from both visits' earliest
        starts there, both insertions are re-checked at those starts, and the cheapest pair
        that works is committed.
        """
        b, dmin, dmax = link
        lo, hi = dep
        if lo != -INF or hi != INF or a in self.fixed or b in self.fixed:
            return False
        cand_a = sorted(self._candidates(a, None))[:LINK_BREADTH]
        cand_b = sorted(self._candidates(b, None))[:LINK_BREADTH]
        apart = b in self.apart.get(a, [])
        combos = []
        for ca in cand_a:
            wa = self.routes[ca[1]].worker_index
            for cb in cand_b:
                if ca[1] == cb[1] or (apart and self.routes[cb[1]].worker_index == wa):
                    continue
                ta = ca[3] if dmax is None else max(ca[3], cb[3] - dmax)
                tb = max(cb[3], ta + dmin)
                # Estimate: both cheapest costs plus what the later starts add in lateness.
                delay = (ta - ca[3]) + (tb - cb[3])
                combos.append((ca[0] + cb[0] + delay * max(1, self.p.weights.lateness_minute), ta, tb, ca[1], cb[1]))
        combos.sort()
        best = None
        for _, ta, tb, va, vb in combos[:LINK_TRIES]:
            ra = self._candidates(a, ta, {va})
            if not ra:
                continue
            rb = self._candidates(b, tb, {vb})
            if not rb:
                continue
            cost = ra[0][0] + rb[0][0]
            if best is None or cost < best[0]:
                best = (cost, ra[0], rb[0], ta, tb)
        if best is None:
            return False
        _, ra, rb, ta, tb = best
        self._commit(a, 0, ra[1], ra[2], ta)
        self._commit(b, 0, rb[1], rb[2], tb)
        return True

    def _insert_single(self, vi: int, dep: tuple[int, int]) -> bool:
        lo, hi = dep
        if lo == -INF and hi == INF:
            cands = self._candidates(vi, None, best_only=True)
        else:
            # Try the earliest start the dependency allows, then a few later ones.
            cands = []
            visit = self.p.visits[vi]
            tried = set()
            for t in self._probe_times(visit, lo, hi):
                if t in tried:
                    continue
                tried.add(t)
                cands = self._candidates(vi, t, best_only=True)
                if cands:
                    best = min(cands)
                    self._commit(vi, 0, best[1], best[2], t)
                    return True
            return False
        if not cands:
            return False
        best = min(cands)
        self._commit(vi, 0, best[1], best[2], None)
        return True

    def _probe_times(self, visit: Visit, lo: int, hi: int) -> list[int]:
        """Start times to try for a visit whose start a link confines to ``[lo, hi]``.

        A pinned (or frozen) start is the only one worth trying: every other probe is
        refused by ``_candidates``, and spreading probes over the window would miss it.
        """
        pin = self.pins.get(visit.id)
        if pin is not None and pin[1] is not None:
            return [pin[1]] if lo <= pin[1] <= hi else []
        times = []
        for w in sorted(visit.windows, key=lambda w: w.start):
            a = max(w.start, lo)
            b = min(w.end + (visit.max_lateness if visit.soft_windows else 0), hi)
            if a <= b:
                step = max(1, (b - a) // 8)
                times.extend(range(a, b + 1, step))
        return times[:24]

    def _insert_pair(self, vi: int, dep: tuple[int, int]) -> bool:
        """Two workers, same start: try the common start times the best single slots suggest."""
        visit = self.p.visits[vi]
        lo, hi = dep
        free = self._candidates(vi, None) if (lo == -INF and hi == INF) else []
        times = sorted({c[3] for c in free}) or self._probe_times(visit, lo, hi)
        if free:
            # Also probe later starts: the later of two workers' earliest starts often works.
            times = sorted(set(times) | set(self._probe_times(visit, max(lo, -INF), hi)))
        for t in times:
            if not (lo <= t <= hi):
                continue
            cands = sorted(self._candidates(vi, t))
            chosen: list[tuple[int, int, int, int]] = []
            workers: set[int] = set()
            for c in cands:
                wi = self.routes[c[1]].worker_index
                if wi in workers:
                    continue
                chosen.append(c)
                workers.add(wi)
                if len(chosen) == visit.workers_needed:
                    break
            if len(chosen) < visit.workers_needed:
                continue
            # Copy k goes to the k-th worker by index: the routing model orders them so.
            chosen.sort(key=lambda c: self.routes[c[1]].worker_index)
            for copy, c in enumerate(chosen):
                self._commit(vi, copy, c[1], c[2], t)
            return True
        return False


def insertion_order(problem: Problem, pins: dict[str, tuple[frozenset[str], int | None]],
                    eligible: list[list[int]] | None = None) -> list[int]:
    """Hardest first: frozen, pinned, the rest of the previous plan, mandatory, priority,
    two-person, dependency chains, fewest workers who may do it (``eligible``: worker indices
    per visit; every caller with a builder passes its own), tight windows.  Fewest workers
    before tight windows: on the 1x Kielce day given VROOM's 220 visits, 12 of the 15 the first
    plan left out were visits only 1 to 5 workers may do, placed after general visits had
    taken those workers' time (205 -> 208 placed by the construction with the rule).

    Frozen work (started before ``freeze_until`` in the previous plan) has happened: it goes
    in before anything that could take its time, however important.  The previous plan's
    other visits (a re-plan's published stops) go in next, each where keeping it costs least (its worker, near its time: the stability term),
    so they are rebuilt before new work can take their places; new work then goes where it
    fits, and the search weighs moving published stops for it (``changed_from_previous``)."""
    index = {v.id: i for i, v in enumerate(problem.visits)}
    frozen = ({pv.visit_id for pv in problem.previous_plan if pv.start < problem.freeze_until}
              if problem.freeze_until is not None else set())
    previous: dict[str, int] = {}
    for pv in problem.previous_plan:
        previous[pv.visit_id] = min(pv.start, previous.get(pv.visit_id, pv.start))
    depth = [0] * len(problem.visits)
    for _ in range(len(problem.dependencies)):
        changed = False
        for d in problem.dependencies:
            a, b = index[d.before], index[d.after]
            if depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break

    def key(i: int) -> tuple:
        v = problem.visits[i]
        if v.id in previous and v.id not in frozen and v.id not in pins:
            # In the previous plan's time order: each route is rebuilt from its start, so a
            # stop lands where it was rather than early in a route not yet filled in.
            return (2, previous[v.id], i)
        width = sum(w.end - w.start for w in v.windows)
        return (
            0 if v.id in frozen else 1 if v.id in pins else 3,
            0 if v.mandatory else 1,
            -v.priority,
            depth[i],
            -v.workers_needed,
            len(eligible[i]) if eligible is not None else 0,
            width,
            min(w.start for w in v.windows),
            i,
        )

    ranked = sorted(range(len(problem.visits)), key=key)
    preds: dict[int, list[int]] = {}
    for d in problem.dependencies:
        preds.setdefault(index[d.after], []).append(index[d.before])
    order: list[int] = []
    seen: set[int] = set()

    def emit(i: int) -> None:
        # A visit that must follow another is inserted after it, whatever its rank.
        if i in seen:
            return
        seen.add(i)
        for a in preds.get(i, []):
            emit(a)
        order.append(i)

    for i in ranked:
        emit(i)
    return order


def construct(problem: Problem, vehicles: list[tuple[int, int]], eligible: list[list[int]],
              stop: StoppingCriterion | None = None) -> Construction:
    """Build a feasible first plan; visits that fit nowhere stay out.  A deadline does not cut
    it short (a day needs a first plan); a cancel (``stop.cancelled``) does, and the visits
    not inserted yet stay out too."""
    builder = Builder(problem, vehicles, eligible)
    if problem.previous_plan:
        from optimizer.warm import seed_previous  # (it builds on Builder)

        seed_previous(builder)  # a re-plan starts from the previous plan where it still holds
    order = insertion_order(problem, builder.pins, builder.eligible)
    for n, vi in enumerate(order):
        if stop is not None and (n & 15) == 0 and stop.cancelled:
            builder.drop_orphans()
            return Construction(builder.routes, builder.fixed, builder.placed, builder)
        builder.insert(vi)
    placed = set(builder.placed)
    if builder.drop_orphans():
        # The orphans (the first half of a both-or-neither pair whose second half did not
        # fit) held time that visits after them in the order may have needed, frozen work
        # included: those get another try, the orphans after them so as not to block again.
        orphans = placed - builder.placed
        for vi in [x for x in order if x not in orphans] + [x for x in order if x in orphans]:
            if vi not in builder.placed:
                builder.insert(vi)
        builder.drop_orphans()
    return Construction(builder.routes, builder.fixed, builder.placed, builder)
