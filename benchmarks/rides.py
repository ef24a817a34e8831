"""Senior taxi, rides only: ``python -m benchmarks.rides [--scale 10] [--time-limit S] [--out FILE]``.

The day: the Kielce fixture scenario (seed 2026) at ``--scale`` (10: 4200 seniors, 40
drivers with their cars), its demo day (Tue 2026-12-01), keeping only the taxi requests and
the drivers; built by the product's problem builder (``fixtures.problem``) with
the offline travel model and the default ride settings (max ride time = direct x 1.5 + 15
min, arrive at most 30 min early, return wait 30 min).  Assistants riding along keep their
seat in the car's load, but their own escort visits are left out (no assistants in a
rides-only day).

Two plans, in the same run, each checked by ``optimizer.checker``:

* **carepath**: the problem as built, solved with ``--time-limit`` seconds; rides may share
  a car when room, windows and ride times allow.
* **baseline: one car per ride, no sharing**: the same rides, visits, windows and ride-time
  limits, but every trip (an outbound or a return) gets its own car (a driver pinned to that
  trip, a car with room for its passengers, on duty 6:00-21:00, starting and ending at the
  MOPR office like the real fleet), so no two trips share a car and no car chains trips.
  It is solved by the same solver (which only has to time each trip) and checked the same
  way.  This is what a "one taxi per booking" service costs.

Reported per plan (definitions in ``dispatch.planning.ride_stats``): rides planned, shared rides,
cars used, vehicle km, car hours, passengers per car-hour, mean and max ride-time excess
over the direct drive, and the checker's verdict.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from benchmarks.peers.report import machine
from dispatch.planning.problem_builder import BuiltProblem
from dispatch.planning.ride_legs import ESCORTS
from dispatch.planning.ride_stats import ride_stats
from fixtures.problem import problem_for_day
from dispatch.providers.travel import GeodesicProvider
from fixtures.generator import BENCHMARK_PROFILE, generate
from dispatch.domain import ServiceCode, WorkerKind
from optimizer import check, is_feasible
from optimizer import Problem, Shift, Solution, Worker
from optimizer import SolveParams
from optimizer import solve

OFFLINE = GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35)
BASELINE_DAY = (6 * 60, 21 * 60)
"""Duty window of each baseline car (the fleet's cars are available 6:00-21:00)."""


def rides_only_day(scale: float, seed: int = 2026) -> BuiltProblem:
    """The demo day of the scaled scenario with only taxi requests and drivers, escorts left out."""
    scenario = generate(seed, profile=BENCHMARK_PROFILE, scale=scale)
    scenario = dataclasses.replace(
        scenario,
        requests=tuple(r for r in scenario.requests if r.service is ServiceCode.TAXI),
        workers=tuple(w for w in scenario.workers if w.kind is WorkerKind.DRIVER),
    )
    built = problem_for_day(scenario, scenario.demo_date, OFFLINE)
    escorts = {vid for vid, src in built.sources.items() if src.leg in ESCORTS}
    problem = dataclasses.replace(
        built.problem,
        visits=tuple(v for v in built.problem.visits if v.id not in escorts),
        dependencies=tuple(d for d in built.problem.dependencies if d.after not in escorts),
        name=f"rides-only {scenario.demo_date} x{scale:g}",
    )
    return dataclasses.replace(built, problem=problem, sources={k: v for k, v in built.sources.items()
                                                                if k not in escorts})


def one_car_per_ride(problem: Problem) -> Problem:
    """The baseline problem: one pinned car per trip (see the module docstring)."""
    template = problem.workers[0]
    workers, visits = [], {v.id: v for v in problem.visits}
    for i, ride in enumerate(problem.rides):
        wid = f"car-{i + 1:04d}"
        workers.append(Worker(
            id=wid, kind=template.kind, shifts=(Shift(*BASELINE_DAY),), start_location=template.start_location,
            end_location=template.end_location, travel_mode=template.travel_mode, skills=template.skills,
            capacity={"seats": max(1, ride.load.get("seats", 0)), "wheelchair": ride.load.get("wheelchair", 0)},
        ))
        for vid in (ride.pickup, ride.dropoff):
            visits[vid] = dataclasses.replace(visits[vid], pinned_worker=wid, forbidden_workers=frozenset())
    return dataclasses.replace(problem, workers=tuple(workers), visits=tuple(visits[v.id] for v in problem.visits),
                               previous_plan=(), name=problem.name + " baseline")


def measure(name: str, built: BuiltProblem, problem: Problem, time_limit: float, seed: int) -> dict:
    started = time.monotonic()
    # The product's parameters (a day above 600 stops is split into areas), except that no
    # reasons are computed for unplaced trips: they are not what is measured here, and
    # explaining ~90 unplaced rides (``optimizer.explain_rides``, a plan rebuild per test)
    # took longer than the search at this size.
    params = SolveParams(time_limit_s=time_limit, seed=seed, explain=False)
    solution: Solution = solve(problem, params)
    wall = time.monotonic() - started
    violations = check(problem, solution)
    st = ride_stats(problem, solution, built.rides)
    return {
        "plan": name,
        "drivers_available": len(problem.workers),
        **st.as_dict(),
        "km_per_ride": round(st.vehicle_km / st.rides_planned, 2) if st.rides_planned else None,
        "car_hours_per_ride": round(st.car_hours / st.rides_planned, 2) if st.rides_planned else None,
        "areas": (solution.stats.parameters.get("areas") if solution.stats else None),
        "wall_s": round(wall, 1),
        "feasible": is_feasible(violations),
        "violations": [v.message for v in violations if v.severity == "error"][:5],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    built = rides_only_day(args.scale)
    problem = built.problem
    requests = len({r.request_id for r in built.rides})
    print(f"{problem.name}: {requests} ride requests, {len(problem.rides)} trips, {len(problem.visits)} stops, "
          f"{len(problem.workers)} drivers")
    results = [
        measure("carepath", built, problem, args.time_limit, args.seed),
        measure("one car per ride", built, one_car_per_ride(problem), args.time_limit, args.seed),
    ]
    doc = {
        "command": f"python -m benchmarks.rides --scale {args.scale:g} --time-limit {args.time_limit:g}",
        "machine": machine(),
        "scale": args.scale,
        "day": problem.name,
        "ride_requests": requests,
        "trips": len(problem.rides),
        "time_limit_s": args.time_limit,
        "results": results,
    }
    cols = ("plan", "rides_planned", "rides_total", "returns_missing", "shared_rides", "cars_used", "vehicle_km", "km_per_ride", "car_hours",
            "passengers_per_car_hour", "excess_mean_min", "excess_max_min", "areas", "wall_s", "feasible")
    print(" | ".join(cols))
    for r in results:
        print(" | ".join(str(r[c]) for c in cols))
    out = args.out or Path(__file__).parent / "results" / f"rides_{args.scale:g}x.json"
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
