"""Slack-induced string removals (SISR) for plain VRPTW problems.

Christiaens & Vanden Berghe, "Slack induction by string removals for vehicle routing
problems", Transportation Science 54(2), 2020: ruin by removing short strings of
consecutive visits from several routes near a random visit, recreate by greedy cheapest
insertion with "blinks" (each position skipped with a small probability), accept by
simulated annealing.

Only for problems that are a plain VRPTW (see :func:`plain_vrptw`): identical vehicles
leaving and returning to one depot within one shift, one hard window per visit, one
capacity, arc costs that do not depend on the vehicle.  Everything else (breaks, skills,
two-person visits, dependencies, preferences, balance) is out of scope: callers check
:func:`plain_vrptw` first and keep OR-Tools for the rest.

Node 0 is the depot; node ``i + 1`` is visit ``i``.  Each route keeps its earliest departure
and latest feasible start per position (both non-decreasing along the route), so the gaps
where a visit fits in time are found by bisection and each gap is checked in O(1); routes
are updated in place and restored from a copy when a round is rejected (see :class:`Sisr`).
Pure Python: about 4-5 k rounds per second on 100 customers (one idle core).  The same
rounds run in C (``optimizer/_sisr.c``, built at install as ``optimizer._sisr``) some 30 times
faster; :func:`improve_plan` uses that when it was built and this class otherwise, and this
class stays the reference the C is read against.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

import numpy as np

from optimizer.model import Problem
from optimizer.stop import StoppingCriterion

try:
    from optimizer import _sisr as _compiled
except ImportError:  # not built (no C compiler at install): the rounds run in Python (Sisr)
    _compiled = None

Routes = list[list[int]]


@dataclass(frozen=True)
class Vrptw:
    """A plain VRPTW instance; node 0 is the depot, node ``i + 1`` visit ``i``."""

    travel: np.ndarray
    """travel[i, j]: time from leaving node i to arriving at node j (int64)."""
    cost: np.ndarray
    """cost[i, j]: objective cost of the arc (int64)."""
    service: np.ndarray
    ready: np.ndarray
    """Earliest start of service; for the depot, the earliest departure."""
    due: np.ndarray
    """Latest start of service; for the depot, the latest return."""
    demand: np.ndarray
    capacity: int
    vehicles: int

    @property
    def n(self) -> int:
        """Number of customers (visits)."""
        return len(self.ready) - 1


def plain_vrptw(problem: Problem, arc_cost: str) -> Vrptw | None:
    """The problem as a :class:`Vrptw`, or None when it uses any rule beyond plain VRPTW."""
    w = problem.weights
    if not problem.workers or not problem.visits or problem.dependencies or problem.previous_plan:
        return None
    if problem.freeze_until is not None or w.imbalance != 0 or w.wait_minute != 0:
        return None
    w0 = problem.workers[0]
    if len(w0.shifts) != 1:
        return None
    shift = w0.shifts[0]
    if len(w0.capacity) > 1:
        return None
    for wk in problem.workers:
        if (wk.shifts != w0.shifts or wk.start_location != w0.start_location
                or wk.end_location != w0.start_location or wk.travel_mode != w0.travel_mode
                or wk.kind != w0.kind or wk.max_work_minutes is not None
                or dict(wk.capacity) != dict(w0.capacity) or wk.gender is not None or wk.skills):
            return None
    if shift.max_overtime != 0 or shift.breaks:
        return None
    key = next(iter(w0.capacity), None)
    for v in problem.visits:
        if (len(v.windows) != 1 or v.soft_windows or not v.mandatory or v.workers_needed != 1
                or v.required_skills or v.worker_kinds or v.required_workers or v.preferred_workers
                or v.forbidden_workers or v.gender_preference is not None or v.pinned_worker
                or v.pinned_start is not None or v.exit_location != v.location or v.duration_by_kind):
            return None
        if any(k != key for k in v.demand):
            return None
    mode = w0.travel_mode
    locs = np.array([w0.start_location] + [v.location for v in problem.visits])
    travel = np.asarray(problem.travel_times[mode], dtype=np.int64)[np.ix_(locs, locs)]
    if arc_cost == "distance":
        if mode not in problem.distances:
            return None
        cost = np.asarray(problem.distances[mode], dtype=np.int64)[np.ix_(locs, locs)]
    else:
        cost = travel * max(w.travel_minute, 0)
    service = np.array([0] + [v.duration for v in problem.visits], dtype=np.int64)
    ready = np.array([shift.start] + [v.windows[0].start for v in problem.visits], dtype=np.int64)
    due = np.array([shift.end] + [v.windows[0].end for v in problem.visits], dtype=np.int64)
    demand = np.array([0] + [v.demand.get(key, 0) if key else 0 for v in problem.visits], dtype=np.int64)
    capacity = int(w0.capacity[key]) if key else 1 << 60
    return Vrptw(travel, cost, service, ready, due, demand, capacity, len(problem.workers))


def route_feasible(inst: Vrptw, route: list[int]) -> bool:
    """Re-simulate one route: windows, return by the depot's due time, capacity."""
    t, prev, load = int(inst.ready[0]), 0, 0
    for c in route:
        t = max(int(inst.ready[c]), t + int(inst.service[prev]) + int(inst.travel[prev, c]))
        if t > inst.due[c]:
            return False
        load += int(inst.demand[c])
        prev = c
    return load <= inst.capacity and t + int(inst.service[prev]) + int(inst.travel[prev, 0]) <= inst.due[0]


def routes_cost(inst: Vrptw, routes: Routes) -> int:
    """Total arc cost of the routes (depot to depot)."""
    total = 0
    for r in routes:
        if r:
            path = [0, *r, 0]
            total += int(inst.cost[path[:-1], path[1:]].sum())
    return total


def solution_feasible(inst: Vrptw, routes: Routes) -> bool:
    """Every customer exactly once, at most ``vehicles`` routes, every route feasible."""
    seen = sorted(c for r in routes for c in r)
    used = sum(1 for r in routes if r)
    return seen == list(range(1, inst.n + 1)) and used <= inst.vehicles and all(
        route_feasible(inst, r) for r in routes)


_NEG = -(1 << 62)


@dataclass
class SisrStats:
    """What a run did: iterations, accepted and improving moves, start and best cost."""

    iterations: int = 0
    accepted: int = 0
    improvements: int = 0
    start_cost: int = 0
    best_cost: int = 0


class Sisr:
    """SISR search state over a :class:`Vrptw` (see the module docstring).

    The current plan is kept as one slot per route: the path with both depot visits
    ``[0, c1, ..., cL, 0]``, the earliest departure from every path position but the last
    (``depart``) and the latest start of service at every position but the first that keeps
    the rest of the route feasible (``latest``; position 0 holds a sentinel).  Both arrays are
    non-decreasing along the path, so the gaps where a customer may go are found by two
    bisections, and each candidate gap is checked in O(1).  A round changes routes in place
    and keeps a copy of every route it touches, to restore them when the round is rejected.
    """

    def __init__(self, inst: Vrptw, seed: int = 0, avg_removed: float = 10.0, max_string: int = 10,
                 split_rate: float = 0.5, split_depth: float = 0.5, blink: float = 0.01,
                 route_filter: int = 15) -> None:
        self.inst = inst
        self.rng = random.Random(seed)
        self.avg_removed = avg_removed
        self.max_string = max_string
        self.split_rate = split_rate
        self.split_depth = split_depth
        self.blink = blink
        self.route_filter = route_filter
        n = inst.n
        # Customers by arc cost from each customer (itself first).
        sym = inst.cost[1:, 1:] + inst.cost[1:, 1:].T
        self.adjacent = [[int(x) + 1 for x in np.argsort(sym[i], kind="stable")] for i in range(n)]
        # route_filter k > 0: a customer is first tried only in the routes holding one of its k
        # nearest customers (all routes if none of those has a feasible gap); k = 15 nearly halves the time
        # of a round on 12-route plans at the same quality per round (benchmarks/tuning/LOG3.md).
        self.nearest = [[0]] + [a[1:route_filter + 1] for a in self.adjacent]
        self.far = inst.cost[0].tolist()
        self.tr = inst.travel.tolist()
        self.co = inst.cost.tolist()
        self.sv = inst.service.tolist()
        self.rd = inst.ready.tolist()
        self.du = inst.due.tolist()
        self.dm = inst.demand.tolist()
        # Per customer c: travel x -> c, cost x -> c (columns), service of c + travel c -> x.
        self.travel_to = np.ascontiguousarray(inst.travel.T).tolist()
        self.cost_to = np.ascontiguousarray(inst.cost.T).tolist()
        self.leave_to = (inst.travel + inst.service[:, None]).tolist()
        # Plan state (see the class docstring), filled by _load.
        self.paths: list[list[int]] = []
        self.depart: list[list[int]] = []
        self.latest: list[list[int]] = []
        self.arc: list[list[int]] = []
        self.load: list[int] = []
        self.rcost: list[int] = []
        self.route_of = [-1] * (n + 1)
        self.used = 0
        self.saved: dict[int, tuple] = {}

    # ---------------------------------------------------------------- state
    def _load(self, routes: Routes) -> int:
        self.paths, self.depart, self.latest, self.arc, self.load, self.rcost = [], [], [], [], [], []
        self.route_of = [-1] * (self.inst.n + 1)
        for r in routes:
            if r:
                self.paths.append([])
                self.depart.append([])
                self.latest.append([])
                self.arc.append([])
                self.load.append(0)
                self.rcost.append(0)
                self._set(len(self.paths) - 1, [0, *r, 0])
        self.used = len(self.paths)
        self.saved = {}
        return sum(self.rcost)

    def _set(self, ri: int, path: list[int]) -> None:
        """Route slot ``ri`` becomes ``path``; recompute its arrays, load and cost."""
        tr, sv, rd, du, co = self.tr, self.sv, self.rd, self.du, self.co
        k = len(path)
        depart = [0] * (k - 1)
        t = rd[0]
        depart[0] = t
        prev = 0
        route_of = self.route_of
        load = 0
        cost = 0
        dm = self.dm
        for i in range(1, k - 1):
            b = path[i]
            cost += co[prev][b]
            t += tr[prev][b]
            if t < rd[b]:
                t = rd[b]
            t += sv[b]
            depart[i] = t
            load += dm[b]
            route_of[b] = ri
            prev = b
        cost += co[prev][0]
        latest = [0] * k
        z = du[0]
        latest[k - 1] = z
        nxt = 0
        for i in range(k - 2, 0, -1):
            a = path[i]
            z -= sv[a] + tr[a][nxt]
            if z > du[a]:
                z = du[a]
            latest[i] = z
            nxt = a
        latest[0] = _NEG
        self.paths[ri] = path
        self.depart[ri] = depart
        self.latest[ri] = latest
        self.arc[ri] = [co[path[i]][path[i + 1]] for i in range(k - 1)]
        self.load[ri] = load
        self.rcost[ri] = cost

    def _save(self, ri: int) -> None:
        if ri not in self.saved:
            self.saved[ri] = (self.paths[ri][:], self.depart[ri][:], self.latest[ri][:], self.arc[ri][:],
                              self.load[ri], self.rcost[ri])

    def _insert(self, ri: int, g: int, c: int, delta: int) -> None:
        """Put ``c`` into gap ``g`` of route ``ri`` (after path position ``g``), in place;
        ``delta`` is the cost change.  Departures change from the new visit on, latest starts
        up to it; each propagation stops where the old value reappears."""
        tr, sv, rd, du, co = self.tr, self.sv, self.rd, self.du, self.co
        p, e, lt, arc = self.paths[ri], self.depart[ri], self.latest[ri], self.arc[ri]
        a, b = p[g], p[g + 1]
        p.insert(g + 1, c)
        arc[g] = co[a][c]
        arc.insert(g + 1, co[c][b])
        k = len(p)
        t = e[g]
        e.insert(g + 1, 0)
        prev = a
        for i in range(g + 1, k - 1):
            x = p[i]
            t += tr[prev][x]
            if t < rd[x]:
                t = rd[x]
            t += sv[x]
            if i > g + 1 and t == e[i]:
                break
            e[i] = t
            prev = x
        lt.insert(g + 1, 0)
        z = lt[g + 2]
        nxt = b
        for i in range(g + 1, 0, -1):
            x = p[i]
            z -= sv[x] + tr[x][nxt]
            if z > du[x]:
                z = du[x]
            if i < g + 1 and z == lt[i]:
                break
            lt[i] = z
            nxt = x
        self.load[ri] += self.dm[c]
        self.rcost[ri] += delta
        self.route_of[c] = ri

    def _restore(self) -> None:
        route_of = self.route_of
        for ri, (path, depart, latest, arc, load, cost) in self.saved.items():
            self.paths[ri], self.depart[ri], self.latest[ri], self.arc[ri] = path, depart, latest, arc
            self.load[ri], self.rcost[ri] = load, cost
            for c in path[1:-1]:
                route_of[c] = ri
        self.used = sum(1 for p in self.paths if len(p) > 2)
        self.saved = {}

    def routes(self) -> Routes:
        return [p[1:-1] for p in self.paths if len(p) > 2]

    # ---------------------------------------------------------------- ruin
    def _ruin(self) -> list[int]:
        rng = self.rng
        if not self.used:
            return []
        mean_len = self.inst.n / self.used
        ls_max = min(float(self.max_string), mean_len)
        ks_max = 4.0 * self.avg_removed / (1.0 + ls_max) - 1.0
        ks = int(rng.uniform(1.0, ks_max + 1.0))
        seed = rng.randrange(self.inst.n) + 1
        removed: list[int] = []
        ruined: set[int] = set()
        route_of = self.route_of
        for c in self.adjacent[seed - 1]:
            if len(ruined) >= ks:
                break
            ri = route_of[c]
            if ri < 0 or ri in ruined:
                continue
            route = self.paths[ri][1:-1]
            lt_max = min(len(route), ls_max)
            lt = int(rng.uniform(1.0, lt_max + 1.0))
            pos = route.index(c)
            if lt < len(route) and rng.random() < self.split_rate:
                m = 1
                while lt + m < len(route) and rng.random() < self.split_depth:
                    m += 1
                span = lt + m
                lo = rng.randint(max(0, pos - span + 1), min(pos, len(route) - span))
                keep = rng.randint(0, lt)
                window = route[lo:lo + span]
                out = window[:keep] + window[keep + m:]
                kept = window[keep:keep + m]
                rest = route[:lo] + kept + route[lo + span:]
            else:
                lo = rng.randint(max(0, pos - lt + 1), min(pos, len(route) - lt))
                out = route[lo:lo + lt]
                rest = route[:lo] + route[lo + lt:]
            self._save(ri)
            self._set(ri, [0, *rest, 0])
            if not rest:
                self.used -= 1
            removed.extend(out)
            ruined.add(ri)
            for x in out:
                route_of[x] = -1
        return removed

    # ---------------------------------------------------------------- recreate
    def _order(self, removed: list[int]) -> list[int]:
        rng = self.rng
        pick = rng.choices((0, 1, 2, 3), weights=(4, 4, 2, 1))[0]
        if pick == 0:
            rng.shuffle(removed)
        elif pick == 1:
            dm = self.dm
            removed.sort(key=lambda c: -dm[c])
        elif pick == 2:
            far = self.far
            removed.sort(key=lambda c: -far[c])
        else:
            far = self.far
            removed.sort(key=lambda c: far[c])
        return removed

    def _recreate(self, removed: list[int]) -> int | None:
        """Insert ``removed`` greedily (cheapest feasible gap, each gap skipped with
        probability ``blink``); return the total cost change, or None if one does not fit."""
        rd, du, sv, dm, co = self.rd, self.du, self.sv, self.dm, self.co
        cap = self.inst.capacity
        vehicles = self.inst.vehicles
        paths, departs, latests, loads, arcs = self.paths, self.depart, self.latest, self.load, self.arc
        blink = self.blink
        rnd = self.rng.random
        big = 1 << 62
        total = 0
        for c in self._order(removed):
            rc, dc, d = rd[c], du[c], dm[c]
            room = cap - d
            low = rc + sv[c]
            tt, lv, ct, cf = self.travel_to[c], self.leave_to[c], self.cost_to[c], self.co[c]
            best, bri, ba = big, -1, -1
            if self.route_filter:
                route_of = self.route_of
                candidates = sorted({route_of[x] for x in self.nearest[c]} - {-1})
            else:
                candidates = range(len(paths))
            for attempt in (0, 1):
                if attempt:  # nothing fits near the customer: try every other route
                    if bri >= 0 or not self.route_filter:
                        break
                    tried = set(candidates)
                    candidates = [ri for ri in range(len(paths)) if ri not in tried]
                for ri in candidates:
                    p = paths[ri]
                    if len(p) == 2 or loads[ri] > room:
                        continue
                    e = departs[ri]
                    lt = latests[ri]
                    lo = bisect.bisect_left(lt, low) - 1
                    hi = bisect.bisect_right(e, dc)
                    if lo >= hi:
                        continue
                    for a, b, ab, eg, lg in zip(p[lo:hi], p[lo + 1:hi + 1], arcs[ri][lo:hi], e[lo:hi],
                                                lt[lo + 1:hi + 1]):
                        dl = ct[a] + cf[b] - ab
                        if dl >= best:
                            continue
                        t = eg + tt[a]
                        if t < rc:
                            t = rc
                        if t > dc or t + lv[b] > lg:
                            continue
                        if blink > 0 and rnd() < blink:
                            continue
                        best, bri, ba = dl, ri, a
            if self.used < vehicles and d <= cap:
                t = rd[0] + tt[0]
                if t < rc:
                    t = rc
                if t <= dc and t + lv[0] <= du[0]:
                    dl = ct[0] + cf[0]
                    if dl < best:
                        empty = next((ri for ri, p in enumerate(paths) if len(p) == 2), -1)
                        if empty < 0:
                            empty = len(paths)
                            paths.append([0, 0])
                            departs.append([rd[0]])
                            latests.append([_NEG, du[0]])
                            arcs.append([co[0][0]])
                            loads.append(0)
                            self.rcost.append(0)
                        best, bri, ba = dl, empty, 0
            if bri < 0:
                return None
            self._save(bri)
            if len(paths[bri]) == 2:
                self.used += 1
            self._insert(bri, paths[bri].index(ba), c, best)
            total += best
        return total

    # ---------------------------------------------------------------- driver
    def run(self, routes: Routes, stop: StoppingCriterion | None = None, max_iterations: int | None = None,
            t0: float = 0.3, tf: float = 0.01, descent: float = 0.0) -> tuple[Routes, SisrStats]:
        """Improve a feasible plan until ``stop`` says so (``optimizer.stop``) or ``max_iterations``.

        Temperatures ``t0``/``tf`` are relative to the mean arc cost of the start plan; the
        temperature falls geometrically with the share of ``stop``'s budget used (or of the
        iterations, without ``stop``).
        With ``descent`` > 0, that last share of the run restarts from the best plan at a tenth
        of the final temperature.  Returns the best plan found (never worse than ``routes``).
        """
        if stop is None and max_iterations is None:
            raise ValueError("give a stopping criterion or max_iterations")
        cost = self._load(routes)
        stats = SisrStats(start_cost=cost, best_cost=cost)
        best, best_cost = self.routes(), cost
        arcs = sum(len(p) - 1 for p in self.paths) or 1
        mean_arc = cost / arcs
        hot, cold = max(t0 * mean_arc, 1e-9), max(tf * mean_arc, 1e-9)
        it = 0
        temp = hot
        rng = self.rng
        descending = False
        frac = 0.0
        while True:
            if max_iterations is not None and it >= max_iterations:
                break
            if stop is not None and (it & 15) == 0:
                if stop():
                    break
                frac = stop.fraction() or 0.0
                temp = hot * (cold / hot) ** frac
            elif stop is None:
                frac = it / max_iterations  # type: ignore[operator]
                temp = hot * (cold / hot) ** frac
            if descent > 0 and frac >= 1.0 - descent:
                if not descending:
                    descending = True
                    cost = self._load(best)
                temp = 0.1 * cold
            it += 1
            before = cost
            removed = self._ruin()
            if not removed:
                self._restore()
                continue
            ruined_delta = sum(self.rcost[ri] - s[5] for ri, s in self.saved.items())
            delta = self._recreate(removed)
            if delta is None:
                self._restore()
                continue
            new_cost = before + ruined_delta + delta
            if new_cost < cost - temp * math.log(rng.random() or 1e-300):
                self.saved = {}
                cost = new_cost
                stats.accepted += 1
                if cost < best_cost:
                    best, best_cost = self.routes(), cost
                    stats.improvements += 1
            else:
                self._restore()
        stats.iterations = it
        stats.best_cost = best_cost
        return best, stats


def improve_plan(inst: Vrptw, routes: Routes, seed: int = 0, stop: StoppingCriterion | None = None,
                 max_iterations: int | None = None, t0: float = 0.3, tf: float = 0.01,
                 avg_removed: float = 10.0, descent: float = 0.0, core: str = "auto",
                 **options: float) -> tuple[Routes, SisrStats]:
    """Run SISR from a feasible plan; return the best plan (re-simulated) and statistics.
    ``options`` go to :class:`Sisr` (string lengths, blink rate, route filter).

    ``core``: "compiled" runs the rounds in ``optimizer._sisr`` (the same search in C, about
    fifty times the rounds per second; built at install when a C compiler is there), "python"
    in :class:`Sisr`, "auto" (the default) the compiled one when it was built.  The two draw
    different random numbers, so a seed gives a different (equally drawn) run in each."""
    if not solution_feasible(inst, routes):
        raise ValueError("the start plan is not a feasible VRPTW plan")
    if core not in ("auto", "compiled", "python"):
        raise ValueError(f"core must be auto, compiled or python, not {core!r}")
    if core == "compiled" and _compiled is None:
        raise RuntimeError("optimizer._sisr was not built (no C compiler at install?)")
    if core != "python" and _compiled is not None:
        best, stats = _run_compiled(inst, routes, seed, stop, max_iterations, t0, tf, avg_removed, options)
    else:
        search = Sisr(inst, seed=seed, avg_removed=avg_removed, **options)  # type: ignore[arg-type]
        best, stats = search.run(routes, stop=stop, max_iterations=max_iterations, t0=t0, tf=tf)
    if not solution_feasible(inst, best):  # defensive: never hand back a broken plan
        return [list(r) for r in routes if r], stats
    return best, stats


def _run_compiled(inst: Vrptw, routes: Routes, seed: int, stop: StoppingCriterion | None,
                  max_iterations: int | None, t0: float, tf: float, avg_removed: float,
                  options: dict[str, float]) -> tuple[Routes, SisrStats]:
    """:meth:`Sisr.run` in ``optimizer._sisr``, with :class:`Sisr`'s defaults for the options."""
    if stop is None and max_iterations is None:
        raise ValueError("give a stopping criterion or max_iterations")
    known = {"max_string", "split_rate", "split_depth", "blink", "route_filter"}
    if set(options) - known:
        raise TypeError(f"unknown SISR options: {sorted(set(options) - known)}")

    def int64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    plan, iterations, accepted, improvements, start_cost, best_cost = _compiled.run(  # type: ignore[union-attr]
        travel=int64(inst.travel), cost=int64(inst.cost), service=int64(inst.service), ready=int64(inst.ready),
        due=int64(inst.due), demand=int64(inst.demand), capacity=min(int(inst.capacity), (1 << 62)),
        vehicles=inst.vehicles, routes=[list(map(int, r)) for r in routes], seed=seed % (1 << 63), avg_removed=avg_removed,
        max_string=float(options.get("max_string", 10)), split_rate=float(options.get("split_rate", 0.5)),
        split_depth=float(options.get("split_depth", 0.5)), blink=float(options.get("blink", 0.01)),
        route_filter=int(options.get("route_filter", 15)), t0=t0, tf=tf, stop=stop,
        max_iterations=max_iterations)
    return plan, SisrStats(iterations=iterations, accepted=accepted, improvements=improvements,
                           start_cost=start_cost, best_cost=best_cost)
