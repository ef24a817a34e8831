"""Golden harness: deterministic solves recorded, so a refactor can show it changed nothing.

``python -m tests.optimizer.golden record DIR`` solves a fixed set of days and writes what
came out; ``python -m tests.optimizer.golden compare OLD NEW`` lists every difference.  Not a
pytest test (it takes about a minute, and a redesign that fixes a cost term changes some
figures on purpose: the comparison is read, not asserted).

Every run is deterministic: no wall-clock limit anywhere.  Per day:

* ``construct``: our construction alone (routes with starts, its cost);
* ``lns``: the construction improved by ``LNS_ROUNDS`` rounds of our LNS, seed 0;
* ``solve``: the whole ``solve`` with OR-Tools on a solution limit, the LNS on an iteration
  limit, explanations on: routes, unplaced visits with reasons, the objective and its terms.

Days: three Solomon instances (``/work/shared/benchmarks/solomon``, skipped when absent), a
small Kielce day from the fixture generator, a small HHCRSP instance, and ``RANDOM_DAYS``
random small days drawn by the property-test strategy with a fixed hypothesis seed (the
strategy must stay unchanged between the two runs compared).  The Kielce and random days
are stored beside the results as problem JSON, so a later run can re-read them even if the
generator changes.

``tests/optimizer/golden_days/`` keeps the days (``days.json.gz``) and two recordings:
``results-before.json.gz`` (main before issue 15's redesign of the optimizer)
and ``results-after.json.gz`` (after it).  To check a change::

    mkdir /tmp/g && cp tests/optimizer/golden_days/days.json.gz /tmp/g/
    python -m tests.optimizer.golden record /tmp/g
    python -m tests.optimizer.golden compare tests/optimizer/golden_days/results-after.json.gz /tmp/g

(``-v`` after the two lists the changes of cost alone too).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOLOMON = ROOT.parent / "shared" / "benchmarks" / "solomon"
if not SOLOMON.is_dir():
    SOLOMON = Path("/work/shared/benchmarks/solomon")
SOLOMON_NAMES = ("C101", "R101", "RC201")
HHCRSP = ROOT / "benchmarks" / "instances" / "hhcrsp" / "hhcrsp-025-1.json"
LNS_ROUNDS = 40
RANDOM_DAYS = 200


def _api():
    """The optimizer entry points the harness needs, wherever the code keeps them."""
    from optimizer import SolveParams, solve
    from optimizer import construct as c
    from optimizer import lns
    from optimizer.rules import eligible_workers
    from optimizer.stop import MaxIterations

    def build(problem):
        vehicles = [(wi, si) for wi, w in enumerate(problem.workers) for si in range(len(w.shifts))]
        return c.construct(problem, vehicles, [eligible_workers(problem, v) for v in problem.visits]).builder

    def improve(builder, rounds):
        return lns.improve(builder, seed=0, stop=MaxIterations(rounds))

    return build, improve, lns.plan_cost, solve, SolveParams


def _builder_plan(problem, builder) -> dict[str, Any]:
    routes = []
    for r in builder.routes:
        if not r.stops:
            continue
        routes.append([problem.workers[r.worker_index].id, r.shift_index, r.departure, r.end,
                       [[problem.visits[vi].id, copy, s] for (vi, copy), s in zip(r.stops, r.starts)],
                       [list(b) for b in r.breaks]])
    return {"routes": routes, "placed": len(builder.placed)}


def _solution(sol) -> dict[str, Any]:
    return {
        "routes": [[r.worker_id, r.shift_index, r.start, r.end,
                    [[s.visit_id, s.arrival, s.start, s.end] for s in r.stops],
                    [[b.start, b.end] for b in r.breaks]] for r in sol.routes],
        "unassigned": [[u.visit_id, u.reason.value, json.loads(json.dumps(dict(u.details), default=str))]
                       for u in sol.unassigned],
        "objective": sol.stats.objective,
        "terms": dict(sol.stats.parameters.get("objective_terms", {})),
        "routing_objective": sol.stats.parameters.get("routing_objective"),
        "status": sol.stats.status,
    }


def run_day(problem) -> dict[str, Any]:
    build, improve, plan_cost, solve, SolveParams = _api()
    out: dict[str, Any] = {"visits": len(problem.visits)}
    builder = build(problem)
    out["construct"] = {**_builder_plan(problem, builder), "cost": plan_cost(builder)}
    improve(builder, LNS_ROUNDS)
    out["lns"] = {**_builder_plan(problem, builder), "cost": plan_cost(builder)}
    params = SolveParams(time_limit_s=None, solution_limit=30, seed=0, metaheuristic="GREEDY_DESCENT",
                         lns_iterations=LNS_ROUNDS)
    out["solve"] = _solution(solve(problem, params))
    return out


# ----------------------------------------------------------------------------- days


def _solomon(name: str):
    from benchmarks.solomon import read_instance, to_problem

    return to_problem(read_instance(SOLOMON / f"{name}.txt"))


def _kielce():
    from fixtures.problem import problem_for_day
    from dispatch.providers.travel import GeodesicProvider
    from fixtures.generator import BENCHMARK_PROFILE, generate

    scenario = generate(2026, profile=BENCHMARK_PROFILE, seniors=150, workers=16)
    travel = GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35)
    return problem_for_day(scenario, scenario.demo_date, travel).problem


def _hhcrsp():
    from benchmarks.hhcrsp.convert import to_problem
    from benchmarks.hhcrsp.instance import read_instance

    return to_problem(read_instance(HHCRSP))


def _random_days(count: int) -> list:
    from hypothesis import HealthCheck, given, settings

    from tests.optimizer.test_solver_properties import problems

    drawn: list = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(problems())
    def collect(p) -> None:
        drawn.append(p)

    collect()
    return drawn


def _kielce_replan(problem):
    """The Kielce day re-planned at noon with its own construction as the previous plan, one
    visit cancelled and one worker's preferences changed: frozen work, plan stability."""
    from dataclasses import replace

    from optimizer.model import PlannedVisit

    build = _api()[0]
    builder = build(problem)
    previous = tuple(
        PlannedVisit(problem.visits[vi].id, problem.workers[r.worker_index].id, s)
        for r in builder.routes for (vi, _), s in zip(r.stops, r.starts)
    )
    return replace(problem, previous_plan=previous, freeze_until=12 * 60)


def _stored(store: Path) -> dict[str, Any]:
    """Generated days, made once and kept as problem JSON (so later runs need no generator)."""
    from optimizer.jsonio import problem_from_dict, problem_to_dict

    path = store / "days.json.gz"
    if not path.exists():
        made = {"kielce-small": _kielce()}
        made["kielce-replan"] = _kielce_replan(made["kielce-small"])
        for i, p in enumerate(_random_days(RANDOM_DAYS)):
            made[f"random-{i:03d}"] = p
        with gzip.open(path, "wt", encoding="utf-8") as f:
            json.dump({k: problem_to_dict(v) for k, v in made.items()}, f)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {k: problem_from_dict(v) for k, v in json.load(f).items()}


def days(store: Path) -> list[tuple[str, Any]]:
    """(name, problem) of every golden day."""
    out = []
    if SOLOMON.is_dir():
        for name in SOLOMON_NAMES:
            out.append((f"solomon-{name}", _solomon(name)))
    out.append(("hhcrsp-025-1", _hhcrsp()))
    out.extend(sorted(_stored(store).items()))
    return out


def record(store: Path, only: str | None = None) -> None:
    store.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, problem in days(store):
        if only and only not in name:
            continue
        results[name] = run_day(problem)
        print(name, results[name]["solve"]["objective"], flush=True)
    (store / "results.json").write_text(json.dumps(results, indent=0, sort_keys=True))


PLAN_KEYS = ("routes", "unassigned", "placed")
"""What a plan is; the other keys are what it costs (and the search's status)."""


def _results(path: Path) -> dict[str, Any]:
    """A recording: ``path/results.json`` of a ``record`` run, or a ``.json.gz`` file."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    return json.loads((path / "results.json").read_text())


def compare(old: Path, new: Path, verbose: bool = False) -> int:
    """Print, per day and part, whether the plan changed or only its cost; 1 if anything did."""
    a, b = _results(old), _results(new)
    plans = costs = 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print(f"{name}: only in {'new' if name in b else 'old'}")
            plans += 1
            continue
        for part in ("construct", "lns", "solve"):
            x, y = a[name][part], b[name][part]
            diffs = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
            if not diffs:
                continue
            plan = [k for k in diffs if k in PLAN_KEYS]
            if plan:
                plans += 1
            else:
                costs += 1
            if plan or verbose:
                detail = {k: (x.get(k), y.get(k)) for k in diffs if k not in PLAN_KEYS and k != "terms"}
                if "terms" in diffs:
                    detail["terms"] = {t: (x["terms"].get(t), y["terms"].get(t)) for t in y["terms"]
                                       if x["terms"].get(t) != y["terms"].get(t)}
                print(f"{name} {part}: {'plan' if plan else 'cost'} differs ({', '.join(diffs)}) {detail}")
    print(f"{len(set(a) | set(b))} days x 3 parts: {plans} with another plan, {costs} with the same plan at "
          "another reported cost")
    return 1 if plans or costs else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "record":
        record(Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "compare":
        raise SystemExit(compare(Path(sys.argv[2]), Path(sys.argv[3]), verbose=sys.argv[4:] == ["-v"]))
    else:
        print(__doc__)
        raise SystemExit(2)
