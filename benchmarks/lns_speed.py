"""LNS rounds per second on the Kielce demo day: ``python -m benchmarks.lns_speed [--scales 1 10] [--seconds S]``.

Issue #19 item 4 asks for the LNS's rounds per second before and after its incremental
evaluation, in one run on one machine.  For each scale this builds the demo day (as
``benchmarks.kielce``), splits it into areas as ``solve`` does, takes the largest area,
builds our construction, and runs the LNS (``optimizer.lns.improve``) for ``--seconds`` of
wall time once per mode: ``full`` (every candidate and every round priced by re-timing and
re-pricing whole routes: the code path before the incremental summaries) and
``incremental`` (the default).  Both start from the same construction and seed.  Reported
per mode: rounds, rounds per second, and the cost reached (cost per round is not the point
here; the cost is there to show the search still searches).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from dispatch.providers.travel import GeodesicProvider
from fixtures.generator import BENCHMARK_PROFILE, generate
from fixtures.problem import problem_for_day
from optimizer import SolveParams
from optimizer.construct import construct
from optimizer.decompose import split
from optimizer.lns import improve, plan_cost
from optimizer.rules import eligible_workers
from optimizer.stop import MaxRuntime



def area_problem(scale: float):
    scenario = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
    built = problem_for_day(scenario, scenario.demo_date,
                            GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35))
    problem = built.problem
    areas = split(problem, SolveParams().max_visits_per_area)
    return max((a.problem for a in areas), key=lambda p: len(p.visits)), len(problem.visits)


def run_mode(problem, mode: str, seconds: float, seed: int) -> dict:
    vehicles = [(wi, si) for wi, w in enumerate(problem.workers) for si, _ in enumerate(w.shifts)]
    seed_plan = construct(problem, vehicles, [eligible_workers(problem, v) for v in problem.visits])
    builder = seed_plan.builder
    start_cost = plan_cost(builder)
    incremental.ENABLED = mode == "incremental"
    try:
        t0 = time.process_time()
        w0 = time.monotonic()
        stats = improve(builder, seed=seed, stop=MaxRuntime(seconds))
        cpu = time.process_time() - t0
        wall = time.monotonic() - w0
    finally:
        incremental.ENABLED = True
    return {"mode": mode, "rounds": stats.iterations, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "rounds_per_s": round(stats.iterations / wall, 1), "rounds_per_cpu_s": round(stats.iterations / cpu, 1),
            "start_cost": start_cost, "best_cost": stats.best_cost, "placed": len(builder.placed)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.lns_speed", description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", nargs="+", default=["full", "incremental"])
    args = ap.parse_args(argv)
    for scale in args.scales:
        problem, day_visits = area_problem(scale)
        for mode in args.modes:
            res = run_mode(problem, mode, args.seconds, args.seed)
            res.update(scale=scale, day_visits=day_visits, area_visits=len(problem.visits),
                       load=round(os.getloadavg()[0], 2))
            print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
