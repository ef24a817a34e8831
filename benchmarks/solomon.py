"""Solomon VRPTW benchmark: ``python -m benchmarks.solomon FILE... --time-limit S --out results.json``.

Each instance becomes a carepath problem: customers are mandatory visits, the 25 vehicles
are workers with the instance's capacity, the depot's due date ends every shift.  Travel
times are Euclidean distances in double precision scaled by ``TIME_SCALE`` and rounded UP
(so any plan feasible in integers is feasible when re-simulated in doubles); the objective
is distance, scaled by ``DIST_SCALE`` and rounded to the nearest integer.  Reported
distances are recomputed in double precision from the routes.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from optimizer import check, is_feasible
from optimizer import Location, Problem, Shift, TimeWindow, TravelMode, Visit, Weights, Worker, WorkerKind
from optimizer import SolveParams
from optimizer import solve

TIME_SCALE = 100
DIST_SCALE = 1000
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "solomon"


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    xy: list[tuple[float, float]]
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]


def read_instance(path: Path) -> Instance:
    """Parse Solomon's text format (name, VEHICLE block, CUSTOMER table; node 0 = depot)."""
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    name = lines[0]
    try:
        i = next(k for k, ln in enumerate(lines) if ln.upper().startswith("NUMBER"))
        vehicles, capacity = (int(x) for x in lines[i + 1].split()[:2])
        rows = [ln.split() for ln in lines[i + 2 :] if ln.split()[0].isdigit()]
    except (StopIteration, ValueError, IndexError) as exc:
        raise ValueError(f"{path}: not a Solomon instance ({exc})") from exc
    xy, demand, ready, due, service = [], [], [], [], []
    for row in rows:
        _, x, y, q, r, d, s = row[:7]
        xy.append((float(x), float(y)))
        demand.append(int(float(q)))
        ready.append(int(float(r)))
        due.append(int(float(d)))
        service.append(int(float(s)))
    return Instance(name, vehicles, capacity, xy, demand, ready, due, service)


def euclid(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def to_problem(inst: Instance) -> Problem:
    n = len(inst.xy)
    times = tuple(
        tuple(math.ceil(euclid(inst.xy[i], inst.xy[j]) * TIME_SCALE - 1e-9) for j in range(n))
        for i in range(n)
    )
    dists = tuple(
        tuple(round(euclid(inst.xy[i], inst.xy[j]) * DIST_SCALE) for j in range(n)) for i in range(n)
    )
    horizon = inst.due[0] * TIME_SCALE
    workers = tuple(
        Worker(
            id=f"vehicle{k + 1}",
            kind=WorkerKind.DRIVER,
            shifts=(Shift(inst.ready[0] * TIME_SCALE, horizon),),
            start_location=0,
            end_location=0,
            travel_mode=TravelMode.CAR,
            capacity={"load": inst.capacity},
        )
        for k in range(inst.vehicles)
    )
    visits = tuple(
        Visit(
            id=str(c),
            location=c,
            duration=inst.service[c] * TIME_SCALE,
            windows=(TimeWindow(inst.ready[c] * TIME_SCALE, inst.due[c] * TIME_SCALE),),
            mandatory=True,
            demand={"load": inst.demand[c]},
        )
        for c in range(1, n)
    )
    weights = Weights(imbalance=0, travel_minute=1)
    return Problem(
        locations=tuple(Location(str(i)) for i in range(n)),
        travel_times={TravelMode.CAR: times},
        workers=workers,
        visits=visits,
        distances={TravelMode.CAR: dists},
        weights=weights,
        name=inst.name,
    )


def route_distance(inst: Instance, route: list[int]) -> float:
    path = [0, *route, 0]
    return sum(euclid(inst.xy[a], inst.xy[b]) for a, b in zip(path, path[1:]))


def simulate(inst: Instance, route: list[int]) -> bool:
    """Re-simulate a route in double precision: windows, capacity, return by the depot's due date."""
    t, load, prev = float(inst.ready[0]), 0, 0
    for c in route:
        t = max(t + euclid(inst.xy[prev], inst.xy[c]), inst.ready[c])
        if t > inst.due[c] + 1e-9:
            return False
        t += inst.service[c]
        load += inst.demand[c]
        prev = c
    return load <= inst.capacity and t + euclid(inst.xy[prev], inst.xy[0]) <= inst.due[0] + 1e-9


def vrptw_params(time_limit: float, seed: int = 0) -> SolveParams:
    """carepath's settings for a plain VRPTW, the one place they are written down (the peer
    comparison, ``benchmarks/peers/carepath_peer.py``, uses them too)."""
    return SolveParams(
        time_limit_s=time_limit, seed=seed, arc_cost="distance", explain=False,
        first_solution="PARALLEL_CHEAPEST_INSERTION", metaheuristic="GUIDED_LOCAL_SEARCH",
        lns_share=0.0,  # pure VRPTW: OR-Tools with our ruin-and-recreate rounds does better here
        rr_method="sisr",  # string-removal search (optimizer/vrptw_search.py) after a short GLS
        rr_first_share=0.05,  # SISR beats GLS from the start: give it the time (tuning/LOG3.md)
        sisr_t0=3.0, sisr_tf=0.3,  # hot schedule, best on long R2/RC2 routes (tuning/LOG3.md)
        # The polish after SISR only loads its plan into OR-Tools (its guided local search
        # found nothing to improve, LOG3 block B) and stopped after ~0.15 s of its 1 s,
        # returning at 9 s of 10: the time goes to SISR instead (issue #19 item 5).
        sisr_polish_s=0.2,
    )


def solve_instance(path: Path, time_limit: float, seed: int = 0, params: SolveParams | None = None) -> dict:
    inst = read_instance(path)
    problem = to_problem(inst)
    params = params or vrptw_params(time_limit, seed)
    solution = solve(problem, params)
    violations = [v for v in check(problem, solution)]
    routes = [[int(s.visit_id) for s in r.stops] for r in solution.routes if r.stops]
    return {
        "instance": inst.name,
        "vehicles": len(routes),
        "distance": round(sum(route_distance(inst, r) for r in routes), 4),
        "time_s": round(solution.stats.elapsed_s, 2) if solution.stats else None,
        "unserved": [u.visit_id for u in solution.unassigned],
        "feasible": is_feasible(violations) and all(simulate(inst, r) for r in routes),
        "violations": [v.message for v in violations][:5],
        "routes": routes,
    }


def load_bks(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    with path.open() as fh:
        return {row["instance"]: float(row["ref_distance"]) for row in csv.DictReader(fh)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.solomon", description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--bks", type=Path, default=SHARED / "bks.csv")
    args = ap.parse_args(argv)
    bks = load_bks(args.bks)
    results, gaps = [], []
    print(f"{'instance':10} {'veh':>4} {'distance':>10} {'best':>10} {'gap %':>7} {'time s':>7}  ok")
    for path in args.files:
        if not path.exists():
            print(f"error: no such file: {path}", file=sys.stderr)
            return 2
        res = solve_instance(path, args.time_limit, args.seed)
        ref = bks.get(res["instance"])
        gap = None if ref is None or res["unserved"] else 100.0 * (res["distance"] - ref) / ref
        res["gap_pct"] = None if gap is None else round(gap, 3)
        if gap is not None:
            gaps.append(gap)
        results.append(res)
        ok = "yes" if res["feasible"] and not res["unserved"] else f"NO ({len(res['unserved'])} unserved)"
        print(
            f"{res['instance']:10} {res['vehicles']:>4} {res['distance']:>10.2f} "
            f"{(ref or float('nan')):>10.2f} {(gap if gap is not None else float('nan')):>7.2f} "
            f"{res['time_s']:>7}  {ok}",
            flush=True,
        )
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
    if gaps:
        print(f"mean gap {statistics.mean(gaps):.3f} %  max {max(gaps):.3f} %  over {len(gaps)} instances")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
