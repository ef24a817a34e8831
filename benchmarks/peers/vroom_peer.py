"""VROOM (pyvroom) as a peer.

Given: one vehicle per (worker, shift) with the shift as a hard time window (no overtime),
the worker's start and end place, travel-mode profile, breaks with their windows, skills
(carepath's eligibility as integer skills, see ``skills``), capacities; one job per visit
with its service time, hard windows, priority (mandatory 100, optional = carepath priority
1-5, so one mandatory visit outweighs 20-100 optional ones as carepath's drop penalties
do).  Left out (VROOM cannot express them): two-person visits, visits linked by a
dependency, rides that end elsewhere.  Not modelled: soft windows (hard), overtime,
continuity and gender preferences, workload balance, working-time caps across split
shifts.  Solve: exploration level 5 (VROOM's default and best), 1 thread, the time limit
as VROOM's timeout.  VROOM's own start times and break times are kept.
"""

from __future__ import annotations

import time
from datetime import timedelta

from benchmarks.peers.base import Objective, PeerRun, package_missing
from benchmarks.peers.plans import Vehicle, assemble, horizon_of, route_from_times, split_expressible, vehicles_of
from benchmarks.peers.skills import integer_skills
from optimizer import Problem

NOT_MODELLED = ("soft windows given as hard", "no overtime", "no continuity or gender preference",
                "no workload balance", "no working-time cap across split shifts")


class VroomPeer:
    name = "vroom"

    def missing(self) -> str | None:
        return package_missing("vroom", "pyvroom")

    def settings(self, time_limit: float) -> str:
        import importlib.metadata as md

        return (f"pyvroom {md.version('pyvroom')}: Input.solve(exploration_level=5, nb_threads=1, "
                f"timeout={time_limit:g} s); integer matrices as given to carepath")

    def solve(self, problem: Problem, time_limit: float, objective: Objective, seed: int = 0) -> PeerRun:
        import numpy as np
        import vroom

        began = time.monotonic()
        keep, left_out = split_expressible(problem, two_person=False, dependencies=False, rides=False)
        vehicles = vehicles_of(problem)
        visit_skills, worker_skills = integer_skills(problem, keep)
        inp = vroom.Input()
        modes = sorted({problem.workers[v.worker_index].travel_mode for v in vehicles}, key=lambda m: m.value)
        for mode in modes:
            inp.set_durations_matrix(profile=mode.value, matrix_input=np.asarray(problem.travel_times[mode], dtype=np.uint32))
            if objective == "distance":
                inp.set_costs_matrix(profile=mode.value, matrix_input=np.asarray(problem.distances[mode], dtype=np.uint32))
        keys = sorted({k for vi in keep for k in problem.visits[vi].demand})
        kinds_vary = any(problem.visits[vi].duration_by_kind for vi in keep)
        for n, veh in enumerate(vehicles):
            w = problem.workers[veh.worker_index]
            shift = w.shifts[veh.shift_index]
            breaks = [vroom.Break(n * 10 + k + 1, time_windows=[vroom.TimeWindow(b.earliest, b.latest)], service=b.duration)
                      for k, b in enumerate(shift.breaks)]
            inp.add_vehicle(vroom.Vehicle(
                n, start=w.start_location, end=w.end_location, profile=w.travel_mode.value,
                capacity=vroom.Amount([w.capacity.get(k, 0) for k in keys]) if keys else (),
                skills=worker_skills[veh.worker_index] or None,
                time_window=vroom.TimeWindow(shift.start, shift.end), breaks=breaks,
                type=w.kind.value if kinds_vary else "",
            ))
        horizon = horizon_of(problem)
        jobs = []
        for vi, skills in zip(keep, visit_skills):
            v = problem.visits[vi]
            mandatory = v.mandatory or v.pinned_worker is not None or v.pinned_start is not None
            windows = [vroom.TimeWindow(w.start, w.end) for w in sorted(v.windows, key=lambda w: w.start)]
            jobs.append(vroom.Job(
                vi, location=v.location, default_service=v.duration,
                delivery=vroom.Amount([v.demand.get(k, 0) for k in keys]) if keys else vroom.Amount([]),
                skills=skills or None, priority=100 if mandatory else max(0, min(100, v.priority)),
                time_windows=windows or [vroom.TimeWindow(0, horizon)],
                service_per_type={k.value: d for k, d in v.duration_by_kind.items()} or None,
            ))
        if jobs:
            inp.add_job(jobs)
        solved_at = time.monotonic()
        answer = inp.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=time_limit))
        solve_s = time.monotonic() - solved_at
        routes = [self._route(problem, vehicles[r["vehicle"]], r["steps"]) for r in answer.to_dict().get("routes", [])]
        solution = assemble(problem, routes, left_out, "VROOM", "ok", solve_s, time_limit, seed)
        return PeerRun(solution, solve_s, time.monotonic() - began,
                       left_out={k: len(v) for k, v in left_out.items()}, not_modelled=NOT_MODELLED)

    @staticmethod
    def _route(problem: Problem, vehicle: Vehicle, steps: list[dict]):
        order, starts, breaks = [], [], []
        start = end = None
        for step in steps:
            begins = step["arrival"] + step.get("waiting_time", 0) + step.get("setup", 0)
            if step["type"] == "start":
                start = step["arrival"]
            elif step["type"] == "end":
                end = step["arrival"]
            elif step["type"] == "break":
                breaks.append((begins, begins + step["service"]))
            elif step["type"] == "job":
                order.append(int(step["id"]))
                starts.append(begins)
        assert start is not None
        return route_from_times(problem, vehicle, order, starts, breaks, start, end)


PEER = VroomPeer()
