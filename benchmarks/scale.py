"""A region's day against the clock and the memory: ``python -m benchmarks.scale [--scales 1 10 30] [--limits 10 30 90]``.

Issue #19 items 1 and 2.  For each scale of the fixture generator's region (seed 2026; 1x is the
demo day, 30x about 10,000 visits) one fresh child process (``python -m benchmarks.scale --one``)
generates the scenario, builds the demo day's problem with the offline travel model, and solves
it twice:

* **first plan**: ``solve`` with a limit of 0 s, so the plan it returns is the first one it
  makes (our construction in every area, merged; no search, no repair, explanations cut at the
  deadline): the time until a dispatcher can have a feasible plan of the whole day;
* **final plan**: ``solve`` with the scale's limit, explanations and repair included, on the
  day built again (no travel row made yet, as in a planning job); the wall time against the
  limit is the point (issue: within T + 5 %).

Both plans go through the independent checker.  Reported per scale: generate s (fixture data,
what the database holds in production: apart), build s (``problem_for_day``), places, first plan
s and placed, final s against the limit (and the overrun in %), placed, areas, checker verdicts,
the travel-matrix rows computed on demand (``optimizer.matrix``), the child's peak RSS after the
build (``VmHWM``) and over the whole run (``os.wait4``'s ``ru_maxrss`` of the child, so the
parent's own memory is not counted).  One child at a time; run it on an idle machine and write
the load average beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SCALES = (1.0, 10.0, 30.0)
DEFAULT_LIMITS = (10.0, 30.0, 90.0)
SPEEDS = {"walk": 4.5, "public_transport": 15.0, "car": 30.0}
ROAD_FACTOR = 1.35


def _hwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _rows_computed(problem) -> dict[str, int]:
    """Rows made on demand per lazy matrix (0 for a dense one)."""
    try:
        from optimizer import is_lazy
    except ImportError:  # the code before lazy matrices (a before/after run)
        return {}

    out = {m.value: t.rows_computed for m, t in problem.travel_times.items() if is_lazy(t)}
    metres = {id(t): t for t in problem.distances.values() if is_lazy(t)}
    out["metres"] = sum(t.rows_computed for t in metres.values())
    return out


def one(scale: float, limit: float, seed: int, profile: str | None = None) -> dict:
    """One scale, in this process: what the parent prints as a row."""
    from dispatch.providers.travel import GeodesicProvider
    from fixtures.generator import BENCHMARK_PROFILE, generate
    from fixtures.problem import problem_for_day
    from optimizer import SolveParams, check, is_feasible, solve

    began = time.monotonic()
    scenario = generate(2026, profile=profile or BENCHMARK_PROFILE, scale=scale)
    generate_s = time.monotonic() - began
    began = time.monotonic()
    problem = problem_for_day(scenario, scenario.demo_date, GeodesicProvider(SPEEDS, ROAD_FACTOR)).problem
    build_s = time.monotonic() - began
    after_build = _hwm_mb()
    row: dict = {"profile": profile or BENCHMARK_PROFILE, "scale": scale, "visits": len(problem.visits), "workers": len(problem.workers),
                 "places": len(problem.locations), "generate_s": round(generate_s, 1), "build_s": round(build_s, 2),
                 "hwm_after_build_mb": after_build}
    began = time.monotonic()
    first = solve(problem, SolveParams(time_limit_s=0.0, seed=seed))
    row["first_s"] = round(time.monotonic() - began, 2)
    row["first_placed"] = first.kpis.visits_placed if first.kpis else None
    row["first_checker_ok"] = is_feasible(check(problem, first))
    del first, problem
    # Built again, so the final solve starts as a planning job does: no travel row made yet.
    problem = problem_for_day(scenario, scenario.demo_date, GeodesicProvider(SPEEDS, ROAD_FACTOR)).problem
    del scenario
    began = time.monotonic()
    final = solve(problem, SolveParams(time_limit_s=limit, seed=seed))
    wall = time.monotonic() - began
    assert final.kpis is not None and final.stats is not None
    mandatory = {v.id: v.mandatory for v in problem.visits}
    row.update({
        "limit_s": limit, "final_s": round(wall, 2), "over_pct": round(100 * (wall - limit) / limit, 1),
        "placed": final.kpis.visits_placed, "mandatory": f"{final.kpis.mandatory_placed}/{final.kpis.mandatory_total}",
        "areas": final.stats.parameters.get("areas"), "status": final.stats.status,
        "not_explained": sum(1 for u in final.unassigned if u.details.get("case") == "not_explained"),
        "mandatory_unplaced": sum(1 for u in final.unassigned if mandatory[u.visit_id]),
        "mandatory_not_explained": sum(1 for u in final.unassigned
                                       if mandatory[u.visit_id] and u.details.get("case") == "not_explained"),
    })
    row["checker_ok"] = is_feasible(check(problem, final))
    row["rows_computed"] = _rows_computed(problem)
    return row


def run_child(scale: float, limit: float, seed: int, profile: str | None = None) -> dict:
    """``one`` in a fresh interpreter; its peak RSS from the kernel's account of the child."""
    cmd = [sys.executable, "-m", "benchmarks.scale", "--one", str(scale), str(limit), "--seed", str(seed)]
    if profile:
        cmd += ["--profile", profile]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    row = json.loads(lines[-1]) if lines and proc.returncode == 0 else {"scale": scale, "error": proc.returncode}
    row["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # kilobytes on Linux
    return row


def table(rows: list[dict]) -> str:
    """The README table."""
    head = ("| day | visits | places | build s | first plan s (placed) | limit s | final s (over) | placed "
            "| areas | checker | peak RSS MiB (after build) |")
    lines = [head, "|" + "|".join("---" for _ in range(11)) + "|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['scale']:g}x | failed ({r['error']}) |" + " |" * 9)
            continue
        ok = "yes" if r["checker_ok"] and r["first_checker_ok"] else "NO"
        lines.append(
            f"| {r.get('profile', '')} {r['scale']:g}x | {r['visits']:,} | {r['places']:,} | {r['build_s']:.1f} | {r['first_s']:.1f} "
            f"({r['first_placed']:,}) | {r['limit_s']:g} | {r['final_s']:.1f} ({r['over_pct']:+.1f} %) "
            f"| {r['placed']:,} | {r['areas']} | {ok} | {r['peak_rss_mb']:,.0f} ({r['hwm_after_build_mb']:,.0f}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=list(DEFAULT_SCALES))
    ap.add_argument("--limits", type=float, nargs="+", default=list(DEFAULT_LIMITS), help="one per scale, or one for all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", default=None, help="the generator's centre (default: the benchmark profile, "
                    "kielce-2026-11; mopr-kielce is the demo centre of issue 15's time-limit table)")
    ap.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    ap.add_argument("--one", type=float, nargs=2, metavar=("SCALE", "LIMIT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.seed, args.profile)), flush=True)
        return 0
    limits = args.limits if len(args.limits) == len(args.scales) else [args.limits[0]] * len(args.scales)
    rows = []
    load = os.getloadavg()
    for scale, limit in zip(args.scales, limits):
        row = run_child(scale, limit, args.seed, args.profile)
        row["load_before"] = [round(x, 2) for x in load]
        rows.append(row)
        print(json.dumps(row), flush=True)
        load = os.getloadavg()
        if args.out:
            args.out.write_text(json.dumps(rows, indent=1))
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
