"""The child process of a planning job: plan the day through ``rosters.plan_day``, beat, die with the parent.

Started by either runner (:func:`spawn_child`, from the fork server of :mod:`dispatch.jobs.starter`); its body is :func:`run_job`, which never raises:
every outcome ends in the job row.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import selectors
import signal
import sys
import threading
import time
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from dispatch.settings import Settings, get_settings
from dispatch.jobs.starter import SolverChild, start_child
from dispatch.jobs.rows import HEARTBEAT_EVERY_S, running_here, update_job, utcnow

log = logging.getLogger(__name__)

PARENT_POLL_S = 0.5
"""How often a solver child checks that its starter is still there (where pidfds are missing)."""
ORPHAN_EXIT_CODE = 70
"""Exit status of a solver child that ended because its parent was gone."""
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class _Heartbeat:
    """A thread writing heartbeat + latest progress about once a second and polling for a cancel.

    The solver calls ``progress`` (often) and checks ``stop_requested`` (often, through its
    stopping criterion); both only touch memory.
    """

    def __init__(self, engine: Engine, job_id: str, every: float = HEARTBEAT_EVERY_S) -> None:
        self.engine = engine
        self.job_id = job_id
        self.every = every
        self.stop_requested = threading.Event()  # cancel seen, or the job is no longer ours
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._progress: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}  # kept in every beat's progress (a week job's days done)
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
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        progress = self.latest_progress()
        with self._lock:
            extra = dict(self.extra)
        if progress is not None:
            values["progress"] = {**extra, **progress}
        with Session(self.engine) as session:
            # UPDATE first, then read: on SQLite a read before the write would take a shared
            # lock that cannot be upgraded while the main thread writes.
            written = session.execute(
                update(m.PlanJob).where(col(m.PlanJob.id) == self.job_id, running_here(),
                                        _not_behind(extra.get(DAYS_STORED, 0))).values(**values)
            ).rowcount
            row = session.execute(
                select(m.PlanJob.status, m.PlanJob.cancel_requested, m.PlanJob.runner_pid)
                .where(col(m.PlanJob.id) == self.job_id)
            ).first()
            session.commit()
        ours = row is not None and row[0] == m.JobStatus.RUNNING and row[2] == os.getpid()
        if not written and not ours:
            self.lost_reason = f"the job is no longer running here ({row[0].value if row else 'deleted'})"
            self.stop_requested.set()
            return
        if row is not None and row[1]:
            self.stop_requested.set()  # the solve's stopping criterion sees it and returns


DAYS_STORED = "days_stored"
"""Key of a week job's progress: how many days are stored.  A beat never writes over progress that
counts more days than it knows of (:func:`_not_behind`): a beat that read the days before a day was
stored, and wrote after, would otherwise drop that day from the job's progress."""


def _not_behind(days_stored: int) -> Any:
    """The stored progress counts no more stored days than ``days_stored``."""
    stored = m.PlanJob.progress[DAYS_STORED].as_integer()
    return or_(stored.is_(None), stored <= days_stored)


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
            update_job(engine, job_id, or_(col(m.PlanJob.status) == m.JobStatus.QUEUED, running_here()),
                    status=m.JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow())
        except Exception:  # noqa: BLE001
            log.exception("could not record the failure of job %s", job_id)
    finally:
        engine.dispose()


def _run_job(engine: Engine, job_id: str, settings: Settings) -> None:
    started = update_job(
        engine, job_id, col(m.PlanJob.status) == m.JobStatus.QUEUED, col(m.PlanJob.cancel_requested).is_(False),
        status=m.JobStatus.RUNNING, started_at=utcnow(), heartbeat_at=utcnow(), runner_pid=os.getpid(),
    )
    if not started:
        # Cancelled (or failed by a reaper) before we got going: nothing to do.
        update_job(engine, job_id, col(m.PlanJob.status) == m.JobStatus.QUEUED, status=m.JobStatus.CANCELLED,
                finished_at=utcnow())
        log.info("job %s not started: no longer queued or cancelled", job_id)
        return
    with Session(engine) as session:
        job = session.get(m.PlanJob, job_id)
        assert job is not None
        day, area, time_limit, replan, days = job.date, job.area, job.time_limit_s, job.replan, job.days or 1
    heartbeat = _Heartbeat(engine, job_id)
    heartbeat.start()  # beats until the outcome is written, so a long check or store is not "stale"
    try:
        if days > 1:
            _plan_week_and_store(engine, job_id, day, area, time_limit, settings, heartbeat)
        else:
            _solve_and_store(engine, job_id, day, area, time_limit, settings, heartbeat, replan)
    finally:
        heartbeat.stop()


def _solve_and_store(
    engine: Engine, job_id: str, day: dt.date, area: str | None, time_limit: float, settings: Settings,
    heartbeat: _Heartbeat, replan: dict[str, Any] | None = None,
) -> None:
    """Plan through ``rosters.plan_day`` (the one way a day is planned) with the job's hooks: the
    heartbeat's progress and cancel, no store once stopped, and the job row marked succeeded in
    the roster's own transaction (or the roster rolled back when the job is no longer ours).
    ``replan``: the job re-plans the published version (``ReplanSpec.to_json``): the problem is
    built by ``replan.build_replan`` and the changes against the published stops are recorded."""
    from dispatch.jobs.areas import queue_solver
    from dispatch.planning import replan as replanning
    from dispatch.planning.ride_builder import RideSettings
    from dispatch.planning.rosters import PlannedDay, PlanWithdrawn, plan_day
    from dispatch.providers.travel import provider_from_settings
    from optimizer import Cancel, FirstOf, MaxRuntime, load_params, load_weights

    weights = load_weights(settings.weights_file)
    params = load_params(settings.weights_file, time_limit_s=time_limit, on_progress=heartbeat.progress)
    stop = FirstOf(MaxRuntime(time_limit), Cancel(heartbeat.stop_requested))
    travel = provider_from_settings(settings)
    replanned: list[Any] = []  # the Replan built, when re-planning

    def build_replan(session: Session) -> Any:
        plan = replanning.build_replan(session, day, area, replanning.ReplanSpec.from_json(replan or {}), travel,
                                       settings.timezone, weights, utcnow())
        replanned.append(plan)
        return plan.built

    def record(session: Session, planned: PlannedDay) -> bool:
        solution, total = planned.solution, len(planned.built.problem.visits)
        k = solution.kpis
        final = {
            **(heartbeat.latest_progress() or {}),
            "visits_total": total,
            "visits_placed": k.visits_placed if k is not None else total - len(solution.unassigned),
            "elapsed_s": round(solution.stats.elapsed_s, 2) if solution.stats else None,
            "best_cost": int(solution.stats.objective) if solution.stats else None,
        }
        if replanned:
            plan = replanned[0]
            final["changes"] = {**replanning.changes_of(plan, solution).as_dict(),
                                "published_version": plan.published.version}
            planned.roster.solver_stats = {**(planned.roster.solver_stats or {}),
                                           "replan": {**(replan or {}), **final["changes"]}}
        return bool(session.execute(
            update(m.PlanJob)
            .where(col(m.PlanJob.id) == job_id, running_here(), col(m.PlanJob.cancel_requested).is_(False))
            .values(status=m.JobStatus.SUCCEEDED, roster_id=planned.roster.id, progress=final, finished_at=utcnow(),
                    heartbeat_at=utcnow())
        ).rowcount)

    try:
        planned = plan_day(
            engine, day, travel, params, settings.timezone, weights,
            RideSettings.from_settings(settings), area=area, stop=stop,
            build=build_replan if replan is not None else None,
            on_built=lambda built: heartbeat.progress(_Zero(len(built.problem.visits))),
            store_if=lambda: not heartbeat.stop_requested.is_set(), record=record,
            solver=queue_solver(engine, job_id, settings),
        )
    except PlanWithdrawn as withdrawn:  # cancelled, or failed or taken over meanwhile: nothing stored
        _finish_stopped(engine, job_id, heartbeat.lost_reason if withdrawn.before_store else None)
        return
    log.info("job %s stored roster %s version %s", job_id, planned.roster.id, planned.roster.version)


def _plan_week_and_store(
    engine: Engine, job_id: str, monday: dt.date, area: str | None, time_limit: float, settings: Settings,
    heartbeat: _Heartbeat,
) -> None:
    """A week job: ``week_plan.plan_week`` with the job's hooks.  Each day's draft is stored with the
    job's progress (the days done so far) in one transaction, only while the job is still running here
    and not cancelled; Sunday's transaction also marks the job succeeded.  A cancel stops the day being
    planned and stores nothing more; the days already stored stay, listed in the job's progress."""
    from dispatch.planning.ride_builder import RideSettings
    from dispatch.planning.rosters import PlannedDay, PlanWithdrawn
    from dispatch.planning.week_plan import WEEK_DAYS, plan_week
    from dispatch.providers.travel import provider_from_settings
    from optimizer import Cancel, FirstOf, MaxRuntime, load_params, load_weights

    weights = load_weights(settings.weights_file)
    params = load_params(settings.weights_file, time_limit_s=time_limit, on_progress=heartbeat.progress)
    done: list[dict[str, Any]] = []
    totals = {"visits_total": 0, "visits_placed": 0, "elapsed_s": 0.0}

    def record(session: Session, planned: PlannedDay, index: int) -> bool:
        solution, total = planned.solution, len(planned.built.problem.visits)
        k = solution.kpis
        placed = k.visits_placed if k is not None else total - len(solution.unassigned)
        elapsed = round(solution.stats.elapsed_s, 2) if solution.stats else 0.0
        day = {"date": planned.roster.date.isoformat(), "roster_id": planned.roster.id,
               "version": planned.roster.version, "visits_total": total, "visits_placed": placed,
               "elapsed_s": elapsed}
        last = index == WEEK_DAYS - 1
        progress = {**(heartbeat.latest_progress() or {}), "visits_total": totals["visits_total"] + total,
                    "visits_placed": totals["visits_placed"] + placed,
                    "elapsed_s": round(totals["elapsed_s"] + elapsed, 2), "days": [*done, day],
                    DAYS_STORED: len(done) + 1}
        values: dict[str, Any] = {"progress": progress, "heartbeat_at": utcnow()}
        if last:
            values.update(status=m.JobStatus.SUCCEEDED, finished_at=utcnow())
        kept = bool(session.execute(
            update(m.PlanJob)
            .where(col(m.PlanJob.id) == job_id, running_here(), col(m.PlanJob.cancel_requested).is_(False))
            .values(**values)
        ).rowcount)
        if kept:
            done.append(day)
            heartbeat.extra = {"days": list(done), DAYS_STORED: len(done)}
            totals.update(visits_total=progress["visits_total"], visits_placed=progress["visits_placed"],
                          elapsed_s=progress["elapsed_s"])
        return kept

    try:
        planned = plan_week(
            engine, monday, provider_from_settings(settings), params, settings.timezone, weights,
            RideSettings.from_settings(settings), area=area,
            stop=lambda day: FirstOf(MaxRuntime(time_limit), Cancel(heartbeat.stop_requested)),
            on_built=lambda built: heartbeat.progress(_Zero(len(built.problem.visits))),
            store_if=lambda: not heartbeat.stop_requested.is_set(), record=record,
        )
    except PlanWithdrawn as withdrawn:  # cancelled, or failed or taken over: the days stored stay, listed
        _finish_stopped(engine, job_id, heartbeat.lost_reason if withdrawn.before_store else None)
        return
    log.info("job %s stored the week of %s: rosters %s", job_id, monday,
             [p.roster.id for p in planned])


class _Zero:
    """Progress before the first solution."""

    def __init__(self, total: int) -> None:
        self.solutions_found = 0
        self.best_cost = 0
        self.visits_placed = 0
        self.visits_total = total
        self.elapsed_s = 0.0


def _finish_stopped(engine: Engine, job_id: str, lost_reason: str | None) -> None:
    cancelled = update_job(
        engine, job_id, running_here(), col(m.PlanJob.cancel_requested).is_(True), status=m.JobStatus.CANCELLED,
        finished_at=utcnow(),
    )
    if cancelled:
        log.info("job %s cancelled; nothing stored", job_id)
    else:
        log.warning("job %s stopped without storing: %s", job_id, lost_reason or "no longer running")


def die_with_parent(starter_pid: int, *, use_prctl: bool = True, watch: bool = True) -> None:
    """End this process as soon as ``starter_pid`` (the API or worker process that started it) is gone.

    A solver child left behind by a killed API process or ``carepath worker`` would go on
    solving for nobody, holding a core and racing a retry of its job.  Two guards:

    * Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills us when our parent ends.  Our
      parent is the starter's fork server (:mod:`dispatch.jobs.starter`), which ends when the
      starter does;
    * anywhere: a daemon thread that watches the starter itself (a pidfd where the system has
      them, else a check every :data:`PARENT_POLL_S`) and exits when it is gone.

    The starter's pid is passed in rather than read here, so that a starter that died before
    this call is noticed too.
    """
    if use_prctl and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
                log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError) as exc:  # no libc or no prctl: the watcher still works
            log.warning("prctl unavailable (%s); watching the parent instead", exc)
    if not _alive(starter_pid):
        os._exit(ORPHAN_EXIT_CODE)
    if watch:
        threading.Thread(target=_watch_starter, args=(starter_pid,), name="watch-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but someone else's (cannot happen for our starter; be safe)
        return True
    return True


def _watch_starter(starter_pid: int) -> None:
    try:
        pidfd = os.pidfd_open(starter_pid)  # readable once the process has ended
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is not None:
        with selectors.DefaultSelector() as selector:
            selector.register(pidfd, selectors.EVENT_READ)
            while not selector.select():
                pass
    else:
        while _alive(starter_pid):
            time.sleep(PARENT_POLL_S)
    # os._exit, not sys.exit: this is not the main thread, and nothing may be stored now.
    os._exit(ORPHAN_EXIT_CODE)


def child_main(database_url: str, job_id: str, settings: Settings | None, starter_pid: int) -> None:
    """Entry point of a solver child (started by :func:`dispatch.jobs.starter.start_child`, which has
    set its signals): tie its life to the starter's, then :func:`run_job`.

    SIGINT and SIGTERM are ignored: they reach the child too when sent to the whole process
    group or service (Ctrl-C in a terminal, ``systemctl stop``), and then the parent decides:
    ``carepath worker`` lets a running solve finish on a graceful stop, the API ends its
    children with SIGKILL.
    """
    die_with_parent(starter_pid)
    lower_priority((settings or get_settings()).solver_nice)
    run_job(database_url, job_id, settings)


def lower_priority(nice: int) -> int:
    """Lower this process's CPU priority by ``nice`` (a solver child: the API's answers come first,
    the solve takes the rest of the core); returns the niceness now.  Where the OS refuses, the
    child runs at its parent's priority rather than not at all."""
    try:
        return os.nice(nice) if nice > 0 else os.nice(0)
    except OSError:
        return os.nice(0)


def spawn_child(database_url: str, job_id: str, settings: Settings | None) -> SolverChild:
    """Start a solver child for ``job_id`` (see :mod:`dispatch.jobs.starter`)."""
    return start_child(child_main, (database_url, job_id, settings), f"carepath-plan-{job_id[:8]}")


def engine_url(engine: Engine) -> str:
    """The engine's URL with its password, for a child process (passed through a pipe, never argv)."""
    return engine.url.render_as_string(hide_password=False)
