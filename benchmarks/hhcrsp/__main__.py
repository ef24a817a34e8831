"""``python -m benchmarks.hhcrsp FILE... --time-limit S --out results.json [--baseline] [--seed N] [--best-known CSV]``

Solves each instance (published JSON form) with carepath and, with ``--baseline``, with the
plain OR-Tools model of issue #8 in the same run; prints one table row per instance and
writes results.json as a list of entries ``{"instance", "solver", "time_s", "cost",
"routes": {caregiver: [{"patient", "service", "start"}, ...]}, ...}`` (carepath's entry
first, the baseline's after it).  The file is rewritten after every instance, so a long run
that is stopped keeps what it finished.

With ``--best-known`` (``benchmarks/hhcrsp/best_known.csv``: the published family's best known
costs) each carepath row also gets its gap to the best known, and the run ends with the mean
and largest gap per number of patients (issue #19 item 5 asks for the mean per size).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.hhcrsp.instance import InstanceError, read_instance
from benchmarks.hhcrsp.run import run_baseline, run_carepath


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _status(entry: dict[str, Any]) -> str:
    if entry["cost"] is None:
        return "no solution"
    if not entry["feasible"]:
        return "INFEASIBLE"
    if entry.get("checker_ok") is False:
        return "checker!"
    return "ok"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hhcrsp", description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance and solver")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--baseline", action="store_true", help="also run the plain OR-Tools model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--best-known", type=Path, default=None, help="CSV of instance,best_known (# comments)")
    args = ap.parse_args(argv)
    best = read_best_known(args.best_known) if args.best_known else {}
    try:
        instances = [read_instance(f) for f in args.files]
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results: list[dict[str, Any]] = []
    gains: list[float] = []
    gaps: dict[int, list[float]] = {}
    print(f"{'instance':16} {'pat':>4} {'carepath':>10} {'t s':>6} {'baseline':>10} {'t s':>6} {'impr %':>7}  carepath / baseline")
    for inst in instances:
        ours = run_carepath(inst, args.time_limit, args.seed)
        results.append(ours)
        base = None
        if args.baseline:
            base = run_baseline(inst, args.time_limit)
            results.append(base)
        gain = None
        if base is not None and base["cost"] is not None and ours["cost"] is not None and base["cost"] > 0:
            gain = 100.0 * (base["cost"] - ours["cost"]) / base["cost"]
            gains.append(gain)
        gap = None
        if inst.name in best and ours["cost"] is not None and ours["feasible"]:
            gap = 100.0 * (ours["cost"] - best[inst.name]) / best[inst.name]
            ours["best_known"], ours["gap_pct"] = best[inst.name], round(gap, 3)
            gaps.setdefault(len(inst.patients), []).append(gap)
        print(
            f"{inst.name:16} {len(inst.patients):>4} {_fmt(ours['cost']):>10} {ours['time_s']:>6} "
            f"{_fmt(base['cost'] if base else None):>10} {base['time_s'] if base else '-':>6} "
            f"{_fmt(gain):>7}  {_status(ours)} / {_status(base) if base else '-'}"
            + (f"  gap {gap:.2f} %" if gap is not None else ""),
            flush=True,
        )
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
    for size in sorted(gaps):
        print(f"{size} patients: mean gap to the best known {statistics.mean(gaps[size]):.2f} %, "
              f"max {max(gaps[size]):.2f} % over {len(gaps[size])} instances")
    if gains:
        print(f"improvement over the plain model: mean {statistics.mean(gains):.1f} % over {len(gains)} instances "
              f"with both solved")
    return 0


def read_best_known(path: Path) -> dict[str, float]:
    """instance name -> best known cost, from a CSV with a header and # comment lines."""
    with path.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {row["instance"]: float(row["best_known"]) for row in rows}


if __name__ == "__main__":
    raise SystemExit(main())
