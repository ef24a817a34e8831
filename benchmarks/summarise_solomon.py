"""Summarise Solomon results files: ``python -m benchmarks.summarise_solomon results.json...``.

Prints a markdown table (per instance and per class) of the gap to the reference distance
(``ref_distance`` in the shared bks.csv), for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.solomon import SHARED, load_bks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.summarise_solomon")
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--bks", type=Path, default=SHARED / "bks.csv")
    args = ap.parse_args(argv)
    bks = load_bks(args.bks)
    rows = [r for f in args.files for r in json.loads(f.read_text())]
    rows.sort(key=lambda r: r["instance"])
    by_class: dict[str, list[float]] = {}
    print("| instance | vehicles | distance | reference | gap % | served all | feasible |")
    print("|---|---|---|---|---|---|---|")
    gaps = []
    for r in rows:
        ref = bks[r["instance"]]
        gap = 100 * (r["distance"] - ref) / ref
        gaps.append(gap)
        cls = r["instance"][:-2]
        by_class.setdefault(cls, []).append(gap)
        print(f"| {r['instance']} | {r['vehicles']} | {r['distance']:.2f} | {ref:.2f} | {gap:.2f} | "
              f"{'yes' if not r['unserved'] else 'NO'} | {'yes' if r['feasible'] else 'NO'} |")
    print()
    print("| class | instances | mean gap % | max gap % |")
    print("|---|---|---|---|")
    for cls, g in sorted(by_class.items()):
        print(f"| {cls} | {len(g)} | {statistics.mean(g):.2f} | {max(g):.2f} |")
    print(f"| all | {len(gaps)} | {statistics.mean(gaps):.2f} | {max(gaps):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
