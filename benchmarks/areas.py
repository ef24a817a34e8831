"""A split day's areas on the queue: ``python -m benchmarks.areas [--scale 10] [--time-limit 60] [--workers 1 2]``.

What runs: a fresh PostgreSQL database (dropped at the end) with the fixture scenario (seed 2026,
benchmark profile, ``--scale``) loaded; for each count in ``--workers``, that many ``carepath
worker`` processes (concurrency 1 each, started here and stopped after the run) and one planning
job of the demo day queued as the API queues it (``QueueRunner.submit``).  The job's solver splits
the day into areas and hands them to the queue (``dispatch.jobs.areas``); with one worker the job
solves every area itself, with two the second worker takes areas off it.  Reported per run: wall
seconds from queueing to the stored roster, the job's own run (``started_at`` to ``finished_at``),
the part of the limit gone before the solve (reading and building the problem), the areas' phase
(from handing them out to the last one back), how many areas the job solved itself,
visits placed, travel minutes and the objective of the stored roster, and which process solved
each area (from the workers' logs).  Every stored roster passed the independent checker
(``plan_day`` refuses to store one that does not).

Each area gets the same search time however many workers there are (an equal share of the job's
search time), so more workers return the plan sooner; the wall-time ratio is the speed-up.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.load.site import fresh_database


def _load(database_url: str, scale: float) -> dt.date:
    from dispatch.storage.db import make_engine, session_scope
    from dispatch.storage.migrate import upgrade
    from fixtures.generator import BENCHMARK_PROFILE, generate
    from fixtures.seed import load_scenario

    upgrade(database_url)
    scenario = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            load_scenario(session, scenario, replace=True, actor="areas benchmark")
    finally:
        engine.dispose()
    return scenario.demo_date


def _run(database_url: str, day: dt.date, time_limit: float, workers: int, logs: Path) -> dict:
    from sqlmodel import Session, select

    from dispatch import jobs
    from dispatch.settings import get_settings
    from dispatch.storage import models as m
    from dispatch.storage.db import make_engine

    settings = get_settings()
    engine = make_engine(database_url)
    env = {**os.environ, "CAREPATH_DATABASE_URL": database_url}
    procs, files = [], []
    for i in range(workers):
        log = open(logs / f"worker-{workers}-{i}.log", "w")  # noqa: SIM115 - closed below
        files.append(log)
        procs.append(subprocess.Popen([str(Path(sys.executable).parent / "carepath"), "worker", "--url", database_url],
                                      stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
    time.sleep(8)  # the workers import, connect and wait on the queue
    runner = jobs.QueueRunner(engine, settings)
    try:
        with Session(engine) as session:
            job = jobs.create_job(session, day, None, time_limit, "areas benchmark")
            session.commit()
            job_id = job.id
            runner.submit(job)
        began = time.monotonic()
        while True:
            with Session(engine) as session:
                row = session.get(m.PlanJob, job_id)
                assert row is not None
                if row.status in jobs.FINAL:
                    break
            if time.monotonic() - began > 4 * time_limit + 300:
                raise RuntimeError(f"job {job_id} did not finish")
            time.sleep(0.2)
        wall = time.monotonic() - began
        with Session(engine) as session:
            row = session.get(m.PlanJob, job_id)
            assert row is not None
            if row.status != m.JobStatus.SUCCEEDED:
                raise RuntimeError(f"job {job_id} {row.status.value}: {row.error}")
            roster = session.get(m.Roster, row.roster_id)
            assert roster is not None
            params = roster.solver_stats.get("parameters", {})
            out = {
                "workers": workers, "time_limit_s": time_limit, "wall_s": round(wall, 1),
                "job_run_s": round((row.finished_at - row.started_at).total_seconds(), 1),
                "visits_total": row.progress.get("visits_total"), "visits_placed": row.progress.get("visits_placed"),
                "travel_minutes": roster.kpis.get("travel_minutes"), "objective": roster.objective,
                "areas": params.get("areas"), "areas_not_solved": params.get("areas_not_solved", 0),
                "before_solve_s": round(time_limit - (roster.solver_stats.get("time_limit_s") or time_limit), 1),
                "areas_wall_s": params.get("areas_wall_s"), "areas_written_s": params.get("areas_written_s"), "areas_solved_by_job": params.get("areas_solved_by_job"),
                "finish_s": params.get("finish_s"),
            }
            # Visits left out whose reasons the deadline cut (the explanations run after the repair,
            # in the job alone, until the limit): with fewer of them the tail did more.
            reasons = session.exec(select(m.RosterUnassigned.details).where(m.RosterUnassigned.roster_id == roster.id)).all()
            out["unplaced"] = len(reasons)
            out["not_explained"] = sum(1 for d in reasons if (d or {}).get("case") == "not_explained")
    finally:
        runner.shutdown()
        for p in procs:  # only the workers this run started, by their own process groups
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for f in files:
            f.close()
        engine.dispose()
    solved = [len(re.findall(r"area \d+ of job \S+: succeeded", (logs / f"worker-{workers}-{i}.log").read_text()))
              for i in range(workers)]
    out["areas_solved_by_other_workers"] = sum(solved)
    return out


def measure(scale: float, time_limit: float, workers: list[int], logs: Path) -> dict:
    """The whole measurement (a fresh database, the scenario loaded, one job per worker count):
    the report ``main`` prints, also what ``benchmarks.compare`` puts in its areas rows."""
    logs.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
                    "scale": scale, "load_before": os.getloadavg(), "runs": []}
    with fresh_database("postgresql", logs) as url:
        t = time.monotonic()
        day = _load(url, scale)
        report["load_s"] = round(time.monotonic() - t, 1)
        for n in workers:
            res = _run(url, day, time_limit, n, logs)
            res["load_after"] = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps(res), flush=True)
            report["runs"].append(res)
    report["load_after"] = os.getloadavg()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=10.0)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--logs", type=Path, default=Path("/tmp/carepath-areas-bench"))
    args = ap.parse_args()
    report = measure(args.scale, args.time_limit, args.workers, args.logs)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
