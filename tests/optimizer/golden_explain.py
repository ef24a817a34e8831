"""Golden harness for the explanations work (issue 15, item 4): plans, reasons and their sentences.

``python tests/optimizer/golden_explain.py OUT.json`` records, for deterministic solves
(construction only, and LNS with a fixed ``lns_iterations`` and seed) on the problems of
``golden_format`` (Solomon, a small Kielce day, a small HHCRSP instance) plus two short-staffed
Kielce days that leave many visits and rides out for every kind of reason:

* each plan's routes (worker, shift, visit order and start minutes) and objective,
* each unplaced visit's reason code and ``details``, and
* its English and Polish sentence: before the change the optimizer's own ``message_en`` /
  ``message_pl``; after it, ``dispatch.planning.explanations`` worded for a regular 1,440-minute day
  (2026-11-17, Europe/Warsaw), where local clock time and minutes from midnight agree, so the
  sentences must read the same as before.

``python tests/optimizer/golden_explain.py --compare BEFORE.json AFTER.json`` prints every
difference.  Not a pytest module (it takes a minute or two): a tool kept next to the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_format import RUNS, problems as format_problems  # noqa: E402

from fixtures.problem import problem_for_day  # noqa: E402
from dispatch.providers.travel import GeodesicProvider  # noqa: E402
from fixtures.generator import generate  # noqa: E402
from optimizer.model import Problem, Solution  # noqa: E402
from optimizer.solver import solve  # noqa: E402

REGULAR_DAY = dt.date(2026, 11, 17)
ZONE = "Europe/Warsaw"


def problems() -> dict[str, Problem]:
    out = format_problems()
    speeds = GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35)
    for seniors, workers in ((60, 4), (120, 8)):
        scenario = generate(2026, profile="kielce-2026-11", seniors=seniors, workers=workers)
        out[f"kielce-{seniors}-short-{workers}"] = problem_for_day(scenario, scenario.demo_date, speeds).problem
    return out


def sentences(u: Any) -> tuple[str, str]:
    """The unplaced visit's sentences: the optimizer's own (before), else worded at the edge (after)."""
    if hasattr(u, "message_en"):
        return u.message_en, u.message_pl
    from dispatch.planning.explanations import explain

    words = explain(u.reason, u.details, REGULAR_DAY, ZONE)
    return words.en, words.pl


def plan(s: Solution) -> dict[str, Any]:
    unassigned = []
    for u in sorted(s.unassigned, key=lambda u: u.visit_id):
        en, pl = sentences(u)
        unassigned.append({"visit": u.visit_id, "reason": u.reason.value,
                           "details": json.loads(json.dumps(dict(u.details), default=list)), "en": en, "pl": pl})
    return {
        "objective": s.stats.objective if s.stats else None,
        "routes": [[r.worker_id, r.shift_index, [[x.visit_id, x.start] for x in r.stops]] for r in s.routes],
        "unassigned": unassigned,
    }


def main(out: str) -> None:
    record: dict[str, Any] = {}
    for name, problem in problems().items():
        record[name] = {}
        for run, params in RUNS.items():
            record[name][run] = plan(solve(problem, params))
            print(name, run, record[name][run]["objective"], len(record[name][run]["unassigned"]), file=sys.stderr)
    Path(out).write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def compare(before_path: str, after_path: str) -> None:
    before = json.loads(Path(before_path).read_text(encoding="utf-8"))
    after = json.loads(Path(after_path).read_text(encoding="utf-8"))
    counts = {"plans": 0, "plans_differ": 0, "unplaced": 0, "reason_differs": 0, "en_differs": 0, "pl_differs": 0}
    for name in sorted(before):
        for run in sorted(before[name]):
            b, a = before[name][run], after[name][run]
            counts["plans"] += 1
            if (b["objective"], b["routes"]) != (a["objective"], a["routes"]):
                counts["plans_differ"] += 1
                print(f"PLAN DIFFERS {name} {run}: objective {b['objective']} -> {a['objective']}")
            bu, au = {u["visit"]: u for u in b["unassigned"]}, {u["visit"]: u for u in a["unassigned"]}
            if set(bu) != set(au):
                print(f"UNPLACED SET DIFFERS {name} {run}: {sorted(set(bu) ^ set(au))}")
            for vid in sorted(set(bu) & set(au)):
                counts["unplaced"] += 1
                x, y = bu[vid], au[vid]
                if x["reason"] != y["reason"]:
                    counts["reason_differs"] += 1
                    print(f"REASON {name} {run} {vid}: {x['reason']} -> {y['reason']}")
                for lang in ("en", "pl"):
                    if x[lang] != y[lang]:
                        counts[f"{lang}_differs"] += 1
                        print(f"{lang.upper()} {name} {run} {vid} [{x['reason']}]\n  - {x[lang]}\n  + {y[lang]}")
    print(json.dumps(counts))


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
