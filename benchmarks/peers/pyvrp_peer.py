"""PyVRP as a peer.

PyVRP has time windows, several depots, vehicle types, routing profiles and optional
clients with prizes, but no skills, no breaks and no per-client vehicle restrictions.
So, exactly:

* Skills (carepath's eligibility): one routing profile per (travel mode, set of visits the
  worker may do); in a profile, travel *into* a visit the worker may not do takes longer
  than the day, so a plan using it is infeasible.  Every visit gets its own PyVRP location
  (a senior with two visits of different kinds needs two columns).  The matrices grow as
  profiles x locations^2; above ``MEMORY_CAP`` bytes the instance is skipped and marked.
* Breaks: not in PyVRP; the shift's break minutes are taken off its end, and after solving
  each route is re-timed and its breaks inserted where they fit (``plans.retimed_route``).
  Where a break fits nowhere, the adapter takes visits off that route (optional and
  lowest priority first) until it does, and the run's notes say how many.
* Priorities: optional clients with prizes in travel-minute units, from carepath's drop
  penalties (mandatory 1,000,000 = 10,000,000 / travel weight 10; optional 10,000 x
  priority).  Solomon customers are required clients.
* Left out: two-person visits, visits linked by a dependency, rides that end elsewhere,
  visits with several windows.  Not modelled: soft windows (hard), overtime, continuity
  and gender preferences, workload balance, working-time caps across split shifts.
* Solve: ``pyvrp.solve`` with its default ``SolveParams`` (iterated local search), stop
  ``MaxRuntime(time limit)``, the run's seed; PyVRP is single-threaded.
"""

from __future__ import annotations

import time

from benchmarks.peers.base import Objective, PeerRun, package_missing
from benchmarks.peers.plans import assemble, horizon_of, retimed_with_breaks, split_expressible, vehicles_of
from benchmarks.peers.skills import holds, visit_tokens
from optimizer import Problem

MEMORY_CAP = 3 * 2**30
"""Largest total size of PyVRP's distance and duration matrices we let an instance build."""

NOT_MODELLED = ("breaks inserted after solving (break minutes reserved off the shift end)",
                "soft windows given as hard", "no overtime", "no continuity or gender preference",
                "no workload balance", "no working-time cap across split shifts")


class PyvrpPeer:
    name = "pyvrp"

    def missing(self) -> str | None:
        return package_missing("pyvrp", "pyvrp")

    def settings(self, time_limit: float) -> str:
        import importlib.metadata as md

        return (f"pyvrp {md.version('pyvrp')}: pyvrp.solve(default SolveParams, MaxRuntime({time_limit:g})), "
                "single-threaded; skills as one profile per eligibility class")

    def solve(self, problem: Problem, time_limit: float, objective: Objective, seed: int = 0) -> PeerRun:
        import numpy as np
        import pyvrp
        from pyvrp.stop import MaxRuntime

        began = time.monotonic()
        keep, left_out = split_expressible(problem, two_person=False, dependencies=False, rides=False,
                                           several_windows=False)
        vehicles = vehicles_of(problem)
        workers = problem.workers
        depot_locs = sorted({w.start_location for w in workers} | {w.end_location for w in workers})
        depot_index = {loc: i for i, loc in enumerate(depot_locs)}
        loc_of = np.asarray(depot_locs + [problem.visits[vi].location for vi in keep], dtype=np.int64)
        tokens = [visit_tokens(problem.visits[vi]) for vi in keep]
        classes: dict[tuple, int] = {}
        profile_of: list[int] = []
        eligible_of: list[frozenset[int]] = []
        for veh in vehicles:
            w = workers[veh.worker_index]
            eligible = frozenset(i for i, ts in enumerate(tokens) if all(holds(w, t) for t in ts))
            key = (w.travel_mode, eligible)
            if key not in classes:
                classes[key] = len(classes)
                eligible_of.append(eligible)
            profile_of.append(classes[key])
        size = 2 * len(classes) * len(loc_of) ** 2 * 8
        if size > MEMORY_CAP:
            return PeerRun(None, 0.0, time.monotonic() - began,
                           status=f"skipped: skills need {len(classes)} profiles x {len(loc_of)}^2 matrices "
                                  f"({size / 2**30:.1f} GiB > {MEMORY_CAP / 2**30:.0f} GiB cap)",
                           left_out={k: len(v) for k, v in left_out.items()}, not_modelled=NOT_MODELLED)
        horizon = horizon_of(problem)
        barrier = 10 * horizon
        base_dur: dict[object, np.ndarray] = {}
        base_dist: dict[object, np.ndarray] = {}
        durations, distances = [], []
        for (mode, _), eligible in zip(classes, eligible_of):
            if mode not in base_dur:
                base_dur[mode] = np.asarray(problem.travel_times[mode], dtype=np.int64)[np.ix_(loc_of, loc_of)]
                if objective == "distance":
                    base_dist[mode] = np.asarray(problem.distances[mode], dtype=np.int64)[np.ix_(loc_of, loc_of)]
                else:
                    base_dist[mode] = base_dur[mode]
            banned = [len(depot_locs) + i for i in range(len(keep)) if i not in eligible]
            dur, dist = base_dur[mode].copy(), base_dist[mode].copy()
            dur[:, banned] = barrier
            dist[:, banned] = barrier
            np.fill_diagonal(dur, 0)
            np.fill_diagonal(dist, 0)
            durations.append(dur)
            distances.append(dist)
        keys = sorted({k for vi in keep for k in problem.visits[vi].demand})
        locations = [pyvrp.Location(0.0, 0.0) for _ in loc_of]
        depots = [pyvrp.Depot(location=i) for i in range(len(depot_locs))]
        clients = []
        for i, vi in enumerate(keep):
            v = problem.visits[vi]
            mandatory = v.mandatory or v.pinned_worker is not None or v.pinned_start is not None
            lo = min((w.start for w in v.windows), default=0)
            hi = max((w.end for w in v.windows), default=horizon)
            required = objective == "distance"
            prize = 0 if required else (1_000_000 if mandatory else 10_000 * max(1, v.priority))
            clients.append(pyvrp.Client(location=len(depot_locs) + i, delivery=[v.demand.get(k, 0) for k in keys],
                                        service_duration=v.duration, tw_early=lo, tw_late=hi,
                                        prize=prize, required=required))
        types = []
        for n, veh in enumerate(vehicles):
            w = workers[veh.worker_index]
            shift = w.shifts[veh.shift_index]
            reserve = sum(b.duration for b in shift.breaks)
            types.append(pyvrp.VehicleType(
                num_available=1, capacity=[w.capacity.get(k, 0) for k in keys],
                start_depot=depot_index[w.start_location], end_depot=depot_index[w.end_location],
                tw_early=shift.start, tw_late=max(shift.start, shift.end - reserve), profile=profile_of[n],
            ))
        data = pyvrp.ProblemData(locations, clients, depots, types, distances, durations)
        solved_at = time.monotonic()
        result = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=seed, collect_stats=False, display=False)
        solve_s = time.monotonic() - solved_at
        best = result.best
        routes, removed = [], 0
        for route in best.routes():
            order = [keep[a.idx] for a in route.schedule() if a.is_client()]
            timed, dropped = retimed_with_breaks(problem, vehicles[route.vehicle_type()], order)
            routes.append(timed)
            removed += len(dropped)
        status = "ok" if best.is_feasible() else "PyVRP: no feasible plan"
        solution = assemble(problem, routes, left_out, "PyVRP", status, solve_s, time_limit, seed)
        notes = NOT_MODELLED + ((f"{removed} visit(s) taken off routes by the adapter to fit breaks",) if removed else ())
        return PeerRun(solution, solve_s, time.monotonic() - began, status=status,
                       left_out={k: len(v) for k, v in left_out.items()}, not_modelled=notes)


PEER = PyvrpPeer()
