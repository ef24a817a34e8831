"""A first plan built by our own insertion heuristic, aware of every cross-route rule.

OR-Tools' first-solution heuristics insert one node at a time, so they cannot place a
two-person visit (two nodes that must start together on two workers) and often fail the
whole first solution when such visits exist.  This module inserts visits in order of
difficulty (pinned, mandatory, two-person, dependency chains, tight windows first), each at
its cheapest feasible place, with starts of synchronised and dependent visits fixed once
placed.  The result seeds the OR-Tools search and is the fallback if that search fails.

Timing follows the routing model: a visit starts in a window, no earlier than arrival;
breaks fit in gaps between visits (or before the first / after the last) inside their
window; routes end by shift end + max overtime; working time over split shifts is capped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Mapping

from optimizer.model import Problem, Visit
from optimizer.rules import fair_shares, preference_costs, shift_end_limit

INF = 10**9
RETIME_PASSES = 12
"""Passes of ``retime_linked`` before it gives up (each fixes the links violated so far)."""
RIDE_RETIMES = 4
"""Forward passes tried per route when waiting before a drop-off makes a ride too long."""
LINK_BREADTH = 6
"""Routes tried per visit when a linked pair is inserted together."""
LINK_TRIES = 8
"""Route pairs re-checked exactly, cheapest estimate first."""


@dataclass
class RouteState:
    vehicle: int
    worker_index: int
    shift_index: int
    stops: list[tuple[int, int]] = field(default_factory=list)
    """(visit index, copy) in visiting order."""
    starts: list[int] = field(default_factory=list)
    span: int = 0
    travel: int = 0
    departure: int = 0
    end: int = 0
    breaks: list[tuple[int, int]] = field(default_factory=list)

    def clone(self) -> "RouteState":
        """A copy whose lists can change independently (cheaper than ``copy.deepcopy``)."""
        return RouteState(self.vehicle, self.worker_index, self.shift_index, list(self.stops),
                          list(self.starts), self.span, self.travel, self.departure, self.end,
                          list(self.breaks))


@dataclass
class Construction:
    routes: list[RouteState]
    fixed_start: dict[int, int]
    placed: set[int]
    builder: "Builder | None" = None


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


class Builder:
    """Sequential cheapest insertion with exact timing checks."""

    def __init__(self, problem: Problem, vehicles: list[tuple[int, int]], eligible: list[list[int]]):
        self.p = problem
        self.vehicles = vehicles
        self.eligible = eligible  # per visit: eligible worker indices
        self.routes = [RouteState(v, wi, si) for v, (wi, si) in enumerate(vehicles)]
        self.fixed: dict[int, int] = {}
        self.placed: set[int] = set()
        self.index = {v.id: i for i, v in enumerate(problem.visits)}
        self.pins = effective_pins(problem)
        self.previous = {pv.visit_id: pv.worker_id for pv in problem.previous_plan}
        self.fair = {(wi, si): m for wi, si, m in fair_shares(problem)}
        self.end_limit = {
            (wi, si): shift_end_limit(w, si) for wi, w in enumerate(problem.workers) for si in range(len(w.shifts))
        }
        for vid, (_, start) in self.pins.items():
            if start is not None:
                self.fixed[self.index[vid]] = start
        self.before: dict[int, list[tuple[int, int, int | None]]] = {}
        self.after: dict[int, list[tuple[int, int, int | None]]] = {}
        self.apart: dict[int, list[int]] = {}
        """Per visit, the visits that must be done by a different worker."""
        self.both: list[tuple[int, int]] = []
        """Dependencies (before, after) planned both or neither."""
        for d in problem.dependencies:
            a, b = self.index[d.before], self.index[d.after]
            self.before.setdefault(b, []).append((a, d.min_delay, d.max_delay))
            self.after.setdefault(a, []).append((b, d.min_delay, d.max_delay))
            if d.different_workers:
                self.apart.setdefault(a, []).append(b)
                self.apart.setdefault(b, []).append(a)
            if d.both_or_neither:
                self.both.append((a, b))
        self.last_breaks: list[tuple[int, int]] = []
        self._deferred = False
        """Whether the last ``_simulate`` put a break after the first visit by preference."""
        self.vindex = {id(v): i for i, v in enumerate(problem.visits)}
        self.windows: list[list[tuple[int, int]]] = []
        for v in problem.visits:
            ws = sorted(v.windows, key=lambda w: w.start)
            self.windows.append([
                (w.start, w.end + (v.max_lateness if v.soft_windows and i == len(ws) - 1 else 0))
                for i, w in enumerate(ws)
            ])
        self.durations = {
            kind: [v.duration_for(kind) for v in problem.visits] for kind in {w.kind for w in problem.workers}
        }
        self.latest_start = [
            max(w.end for w in v.windows) + (v.max_lateness if v.soft_windows else 0) for v in problem.visits
        ]
        self.by_worker: dict[int, list[int]] = {}
        for r in self.routes:
            self.by_worker.setdefault(r.worker_index, []).append(r.vehicle)
        self.ride_at: dict[int, tuple[int, int, Mapping[str, int], int | None]] = {}
        """Per pickup or drop-off visit index: (pickup, drop-off, load, max ride time)."""
        for ride in problem.rides:
            entry = (self.index[ride.pickup], self.index[ride.dropoff], ride.load, ride.max_ride_time)
            self.ride_at[entry[0]] = entry
            self.ride_at[entry[1]] = entry
        self.due = [
            max(tw.end for tw in v.windows) if v.soft_windows else INF for v in problem.visits
        ]
        """Per visit, the minute after which a start is late (INF for hard windows)."""
        self.soft = any(v.soft_windows for v in problem.visits)
        self.loc_in = [v.location for v in problem.visits]
        self.loc_out = [v.exit_location for v in problem.visits]
        self.plain = not problem.rides and not any(v.demand for v in problem.visits)
        """No rides and no capacities: a route's timing depends on its windows, fixed starts
        and breaks only, which ``_quick_insert`` evaluates incrementally."""
        self.late_cap = 0
        self.blink = 0.0
        """Share of insertion positions skipped at random (set by the LNS: SISR's "blinks")."""
        self.blink_rng: random.Random | None = None
        """The plan's largest lateness before the current insertion (see ``insert``)."""

    def load_plan(self, routes) -> bool:
        """Take a published plan (``model.Route`` list) as this builder's state, every
        stop's start fixed where the plan put it, so insertions go only where nothing has to
        move.  False if a route cannot be re-timed as it was (then nothing is loaded)."""
        by_key = {(r.worker_index, r.shift_index): r for r in self.routes}
        worker_index = {w.id: i for i, w in enumerate(self.p.workers)}
        copies: dict[int, int] = {}
        fixed: dict[int, int] = {}
        staged: list[tuple[RouteState, list[tuple[int, int]]]] = []
        for route in routes:
            state = by_key.get((worker_index.get(route.worker_id, -1), route.shift_index))
            if state is None:
                return False
            stops = []
            for stop in route.stops:
                vi = self.index.get(stop.visit_id)
                if vi is None:
                    return False
                stops.append((vi, copies.get(vi, 0)))
                copies[vi] = copies.get(vi, 0) + 1
                fixed[vi] = stop.start
            staged.append((state, stops))
        timed = []
        for state, stops in staged:
            sim = self.simulate(state, stops, fixed)
            if sim is None:
                return False
            timed.append((state, stops, sim, list(self.last_breaks)))
        for state, stops, (starts, departure, end, travel), breaks in timed:
            state.stops, state.starts, state.departure, state.end, state.travel = stops, starts, departure, end, travel
            state.span = end - departure if stops else 0
            state.breaks = breaks
        self.fixed = fixed
        self.placed = set(copies)
        return True

    # ------------------------------------------------------------------ timing

    def _window_start(self, visit: Visit, t: int) -> int | None:
        """Earliest allowed start >= t, or None."""
        for start, end in self.windows[self.vindex[id(visit)]]:
            if t <= end:
                return t if t > start else start
        return None

    def simulate(self, route: RouteState, stops: list[tuple[int, int]], fixed: dict[int, int]) -> tuple[list[int], int, int, int] | None:
        """Earliest starts for ``stops`` on ``route``; (starts, departure, end, travel) or None.

        Breaks are placed during the same forward pass: a break goes into the first gap
        where it fits without delaying the next visit; if waiting any longer would push it
        past its latest start, it is taken right away and the following visits move later.
        The breaks placed are left in ``self.last_breaks``.

        Rides: a pickup's drop-off must follow on the same route, the car's room must hold
        everyone on board at every stop, and a passenger may not sit longer than the ride's
        limit.  Earliest starts can break that limit only by waiting before the drop-off
        (its appointment window is not open yet); then the pickup is moved later by the
        excess and the route timed again, a few times at most.

        A break that could come before or after the day's first visit comes after it: taken
        before, it would only start the route earlier (a longer day, against a cap on working
        time).  Only if the route then fails is it timed again with the break first.
        """
        self._deferred = False
        result = self._simulate_rides(route, stops, fixed, True)
        if result is None and self._deferred:
            result = self._simulate_rides(route, stops, fixed, False)
        return result

    def _simulate_rides(self, route: RouteState, stops: list[tuple[int, int]], fixed: dict[int, int],
                        defer_first: bool):
        if not self.ride_at:
            return self._simulate(route, stops, fixed, None, defer_first)
        later: dict[int, int] = {}
        for _ in range(RIDE_RETIMES):
            result = self._simulate(route, stops, fixed, later, defer_first)
            if not isinstance(result, tuple) or len(result) != 2:
                return result
            pickup, not_before = result
            if pickup in fixed or later.get(pickup, -1) >= not_before:
                return None
            later[pickup] = not_before
        return None

    def _simulate(self, route: RouteState, stops: list[tuple[int, int]], fixed: dict[int, int],
                  later: dict[int, int] | None, defer_first: bool = True):
        """One forward pass of ``simulate``; ``later``: earliest starts asked for (ride pickups).

        Returns the timed route, None if infeasible, or (pickup, start) when a ride would be
        too long and starting that pickup at ``start`` may cure it.
        """
        worker = self.p.workers[route.worker_index]
        shift = worker.shifts[route.shift_index]
        matrix = self.p.travel_times[worker.travel_mode]
        t, loc = shift.start, worker.start_location
        starts: list[int] = []
        travel_total = 0
        load: dict[str, int] = {}
        pending = list(shift.breaks) if stops else []
        taken: list[tuple[int, int]] = []
        departure: int | None = None
        durations = self.durations[worker.kind]
        ride_at = self.ride_at
        on_board: dict[str, int] = {}
        boarded: dict[int, tuple[int, int]] = {}
        """Ride pickups on board: pickup index -> (its start, the end of its service)."""
        for vi, _ in stops:
            visit = self.p.visits[vi]
            duration = durations[vi]
            tr = matrix[loc][visit.location]
            floor = later.get(vi, 0) if later else 0  # a pickup asked to start later: wait at the door
            while pending:
                rule = pending[0]
                b_start = max(t, rule.earliest, taken[-1][1] if taken else t)
                if b_start > rule.latest:
                    return None
                # The break may interrupt the drive to this visit or be taken on arrival (the
                # checker allows both, as OR-Tools plans them): the visit can start ``duration``
                # after the later of arriving and the break's start.
                ready = max(t + tr, b_start) + rule.duration
                start = self._start_at(visit, vi, max(t + tr, floor), fixed)
                after_ok = start is not None and start + duration <= rule.latest
                if not starts and defer_first and after_ok:
                    self._deferred = True
                    break  # never start the day with a break that can wait
                if start is not None and ready <= start:
                    if not starts and len(pending) == 1:
                        # Before the day's first visit: as late as its window and the visit
                        # allow, so the day starts no earlier than it must.
                        b_start = max(b_start, min(rule.latest, start - rule.duration))
                        ready = max(t + tr, b_start) + rule.duration
                elif after_ok:
                    break  # can still be taken after this visit
                taken.append((b_start, b_start + rule.duration))
                t = ready - tr
                pending.pop(0)
            start = self._start_at(visit, vi, max(t + tr, floor), fixed)
            if start is None:
                return None
            if not starts:
                # Leave as late as the first visit allows, but no later than the first break
                # (taken before it: at the start place, on the way or on arrival).
                paused = sum(e - b for b, e in taken)
                departure = max(shift.start, min(taken[0][0], start - tr - paused)) if taken else start - tr
            starts.append(start)
            travel_total += tr
            t = start + duration
            loc = visit.exit_location
            for k, q in visit.demand.items():
                load[k] = load.get(k, 0) + q
            ride = ride_at.get(vi)
            if ride is not None:
                pickup, dropoff, ride_load, max_ride = ride
                if vi == pickup:
                    boarded[vi] = (start, t)
                    for k, q in ride_load.items():
                        on_board[k] = on_board.get(k, 0) + q
                        if on_board[k] > worker.capacity.get(k, 0):
                            return None
                else:
                    if pickup not in boarded:
                        return None  # drop-off before (or without) its pickup
                    p_start, p_end = boarded.pop(pickup)
                    for k, q in ride_load.items():
                        on_board[k] -= q
                    if max_ride is not None and start - p_end > max_ride:
                        return (pickup, p_start + (start - p_end - max_ride))
        if boarded:
            return None  # a passenger never dropped off
        if any(q > worker.capacity.get(k, 0) for k, q in load.items()):
            return None
        back = matrix[loc][worker.end_location] if stops else 0
        travel_total += back
        # Breaks still due after the last visit: driving back while waiting for each one, so
        # it is taken at the last visit's place, on the way or at the end place, whichever
        # its window allows first (a break due late in a shift whose visits end early fits
        # only on the way or at the end).
        trailing = _trailing_breaks(pending, t, back, taken[-1][1] if taken else t)
        if trailing is None:
            return None
        tail, end = trailing
        if end > self.end_limit[(route.worker_index, route.shift_index)]:
            return None
        taken.extend(tail)
        self.last_breaks = taken
        return starts, (departure if departure is not None else shift.start), end, travel_total

    def _start_at(self, visit: Visit, vi: int, arrival: int, fixed: dict[int, int]) -> int | None:
        """Earliest allowed start for an arrival, honouring a fixed start; None if impossible."""
        f = fixed.get(vi)
        if f is not None:
            return f if f >= arrival and self._window_at(vi, f) == f else None
        return self._window_at(vi, arrival)

    def _window_at(self, vi: int, t: int) -> int | None:
        """``_window_start`` by visit index (the hot path of route timing)."""
        for start, end in self.windows[vi]:
            if t <= end:
                return t if t > start else start
        return None

    def time_penalty(self, route: RouteState, stops: list[tuple[int, int]], starts: list[int], end: int) -> int:
        """Lateness (soft windows) and overtime of a timed route, in objective units."""
        if not stops:
            return 0
        w = self.p.weights
        late = 0
        for (vi, _), start in zip(stops, starts):
            if start > self.due[vi]:
                late += start - self.due[vi]
        shift = self.p.workers[route.worker_index].shifts[route.shift_index]
        overtime = max(0, end - shift.end)
        return late * w.lateness_minute + overtime * w.overtime_minute

    def max_late(self, stops: list[tuple[int, int]], starts: list[int]) -> int:
        """The largest lateness of one visit among ``stops`` (0 if none is late)."""
        due = self.due
        if not self.soft:
            return 0
        return max(0, max((s - due[vi] for (vi, _), s in zip(stops, starts)), default=0))

    def plan_max_late(self) -> int:
        """The largest lateness of any placed visit: the ``max_lateness_minute`` term's minutes."""
        if not self.soft:
            return 0
        return max((self.max_late(r.stops, r.starts) for r in self.routes), default=0)

    def service_minutes(self, route: RouteState) -> int:
        durations = self.durations[self.p.workers[route.worker_index].kind]
        return sum(durations[vi] for vi, _ in route.stops)

    def imbalance(self, route: RouteState, service: int) -> int:
        """The balance term of ``Weights.imbalance`` for a route with ``service`` minutes."""
        weight = self.p.weights.imbalance
        if weight <= 0:
            return 0
        excess = service - self.fair[(route.worker_index, route.shift_index)]
        return weight * excess * excess if excess > 0 else 0

    def imbalance_delta(self, route: RouteState, added: int) -> int:
        if self.p.weights.imbalance <= 0:
            return 0
        service = self.service_minutes(route)
        return self.imbalance(route, service + added) - self.imbalance(route, service)

    def _work_ok(self, route: RouteState, span: int) -> bool:
        worker = self.p.workers[route.worker_index]
        if worker.max_work_minutes is None:
            return True
        other = sum(self.routes[v].span for v in self.by_worker[route.worker_index] if v != route.vehicle)
        return other + span <= worker.max_work_minutes

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

    def _candidates(self, vi: int, forced: int | None, vehicles: set[int] | None = None) -> list[tuple[int, int, int, int]]:
        """Per eligible route, the cheapest position: (cost, vehicle, position, start).

        Positions that cannot work are skipped without simulating: after a stop that ends
        past the visit's latest start, or before a stop that must start before the visit
        could even begin.  ``vehicles``: only these routes.
        """
        visit = self.p.visits[vi]
        apart = self._apart_workers(vi)
        w_max_late = self.p.weights.max_lateness_minute
        pin = self.pins.get(visit.id)
        pinned_start = pin[1] if pin else None
        if forced is not None and pinned_start is not None and forced != pinned_start:
            return []  # a pinned start is never moved, not even to meet a dependency
        fixed_start = pinned_start if pinned_start is not None else forced
        lo = min(w.start for w in visit.windows) if fixed_start is None else fixed_start
        hi = (max(w.end for w in visit.windows) + (visit.max_lateness if visit.soft_windows else 0)
              if fixed_start is None else fixed_start)
        fixed = self.fixed if fixed_start is None else {**self.fixed, vi: fixed_start}
        blink, blink_rng = self.blink, self.blink_rng
        out = []
        for wi in self.eligible[vi]:
            worker = self.p.workers[wi]
            if (pin and pin[0] and worker.id not in pin[0]) or wi in apart:
                continue
            duration = visit.duration_for(worker.kind)
            for v in self.by_worker.get(wi, []):
                if vehicles is not None and v not in vehicles:
                    continue
                route = self.routes[v]
                shift = worker.shifts[route.shift_index]
                if hi < shift.start or lo + duration > shift.end + shift.max_overtime:
                    continue
                best = None
                fast = self.plain and not shift.breaks
                if fast:
                    base = self._route_base(route)
                    extra = (preference_costs(self.p, visit, worker, self.previous)
                             + self.imbalance_delta(route, duration))
                for pos in range(len(route.stops) + 1):
                    if pos > 0:
                        prev_vi = route.stops[pos - 1][0]
                        if route.starts[pos - 1] + self.p.visits[prev_vi].duration_for(worker.kind) > hi:
                            break
                    if pos < len(route.stops) and self.latest_start[route.stops[pos][0]] < lo + duration:
                        continue
                    if blink and blink_rng.random() < blink:
                        continue
                    if fast:
                        quick = self._quick_insert(route, worker, vi, pos, fixed, base)
                        if quick is None:
                            continue
                        cost, start = quick
                        cost += extra
                        if best is None or cost < best[0]:
                            best = (cost, v, pos, start)
                        continue
                    stops = route.stops[:pos] + [(vi, 0)] + route.stops[pos:]
                    sim = self.simulate(route, stops, fixed)
                    if sim is None:
                        continue
                    starts, departure, end, travel = sim
                    if not self._work_ok(route, end - departure):
                        continue
                    cost = (travel - route.travel) * max(1, self.p.weights.travel_minute)
                    cost += self.time_penalty(route, stops, starts, end) - self.time_penalty(
                        route, route.stops, route.starts, route.end)
                    cost += preference_costs(self.p, visit, worker, self.previous)
                    cost += self.imbalance_delta(route, duration)
                    if w_max_late:
                        cost += w_max_late * max(0, self.max_late(stops, starts) - self.late_cap)
                    if best is None or cost < best[0]:
                        best = (cost, v, pos, starts[pos])
                if best is not None:
                    out.append(best)
        return out

    def delay_pickups(self) -> int:
        """Pick seniors up as late as their route allows; the number of pickups moved.

        Earliest-start timing brings a car to the clinic before the drop-off window opens,
        with the senior waiting inside.  Moving the pickup later by that wait changes
        nothing from the drop-off on (it waited anyway) and nothing the objective counts;
        it is kept only if every stop from the drop-off on starts exactly as before.
        """
        if not self.ride_at:
            return 0
        moved = 0
        for route in self.routes:
            stops = route.stops
            if not any(vi in self.ride_at for vi, _ in stops):
                continue
            worker = self.p.workers[route.worker_index]
            matrix = self.p.travel_times[worker.travel_mode]
            durations = self.durations[worker.kind]
            later: dict[int, int] = {}
            for pos, (vi, _) in enumerate(stops):
                ride = self.ride_at.get(vi)
                if ride is None or vi != ride[0] or vi in self.fixed:
                    continue
                j = next((k for k in range(pos + 1, len(stops)) if stops[k][0] == ride[1]), None)
                if j is None:
                    continue
                prev = stops[j - 1][0]
                gap = route.starts[j] - (route.starts[j - 1] + durations[prev]
                                         + matrix[self.loc_out[prev]][self.loc_in[ride[1]]])
                if gap <= 0:
                    continue
                trial = {**later, vi: route.starts[pos] + gap}
                res = self._simulate(route, stops, self.fixed, trial)
                if res is None or len(res) != 4 or res[0][j:] != route.starts[j:] or res[2] != route.end:
                    continue
                later = trial
                route.starts, route.departure, route.end, route.travel = res
                route.span = route.end - route.departure
                route.breaks = list(self.last_breaks)
                moved += 1
        return moved

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
                    taken = self.take_out(a, pinned_too=True)
                    out += len(taken)
                    changed = changed or bool(taken)
        return out

    def take_out(self, vi: int, pinned_too: bool = False) -> list[int]:
        """Remove ``vi``, its ride's other leg and every placed visit that needs it; the
        routes are re-timed.  Returns what was removed ([] if a route could not be re-timed,
        or a pinned visit would go without ``pinned_too``; then nothing changes)."""
        group: set[int] = set()
        stack = [vi]
        while stack:
            x = stack.pop()
            if x in group or x not in self.placed:
                continue
            group.add(x)
            ride = self.ride_at.get(x)
            if ride is not None:
                stack.extend(ride[:2])
            stack.extend(b for b, _, _ in self.after.get(x, []))
        if not pinned_too and any(self.p.visits[x].id in self.pins for x in group):
            return []
        fixed = {k: s for k, s in self.fixed.items() if k not in group}
        timed = []
        for route in self.routes:
            if any(x in group for x, _ in route.stops):
                stops = [s for s in route.stops if s[0] not in group]
                sim = self.simulate(route, stops, fixed) if stops else ([], 0, 0, 0)
                if sim is None:
                    return []
                timed.append((route, stops, sim, list(self.last_breaks) if stops else []))
        for route, stops, (starts, departure, end, travel), breaks in timed:
            route.stops, route.starts, route.departure, route.end, route.travel = stops, starts, departure, end, travel
            route.span = end - departure if stops else 0
            route.breaks = breaks
        self.fixed = fixed
        self.placed -= group
        return sorted(group)

    def retime_linked(self) -> bool:
        """Move linked visits (pairs, dependencies, two-person) to their earliest joint starts.

        Once placed, a linked visit keeps its start so its partner stays valid; after other
        visits leave the plan, both could often start earlier (less lateness, more room).
        This re-times every route from scratch with the linked starts free: earliest starts,
        then each violated link raises a floor under the later side (a two-person visit's
        copies meet at the latest; ``after`` waits for ``before`` + min delay; ``before``
        moves up to ``after`` - max delay), and again, until nothing is violated.  Starts
        only grow from the unconstrained earliest, so what it finds is the earliest plan
        meeting every link, never later than the current one.  Pins stay; if a pass fails
        (a window or a shift end is exceeded) the plan is left as it was.  True if applied.
        """
        p = self.p
        linked = {vi for vi in self.placed
                  if (vi in self.before or vi in self.after or p.visits[vi].workers_needed > 1)
                  and p.visits[vi].id not in self.pins}
        if not linked:
            return False
        fixed = {vi: s for vi, s in self.fixed.items() if vi not in linked}
        floors: dict[int, int] = {}
        for _ in range(RETIME_PASSES):
            timed: dict[int, tuple] = {}
            starts_of: dict[int, list[int]] = {}
            changed = False
            for route in self.routes:
                if not route.stops:
                    continue
                res = self._simulate(route, route.stops, fixed, floors)
                if res is None:
                    return False
                if len(res) == 2:  # a ride too long: its pickup waits, as in ``simulate``
                    pickup, not_before = res
                    if pickup in fixed or floors.get(pickup, -1) >= not_before:
                        return False
                    floors[pickup] = not_before
                    changed = True
                    continue
                timed[route.vehicle] = (res, list(self.last_breaks))
                for (vi, _), s in zip(route.stops, res[0]):
                    starts_of.setdefault(vi, []).append(s)
            if changed:
                continue
            for vi, ss in starts_of.items():
                if len(ss) > 1 and min(ss) != max(ss):
                    floors[vi] = max(ss)
                    changed = True
            for b, links in self.before.items():
                if b not in starts_of:
                    continue
                sb = max(starts_of[b])
                for a, dmin, dmax in links:
                    if a not in starts_of:
                        continue
                    sa = max(starts_of[a])
                    if sb < sa + dmin:
                        floors[b] = max(floors.get(b, 0), sa + dmin)
                        changed = True
                    if dmax is not None and sb > sa + dmax:
                        floors[a] = max(floors.get(a, 0), sb - dmax)
                        changed = True
            if changed:
                continue
            worked: dict[int, int] = {}
            for v, ((_, departure, end, _), _) in timed.items():
                wi = self.routes[v].worker_index
                worked[wi] = worked.get(wi, 0) + end - departure
            for wi, minutes in worked.items():
                cap = p.workers[wi].max_work_minutes
                if cap is not None and minutes > cap:
                    return False
            for v, ((starts, departure, end, travel), breaks) in timed.items():
                route = self.routes[v]
                route.starts, route.departure, route.end, route.travel = starts, departure, end, travel
                route.span = end - departure
                route.breaks = breaks
            for vi in linked:
                self.fixed[vi] = max(starts_of[vi])
            return True
        return False

    def _route_base(self, route: RouteState) -> tuple[int, int, int]:
        """(time penalty, overtime part of it, largest lateness) of a route as it stands."""
        penalty = self.time_penalty(route, route.stops, route.starts, route.end)
        if not route.stops:
            return penalty, 0, 0
        shift = self.p.workers[route.worker_index].shifts[route.shift_index]
        overtime = max(0, route.end - shift.end) * self.p.weights.overtime_minute
        return penalty, overtime, self.max_late(route.stops, route.starts)

    def _quick_insert(self, route: RouteState, worker, vi: int, pos: int, fixed: dict[int, int],
                      base: tuple[int, int, int]) -> tuple[int, int] | None:
        """Cost and start of ``vi`` inserted at ``pos``, for routes ``simulate`` times plainly.

        The same timing as ``simulate`` (earliest starts, fixed starts kept) for a shift
        without breaks on a day without rides or capacities, but from the stop before the
        insertion on, and only until a stop starts when it did before (the rest of the
        route is then unchanged): most insertions are judged in a few steps instead of a
        whole route.  The cost is the same as the full evaluation's, less the preference and
        balance terms (the caller adds them).  ``_commit`` times the chosen one fully.
        """
        p = self.p
        w = p.weights
        visits = p.visits
        loc_in, loc_out = self.loc_in, self.loc_out
        durations = self.durations[worker.kind]
        matrix = p.travel_times[worker.travel_mode]
        shift = worker.shifts[route.shift_index]
        stops, starts = route.stops, route.starts
        n = len(stops)
        if pos == 0:
            t, loc = shift.start, worker.start_location
        else:
            prev = stops[pos - 1][0]
            t, loc = starts[pos - 1] + durations[prev], loc_out[prev]
        visit = visits[vi]
        tr = matrix[loc][loc_in[vi]]
        start = self._start_at(visit, vi, t + tr, fixed)
        if start is None:
            return None
        departure = start - tr if pos == 0 else route.departure
        nxt_loc = loc_in[stops[pos][0]] if pos < n else worker.end_location
        travel_delta = tr + matrix[loc_out[vi]][nxt_loc] - (
            matrix[loc][nxt_loc] if n else 0)
        due = self.due
        late_delta = max(0, start - due[vi])
        worst = late_delta
        t, loc = start + durations[vi], loc_out[vi]
        end = None
        for k in range(pos, n):
            vk = stops[k][0]
            new = self._start_at(visits[vk], vk, t + matrix[loc][loc_in[vk]], fixed)
            if new is None:
                return None
            old = starts[k]
            if new == old:
                end = route.end
                break
            late_new = max(0, new - due[vk])
            late_delta += late_new - max(0, old - due[vk])
            if late_new > worst:
                worst = late_new
            t, loc = new + durations[vk], loc_out[vk]
        if end is None:
            end = t + matrix[loc][worker.end_location]
        if end > self.end_limit[(route.worker_index, route.shift_index)]:
            return None
        if not self._work_ok(route, end - departure):
            return None
        penalty, overtime, route_worst = base
        cost = travel_delta * max(1, w.travel_minute) + late_delta * w.lateness_minute
        cost += max(0, end - shift.end) * w.overtime_minute - overtime
        if w.max_lateness_minute and self.soft:
            cost += w.max_lateness_minute * max(0, max(worst, route_worst) - self.late_cap)
        return cost, start

    def _commit(self, vi: int, copy: int, v: int, pos: int, fixed_start: int | None) -> None:
        route = self.routes[v]
        route.stops.insert(pos, (vi, copy))
        fixed = self.fixed if fixed_start is None else {**self.fixed, vi: fixed_start}
        sim = self.simulate(route, route.stops, fixed)
        assert sim is not None
        route.starts, route.departure, route.end, route.travel = sim
        route.span = route.end - route.departure
        route.breaks = self.last_breaks
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
                _, v, stops, sim, breaks = best
                route = self.routes[v]
                route.stops = stops
                route.starts, route.departure, route.end, route.travel = sim
                route.span = route.end - route.departure
                route.breaks = breaks
                for vi in (pickup, dropoff):
                    self.placed.add(vi)
                    if vi in self.fixed or vi in self.before or vi in self.after:
                        self.fixed[vi] = route.starts[stops.index((vi, 0))]
                return True
        return False

    def _ride_candidate(self, pickup: int, dropoff: int, forced: int | None, dep_d: tuple[int, int]):
        """The cheapest (cost, vehicle, stops, timing, breaks) for a ride, or None.

        Position pairs that cannot work are skipped without timing them: a stop right after
        the pickup (or drop-off) that must start before the pickup (drop-off) could end,
        and drop-off positions after stops that start past the latest drop-off (its window,
        or the latest pickup plus the ride-time limit).
        """
        p_visit, d_visit = self.p.visits[pickup], self.p.visits[dropoff]
        max_ride = self.ride_at[pickup][3]
        pin_p, pin_d = self.pins.get(p_visit.id), self.pins.get(d_visit.id)
        fixed = dict(self.fixed)
        if forced is not None:
            if pin_p and pin_p[1] is not None and pin_p[1] != forced:
                return None
            fixed[pickup] = forced
        apart = self._apart_workers(pickup) | self._apart_workers(dropoff)
        allowed = set(self.eligible[pickup]) & set(self.eligible[dropoff])
        w = self.p.weights
        best = None
        for wi in sorted(allowed - apart):
            worker = self.p.workers[wi]
            if any(pin and pin[0] and worker.id not in pin[0] for pin in (pin_p, pin_d)):
                continue
            added = p_visit.duration_for(worker.kind) + d_visit.duration_for(worker.kind)
            for v in self.by_worker.get(wi, []):
                route = self.routes[v]
                n = len(route.stops)
                base_penalty = self.time_penalty(route, route.stops, route.starts, route.end)
                fixed_costs = (preference_costs(self.p, p_visit, worker, self.previous)
                               + preference_costs(self.p, d_visit, worker, self.previous)
                               + self.imbalance_delta(route, added))
                dur_p, dur_d = p_visit.duration_for(worker.kind), d_visit.duration_for(worker.kind)
                matrix = self.p.travel_times[worker.travel_mode]
                early_p = forced if forced is not None else min(w_.start for w_ in p_visit.windows)
                early_d = max(min(w_.start for w_ in d_visit.windows),
                              early_p + dur_p + matrix[self.loc_out[pickup]][self.loc_in[dropoff]])
                last_d = self.latest_start[dropoff]
                if max_ride is not None:
                    last_d = min(last_d, self.latest_start[pickup] + dur_p + max_ride)
                latest = self.latest_start
                for i in range(n + 1):
                    if i > 0 and route.starts[i - 1] > latest[pickup]:
                        break
                    if i < n and latest[route.stops[i][0]] < early_p + dur_p:
                        continue  # the stop after the pickup could not wait for it
                    for j in range(i, n + 1):
                        if j > i and route.starts[j - 1] > last_d:
                            break
                        if j < n and latest[route.stops[j][0]] < early_d + dur_d:
                            continue
                        stops = (route.stops[:i] + [(pickup, 0)] + route.stops[i:j] + [(dropoff, 0)]
                                 + route.stops[j:])
                        sim = self.simulate(route, stops, fixed)
                        if sim is None:
                            continue
                        starts, departure, end, travel = sim
                        d_start = starts[j + 1]
                        if not (dep_d[0] <= d_start <= dep_d[1]):
                            continue
                        if not self._work_ok(route, end - departure):
                            continue
                        cost = (travel - route.travel) * max(1, w.travel_minute) + fixed_costs
                        cost += self.time_penalty(route, stops, starts, end) - base_penalty
                        if w.max_lateness_minute:
                            cost += w.max_lateness_minute * max(0, self.max_late(stops, starts) - self.late_cap)
                        if best is None or cost < best[0]:
                            best = (cost, v, stops, sim, list(self.last_breaks))
        return best

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
            cands = self._candidates(vi, None)
        else:
            # Try the earliest start the dependency allows, then a few later ones.
            cands = []
            visit = self.p.visits[vi]
            tried = set()
            for t in self._probe_times(visit, lo, hi):
                if t in tried:
                    continue
                tried.add(t)
                cands = self._candidates(vi, t)
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


def _trailing_breaks(rules: list, t: int, back: int, free_from: int) -> tuple[list[tuple[int, int]], int] | None:
    """``rules`` taken after the last visit (ended at ``t``, ``back`` minutes from the end
    place), driving whenever a break cannot start yet: (breaks, minute the route ends), or
    None when a break could no longer start within its window.  ``free_from``: the end of
    the last break already taken."""
    taken = []
    clock, left = t, back
    for rule in rules:
        b_start = max(clock, rule.earliest, free_from)
        if b_start > rule.latest:
            return None
        left -= min(left, b_start - clock)  # driven while waiting for the break
        taken.append((b_start, b_start + rule.duration))
        clock = free_from = b_start + rule.duration
    return taken, clock + left


def insertion_order(problem: Problem, pins: dict[str, tuple[frozenset[str], int | None]]) -> list[int]:
    """Hardest first: frozen, pinned, mandatory, priority, two-person, dependency chains, tight
    windows.  Frozen work (started before ``freeze_until`` in the previous plan) has happened:
    it goes in before anything that could take its time, however important."""
    index = {v.id: i for i, v in enumerate(problem.visits)}
    frozen = ({pv.visit_id for pv in problem.previous_plan if pv.start < problem.freeze_until}
              if problem.freeze_until is not None else set())
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
        width = sum(w.end - w.start for w in v.windows)
        return (
            0 if v.id in frozen else 1 if v.id in pins else 2,
            0 if v.mandatory else 1,
            -v.priority,
            depth[i],
            -v.workers_needed,
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


def construct(problem: Problem, vehicles: list[tuple[int, int]], eligible: list[list[int]]) -> Construction:
    """Build a feasible first plan; visits that fit nowhere stay out."""
    builder = Builder(problem, vehicles, eligible)
    order = insertion_order(problem, builder.pins)
    for vi in order:
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
