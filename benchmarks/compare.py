"""carepath side by side with VROOM, PyVRP and plain OR-Tools: ``python -m benchmarks.compare [--quick|--full]``.

One command runs three instance sets and writes ``benchmarks/results/compare.csv``,
``compare.md``, ``compare_scaling.png`` and ``compare_quality.png``:

* Solomon VRPTW (gap to the best-known distance; all four solvers),
* Kielce home-care days at 1x/10x/30x the demo (placed visits, travel minutes, and the
  independent checker's verdict on every plan; all four solvers, and carepath again on only
  the visits the peers can be given, for like-for-like travel per placed visit),
* scaling of carepath from ~100 to ~10,000 visits (time to first feasible and final plan,
  peak memory per run),
* areas of a split day (10x and 30x) solved in parallel: one planning job queued on
  PostgreSQL with 1 and with 2 ``carepath worker`` processes (``benchmarks.areas``; needs a
  PostgreSQL server on 127.0.0.1:5432, else its rows say why).

Every solve runs in its own forked child (peak memory per run, hard timeout, a crash costs
one row).  Peers missing from the environment get a "not installed" row.  ``--quick`` is a
smoke test (< 3 min); the default set is sized for < 30 min on 2 cores; ``--full`` runs all
56 Solomon instances at the default set's 10 s (so the default rows are a subset) and longer
home-care limits: about 40 min for Solomon alone, half that with ``--jobs 2``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from benchmarks.peers.base import get_peer, peer_names
from benchmarks.peers.instances import BenchSet, bench_set, scaling_limit
from benchmarks.peers.isolate import run_isolated
from benchmarks.peers.report import add_gaps, plot, write_csv, write_markdown
from benchmarks.peers.runs import kielce_instance, scaling_run, solomon_run

RESULTS = Path(__file__).resolve().parent / "results"
DECOMPOSE_AT = 600
"""carepath's ``SolveParams.max_visits_per_area`` default, marked on the scaling plot."""


def _say(row: dict) -> None:
    keys = ("set", "instance", "solver", "status", "solve_s", "placed", "travel_min", "distance", "gap_pct", "feasible",
            "peak_rss_mb")
    print(json.dumps({k: row.get(k) for k in keys if k in row}), flush=True)


def _failed(base: dict, outcome: str, value: object) -> dict:
    return {**base, "status": f"{outcome}: {value}"[:300]}


def _solomon(bs: BenchSet, seed: int, jobs: int) -> list[dict]:
    """Every (instance, solver) solve of the Solomon set, ``jobs`` at a time, in set order.

    Each solve is single-threaded in its own child, so on an otherwise idle machine ``jobs``
    up to the number of cores gives every solve a core of its own; rows keep the set's order.
    """
    timeout = bs.solomon_limit * 4 + 60
    work = [(name, solver) for name in bs.solomon for solver in bs.solvers]

    def one(item: tuple[str, str]) -> dict:
        name, solver = item
        base = {"set": "solomon", "instance": name, "solver": solver, "time_limit_s": bs.solomon_limit}
        outcome, value = run_isolated(solomon_run, (name, solver, bs.solomon_limit, seed), timeout)
        row = value if outcome == "ok" else _failed(base, outcome, value)
        _say(row)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, work))


def run(bs: BenchSet, seed: int, only: set[str], jobs: int = 1) -> list[dict]:
    """Run the chosen parts of ``bs``; home-care days and scaling always one solve at a time
    (their memory peaks reach 5-12 GiB, and their timings are the point)."""
    rows: list[dict] = []
    if "solomon" in only:
        rows.extend(_solomon(bs, seed, jobs))
    if "kielce" in only:
        for scale, limit in bs.kielce:
            per_run = limit * 3 + 240
            solvers = bs.solvers + (bs.kielce_extra if "carepath" in bs.solvers else ())
            timeout = per_run * len(solvers) + 600
            outcome, value = run_isolated(kielce_instance, (scale, limit, solvers, seed, per_run), timeout)
            got = value if outcome == "ok" else [_failed({"set": "kielce", "instance": f"{scale:g}x", "solver": s,
                                                          "time_limit_s": limit}, outcome, value)
                                                 for s in solvers]
            for row in got:
                rows.append(row)
                _say(row)
    if "scaling" in only:
        for target in bs.scaling:
            limit = scaling_limit(target)
            base = {"set": "scaling", "instance": f"~{target}", "solver": "carepath", "time_limit_s": limit}
            timeout = limit * 4 + 900
            outcome, value = run_isolated(scaling_run, (target, limit, seed), timeout)
            rows.append(value if outcome == "ok" else _failed(base, outcome, value))
            _say(rows[-1])
    if "areas" in only:
        rows.extend(_areas(bs))
    return rows


def _areas(bs: BenchSet) -> list[dict]:
    """Each split day of ``bs.areas`` planned by one queued job on PostgreSQL with 1, then 2
    ``carepath worker`` processes (``benchmarks.areas.measure``); one row per run, the 2-worker
    row with its speed-up over the 1-worker one."""
    from benchmarks.areas import measure

    rows: list[dict] = []
    for scale, limit in bs.areas:
        base = {"set": "areas", "instance": f"{scale:g}x", "solver": "carepath", "time_limit_s": limit}
        try:
            report = measure(scale, limit, [1, 2], Path(tempfile.mkdtemp(prefix="carepath-areas-")))
        except Exception as exc:  # noqa: BLE001 - a failed measurement is a row, not the end of the run
            rows.append(_failed(base, "error", exc))
            _say(rows[-1])
            continue
        runs = report["runs"]
        for run in runs:
            row = {**base, "status": "ok", "workers": run["workers"], "job_run_s": run["job_run_s"],
                   "areas_phase_s": run.get("areas_wall_s"), "areas": run.get("areas"),
                   "areas_by_job": run.get("areas_solved_by_job"), "placed": run.get("visits_placed"),
                   "visits": run.get("visits_total"), "travel_min": run.get("travel_minutes"),
                   "load_after": run.get("load_after")}
            if run is not runs[0] and runs[0]["job_run_s"]:
                row["job_speedup"] = round(runs[0]["job_run_s"] / run["job_run_s"], 2)
                if runs[0].get("areas_wall_s") and run.get("areas_wall_s"):
                    row["areas_speedup"] = round(runs[0]["areas_wall_s"] / run["areas_wall_s"], 2)
            rows.append(row)
            _say(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.splitlines()[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3 Solomon at 5 s, Kielce 1x, scaling 100 and 300 (< 3 min)")
    size.add_argument("--full", action="store_true", help="all 56 Solomon at 10 s, longer home-care limits")
    ap.add_argument("--solvers", nargs="+", choices=peer_names(), default=None)
    ap.add_argument("--only", nargs="+", choices=("solomon", "kielce", "scaling", "areas"),
                    default=("solomon", "kielce", "scaling", "areas"))
    ap.add_argument("--kielce-scales", type=float, nargs="+", default=None,
                    help="only these of the set's Kielce days (e.g. 1 10: the 30x day takes VROOM's whole timeout)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1,
                    help="Solomon solves run at once (each single-threaded; at most the number of cores)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="directory for compare.* (default benchmarks/results)")
    ap.add_argument("--prefix", default="compare", help="file name stem (default compare)")
    args = ap.parse_args(argv)
    bs = bench_set("quick" if args.quick else "full" if args.full else "default")
    if args.solvers:
        bs = replace(bs, solvers=tuple(args.solvers))
    if args.kielce_scales:
        unknown = sorted(set(args.kielce_scales) - {scale for scale, _ in bs.kielce})
        if unknown:
            ap.error(f"--kielce-scales: the {bs.name} set has no Kielce day at {', '.join(f'{u:g}x' for u in unknown)} "
                     f"(it has {', '.join(f'{scale:g}x' for scale, _ in bs.kielce)})")
        bs = replace(bs, kielce=tuple((scale, limit) for scale, limit in bs.kielce if scale in args.kielce_scales))
    if args.jobs > 1 and "solomon" in args.only:
        bs = replace(bs, notes=[*bs.notes, f"Solomon solves ran {args.jobs} at a time, each single-threaded in its own "
                                           "process (home-care days and scaling one at a time)."])
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {}
    for s in bs.solvers + (bs.kielce_extra if "carepath" in bs.solvers and "kielce" in args.only else ()):
        peer = get_peer(s)
        why = peer.missing()
        limit = bs.solomon_limit
        text = why or peer.settings(limit)
        for used in (f"{limit:g} s limit", f"{limit:g} s", f"({limit:g})"):
            text = text.replace(used, "the set's time limit" if used[0] != "(" else "(the set's time limit)")
        settings[s] = text
    began = time.monotonic()
    rows = run(bs, args.seed, set(args.only), args.jobs)
    add_gaps(rows)
    wall = time.monotonic() - began
    write_csv(rows, args.out / f"{args.prefix}.csv")
    if args.prefix == "compare":
        plots = plot(rows, args.out, DECOMPOSE_AT)
    else:
        # Plots are drawn under their default names: draw them aside, so another prefix
        # never replaces (or, renamed, removes) the default run's plots.
        with tempfile.TemporaryDirectory() as tmp:
            plots = plot(rows, Path(tmp), DECOMPOSE_AT)
            for p in plots:
                shutil.move(str(Path(tmp) / p), str(args.out / p.replace("compare", args.prefix, 1)))
        plots = [p.replace("compare", args.prefix, 1) for p in plots]
    command = "python -m benchmarks.compare" + {"quick": " --quick", "full": " --full"}.get(bs.name, "")
    if len(sys.argv) > 1 and argv is None:
        command = "python -m benchmarks.compare " + " ".join(sys.argv[1:])
    write_markdown(rows, args.out / f"{args.prefix}.md", command=command, set_name=bs.name, settings=settings,
                   wall_s=wall, plots=plots, notes=bs.notes)
    print(f"wrote {args.out / (args.prefix + '.csv')}, {args.prefix}.md, {', '.join(plots) or 'no plots'} "
          f"in {wall / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
