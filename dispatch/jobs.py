"""Planning jobs: a day's solve in the background, with progress, cancellation and crash detection.

A solve holds the GIL for seconds to minutes, so it never runs in the API process.  Every job
runs in a child process of its own (``multiprocessing`` *spawn* context, fresh interpreter,
own database engine) whose body is :func:`run_job`.  Who starts that child depends on the
database the API process is configured with (:func:`runner_for`):

* **SQLite** (a laptop, a single-office install, the tests): :class:`ProcessRunner`.  The API
  process spawns the child directly.  No extra service to run; a job dies with the API process
  (shutdown terminates the children and marks their jobs failed).
* **PostgreSQL** (production): :class:`QueueRunner`.  The API defers a procrastinate job
  (task ``carepath.plan_job``, queue ``planning``) on the same database, and ``carepath worker``
  (:func:`work`) runs it, again in a spawned child per job, so the worker's event loop stays
  responsive and a crash inside OR-Tools kills only the child.  Procrastinate's own tables live in a
  schema of their own (:func:`queue_schema`, ``carepath_queue`` by default) and are created
  idempotently by :func:`ensure_queue_schema` (API startup and worker start call it).

Life of a job (``PlanJob`` row): ``queued -> running -> succeeded | failed | cancelled``.
Every transition is a conditional ``UPDATE ... WHERE status = <expected>``, so two actors
(the child, the API's cancel, a reaper) can never both win:

* the child moves ``queued -> running`` only if no cancel was requested;
* the child stores the roster and moves ``running -> succeeded`` in **one transaction**, only if
  the job is still running and no cancel was requested; otherwise it rolls the roster back.  So
  a cancelled or failed job never leaves a roster behind;
* while solving, a heartbeat thread in the child writes ``heartbeat_at`` (and the latest progress)
  about once a second and polls ``cancel_requested``.  A cancel sets the solver's
  ``should_stop``; if the solver does not return within :data:`CANCEL_GRACE_S` (the optimizer
  checks ``should_stop`` only in its OR-Tools phase) the child marks the job cancelled and exits;
* a job whose runner stopped is failed by :func:`reap` on the next read, at API startup and at
  worker start: a running job with no heartbeat for :data:`STALE_AFTER_S`, a queued job nobody
  started (:data:`START_TIMEOUT_S` for a child process, :data:`QUEUE_TIMEOUT_S` for the queue),
  or (process runner) a child that exited while its job was still active.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import multiprocessing
import os
import re
import threading
import time
import uuid
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col

from dispatch import audit
from dispatch import models as m
from dispatch.db import make_engine
from dispatch.settings import Settings, get_settings

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 1.0
"""How often the child writes its heartbeat and progress (and polls for a cancel)."""
STALE_AFTER_S = 30.0
"""A running job whose heartbeat is older than this is failed: its process is gone or hung."""
START_TIMEOUT_S = 120.0
"""Process runner: a job still queued this long after creation never got its child started."""
QUEUE_TIMEOUT_S = 30 * 60.0
"""Queue runner: a job no worker picked up in this time is failed (is ``carepath worker`` running?)."""
CANCEL_GRACE_S = 3.0
"""After a cancel, how long the solver may take to notice before the child gives up on it."""
MAX_TIME_LIMIT_S = 600.0
QUEUE_NAME = "planning"
TASK_NAME = "carepath.plan_job"

ACTIVE = (m.JobStatus.QUEUED, m.JobStatus.RUNNING)
FINAL = (m.JobStatus.SUCCEEDED, m.JobStatus.FAILED, m.JobStatus.CANCELLED)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class JobConflict(Exception):
    """Another planning job for the same day and area is still queued or running."""

    def __init__(self, job: m.PlanJob) -> None:
        super().__init__(f"planning job {job.id} for {job.date} is still {job.status.value}")
        self.job = job


class JobFinished(Exception):
    """A cancel arrived for a job that already succeeded or failed."""

    def __init__(self, job: m.PlanJob) -> None:
        super().__init__(f"planning job {job.id} already {job.status.value}")
        self.job = job


# --------------------------------------------------------------------------- lifecycle (any process)


def begin_write(session: Session) -> None:
    """Start a fresh transaction that holds the database's write lock from its first statement.

    PostgreSQL: nothing to do (row locks).  SQLite: a transaction that has read and then writes
    fails at once with "database is locked" when another connection is writing (SQLite will
    not wait there, to avoid a deadlock), and our planning children write a heartbeat every
    second.  So the current (read) transaction is ended and the new one opens with a no-op
    write, which waits for the lock like ``BEGIN IMMEDIATE``.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        session.commit()
    session.execute(text("UPDATE plan_jobs SET id = id WHERE 1 = 0"))


def active_job(session: Session, day: dt.date, area: str | None) -> m.PlanJob | None:
    """The queued or running job for ``day`` and ``area``, if any."""
    area_match = col(m.PlanJob.area).is_(None) if area is None else col(m.PlanJob.area) == area
    return session.scalars(
        select(m.PlanJob)
        .where(col(m.PlanJob.date) == day, area_match, col(m.PlanJob.status).in_(ACTIVE))
        .order_by(col(m.PlanJob.created_at).desc())
    ).first()


def create_job(
    session: Session, day: dt.date, area: str | None, time_limit_s: float, actor: str
) -> m.PlanJob:
    """A queued job for ``day`` (audited); raises :class:`JobConflict` if one is already active.

    The caller commits, then hands the job to a runner: the runner's process must see the row.
    """
    begin_write(session)
    existing = active_job(session, day, area)
    if existing is not None:
        raise JobConflict(existing)
    job = m.PlanJob(
        id=str(uuid.uuid4()), date=day, area=area, time_limit_s=float(time_limit_s), created_by=actor,
        progress={},
    )
    session.add(job)
    session.flush()
    audit.record(session, actor, "plan_job.create", "plan_job", job.id,
                 {"date": {"old": None, "new": day.isoformat()}, "area": {"old": None, "new": area},
                  "time_limit_s": {"old": None, "new": float(time_limit_s)}})
    return job


def request_cancel(session: Session, job_id: str, actor: str) -> m.PlanJob | None:
    """Cancel a job cooperatively; returns the job (None if unknown).

    A queued job is cancelled at once (its runner will not start it); a running one gets
    ``cancel_requested`` and its child stops and stores nothing.  Cancelling a cancelled job is
    a no-op; a finished one raises :class:`JobFinished`.
    """
    begin_write(session)
    job = session.get(m.PlanJob, job_id)
    if job is None:
        return None
    if job.status == m.JobStatus.CANCELLED:
        return job
    now = _now()
    session.execute(
        update(m.PlanJob)
        .where(col(m.PlanJob.id) == job_id, col(m.PlanJob.status) == m.JobStatus.QUEUED)
        .values(status=m.JobStatus.CANCELLED, cancel_requested=True, finished_at=now)
    )
    session.execute(
        update(m.PlanJob)
        .where(col(m.PlanJob.id) == job_id, col(m.PlanJob.status) == m.JobStatus.RUNNING)
        .values(cancel_requested=True)
    )
    session.flush()
    session.refresh(job)
    if job.status in (m.JobStatus.SUCCEEDED, m.JobStatus.FAILED):
        raise JobFinished(job)
    audit.record(session, actor, "plan_job.cancel", "plan_job", job.id,
                 {"cancel_requested": {"old": False, "new": True}})
    return job


def fail_job(session: Session, job_id: str, reason: str, *, only_if: Any = None) -> bool:
    """Mark an active job failed with ``reason`` (extra ``only_if`` condition); True if it was."""
    conditions = [col(m.PlanJob.id) == job_id, col(m.PlanJob.status).in_(ACTIVE)]
    if only_if is not None:
        conditions.append(only_if)
    result = session.execute(
        update(m.PlanJob).where(*conditions).values(status=m.JobStatus.FAILED, error=reason[:2000], finished_at=_now())
    )
    return bool(result.rowcount)


def reap(session: Session, job: m.PlanJob, *, queued_timeout_s: float, now: dt.datetime | None = None) -> m.PlanJob:
    """Fail ``job`` if its runner has evidently stopped (stale heartbeat, never started)."""
    if job.status not in ACTIVE:
        return job
    now = now or _now()
    stale = now - dt.timedelta(seconds=STALE_AFTER_S)
    never = now - dt.timedelta(seconds=queued_timeout_s)
    if job.status == m.JobStatus.RUNNING:
        last = job.heartbeat_at or job.created_at
        if last >= stale:
            return job
        reason = (
            f"the planning process stopped reporting (last heartbeat {last.isoformat(timespec='seconds')}, "
            f"more than {STALE_AFTER_S:.0f} s ago): it crashed or was killed. Nothing was stored; plan again."
        )
        condition = and_(
            col(m.PlanJob.status) == m.JobStatus.RUNNING,
            or_(col(m.PlanJob.heartbeat_at) < stale,
                and_(col(m.PlanJob.heartbeat_at).is_(None), col(m.PlanJob.created_at) < stale)),
        )
    else:
        if job.created_at >= never:
            return job
        reason = (
            f"no runner started this job within {queued_timeout_s:.0f} s"
            + (" (is `carepath worker` running?)" if queued_timeout_s >= QUEUE_TIMEOUT_S else "")
            + ". Nothing was stored; plan again."
        )
        condition = and_(col(m.PlanJob.status) == m.JobStatus.QUEUED, col(m.PlanJob.created_at) < never)
    begin_write(session)
    if fail_job(session, job.id, reason, only_if=condition):
        log.warning("planning job %s failed: %s", job.id, reason)
        session.flush()
        session.refresh(job)
    return job


def reap_all(session: Session, *, queued_timeout_s: float, now: dt.datetime | None = None) -> int:
    """:func:`reap` every active job; returns how many were failed."""
    jobs = session.scalars(select(m.PlanJob).where(col(m.PlanJob.status).in_(ACTIVE))).all()
    failed = 0
    for job in jobs:
        if reap(session, job, queued_timeout_s=queued_timeout_s, now=now).status == m.JobStatus.FAILED:
            failed += 1
    return failed


def exit_reason(exitcode: int | None) -> str:
    """Why a child process ended, in words."""
    if exitcode is None:
        return "the planning process is gone"
    if exitcode < 0:
        return f"the planning process was killed by signal {-exitcode}"
    return f"the planning process exited with code {exitcode}"


# --------------------------------------------------------------------------- the child process


def _update(engine: Engine, job_id: str, *conditions: Any, **values: Any) -> int:
    with Session(engine) as session:
        result = session.execute(
            update(m.PlanJob).where(col(m.PlanJob.id) == job_id, *conditions).values(**values)
        )
        session.commit()
        return int(result.rowcount or 0)


class _Heartbeat:
    """A thread writing heartbeat + latest progress about once a second and polling for a cancel.

    The solver calls ``progress`` (often) and ``should_stop`` (often); both only touch memory.
    """

    def __init__(self, engine: Engine, job_id: str, every: float = HEARTBEAT_EVERY_S) -> None:
        self.engine = engine
        self.job_id = job_id
        self.every = every
        self.stop_requested = threading.Event()  # cancel seen, or the job is no longer ours
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._progress: dict[str, Any] | None = None
        self._cancel_seen_at: float | None = None
        self.lost_reason: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def progress(self, p: Any) -> None:  # optimizer.params.Progress
        with self._lock:
            self._progress = {
                "solutions_found": int(p.solutions_found),
                "best_cost": int(p.best_cost),
                "visits_placed": int(p.visits_placed),
                "visits_total": int(p.visits_total),
                "elapsed_s": round(float(p.elapsed_s), 2),
            }

    def should_stop(self) -> bool:
        return self.stop_requested.is_set()

    def latest_progress(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._progress) if self._progress is not None else None

    def _run(self) -> None:
        while not self._done.wait(self.every):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; the next one retries
                log.exception("heartbeat of job %s failed", self.job_id)

    def _beat(self) -> None:
        values: dict[str, Any] = {"heartbeat_at": _now()}
        progress = self.latest_progress()
        if progress is not None:
            values["progress"] = progress
        with Session(self.engine) as session:
            # UPDATE first, then read: on SQLite a read before the write would take a shared
            # lock that cannot be upgraded while the main thread writes.
            written = session.execute(
                update(m.PlanJob)
                .where(col(m.PlanJob.id) == self.job_id, col(m.PlanJob.status) == m.JobStatus.RUNNING)
                .values(**values)
            ).rowcount
            row = session.execute(
                select(m.PlanJob.status, m.PlanJob.cancel_requested).where(col(m.PlanJob.id) == self.job_id)
            ).first()
            session.commit()
        if not written:
            self.lost_reason = f"the job is no longer running here ({row[0].value if row else 'deleted'})"
            self.stop_requested.set()
            return
        if row is not None and row[1]:
            self.stop_requested.set()
            if self._cancel_seen_at is None:
                self._cancel_seen_at = time.monotonic()
            elif time.monotonic() - self._cancel_seen_at > CANCEL_GRACE_S:
                # The solver did not notice in time (it checks only during its OR-Tools phase):
                # cancel here and end the process; the conditional update means a roster being
                # committed right now wins instead, and then we do not exit.
                if _update(self.engine, self.job_id, col(m.PlanJob.status) == m.JobStatus.RUNNING,
                           status=m.JobStatus.CANCELLED, finished_at=_now()):
                    log.info("job %s cancelled while solving; ending the planning process", self.job_id)
                    logging.shutdown()
                    os._exit(0)


def build_for_area(session: Session, day: dt.date, area: str | None, travel: Any, tz: str, weights: Any) -> Any:
    """The optimizer problem for ``day``: the whole city, or one area's seniors and workers.

    An area plan takes the requests of seniors living in ``area`` and the workers whose home
    area it is; cross-area help is the city-wide plan's job.
    """
    from dispatch.problem_builder import build_problem
    from dispatch.rosters import build_day
    from dispatch.seed import requests_active_on, workers_on

    if area is None:
        return build_day(session, day, travel, tz, weights)
    seniors = {s.id: s for s in session.scalars(select(m.Senior)).all()}
    worker_days = [wd for wd in workers_on(session, day) if wd.worker.home_area == area]
    requests = [r for r in requests_active_on(session, day) if seniors[r.senior_id].area == area]
    places = {p.id: p for p in session.scalars(select(m.Place)).all()}
    cars = {c.id: c for c in session.scalars(select(m.Car)).all()}
    services = {str(getattr(s.code, "value", s.code)): s for s in session.scalars(select(m.Service)).all()}
    from dispatch.ride_builder import RideSettings

    return build_problem(day, worker_days, requests, seniors, places, cars, services, travel, tz, weights,
                         RideSettings.from_settings(get_settings()))


def store_roster(session: Session, day: dt.date, area: str | None, built: Any, solution: Any) -> m.Roster:
    """Save the plan as a new draft version of ``(day, area)``.

    ``rosters.save_roster`` numbers city-wide versions only; for an area the row is renumbered
    in the same transaction.  (To go once ``save_roster`` takes an ``area``.)
    """
    from dispatch.rosters import save_roster

    roster = save_roster(session, day, built, solution)
    if area is not None:
        latest = session.scalar(
            select(func.max(m.Roster.version)).where(col(m.Roster.date) == day, col(m.Roster.area) == area)
        )
        roster.area = area
        roster.version = (latest or 0) + 1
        session.flush()
    return roster


def run_job(database_url: str, job_id: str, settings: Settings | None = None) -> None:
    """The child process: plan the job's day and store a draft roster, or fail/cancel cleanly.

    Opens its own engine.  Never raises: every outcome ends in the job row.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s[%(process)d]: %(message)s")
    settings = settings or get_settings()
    engine = make_engine(database_url)
    try:
        _run_job(engine, job_id, settings)
    except Exception as exc:  # noqa: BLE001 - the job row is the report
        log.exception("planning job %s failed", job_id)
        try:
            _update(engine, job_id, col(m.PlanJob.status).in_(ACTIVE), status=m.JobStatus.FAILED,
                    error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=_now())
        except Exception:  # noqa: BLE001
            log.exception("could not record the failure of job %s", job_id)
    finally:
        engine.dispose()


def _run_job(engine: Engine, job_id: str, settings: Settings) -> None:
    started = _update(
        engine, job_id, col(m.PlanJob.status) == m.JobStatus.QUEUED, col(m.PlanJob.cancel_requested).is_(False),
        status=m.JobStatus.RUNNING, started_at=_now(), heartbeat_at=_now(), runner_pid=os.getpid(),
    )
    if not started:
        # Cancelled (or failed by a reaper) before we got going: nothing to do.
        _update(engine, job_id, col(m.PlanJob.status) == m.JobStatus.QUEUED, status=m.JobStatus.CANCELLED,
                finished_at=_now())
        log.info("job %s not started: no longer queued or cancelled", job_id)
        return
    with Session(engine) as session:
        job = session.get(m.PlanJob, job_id)
        assert job is not None
        day, area, time_limit = job.date, job.area, job.time_limit_s
    heartbeat = _Heartbeat(engine, job_id)
    heartbeat.start()  # beats until the outcome is written, so a long check or store is not "stale"
    try:
        _solve_and_store(engine, job_id, day, area, time_limit, settings, heartbeat)
    finally:
        heartbeat.stop()


def _solve_and_store(
    engine: Engine, job_id: str, day: dt.date, area: str | None, time_limit: float, settings: Settings,
    heartbeat: _Heartbeat,
) -> None:
    from dispatch.rosters import InfeasiblePlan
    from dispatch.travel import provider_from_settings
    from optimizer.checker import check, is_feasible
    from optimizer.params import load_params, load_weights
    from optimizer.solve import solve

    weights = load_weights(settings.weights_file)
    with Session(engine) as session:  # read, then close: no transaction stays open while solving
        built = build_for_area(session, day, area, provider_from_settings(settings), settings.timezone, weights)
    total = len(built.problem.visits)
    heartbeat.progress(_Zero(total))
    params = load_params(settings.weights_file, time_limit_s=time_limit, on_progress=heartbeat.progress,
                         should_stop=heartbeat.should_stop)
    solution = solve(built.problem, params)
    if heartbeat.stop_requested.is_set():
        _finish_stopped(engine, job_id, heartbeat.lost_reason)
        return
    violations = check(built.problem, solution)
    if not is_feasible(violations):
        raise InfeasiblePlan("the plan breaks rules: " + "; ".join(v.message for v in violations[:5]))
    k = solution.kpis
    final = {
        **(heartbeat.latest_progress() or {}),
        "visits_total": total,
        "visits_placed": k.visits_placed if k is not None else total - len(solution.unassigned),
        "elapsed_s": round(solution.stats.elapsed_s, 2) if solution.stats else None,
        "best_cost": int(solution.stats.objective) if solution.stats else None,
    }
    with Session(engine) as session:
        begin_write(session)
        roster = store_roster(session, day, area, built, solution)
        won = session.execute(
            update(m.PlanJob)
            .where(col(m.PlanJob.id) == job_id, col(m.PlanJob.status) == m.JobStatus.RUNNING,
                   col(m.PlanJob.cancel_requested).is_(False))
            .values(status=m.JobStatus.SUCCEEDED, roster_id=roster.id, progress=final, finished_at=_now(),
                    heartbeat_at=_now())
        ).rowcount
        if won:
            session.commit()
            log.info("job %s stored roster %s version %s", job_id, roster.id, roster.version)
            return
        session.rollback()  # cancelled or failed meanwhile: the roster goes too
    _finish_stopped(engine, job_id, None)


class _Zero:
    """Progress before the first solution."""

    def __init__(self, total: int) -> None:
        self.solutions_found = 0
        self.best_cost = 0
        self.visits_placed = 0
        self.visits_total = total
        self.elapsed_s = 0.0


def _finish_stopped(engine: Engine, job_id: str, lost_reason: str | None) -> None:
    cancelled = _update(
        engine, job_id, col(m.PlanJob.status) == m.JobStatus.RUNNING, col(m.PlanJob.cancel_requested).is_(True),
        status=m.JobStatus.CANCELLED, finished_at=_now(),
    )
    if cancelled:
        log.info("job %s cancelled; nothing stored", job_id)
    else:
        log.warning("job %s stopped without storing: %s", job_id, lost_reason or "no longer running")


def _spawn(database_url: str, job_id: str, settings: Settings | None) -> BaseProcess:
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(target=run_job, args=(database_url, job_id, settings), name=f"carepath-plan-{job_id[:8]}",
                          daemon=True)
    process.start()
    return process


def engine_url(engine: Engine) -> str:
    """The engine's URL with its password, for a child process (passed through a pipe, never argv)."""
    return engine.url.render_as_string(hide_password=False)


# --------------------------------------------------------------------------- runners


class Runner(Protocol):
    name: str
    queued_timeout_s: float

    def submit(self, job: m.PlanJob) -> None: ...

    def check(self, session: Session, job: m.PlanJob) -> m.PlanJob: ...

    def shutdown(self) -> None: ...


class ProcessRunner:
    """SQLite: the API process spawns one child per job and watches it."""

    name = "process"
    queued_timeout_s = START_TIMEOUT_S

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._children: dict[str, BaseProcess] = {}
        self._lock = threading.Lock()

    def submit(self, job: m.PlanJob) -> None:
        process = _spawn(engine_url(self.engine), job.id, self.settings)
        with self._lock:
            self._children[job.id] = process
        log.info("job %s started in process %s", job.id, process.pid)

    def check(self, session: Session, job: m.PlanJob) -> m.PlanJob:
        """Fail the job if its child exited without finishing; then the heartbeat rules."""
        with self._lock:
            process = self._children.get(job.id)
        if process is not None and not process.is_alive():
            process.join(timeout=0)
            if job.status in ACTIVE:
                begin_write(session)
            if job.status in ACTIVE and fail_job(
                session, job.id, f"{exit_reason(process.exitcode)} before finishing. Nothing was stored; plan again."
            ):
                session.flush()
                session.refresh(job)
            with self._lock:
                self._children.pop(job.id, None)
        return reap(session, job, queued_timeout_s=self.queued_timeout_s)

    def child(self, job_id: str) -> BaseProcess | None:
        with self._lock:
            return self._children.get(job_id)

    def shutdown(self) -> None:
        """Stop children still planning and fail their jobs (the API is going away)."""
        with self._lock:
            children = dict(self._children)
            self._children.clear()
        for job_id, process in children.items():
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
                with Session(self.engine) as session:
                    fail_job(session, job_id, "the API stopped while this job was planning. Nothing was stored; "
                                              "plan again.")
                    session.commit()


class QueueRunner:
    """PostgreSQL: jobs go through procrastinate; ``carepath worker`` runs them."""

    name = "queue"
    queued_timeout_s = QUEUE_TIMEOUT_S

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._app: Any = None
        self._lock = threading.Lock()

    def _opened(self) -> Any:
        with self._lock:
            if self._app is None:
                url = engine_url(self.engine)
                ensure_queue_schema(url)
                self._app = queue_app(url, min_size=1, max_size=2).open()
            return self._app

    def submit(self, job: m.PlanJob) -> None:
        app = self._opened()
        queue_id = app.configure_task(TASK_NAME, queue=QUEUE_NAME).defer(job_id=job.id)
        log.info("job %s queued as procrastinate job %s", job.id, queue_id)

    def check(self, session: Session, job: m.PlanJob) -> m.PlanJob:
        return reap(session, job, queued_timeout_s=self.queued_timeout_s)

    def shutdown(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
                self._app = None


def backend_of(engine: Engine) -> str:
    return engine.url.get_backend_name()


def runner_for(engine: Engine, settings: Settings) -> ProcessRunner | QueueRunner:
    """The runner for this database: SQLite -> child processes of the API, PostgreSQL -> the queue."""
    if backend_of(engine) == "sqlite":
        return ProcessRunner(engine, settings)
    return QueueRunner(engine)


# --------------------------------------------------------------------------- procrastinate


def libpq_conninfo(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq URI (``options`` such as search_path kept)."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S+)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _options(database_url: str) -> str:
    value = make_url(database_url).query.get("options", "")
    return " ".join(value) if isinstance(value, tuple) else str(value)


def queue_schema(database_url: str) -> str:
    """The PostgreSQL schema holding procrastinate's tables: ``carepath_queue``, or ``<schema>_queue``
    when the application's tables live in a schema named by ``search_path`` in the URL.

    The queue gets a schema of its own so that it never mixes with the tables Alembic manages
    (autogenerate would otherwise propose dropping them).
    """
    found = _SEARCH_PATH.search(_options(database_url))
    app_schema = found.group(1).split(",")[0].strip('"') if found else "public"
    name = "carepath_queue" if app_schema in ("public", "$user") else f"{app_schema}_queue"
    if not _IDENTIFIER.match(name):
        raise ValueError(f"cannot derive a queue schema name from search_path {app_schema!r}")
    return name


def queue_conninfo(database_url: str) -> str:
    """libpq URI for procrastinate's connections: same database, ``search_path`` = the queue schema."""
    url = make_url(database_url)
    options = _SEARCH_PATH.sub("", _options(database_url)).strip()
    options = f"{options} -csearch_path={queue_schema(database_url)}".strip()
    return url.set(drivername="postgresql", query={**dict(url.query), "options": options}).render_as_string(
        hide_password=False
    )


def ensure_queue_schema(database_url: str) -> bool:
    """Create procrastinate's schema and tables unless present (see :func:`queue_schema`); True if created.

    Idempotent and safe to race (advisory lock).  Called at API startup (PostgreSQL) and at
    ``carepath worker`` start; ``carepath db upgrade`` may call it too.
    """
    import psycopg
    from psycopg import sql
    from procrastinate.schema import SchemaManager

    schema = queue_schema(database_url)
    with psycopg.connect(libpq_conninfo(database_url)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"carepath.queue_schema.{schema}",))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if exists is not None and exists[0] is not None:
            conn.commit()
            return False
        conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
        conn.commit()
    log.info("procrastinate schema created in %s", schema)
    return True


def queue_app(database_url: str, **pool_args: Any) -> Any:
    """A procrastinate ``App`` on ``database_url`` with the ``carepath.plan_job`` task registered."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=queue_conninfo(database_url), **pool_args))
    app.task(name=TASK_NAME, queue=QUEUE_NAME, pass_context=True)(_plan_job_task)
    return app


def _job_status(engine: Engine, job_id: str) -> m.JobStatus | None:
    with Session(engine) as session:
        return session.scalar(select(m.PlanJob.status).where(col(m.PlanJob.id) == job_id))


def _after_exit(engine: Engine, job_id: str, exitcode: int | None) -> None:
    with Session(engine) as session:
        if fail_job(session, job_id, f"{exit_reason(exitcode)} before finishing. Nothing was stored; plan again."):
            log.warning("job %s: %s", job_id, exit_reason(exitcode))
        session.commit()


async def _plan_job_task(context: Any, job_id: str) -> None:
    """Procrastinate task: run one planning job in a child process and watch it."""
    extra = context.additional_context
    engine: Engine = extra["engine"]
    settings: Settings = extra["settings"]
    status = await asyncio.to_thread(_job_status, engine, job_id)
    if status != m.JobStatus.QUEUED:
        log.info("skipping planning job %s: %s", job_id, status.value if status else "unknown")
        return
    process = _spawn(engine_url(engine), job_id, settings)
    try:
        while process.is_alive():
            await asyncio.sleep(0.2)
    except asyncio.CancelledError:
        process.terminate()
        process.join(timeout=5)
        await asyncio.to_thread(_after_exit, engine, job_id, process.exitcode)
        raise
    process.join(timeout=5)
    await asyncio.to_thread(_after_exit, engine, job_id, process.exitcode)


async def work_async(
    database_url: str,
    settings: Settings | None = None,
    *,
    wait: bool = True,
    concurrency: int = 1,
    install_signal_handlers: bool = True,
) -> None:
    """Run planning jobs from the queue: forever (``wait``) or until the queue is empty.

    Tests call ``work_async(url, wait=False, install_signal_handlers=False)`` in-process.
    """
    settings = settings or get_settings()
    ensure_queue_schema(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            if failed := reap_all(session, queued_timeout_s=QUEUE_TIMEOUT_S):
                log.warning("failed %d planning job(s) whose runner had stopped", failed)
            session.commit()
        app = queue_app(database_url, min_size=1, max_size=max(2, concurrency + 1))
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE_NAME], wait=wait, concurrency=concurrency, listen_notify=wait,
                install_signal_handlers=install_signal_handlers, delete_jobs="successful",
                additional_context={"engine": engine, "settings": settings}, name="carepath-worker",
            )
    finally:
        engine.dispose()


def work(database_url: str, settings: Settings | None = None, **kwargs: Any) -> None:
    """Synchronous :func:`work_async` (``carepath worker``)."""
    asyncio.run(work_async(database_url, settings, **kwargs))


# --------------------------------------------------------------------------- views


def job_view(job: m.PlanJob, runner: str, roster_version: int | None = None) -> dict[str, Any]:
    """Plain data for the API's job resource."""
    p = job.progress or {}
    return {
        "id": job.id,
        "date": job.date,
        "area": job.area,
        "status": job.status.value,
        "runner": runner,
        "time_limit_s": job.time_limit_s,
        "progress": {
            "visits_placed": p.get("visits_placed"),
            "visits_total": p.get("visits_total"),
            "best_cost": p.get("best_cost"),
            "solutions_found": p.get("solutions_found"),
            "elapsed_s": p.get("elapsed_s"),
        },
        "cancel_requested": job.cancel_requested,
        "roster_id": job.roster_id,
        "roster_version": roster_version,
        "error": job.error,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
    }


__all__ = [
    "ACTIVE",
    "FINAL",
    "JobConflict",
    "JobFinished",
    "ProcessRunner",
    "QueueRunner",
    "create_job",
    "ensure_queue_schema",
    "job_view",
    "reap",
    "reap_all",
    "request_cancel",
    "run_job",
    "runner_for",
    "work",
    "work_async",
]
