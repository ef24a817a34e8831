"""Kielce home-care days: ``python -m benchmarks.kielce [--scales 1 10] [--time-limit S] [--out results.json]``.

For each scale it generates the fixture scenario (seed 2026), builds the demo day's problem
with the offline travel model, and solves it with carepath's optimizer.  Reported per run:
visits placed (all and mandatory, and per kind: single, two-person, linked, ride leg),
travel minutes, continuity share, time to the first
feasible plan (our construction, measured separately), wall time of the whole solve, the
number of areas the day was split into, and the independent checker's verdict.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from fixtures.problem import problem_for_day
from dispatch.providers.travel import GeodesicProvider
from fixtures.generator import BENCHMARK_PROFILE, generate
from optimizer import check, is_feasible
from optimizer.construct import construct
from optimizer.decompose import split
from optimizer import SolveParams
from optimizer.rules import eligible_workers
from optimizer import solve


def first_feasible_seconds(problem, max_visits: int) -> tuple[float, int]:
    """Time for our construction to produce a complete feasible plan (all areas)."""
    started = time.monotonic()
    placed = 0
    for area in split(problem, max_visits):
        p = area.problem
        vehicles = [(wi, si) for wi, w in enumerate(p.workers) for si, _ in enumerate(w.shifts)]
        placed += len(construct(p, vehicles, [eligible_workers(p, v) for v in p.visits]).placed)
    return time.monotonic() - started, placed


def run(scale: float, time_limit: float, seed: int) -> dict:
    scenario = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
    started = time.monotonic()
    built = problem_for_day(scenario, scenario.demo_date, GeodesicProvider({"walk": 4.5, "public_transport": 15.0,
                                                                               "car": 30.0}, 1.35))
    build_s = time.monotonic() - started
    problem = built.problem
    params = SolveParams(time_limit_s=time_limit, seed=seed)
    first_s, first_placed = first_feasible_seconds(problem, params.max_visits_per_area)
    started = time.monotonic()
    solution = solve(problem, params)
    wall = time.monotonic() - started
    violations = check(problem, solution)
    k = solution.kpis
    assert k is not None and solution.stats is not None
    return {
        "scale": scale,
        "visits": len(problem.visits),
        "workers": len(problem.workers),
        "build_problem_s": round(build_s, 1),
        "first_feasible_s": round(first_s, 2),
        "first_feasible_placed": first_placed,
        "time_limit_s": time_limit,
        "solve_wall_s": round(wall, 1),
        "areas": solution.stats.parameters.get("areas"),
        "placed": k.visits_placed,
        "mandatory_placed": k.mandatory_placed,
        "mandatory_total": k.mandatory_total,
        "travel_minutes": k.travel_minutes,
        "continuity_share": round(k.continuity_share, 3),
        "utilisation": round(k.utilisation, 3),
        "unplaced_reasons": _count(u.reason.value for u in solution.unassigned),
        "placed_by_kind": placed_by_kind(problem, {u.visit_id for u in solution.unassigned}),
        "feasible": is_feasible(violations),
        "status": solution.stats.status,
    }


def placed_by_kind(problem, unplaced: set[str]) -> dict[str, dict[str, int]]:
    """Placement per kind of visit: single, two-person, linked by a dependency (e.g. a
    medication check hours after the medication), ride leg; [placed, total] for all and for
    mandatory visits.  Issue #8 asks that linked and two-person visits fare as well as single
    ones; this is where that shows."""
    linked = {d.before for d in problem.dependencies} | {d.after for d in problem.dependencies}
    legs = {r.pickup for r in problem.rides} | {r.dropoff for r in problem.rides}
    out: dict[str, dict[str, int]] = {}
    for v in problem.visits:
        kind = ("ride_leg" if v.id in legs else "two_person" if v.workers_needed > 1
                else "linked" if v.id in linked else "single")
        row = out.setdefault(kind, {"placed": 0, "total": 0, "mandatory_placed": 0, "mandatory_total": 0})
        row["total"] += 1
        row["placed"] += v.id not in unplaced
        row["mandatory_total"] += v.mandatory
        row["mandatory_placed"] += v.mandatory and v.id not in unplaced
    return out


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.kielce", description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--time-limit", type=float, nargs="+", default=[10.0, 90.0],
                    help="one per scale, or one for all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    limits = args.time_limit if len(args.time_limit) == len(args.scales) else [args.time_limit[0]] * len(args.scales)
    results = []
    for scale, limit in zip(args.scales, limits):
        res = run(scale, limit, args.seed)
        results.append(res)
        print(json.dumps(res), flush=True)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


