"""``python -m benchmarks.hhcrsp FILE... --time-limit S --out results.json [--baseline] [--seed N]``

Solves each instance (published JSON form) with carepath and, with ``--baseline``, with the
plain OR-Tools model of issue #8 in the same run; prints one table row per instance and
writes results.json as a list of entries ``{"instance", "solver", "time_s", "cost",
"routes": {caregiver: [{"patient", "service", "start"}, ...]}, ...}`` (carepath's entry
first, the baseline's after it).  The file is rewritten after every instance, so a long run
that is stopped keeps what it finished.
"""

from __future__ import annotations

import argparse
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
    args = ap.parse_args(argv)
    try:
        instances = [read_instance(f) for f in args.files]
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results: list[dict[str, Any]] = []
    gains: list[float] = []
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
        print(
            f"{inst.name:16} {len(inst.patients):>4} {_fmt(ours['cost']):>10} {ours['time_s']:>6} "
            f"{_fmt(base['cost'] if base else None):>10} {base['time_s'] if base else '-':>6} "
            f"{_fmt(gain):>7}  {_status(ours)} / {_status(base) if base else '-'}",
            flush=True,
        )
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
    if gains:
        print(f"improvement over the plain model: mean {statistics.mean(gains):.1f} % over {len(gains)} instances "
              f"with both solved")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
