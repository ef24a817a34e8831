"""LNS rounds per second on the Kielce demo day: ``python -m benchmarks.lns_speed [--scales 1 10] [--seconds S]``.

Issue #19 item 4 asks for the LNS's rounds per second before and after its incremental
evaluation, in one run on one machine.  For each scale this builds the demo day (as
``benchmarks.kielce``), splits it into areas as ``solve`` does, takes the largest area,
builds our construction, and runs the LNS (``optimizer.lns.improve``) for ``--rounds``
rounds (or ``--seconds`` of wall time) once per mode: ``full`` (``Plan.incremental`` off: every candidate timed and
priced by re-timing and re-pricing whole routes, the code path before the incremental
summaries), ``python`` (incremental, the route scan in Python: ``Builder.compiled_scan`` off) and
``incremental`` (the default: the route scan in C, ``optimizer._scan``, when it was built).  Both start from the same construction and seed.  Reported
per mode: rounds, rounds per second (wall and CPU), the cost reached and a hash of the final
plan: with a round limit both modes must end on the same plan (the incremental evaluation
changes the speed, not the search).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

from dispatch.providers.travel import GeodesicProvider
from fixtures.generator import BENCHMARK_PROFILE, generate
from fixtures.problem import problem_for_day
from optimizer import MaxIterations, MaxRuntime, SolveParams
from optimizer.construct import Builder, construct
from optimizer.decompose import split
from optimizer.lns import improve, plan_cost
from optimizer.rules import eligible_workers



def area_problem(scale: float):
    scenario = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
    built = problem_for_day(scenario, scenario.demo_date,
                            GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35))
    problem = built.problem
    areas = split(problem, SolveParams().max_visits_per_area)
    return max((a.problem for a in areas), key=lambda p: len(p.visits)), len(problem.visits)


def run_mode(problem, mode: str, seconds: float, rounds: int, seed: int) -> dict:
    vehicles = [(wi, si) for wi, w in enumerate(problem.workers) for si, _ in enumerate(w.shifts)]
    Builder.incremental = mode != "full"
    Builder.compiled_scan = mode == "incremental"
    try:
        seed_plan = construct(problem, vehicles, [eligible_workers(problem, v) for v in problem.visits])
        builder = seed_plan.builder
        start_cost = plan_cost(builder)
        t0 = time.process_time()
        w0 = time.monotonic()
        stats = improve(builder, seed=seed, stop=MaxIterations(rounds) if rounds else MaxRuntime(seconds))
        cpu = time.process_time() - t0
        wall = time.monotonic() - w0
    finally:
        Builder.incremental = True
        Builder.compiled_scan = True
    return {"mode": mode, "rounds": stats.iterations, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "rounds_per_s": round(stats.iterations / wall, 1), "rounds_per_cpu_s": round(stats.iterations / cpu, 1),
            "start_cost": start_cost, "best_cost": stats.best_cost, "placed": len(builder.placed),
            "plan": plan_digest(builder)}


def plan_digest(builder) -> str:
    """A fingerprint of the routes that is the same in every process (``hash`` of a string is
    salted per process), so runs of two checkouts can be compared."""
    return hashlib.sha256(repr([(r.stops, r.starts) for r in builder.routes]).encode()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.lns_speed", description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--rounds", type=int, default=200,
                    help="rounds per mode (the same rounds: a round limit makes the search deterministic); 0: --seconds")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", nargs="+", default=["full", "incremental"], choices=["full", "python", "incremental"])
    args = ap.parse_args(argv)
    for scale in args.scales:
        problem, day_visits = area_problem(scale)
        for mode in args.modes:
            res = run_mode(problem, mode, args.seconds, args.rounds, args.seed)
            res.update(scale=scale, day_visits=day_visits, area_visits=len(problem.visits),
                       load=round(os.getloadavg()[0], 2))
            print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
