"""Golden harness for the problem-format work (issue 15, item 7): solves and JSON documents.

``python tests/optimizer/golden_format.py OUT.json`` records, for a few deterministic solves
(construction only, and LNS with a fixed ``lns_iterations`` and seed) on Solomon instances, a
small Kielce day and a small HHCRSP instance:

* each plan's routes (worker, shift, visit order and start minutes) and its objective, and
* the JSON documents ``optimizer.jsonio`` writes for the problem and the solution, both as
  parsed JSON (compared without regard to key order) and as the exact text.

Run it before and after a change and compare the two files: the solves must be identical; the
documents must be equal as JSON.  Not a pytest module (it takes about a minute): a tool kept
next to the tests it guards.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.hhcrsp.convert import to_problem as hhcrsp_problem  # noqa: E402
from benchmarks.hhcrsp.instance import read_instance  # noqa: E402
from benchmarks.solomon import read_instance as read_solomon, to_problem as solomon_problem  # noqa: E402
from fixtures.problem import problem_for_day  # noqa: E402
from dispatch.providers.travel import GeodesicProvider  # noqa: E402
from fixtures.generator import generate  # noqa: E402
from optimizer.jsonio import dumps, problem_from_dict, problem_to_dict, solution_to_dict  # noqa: E402
from optimizer.model import Problem, Solution  # noqa: E402
from optimizer.params import SolveParams  # noqa: E402
from optimizer import solve  # noqa: E402

SOLOMON = Path("/work/shared/benchmarks/solomon")


def problems() -> dict[str, Problem]:
    out: dict[str, Problem] = {}
    for name in ("C101", "R101", "RC201"):
        p = solomon_problem(read_solomon(SOLOMON / f"{name}.txt"))
        # The first 40 customers keep the runs short; the instance's depot and vehicles stay.
        out[f"solomon-{name}-40"] = replace(p, visits=p.visits[:40])
    scenario = generate(2026, profile="kielce-2026-11", seniors=40, workers=10)
    built = problem_for_day(scenario, scenario.demo_date,
                            GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35))
    out["kielce-40"] = built.problem
    out["hhcrsp-010-1"] = hhcrsp_problem(read_instance(ROOT / "benchmarks/instances/hhcrsp/hhcrsp-010-1.json"))
    return out


RUNS = {
    "construction": SolveParams(time_limit_s=None, solution_limit=1, seed=0, lns_iterations=0,
                                metaheuristic="GREEDY_DESCENT"),
    "lns": SolveParams(time_limit_s=None, solution_limit=20, seed=3, lns_iterations=30),
}


def plan(s: Solution) -> dict[str, Any]:
    return {
        "objective": s.stats.objective if s.stats else None,
        "routes": [[r.worker_id, r.shift_index, [[x.visit_id, x.start] for x in r.stops]] for r in s.routes],
        "unassigned": sorted((u.visit_id, u.reason.value) for u in s.unassigned),
    }


def document(doc: dict[str, Any]) -> dict[str, Any]:
    text = dumps(doc)
    return {
        "json_sha256": hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest(),
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def main(out: str) -> None:
    record: dict[str, Any] = {}
    for name, problem in problems().items():
        doc = problem_to_dict(problem)
        assert problem_to_dict(problem_from_dict(doc)) == doc  # matrices may be array rows in memory
        entry: dict[str, Any] = {"problem": document(doc)}
        for run, params in RUNS.items():
            solution = solve(problem, params)
            sdoc = solution_to_dict(solution)
            for key in ("elapsed_s",):
                sdoc["stats"].pop(key, None)
            sdoc["stats"]["parameters"].pop("elapsed_s", None)
            entry[run] = plan(solution) | {"solution": document(sdoc)}
            print(name, run, entry[run]["objective"], file=sys.stderr)
        record[name] = entry
    Path(out).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
