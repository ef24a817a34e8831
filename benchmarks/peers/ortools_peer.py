"""Plain OR-Tools: carepath's routing model, searched by OR-Tools alone.

What "plain" means here: the same model carepath builds (``optimizer.routing.build_model``:
every rule as OR-Tools dimensions and constraints, drop penalties so a plan always comes
back), but none of carepath's own search: no construction seed, no ruin-and-recreate, no
SISR, no LNS, no decomposition into areas.  Search parameters are OR-Tools' defaults with
the two settings its routing guide recommends for time-windowed problems: first solution
``PATH_CHEAPEST_ARC`` (what ``AUTOMATIC`` picks) and ``GUIDED_LOCAL_SEARCH`` (the default,
greedy descent, stops at the first local optimum and would not use the time limit).

Left out, as for VROOM and PyVRP: two-person visits and visits linked by a dependency.
The model can state them (as CP constraints), but OR-Tools' first-solution heuristics then
find no plan with any visit in it: on the 1x Kielce day, 0 of 286 visits placed in 5 s
with every first-solution strategy tried (PATH_CHEAPEST_ARC, PARALLEL_CHEAPEST_INSERTION,
LOCAL_CHEAPEST_INSERTION), which is why carepath seeds OR-Tools with its own construction.
"""

from __future__ import annotations

import time
from dataclasses import replace

from benchmarks.peers.base import Objective, PeerRun
from benchmarks.peers.plans import assemble, split_expressible
from optimizer import Problem
from optimizer import SolveParams


MATRICES = 6
"""Transit and cost matrices carepath's model registers for three travel modes."""
BYTES_PER_ENTRY = 44
"""8 bytes in OR-Tools plus ~36 of the Python list each matrix passes through (measured order)."""
MEMORY_CAP = 6 * 2**30
"""Above this estimate the run is skipped: the model would not fit beside the problem itself."""

NOT_MODELLED = ("two-person visits and dependencies left out (see module docstring)",)


class OrtoolsPeer:
    name = "ortools"

    def missing(self) -> str | None:
        return None

    def settings(self, time_limit: float) -> str:
        return (f"carepath's OR-Tools model without carepath's search; DefaultRoutingSearchParameters + "
                f"PATH_CHEAPEST_ARC + GUIDED_LOCAL_SEARCH, {time_limit:g} s limit, 1 thread (routing is single-threaded)")

    def solve(self, problem: Problem, time_limit: float, objective: Objective, seed: int = 0) -> PeerRun:
        from optimizer.nodes import to_routes
        from optimizer.routing import search_alone

        began = time.monotonic()
        keep, left_out = split_expressible(problem, two_person=False, dependencies=False, rides=True)
        full, problem = problem, replace(problem, visits=tuple(problem.visits[vi] for vi in keep), dependencies=(),
                                         rides=())
        places = {w.start_location for w in problem.workers} | {w.end_location for w in problem.workers}
        nodes = sum(max(1, v.workers_needed) for v in problem.visits) + len(places)
        need = MATRICES * nodes * nodes * BYTES_PER_ENTRY
        if need > MEMORY_CAP:
            return PeerRun(None, 0.0, time.monotonic() - began,
                           status=f"skipped: {nodes} nodes x {MATRICES} registered matrices ~ {need / 2**30:.0f} GiB "
                                  f"> {MEMORY_CAP / 2**30:.0f} GiB cap",
                           left_out={k: len(v) for k, v in left_out.items()}, not_modelled=NOT_MODELLED)
        arc = "distance" if objective == "distance" else "travel_time"
        called = time.monotonic() - began
        run = search_alone(problem, SolveParams(time_limit_s=time_limit, seed=seed, arc_cost=arc), time_limit - called)
        solve_s = run.search_s
        if run.raw is None:
            return PeerRun(None, solve_s, time.monotonic() - began, status=f"no plan (routing status {run.status})",
                           left_out={k: len(v) for k, v in left_out.items()})
        raw = run.raw
        first = [] if run.first_solution_s is None else [called + run.first_solution_s]
        routes = to_routes(problem, raw)
        solution = assemble(full, routes, left_out, "plain OR-Tools", "ok", solve_s, time_limit, seed)
        return PeerRun(solution, solve_s, time.monotonic() - began, first_feasible_s=first[0] if first else None,
                       left_out={k: len(v) for k, v in left_out.items()}, not_modelled=NOT_MODELLED)


PEER = OrtoolsPeer()
