"""The Kielce day over several seeds: ``python -m benchmarks.seeds [--scale 1] [--limit 10] [--seeds 0 1 2 3 4 5 6 7] [--solvers carepath carepath_travel vroom pyvrp]``.

Why: a 10 s run of a time-limited search is one draw.  On the 1x day carepath's travel per placed
visit on the peers' visits moved between 6.7 and 7.5 minutes from run to run, which is the whole
distance to VROOM's 7.17 and PyVRP's 6.9-7.2; a claim that it is ahead needs the spread, not one
run.  Each solver runs each seed in turn (the peers get the same seeds; VROOM ignores its seed),
one run at a time; per run it prints one JSON line: visits placed, mandatory visits placed, travel
minutes and per placed visit, the drop penalties and the whole objective by ``optimizer.evaluate``
on the day (so every solver's plan is priced by the same terms; the peers and ``carepath_travel``
are given fewer visits, the others count as left out), the independent checker's verdict; then a
summary line per solver with the means and ranges.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

from benchmarks.peers.base import get_peer, peer_names
from benchmarks.peers.instances import kielce_problem
from benchmarks.peers.runs import judge
from optimizer import evaluate


def run_one(problem, solver: str, limit: float, seed: int) -> dict:
    """One solver, one seed: what it placed (``peers.runs.judge``, the compare's columns and the
    checker's verdict) and what its plan costs, priced on the whole day."""
    run = get_peer(solver).solve(problem, limit, "travel", seed)
    if run.solution is None:
        return {"solver": solver, "seed": seed, "status": run.status, "placed": None}
    row = judge(problem, run)
    ev = evaluate(problem, run.solution)
    return {
        "solver": solver, "seed": seed, "solve_s": row["solve_s"], "placed": row["placed"],
        "mandatory_placed": f"{row['mandatory_placed']}/{row['mandatory_total']}",
        "travel_min": row["travel_min"], "travel_per_placed": round(row["travel_min"] / max(1, row["placed"]), 2),
        "drop_penalties": ev.terms["drop_mandatory"] + ev.terms["drop_optional"], "objective": ev.total,
        "feasible": row["feasible"],
    }


def summary(rows: list[dict]) -> dict:
    """Means and ranges of one solver's runs."""
    done = [r for r in rows if r.get("placed") is not None]
    if not done:
        return {"solver": rows[0]["solver"], "runs": 0}

    def span(key: str) -> list:
        values = [r[key] for r in done]
        return [min(values), round(statistics.mean(values), 2), max(values)]

    return {"solver": done[0]["solver"], "runs": len(done), "placed": span("placed"),
            "travel_per_placed": span("travel_per_placed"), "drop_penalties": span("drop_penalties"),
            "objective": span("objective"), "all_feasible": all(r["feasible"] for r in done)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.seeds", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--limit", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    ap.add_argument("--solvers", nargs="+", choices=peer_names(), default=["carepath", "carepath_travel", "vroom", "pyvrp"])
    args = ap.parse_args(argv)
    problem = kielce_problem(args.scale)
    print(json.dumps({"scale": args.scale, "limit_s": args.limit, "seeds": args.seeds, "visits": len(problem.visits),
                      "load_before": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    summaries = []
    for solver in args.solvers:
        missing = get_peer(solver).missing()
        if missing:
            print(json.dumps({"solver": solver, "skipped": missing}), flush=True)
            continue
        # VROOM is deterministic and ignores the seed: one run says it all.
        seeds = args.seeds[:1] if solver == "vroom" else args.seeds
        rows = []
        for seed in seeds:
            rows.append(run_one(problem, solver, args.limit, seed))
            print(json.dumps(rows[-1]), flush=True)
        summaries.append(summary(rows))
    for s in summaries:
        print(json.dumps({"summary": s}), flush=True)
    print(json.dumps({"load_after": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
