"""Mixed load (issue #20 item 4): workers' phones, coordinators and a dispatcher, together, against one server.

    python -m benchmarks.load.mixed --backend postgresql --duration 60 --out benchmarks/results/load_mixed.json

For each backend: a fresh database with the published demo day (``site.prepare``), a coordinator
and a dispatcher login, one ``carepath serve`` process and, on PostgreSQL (where planning jobs
go through the queue), one ``carepath worker`` process.  Then, for ``--duration`` seconds at once:

* ``worker``: ``--workers`` phones, each ``GET /api/v1/me/schedule`` of the demo day once a second;
* ``coordinator``: ``--coordinators`` clients, each ``POST /api/v1/requests`` (a one-off home-care
  visit for a senior of the demo, on a working day one to three weeks ahead, a valid window, a new
  ``Idempotency-Key``) every ``--coordinator-period`` seconds;
* ``dispatcher``: one client that ``POST /api/v1/rosters/{day after the demo day}/plan``s at the
  start, polls ``GET /api/v1/jobs/{id}`` once a second, and plans again when the job has finished.

Reported per role: requests, statuses, errors (anything but the expected 200/201/202), timeouts (no
answer within 10 s), throughput, p50/p95/p99/max latency; the plans started and finished (with their
wall time); the server's and the worker's log error lines; the load average before and after.
Why one script and not three: the point is the interference (a solve holding a core while phones
poll and requests are written), which only shows when the three run against the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load import client, site
from benchmarks.load.__main__ import _server_errors

STAFF_PASSWORD = "load-test-staff-password-1"
EXPECTED = {"worker": ("200",), "coordinator": ("201",), "dispatcher": ("200", "202")}


@dataclass(frozen=True)
class Staff:
    coordinator: str
    dispatcher: str
    seniors: tuple[str, ...]
    """Seniors with a home-care request in the demo: the coordinators enter more visits for them."""
    plan_day: dt.date


def prepare_staff(database_url: str, demo_day: dt.date) -> Staff:
    """A coordinator and a dispatcher login, the seniors to enter requests for, and the day to plan."""
    from sqlmodel import col, select

    from dispatch.access.users import create_user
    from dispatch.storage import models as m
    from dispatch.storage.db import make_engine, session_scope

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            create_user(session, "load benchmark", "load-coordinator", STAFF_PASSWORD, m.UserRole.COORDINATOR)
            create_user(session, "load benchmark", "load-dispatcher", STAFF_PASSWORD, m.UserRole.DISPATCHER)
            seniors = sorted(set(session.exec(
                select(m.VisitRequest.senior_id).where(col(m.VisitRequest.service) == "home_care")
            ).all()))
    finally:
        engine.dispose()
    return Staff("load-coordinator", "load-dispatcher", tuple(seniors), demo_day + dt.timedelta(days=1))


def request_dates(today: dt.date, count: int = 10) -> list[dt.date]:
    """Working days (Monday to Friday) from a week after ``today``: later than any intake lead time."""
    out, day = [], today + dt.timedelta(days=7)
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


class RequestFactory:
    """A coordinator's next ``POST /api/v1/requests``: seniors and dates taken in turn, a new key each time."""

    def __init__(self, host: str, port: int, token: str, seniors: tuple[str, ...], dates: list[dt.date],
                 offset: int) -> None:
        self.host, self.port, self.token = host, port, token
        self.seniors, self.dates = seniors, dates
        self.n = offset

    def body(self) -> dict[str, object]:
        senior = self.seniors[self.n % len(self.seniors)]
        day = self.dates[(self.n // len(self.seniors)) % len(self.dates)]
        hour = 9 + self.n % 8
        return {"senior_id": senior, "service": "home_care", "first_date": day.isoformat(),
                "window_start": f"{hour:02d}:00", "window_end": f"{hour + 2:02d}:00", "duration": 30,
                "tasks": "load benchmark"}

    def __call__(self) -> bytes:
        body = self.body()
        self.n += 7919  # a prime stride: the ten coordinators do not collide on one senior and day
        return client.post_request(self.host, self.port, "/api/v1/requests", self.token, body,
                                   {"Idempotency-Key": str(uuid.uuid4())})


@dataclass
class Plans:
    """The dispatcher's planning jobs: each with its final status and wall time from POST to final."""

    runs: list[dict[str, object]] = field(default_factory=list)


async def dispatcher(host: str, port: int, token: str, day: dt.date, time_limit_s: float, *, start_at: float,
                     stop_at: float, out: client.Outcome, plans: Plans, timeout_s: float = 10.0) -> None:
    """Plan ``day``, poll the job once a second, plan again when it has finished, until ``stop_at``.  A job still
    running at ``stop_at`` is followed to its end (its polls are not counted) so that every plan is reported."""
    loop = asyncio.get_running_loop()
    conn = client._Connection(host, port)
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    plan = client.post_request(host, port, f"/api/v1/rosters/{day}/plan", token, {"time_limit_s": time_limit_s})
    try:
        while loop.time() < stop_at:
            t0 = loop.time()
            answer = await client.exchange_timed(conn, plan, timeout_s, out)
            if answer is None or answer[0] != 202:
                plans.runs.append({"status": f"plan answered {answer[0] if answer else 'nothing'}",
                                   "detail": answer[1].decode(errors="replace")[:300] if answer else None})
                await asyncio.sleep(1.0)
                continue
            job = json.loads(answer[1])
            poll = client.get_request(host, port, f"/api/v1/jobs/{job['id']}", token)
            status = job["status"]
            while status not in ("succeeded", "failed", "cancelled"):
                if loop.time() > stop_at + 180:
                    status = "still running 180 s after the run"
                    break
                await asyncio.sleep(1.0)
                counted = loop.time() < stop_at
                got = await client.exchange_timed(conn, poll, timeout_s, out if counted else client.Outcome())
                if got is not None and got[0] == 200:
                    job = json.loads(got[1])
                    status = job["status"]
            plans.runs.append({"job": job["id"], "status": status, "seconds": round(loop.time() - t0, 1),
                               "finished_within_run": loop.time() <= stop_at,
                               "roster_version": job.get("roster_version"), "error": job.get("error")})
    finally:
        await conn.close()


async def run_mix(host: str, port: int, worker_requests: list[bytes], coordinators: list[RequestFactory],
                  dispatcher_token: str, plan_day: dt.date, *, duration_s: float, coordinator_period_s: float,
                  time_limit_s: float) -> tuple[dict[str, list[client.Outcome]], Plans]:
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.5
    plans, dispatch_out = Plans(), client.Outcome()
    workers, coords, _ = await asyncio.gather(
        client.run_clients(host, port, worker_requests, duration_s=duration_s, period_s=1.0, begin=begin),
        client.run_clients(host, port, list(coordinators), duration_s=duration_s, period_s=coordinator_period_s,
                           begin=begin),
        dispatcher(host, port, dispatcher_token, plan_day, time_limit_s, start_at=begin, stop_at=begin + duration_s,
                   out=dispatch_out, plans=plans),
    )
    return {"worker": workers, "coordinator": coords, "dispatcher": [dispatch_out]}, plans


@contextlib.contextmanager
def running_worker(database_url: str, directory: Path) -> Iterator[Path]:
    """``carepath worker`` (concurrency 1) on ``database_url``; its log path.  Stopped with SIGINT on exit."""
    log_path = directory / "worker.log"
    env = dict(os.environ)
    env.update({"CAREPATH_DATABASE_URL": database_url, "CAREPATH_DATA_DIR": str(directory),
                "CAREPATH_LOG_LEVEL": "WARNING"})
    cli = [sys.executable, "-c", "from dispatch.cli.app import main; main()", "worker"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cli, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(2.0)
        if process.poll() is not None:
            raise RuntimeError(f"carepath worker exited at once:\n{log_path.read_text(errors='replace')[-3000:]}")
        yield log_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    with site.fresh_database(backend, workdir) as url:
        t0 = time.monotonic()
        prepared = site.prepare(url)
        staff = prepare_staff(url, prepared.day)
        print(f"[{backend}] prepared {len(prepared.worker_users)} worker logins, {len(staff.seniors)} seniors, "
              f"demo day {prepared.day}, planning {staff.plan_day}, in {time.monotonic() - t0:.0f} s", flush=True)
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(site.running_server(url, workdir))
            worker_log = stack.enter_context(running_worker(url, workdir)) if backend == "postgresql" else None
            base = f"http://{server.host}:{server.port}"
            tokens = [site.login(base, u, site.WORKER_PASSWORD) for u in prepared.worker_users]
            coordinator_token = site.login(base, staff.coordinator, STAFF_PASSWORD)
            dispatcher_token = site.login(base, staff.dispatcher, STAFF_PASSWORD)
            path = f"/api/v1/me/schedule?from={prepared.day}&to={prepared.day}"
            worker_requests = [client.get_request(server.host, server.port, path, tokens[i % len(tokens)])
                               for i in range(args.workers)]
            dates = request_dates(dt.date.today())
            coordinators = [RequestFactory(server.host, server.port, coordinator_token, staff.seniors, dates, i)
                            for i in range(args.coordinators)]
            log_before = len(server.log_text())
            load_before = os.getloadavg()
            outcomes, plans = asyncio.run(run_mix(
                server.host, server.port, worker_requests, coordinators, dispatcher_token, staff.plan_day,
                duration_s=args.duration, coordinator_period_s=args.coordinator_period,
                time_limit_s=args.plan_time_limit))
            load_after = os.getloadavg()
            health_s = site.wait_healthy(base, 120)
            roles = {role: client.summarise(outs, args.duration, EXPECTED[role]) for role, outs in outcomes.items()}
            result = {
                "backend": backend, "duration_s": args.duration,
                "clients": {"worker": args.workers, "coordinator": args.coordinators, "dispatcher": 1},
                "roles": roles,
                "plans": {"started": len(plans.runs),
                          "succeeded": sum(1 for p in plans.runs if p.get("status") == "succeeded"),
                          "finished_within_run": sum(1 for p in plans.runs if p.get("finished_within_run")),
                          "runs": plans.runs, "day": str(staff.plan_day), "time_limit_s": args.plan_time_limit},
                "health_after_s": None if health_s is None else round(health_s, 2),
                "server_log": _server_errors(server.log_text()[log_before:]),
                "worker_log": None if worker_log is None else _server_errors(worker_log.read_text(errors="replace")),
                "load_avg": {"before_1_5_15": [round(x, 2) for x in load_before],
                             "after_1_5_15": [round(x, 2) for x in load_after]},
            }
            print(json.dumps(result), flush=True)
            if any(int(r["errors"]) or int(r["timeouts"]) for r in roles.values()):  # type: ignore[call-overload]
                print(f"[{backend}] server log tail:\n{server.log_text()[-4000:]}", flush=True)
            return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.mixed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgresql"], default=["postgresql"])
    parser.add_argument("--workers", type=int, default=100, help="workers' phones, one schedule fetch a second each")
    parser.add_argument("--coordinators", type=int, default=10, help="coordinators entering requests")
    parser.add_argument("--coordinator-period", type=float, default=2.0, help="seconds between a coordinator's POSTs")
    parser.add_argument("--plan-time-limit", type=float, default=15.0, help="the dispatcher's solve time limit (s)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.coordinators < 1 or args.duration <= 0 or args.coordinator_period <= 0:
        parser.error("--workers and --coordinators at least 1, --duration and --coordinator-period positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from benchmarks.peers.report import machine

    results = []
    with tempfile.TemporaryDirectory(prefix="carepath-load-mixed-") as tmp:
        for backend in args.backend:
            results.append(run_backend(backend, args, Path(tmp)))
    context = machine() + "; load generator: benchmarks/load/client.py (asyncio, 1 process) on the same machine"
    print(context)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": context, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
