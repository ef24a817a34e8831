"""The demo week planned as one week job against seven single days, in the same run.

``python -m benchmarks.week [--scale 1] [--time-limit 3] [--lns-iterations N] [--monday 2026-11-30] [--out results.json]``

Both plans start from the same generated Kielce centre (``fixtures.generator.generate``, the demo's
seed), loaded into two fresh SQLite databases so neither sees the other's drafts:

* **week job**: ``dispatch.planning.week_plan.plan_week``, Monday to Sunday in order, each day
  preferring the workers who served a senior earlier in the week where none of her regular
  workers can come;
* **seven days**: ``dispatch.planning.rosters.plan_day`` for each day, Monday to Sunday, as a
  dispatcher planning day by day does today.

Both use the same weights, travel model (offline, as the demo) and time limit per day, and every
day's roster is checked by the independent checker before it is stored (``plan_day``).  Each is
then read by ``dispatch.planning.week_report``: visits placed, different carers per senior in the
week, the share of visits by the senior's regular workers, and rest breaches (11 h daily, 35 h
weekly) found by its independent check.  The machine's load average is recorded: the run is
wall-clock limited.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from dispatch.planning.rosters import plan_day
from dispatch.planning.week_plan import plan_week, week_of
from dispatch.planning.week_report import WeekReport, week_report
from dispatch.providers.travel import provider_from_settings
from dispatch.settings import Settings
from dispatch.storage.db import make_engine, session_scope
from dispatch.storage.migrate import upgrade
from fixtures.generator import DEFAULT_START_DATE, generate
from fixtures.seed import load_scenario
from optimizer import SolveParams, load_params, load_weights

TZ = "Europe/Warsaw"


def _database(directory: Path, name: str, scenario) -> object:
    url = f"sqlite:///{directory / name}.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_scenario(session, scenario, replace=True)
    return engine


def _row(label: str, report: WeekReport, seconds: float, mandatory_unplaced: int) -> dict:
    return {
        "plan": label,
        "visits_placed": report.visits_placed,
        "visits_total": report.visits_total,
        "mandatory_unplaced": mandatory_unplaced,
        "seniors": len(report.seniors),
        "distinct_carers_mean": report.distinct_workers_mean,
        "distinct_carers_max": report.distinct_workers_max,
        "seniors_with_one_carer": sum(1 for s in report.seniors if len(s.workers) == 1),
        "regular_share": report.regular_share,
        "rest_breaches": len(report.rest_breaches),
        "daily_rest_breaches": sum(1 for b in report.rest_breaches if b.rule == "daily_rest"),
        "weekly_rest_breaches": sum(1 for b in report.rest_breaches if b.rule == "weekly_rest"),
        "seconds": round(seconds, 1),
        "breaches": [{"worker_id": b.worker_id, "rule": b.rule, "rest_hours": b.rest_hours,
                      "days": [d.isoformat() for d in b.days]} for b in report.rest_breaches],
    }


def _mandatory_unplaced(planned) -> int:
    return sum(1 for p in planned for u in p.solution.unassigned
               if p.built.problem.visit_by_id()[u.visit_id].mandatory)


def run(scale: float, time_limit: float, monday: dt.date, seed: int, lns_iterations: int | None = None) -> dict:
    """``lns_iterations``: a deterministic search instead (no clock: 200 solutions, greedy descent, that many
    LNS rounds per day), so that the two plans differ only by the week's continuity, not by the machine's load."""
    scenario = generate(seed, start_date=monday, scale=scale)
    settings = Settings()
    travel = provider_from_settings(settings)
    weights = load_weights(settings.weights_file)
    if lns_iterations is None:
        params = load_params(settings.weights_file, time_limit_s=time_limit)
    else:
        params = SolveParams(time_limit_s=None, solution_limit=200, seed=0, metaheuristic="GREEDY_DESCENT",
                             lns_iterations=lns_iterations)
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        week_engine = _database(Path(tmp), "week", scenario)
        started = time.monotonic()
        planned = plan_week(week_engine, monday, travel, params, TZ, weights)
        week_s = time.monotonic() - started
        with Session(week_engine) as s:
            rows.append(_row("week job (continuity fed forward)", week_report(s, monday, TZ), week_s,
                             _mandatory_unplaced(planned)))
        week_engine.dispose()

        days_engine = _database(Path(tmp), "days", scenario)
        started = time.monotonic()
        singles = [plan_day(days_engine, day, travel, params, TZ, weights) for day in week_of(monday)]
        days_s = time.monotonic() - started
        with Session(days_engine) as s:
            rows.append(_row("seven single days", week_report(s, monday, TZ), days_s, _mandatory_unplaced(singles)))
        days_engine.dispose()
    return {
        "date": dt.date.today().isoformat(),
        "monday": monday.isoformat(),
        "scale": scale,
        "seed": seed,
        "time_limit_per_day_s": None if lns_iterations is not None else time_limit,
        "lns_iterations_per_day": lns_iterations,
        "workers": len(scenario.workers),
        "seniors_in_scenario": len(scenario.seniors),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "rows": rows,
    }


def markdown(result: dict) -> str:
    head = ("| plan | visits placed | mandatory unplaced | seniors | carers per senior (mean / max) | seniors with "
            "one carer | regular share | rest breaches (daily / weekly) | time (s) |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in result["rows"]:
        share = "n/a" if r["regular_share"] is None else f"{r['regular_share']:.1%}"
        lines.append(
            f"| {r['plan']} | {r['visits_placed']:,} / {r['visits_total']:,} | {r['mandatory_unplaced']} | "
            f"{r['seniors']} | {r['distinct_carers_mean']:.2f} / {r['distinct_carers_max']} | "
            f"{r['seniors_with_one_carer']} | {share} | {r['rest_breaches']} ({r['daily_rest_breaches']} / "
            f"{r['weekly_rest_breaches']}) | {r['seconds']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the centre's size (1 = the real Kielce centre)")
    parser.add_argument("--time-limit", type=float, default=3.0, help="search seconds per day")
    parser.add_argument("--monday", type=dt.date.fromisoformat, default=DEFAULT_START_DATE)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--lns-iterations", type=int, help="a deterministic search of this many LNS rounds per day "
                                                                "instead of the time limit")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = run(args.scale, args.time_limit, args.monday, args.seed, args.lns_iterations)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    print(markdown(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
