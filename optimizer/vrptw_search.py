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

Node 0 is the depot; node ``i + 1`` is visit ``i``.  Insertion positions of all routes are
evaluated at once with numpy (earliest departure of the predecessor, latest feasible start
of the successor), so one recreate step costs a handful of vector operations.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from dataclasses import dataclass

import numpy as np

from optimizer.model import Problem

Routes = list[list[int]]
_BIG = np.iinfo(np.int64).max


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


class _Lists:
    """The instance's matrices as nested Python lists (fast scalar access)."""

    def __init__(self, inst: Vrptw) -> None:
        self.inst = inst
        self.travel = inst.travel.tolist()
        self.cost = inst.cost.tolist()
        self.service = inst.service.tolist()
        self.ready = inst.ready.tolist()
        self.due = inst.due.tolist()
        self.demand = inst.demand.tolist()


class _RouteData:
    """Insertion data of one route: per gap (pred, succ) the earliest departure from pred,
    the latest start at succ, and the arc cost pred -> succ."""

    __slots__ = ("pred", "succ", "depart", "latest", "base", "load", "gap")

    def __init__(self, m: _Lists, route: list[int]) -> None:
        path = [0, *route, 0]
        k = len(path)
        tr, sv, rd, du, co = m.travel, m.service, m.ready, m.due, m.cost
        depart = [0] * (k - 1)
        t = rd[0]
        depart[0] = t
        prev = 0
        for i in range(1, k - 1):
            b = path[i]
            t = t + tr[prev][b]
            if t < rd[b]:
                t = rd[b]
            t += sv[b]
            depart[i] = t
            prev = b
        latest = [0] * (k - 1)
        z = du[0]
        latest[k - 2] = z
        nxt = 0
        for i in range(k - 2, 0, -1):
            a = path[i]
            z = z - sv[a] - tr[a][nxt]
            if z > du[a]:
                z = du[a]
            latest[i - 1] = z
            nxt = a
        self.pred = np.array(path[:-1], dtype=np.int64)
        self.succ = np.array(path[1:], dtype=np.int64)
        self.depart = np.array(depart, dtype=np.int64)
        self.latest = np.array(latest, dtype=np.int64)
        self.base = np.array([co[path[i]][path[i + 1]] for i in range(k - 1)], dtype=np.int64)
        dm = m.demand
        self.load = sum(dm[c] for c in route)
        self.gap = np.arange(k - 1, dtype=np.int64)


@dataclass
class SisrStats:
    """What a run did: iterations, accepted and improving moves, start and best cost."""

    iterations: int = 0
    accepted: int = 0
    improvements: int = 0
    start_cost: int = 0
    best_cost: int = 0


class Sisr:
    """SISR search state over a :class:`Vrptw` (see the module docstring)."""

    def __init__(self, inst: Vrptw, seed: int = 0, avg_removed: float = 10.0, max_string: int = 10,
                 split_rate: float = 0.5, split_depth: float = 0.5, blink: float = 0.01) -> None:
        self.inst = inst
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.avg_removed = avg_removed
        self.max_string = max_string
        self.split_rate = split_rate
        self.split_depth = split_depth
        self.blink = blink
        n = inst.n
        # Customers by arc cost from each customer (itself first).
        sym = inst.cost[1:, 1:] + inst.cost[1:, 1:].T
        self.adjacent = [list(np.argsort(sym[i], kind="stable") + 1) for i in range(n)]
        self.far = inst.cost[0]
        self.lists = _Lists(inst)
        self.empty = _RouteData(self.lists, [])
        # Per customer, columns of the matrices (fast fancy indexing).
        self.travel_to = np.ascontiguousarray(inst.travel.T)
        self.cost_to = np.ascontiguousarray(inst.cost.T)

    # ---------------------------------------------------------------- ruin
    def _ruin(self, routes: Routes) -> tuple[list[int], set[int]]:
        rng = self.rng
        nonempty = [r for r in routes if r]
        if not nonempty:
            return [], set()
        mean_len = sum(len(r) for r in nonempty) / len(nonempty)
        ls_max = min(float(self.max_string), mean_len)
        ks_max = 4.0 * self.avg_removed / (1.0 + ls_max) - 1.0
        ks = int(rng.uniform(1.0, ks_max + 1.0))
        where = {c: ri for ri, r in enumerate(routes) for c in r}
        seed = rng.randrange(self.inst.n) + 1
        removed: list[int] = []
        ruined: set[int] = set()
        for c in self.adjacent[seed - 1]:
            if len(ruined) >= ks:
                break
            c = int(c)
            ri = where.get(c)
            if ri is None or ri in ruined:
                continue
            route = routes[ri]
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
                routes[ri] = route[:lo] + kept + route[lo + span:]
            else:
                lo = rng.randint(max(0, pos - lt + 1), min(pos, len(route) - lt))
                out = route[lo:lo + lt]
                routes[ri] = route[:lo] + route[lo + lt:]
            removed.extend(out)
            ruined.add(ri)
            for x in out:
                where.pop(x, None)
        return removed, ruined

    # ---------------------------------------------------------------- recreate
    def _order(self, removed: list[int]) -> list[int]:
        rng = self.rng
        pick = rng.choices((0, 1, 2, 3), weights=(4, 4, 2, 1))[0]
        if pick == 0:
            rng.shuffle(removed)
        elif pick == 1:
            removed.sort(key=lambda c: -int(self.inst.demand[c]))
        elif pick == 2:
            removed.sort(key=lambda c: -int(self.far[c]))
        else:
            removed.sort(key=lambda c: int(self.far[c]))
        return removed

    def _recreate(self, routes: Routes, data: list[_RouteData], removed: list[int]) -> int:
        """Insert ``removed`` greedily; return the number left out (no feasible position)."""
        inst = self.inst
        rd, du, sv, dm = inst.ready, inst.due, inst.service, inst.demand
        cap = inst.capacity
        missing = 0
        travel_to, cost_to = self.travel_to, self.cost_to
        travel_from, cost_from = inst.travel, inst.cost
        for c in self._order(removed):
            used = sum(1 for r in routes if r)
            parts = data if used >= inst.vehicles else data + [self.empty]
            need = cap - int(dm[c])
            fit = [k for k, d in enumerate(parts) if d.load <= need]
            if not fit:
                missing += 1
                continue
            sel = [parts[k] for k in fit]
            ends = list(itertools.accumulate(len(d.pred) for d in sel))
            pred = np.concatenate([d.pred for d in sel])
            succ = np.concatenate([d.succ for d in sel])
            begin = np.maximum(rd[c], np.concatenate([d.depart for d in sel]) + travel_to[c][pred])
            arrive = np.maximum(rd[succ], begin + (sv[c] + travel_from[c][succ]))
            delta = cost_to[c][pred] + cost_from[c][succ] - np.concatenate([d.base for d in sel])
            bad = (begin > du[c]) | (arrive > np.concatenate([d.latest for d in sel]))
            if self.blink > 0:
                bad |= self.np_rng.random(len(bad)) < self.blink
            delta[bad] = _BIG
            k = int(np.argmin(delta))
            if delta[k] == _BIG:
                missing += 1
                continue
            j = bisect.bisect_right(ends, k)
            ri = fit[j]
            g = k - (ends[j - 1] if j else 0)
            if ri == len(data):
                routes.append([c])
                data.append(_RouteData(self.lists, [c]))
            else:
                routes[ri].insert(g, c)
                data[ri] = _RouteData(self.lists, routes[ri])
        return missing

    # ---------------------------------------------------------------- driver
    def run(self, routes: Routes, deadline: float | None = None, max_iterations: int | None = None,
            t0: float = 0.3, tf: float = 0.01) -> tuple[Routes, SisrStats]:
        """Improve a feasible plan until ``deadline`` (``time.monotonic()``) or ``max_iterations``.

        Temperatures ``t0``/``tf`` are relative to the mean arc cost of the start plan; the
        temperature falls geometrically with elapsed time (or iterations, without a deadline).
        Returns the best plan found (never worse than ``routes``).
        """
        if deadline is None and max_iterations is None:
            raise ValueError("give a deadline or max_iterations")
        inst = self.inst
        current = [list(r) for r in routes if r]
        cost = routes_cost(inst, current)
        stats = SisrStats(start_cost=cost, best_cost=cost)
        best, best_cost = [list(r) for r in current], cost
        data = [_RouteData(self.lists, r) for r in current]
        arcs = sum(len(r) + 1 for r in current) or 1
        mean_arc = cost / arcs
        hot, cold = max(t0 * mean_arc, 1e-9), max(tf * mean_arc, 1e-9)
        began = time.monotonic()
        span = None if deadline is None else max(deadline - began, 1e-9)
        it = 0
        temp = hot
        while True:
            if max_iterations is not None and it >= max_iterations:
                break
            if deadline is not None and (it & 7) == 0:
                now = time.monotonic()
                if now >= deadline:
                    break
                frac = (now - began) / span  # type: ignore[operator]
                temp = hot * (cold / hot) ** frac
            elif deadline is None:
                temp = hot * (cold / hot) ** (it / max_iterations)  # type: ignore[operator]
            it += 1
            trial = [list(r) for r in current]
            removed, ruined = self._ruin(trial)
            if not removed:
                continue
            tdata = list(data)
            for ri in ruined:
                tdata[ri] = _RouteData(self.lists, trial[ri])
            if self._recreate(trial, tdata, removed):
                continue
            keep = [i for i, r in enumerate(trial) if r]
            if len(keep) != len(trial):
                trial = [trial[i] for i in keep]
                tdata = [tdata[i] for i in keep]
            new_cost = routes_cost(inst, trial)
            if new_cost < cost - temp * math.log(self.rng.random() or 1e-300):
                current, data, cost = trial, tdata, new_cost
                stats.accepted += 1
                if cost < best_cost:
                    best, best_cost = [list(r) for r in current], cost
                    stats.improvements += 1
        stats.iterations = it
        stats.best_cost = best_cost
        return best, stats


def improve_plan(inst: Vrptw, routes: Routes, seed: int = 0, deadline: float | None = None,
                 max_iterations: int | None = None, t0: float = 0.3, tf: float = 0.01,
                 avg_removed: float = 10.0) -> tuple[Routes, SisrStats]:
    """Run SISR from a feasible plan; return the best plan (re-simulated) and statistics."""
    if not solution_feasible(inst, routes):
        raise ValueError("the start plan is not a feasible VRPTW plan")
    search = Sisr(inst, seed=seed, avg_removed=avg_removed)
    best, stats = search.run(routes, deadline=deadline, max_iterations=max_iterations, t0=t0, tf=tf)
    if not solution_feasible(inst, best):  # defensive: never hand back a broken plan
        return [list(r) for r in routes if r], stats
    return best, stats
