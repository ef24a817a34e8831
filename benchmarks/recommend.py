"""Recommendations on the demo day and a 10x day: ``python -m benchmarks.recommend [--scales 1 10] [--out F]``.

For each scale: the Kielce centre the demo loads (``fixtures.generator.generate``, seed 2026,
the real-size profile, times ``scale``) goes into a fresh SQLite database, its demo day is
planned and stored (``plan_day``, ``--time-limit`` seconds), and then
``POST /rosters/{date}/recommendations`` is answered for ``--requests`` requests by the service
it calls (``dispatch.planning.recommend.recommend_for``: the day's problem built from the database, the
latest version read back into it, the options searched, timed, priced and checked, the
reasons worded), as the API would, one after another: the visits the plan left out (one-person,
not rides), then placed ones ("where else could it go?"), then an inline request.  Reported
per scale: the visits of the day, the wall time per answer (median, max) and its parts
(building the problem, reading the roster back, the search), options found, and whether
every top option passes the checker.  Targets (issue 16): under 2 s on the demo day, under
5 s on a 10x day.  The first and the inline answer also report the process's CPU time: on a shared
machine the wall time is that divided by the share of a core the process got.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from dispatch.planning import recommend as rec_service
from dispatch.planning import roster_plan
from dispatch.storage.db import make_engine
from dispatch.storage.migrate import upgrade
from dispatch.planning.recommend import InlineRequest, recommend_for
from dispatch.planning.rosters import plan_day
from fixtures.seed import load_scenario
from dispatch.settings import Settings
from dispatch.providers.travel import provider_from_settings
from dispatch.providers.travel_cache import shared_travel
from fixtures.generator import generate
from optimizer import check
from optimizer import load_params, load_weights
from optimizer import solution_of
from optimizer import recommend
from optimizer import rides_by_visit


def _phases(session: Session, day: dt.date, settings: Settings, request_id: str) -> dict[str, float]:
    """The parts of one answer, timed apart (the same calls ``recommend_for`` makes)."""
    started = time.monotonic()
    built = roster_plan.build(session, day, None, shared_travel(settings), settings.timezone,
                              load_weights(settings.weights_file))
    build_s = time.monotonic() - started
    latest = rec_service.publish.latest_roster(session, day)
    assert latest is not None
    started = time.monotonic()
    loaded = roster_plan.load_roster(session, latest, built, settings.timezone)
    load_s = time.monotonic() - started
    vid = loaded.visit_ids(request_id)[0]
    started = time.monotonic()
    result = recommend(loaded.problem, loaded.routes, vid, 5, 5, roster_plan.timer_of(loaded))
    search_s = time.monotonic() - started
    feasible = True
    if result.options:
        after = dict(result.base)
        for r in result.options[0].routes:
            after[(r.worker_id, r.shift_index)] = r
        base_errors = {(v.rule, v.worker_id, v.visit_id) for v in check(loaded.problem, solution_of(
            loaded.problem, result.base)) if v.severity == "error"}
        new = [v for v in check(loaded.problem, solution_of(loaded.problem, after))
               if v.severity == "error" and (v.rule, v.worker_id, v.visit_id) not in base_errors]
        feasible = not new
    return {"build_s": build_s, "load_s": load_s, "search_s": search_s, "top_option_feasible": feasible}


def run(scale: float, time_limit: float, requests: int, directory: Path) -> dict:
    url = f"sqlite:///{directory / f'recommend-{scale}.db'}"
    settings = Settings(database_url=url, data_dir=directory, secret_key="benchmark-" + "x" * 32)
    upgrade(url)
    engine = make_engine(url, settings=settings)
    scenario = generate(2026, scale=scale)
    day = scenario.demo_date
    with Session(engine) as session:
        load_scenario(session, scenario)
        session.commit()
    started = time.monotonic()
    planned = plan_day(engine, day, provider_from_settings(settings), load_params(None, time_limit_s=time_limit),
                       settings.timezone, load_weights(None))
    plan_s = time.monotonic() - started
    problem = planned.built.problem
    rides = rides_by_visit(problem)
    singles = {v.id for v in problem.visits if v.workers_needed == 1 and v.id not in rides}
    unplaced = [u.visit_id for u in planned.solution.unassigned if u.visit_id in singles]
    placed = [s.visit_id for r in planned.solution.routes for s in r.stops if s.visit_id in singles]
    chosen = unplaced[: requests // 2] + placed[:: max(1, len(placed) // requests)][: requests - min(len(unplaced),
                                                                                                     requests // 2)]
    request_ids = [planned.built.sources[v].request_id for v in chosen]
    walls, options, parts, feasible = [], [], [], []
    with Session(engine) as session:
        started, cpu = time.monotonic(), time.process_time()  # the first answer reads and builds the day
        recommend_for(session, day, settings, request_id=request_ids[0])
        cold_s, cold_cpu_s = time.monotonic() - started, time.process_time() - cpu
        session.rollback()
        for rid in request_ids:
            started = time.monotonic()
            view = recommend_for(session, day, settings, request_id=rid)
            walls.append(time.monotonic() - started)
            options.append(len(view.options))
            session.rollback()
            phase = _phases(session, day, settings, rid)
            feasible.append(phase.pop("top_option_feasible"))
            parts.append(phase)
            session.rollback()
        senior = next(iter(scenario.seniors)).id
        started, cpu = time.monotonic(), time.process_time()
        inline = recommend_for(session, day, settings, inline=InlineRequest(
            senior, "home_care", dt.time(12, 0), dt.time(14, 0), 60, mandatory=True))
        inline_s, inline_cpu_s = time.monotonic() - started, time.process_time() - cpu
    engine.dispose()
    return {
        "scale": scale,
        "visits": len(problem.visits),
        "workers": len(problem.workers),
        "plan_time_limit_s": time_limit,
        "plan_wall_s": round(plan_s, 1),
        "placed": planned.solution.kpis.visits_placed if planned.solution.kpis else None,
        "requests_asked": len(request_ids),
        "of_them_unplaced": min(len(unplaced), requests // 2),
        "first_answer_s": round(cold_s, 3),
        "first_answer_cpu_s": round(cold_cpu_s, 3),
        "answer_s_median": round(statistics.median(walls), 3),
        "answer_s_max": round(max(walls), 3),
        "build_problem_s_median": round(statistics.median(p["build_s"] for p in parts), 3),
        "read_roster_s_median": round(statistics.median(p["load_s"] for p in parts), 3),
        "search_s_median": round(statistics.median(p["search_s"] for p in parts), 3),
        "search_s_max": round(max(p["search_s"] for p in parts), 3),
        "options_median": statistics.median(options),
        "answers_without_option": sum(1 for o in options if o == 0),
        "top_options_checker_accepts": all(feasible),
        "inline_answer_s": round(inline_s, 3),
        "inline_answer_cpu_s": round(inline_cpu_s, 3),
        "inline_options": len(inline.options),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--time-limit", type=float, nargs="+", default=[20.0, 90.0],
                        help="planning time limit per scale (seconds)")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = []
    load_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="carepath-recommend-") as tmp:
        for i, scale in enumerate(args.scales):
            limit = args.time_limit[min(i, len(args.time_limit) - 1)]
            results.append(run(scale, limit, args.requests, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    report = {"machine": {"cpus": os.cpu_count(), "load_average_start": load_start,
                          "load_average_end": [round(x, 2) for x in os.getloadavg()]},
              "results": results}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
