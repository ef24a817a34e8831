"""Re-planning a published Kielce day: ``python -m benchmarks.replan [--scales 1 10] [--out results.json]``.

For each scale the fixture day (``benchmarks.kielce``: seed 2026, benchmark profile, offline travel
model) is planned once and taken as the published roster.  Then each scenario of issue 16
changes the day and is re-planned twice from the same moment, in the same run:

* **re-plan**: ``dispatch.planning.replan.replan_problem`` (the published stops as the previous plan, work
  before ``from`` frozen, unavailable shifts cut, windows cut to ``from``), solved with the
  stability term;
* **scratch**: the same problem without the previous plan's unfrozen stops (the rest of the day
  planned from scratch; frozen work is kept, as it must be).

Scenarios: one visit added (from 08:00; the issue's ≥95 % target), a worker sick from 08:00 (the
one with the most work after 8:00), three urgent visits at 12:00 (mandatory, priority 5, window
12:15-14:15), a visit lengthened by 30 minutes (from 09:00, one placed after 10:00), a car broken
down at 10:00 (the car with the most ride legs after 10:00; its drivers' shifts end).

Reported per run: wall seconds (building the re-plan's problem and solving), the published stops
kept (same worker, start within 15 minutes), moved in time, moved to another worker, removed
(published visits the new plan leaves out: "visits lost"), visits placed, and the independent
checker's verdict (every plan is checked; a plan the checker refuses fails the run).  For the sick
worker the share of the *other* workers' stops that changed is reported too (target ≤ 10 %), and for
the sick worker and the broken car's drivers how many of their own stops from ``from`` on another
worker took over (the rest are left out, each with its reason).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

from dispatch.planning.problem_builder import BuiltProblem
from dispatch.planning.replan import PublishedStop, count_changes, replan_problem, solution_stops
from dispatch.planning.ride_legs import VisitSource
from fixtures.problem import problem_for_day
from dispatch.providers.travel import GeodesicProvider
from fixtures.generator import BENCHMARK_PROFILE, generate
from optimizer import solve
from optimizer import check, is_feasible
from optimizer import TimeWindow
from optimizer import SolveParams

TRAVEL = GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35)


def published_from(built: BuiltProblem, solution) -> list[PublishedStop]:
    out = []
    for route in solution.routes:
        for stop in route.stops:
            src = built.sources[stop.visit_id]
            out.append(PublishedStop((src.request_id, src.date, src.leg), route.worker_id, stop.start, stop.end))
    return out


def _solve_checked(problem, limit: float, seed: int):
    started = time.monotonic()
    solution = solve(problem, SolveParams(time_limit_s=limit, seed=seed))
    seconds = time.monotonic() - started
    violations = check(problem, solution)
    if not is_feasible(violations):
        raise SystemExit(f"{problem.name}: the checker refuses the plan: {[v.message for v in violations[:3]]}")
    return solution, seconds


# --------------------------------------------------------------------------- scenarios


def add_visits(built: BuiltProblem, count: int, window: tuple[int, int], urgent: bool, tag: str) -> BuiltProblem:
    """``count`` new visits at the homes of seniors spread over the day's list: 45 minutes, no
    special skills, in ``window``; urgent ones mandatory and priority 5, others priority 3."""
    p = built.problem
    plain = [v for v in p.visits if v.workers_needed == 1 and not v.required_skills and v.id in built.sources
             and built.sources[v.id].leg == "visit" and not v.required_workers and v.pinned_worker is None]
    step = max(1, len(plain) // (count + 1))
    new, sources = [], dict(built.sources)
    for k in range(count):
        base = plain[(k + 1) * step % len(plain)]
        vid = f"{tag}-{k}@{built.sources[base.id].date.isoformat()}"
        new.append(replace(base, id=vid, duration=45, duration_by_kind={}, windows=(TimeWindow(*window),), mandatory=urgent,
                           priority=5 if urgent else 3, soft_windows=False, max_lateness=0, preferred_workers=frozenset(),
                           pinned_worker=None, pinned_start=None))
        sources[vid] = VisitSource(f"{tag}-{k}", built.sources[base.id].date)
    return replace(built, problem=replace(p, visits=p.visits + tuple(new)), sources=sources)


def lengthen(built: BuiltProblem, published: list[PublishedStop], after: int, minutes: int) -> BuiltProblem:
    p = built.problem
    by_key = {(s.request_id, s.date, s.leg): vid for vid, s in built.sources.items()}
    target = next(by_key[s.key] for s in sorted(published, key=lambda s: s.start)
                  if s.start >= after and built.sources[by_key[s.key]].leg == "visit")
    visits = tuple(replace(v, duration=v.duration + minutes,
                           duration_by_kind={k: d + minutes for k, d in v.duration_by_kind.items()})
                   if v.id == target else v for v in p.visits)
    return replace(built, problem=replace(p, visits=visits))


def busiest_worker(published: list[PublishedStop], after: int, drivers: set[str]) -> str:
    counts: dict[str, int] = {}
    for s in published:
        if s.start >= after and s.worker_id not in drivers:
            counts[s.worker_id] = counts.get(s.worker_id, 0) + 1
    return max(sorted(counts), key=counts.__getitem__)


def busiest_car(scenario, published: list[PublishedStop], after: int) -> tuple[str, list[str]]:
    by_car: dict[str, list[str]] = {}
    for w in scenario.workers:
        if getattr(w, "car_id", None):
            by_car.setdefault(w.car_id, []).append(w.id)
    work = {car: sum(1 for s in published if s.start >= after and s.worker_id in ws) for car, ws in by_car.items()}
    car = max(sorted(work), key=work.__getitem__)
    return car, by_car[car]


# --------------------------------------------------------------------------- one scenario


def _left_out(problem, rebuilt: BuiltProblem, solution, lost: list[tuple], theirs: set) -> list[dict]:
    """Each published stop the new plan leaves out, with the visit's priority, whether it is
    mandatory or was the out-of-service worker's, and the solver's reason: what "visits lost" and
    "taken over" are made of, so a reader can tell a left-out stop that had to go from one the
    search gave up."""
    by_key = {(s.request_id, s.date, s.leg): vid for vid, s in rebuilt.sources.items()}
    visits = {v.id: v for v in problem.visits}
    reasons = {u.visit_id: u for u in solution.unassigned}
    out = []
    for key, worker_id, start in lost:
        vid = by_key.get(key)
        v = visits.get(vid)
        u = reasons.get(vid)
        out.append({"visit": vid, "published_worker": worker_id, "published_start": start,
                    "priority": v.priority if v else None, "mandatory": v.mandatory if v else None,
                    "out_of_service": key in theirs,
                    "reason": str(u.reason) if u else "not in the problem (window passed)",
                    "case": (u.details or {}).get("case") if u else None})
    return out


def run_scenario(name: str, built: BuiltProblem, published: list[PublishedStop], from_minute: int,
                 cuts: dict[str, list[tuple[int, int | None]]], day: dt.date, limit: float, seed: int,
                 watch_out: set[str] = frozenset()) -> dict:
    out: dict = {"scenario": name, "from": f"{from_minute // 60:02d}:{from_minute % 60:02d}"}
    for mode in ("replan", "scratch"):
        started = time.monotonic()
        problem, skipped = replan_problem(built, published, from_minute, cuts, day)
        if mode == "scratch":
            frozen = {pv.visit_id for pv in problem.previous_plan if pv.start < from_minute}
            problem = replace(problem, previous_plan=tuple(pv for pv in problem.previous_plan if pv.visit_id in frozen))
        build_s = time.monotonic() - started
        solution, solve_s = _solve_checked(problem, limit, seed)
        rebuilt = replace(built, problem=problem)
        before = [(s.key, s.worker_id, s.start) for s in published]
        counts = count_changes(before, solution_stops(rebuilt, solution))
        others = [b for b in before if b[1] not in watch_out]
        other_counts = count_changes(others, [a for a in solution_stops(rebuilt, solution)
                                               if a[0] in {b[0] for b in others}])
        # The out-of-service workers' own published stops from ``from_minute`` on: taken over by
        # someone else, or left out (the issue: "their remaining visits are re-assigned").
        after = {a[0]: a for a in solution_stops(rebuilt, solution)}
        theirs = [b for b in before if b[1] in watch_out and b[2] >= from_minute]
        taken_over = sum(1 for b in theirs if b[0] in after and after[b[0]][1] not in watch_out)
        k = solution.kpis
        left_out = _left_out(problem, rebuilt, solution, [b for b in before if b[0] not in after],
                             {b[0] for b in theirs})
        out[mode] = {
            "seconds": round(build_s + solve_s, 2),
            **counts.as_dict(),
            "changed": counts.changed,
            "other_workers_changed_share": round(other_counts.changed / max(1, other_counts.before), 4),
            "out_of_service_stops": len(theirs),
            "out_of_service_taken_over": taken_over,
            "placed": k.visits_placed if k else None,
            "visits": len(problem.visits),
            "left_out_window_passed": len(skipped),
            "feasible": True,
            "new_visits_placed": sum(1 for v in problem.visits if v.id.split("-")[0] in ("added", "urgent")
                                     and v.id in solution.assignments()),
            "left_out": left_out,
        }
    return out


def run(scale: float, limit: float, publish_limit: float, seed: int) -> dict:
    scenario = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
    day = scenario.demo_date
    built = problem_for_day(scenario, day, TRAVEL)
    published_solution, publish_s = _solve_checked(built.problem, publish_limit, seed)
    published = published_from(built, published_solution)
    drivers = {w.id for w in scenario.workers if getattr(w, "car_id", None)}
    results = {"scale": scale, "visits": len(built.problem.visits), "workers": len(built.problem.workers),
               "published_stops": len(published), "publish_solve_s": round(publish_s, 1),
               "time_limit_s": limit, "scenarios": []}
    sick = busiest_worker(published, 480, drivers)
    car, car_drivers = busiest_car(scenario, published, 600)
    runs = [
        ("one visit added (from 08:00)", add_visits(built, 1, (600, 720), False, "added"), 480, {}, set()),
        (f"worker {sick} sick from 08:00", built, 480, {sick: [(480, None)]}, {sick}),
        ("three urgent visits at 12:00", add_visits(built, 3, (735, 855), True, "urgent"), 720, {}, set()),
        ("a visit lengthened by 30 min (from 09:00)", lengthen(built, published, 600, 30), 540, {}, set()),
        (f"car {car} broken down at 10:00", built, 600, {w: [(600, None)] for w in car_drivers}, set(car_drivers)),
    ]
    for name, changed, from_minute, cuts, out_of_service in runs:
        row = run_scenario(name, changed, published, from_minute, cuts, day, limit, seed, out_of_service)
        print(json.dumps(row), flush=True)
        results["scenarios"].append(row)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    ap.add_argument("--time-limit", type=float, nargs="+", default=[5, 30],
                    help="re-plan search seconds per scale (the same for scratch)")
    ap.add_argument("--publish-limit", type=float, nargs="+", default=[10, 60],
                    help="search seconds of the plan taken as published, per scale")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = {"machine": f"{platform.machine()} x{os.cpu_count()}, Python {platform.python_version()}",
           "load_average_before": os.getloadavg(), "runs": []}
    for i, scale in enumerate(args.scales):
        limit = args.time_limit[min(i, len(args.time_limit) - 1)]
        publish_limit = args.publish_limit[min(i, len(args.publish_limit) - 1)]
        out["runs"].append(run(scale, limit, publish_limit, args.seed))
    out["load_average_after"] = os.getloadavg()
    text = json.dumps(out, indent=2, default=str)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
