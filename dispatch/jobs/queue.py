"""The PostgreSQL runner: a procrastinate queue on the same database, worked by ``carepath worker``.

The API defers task ``carepath.plan_job`` on queue ``planning``; the worker runs each job in a
spawned child (``dispatch.jobs.child``), and the areas of a split day that a job hands out
(task ``carepath.solve_area``, ``dispatch.jobs.areas``) likewise; it recovers jobs of workers that died
(:func:`recover_stalled_jobs`), and keeps procrastinate's tables in a schema of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from typing import Any

from sqlalchemy import and_, or_, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from dispatch.settings import Settings, get_settings
from dispatch.jobs.areas import AREA_PRIORITY, AREA_TASK_NAME, solve_area_task
from dispatch.jobs.child import engine_url, spawn_child
from dispatch.jobs.starter import SolverChild
from dispatch.jobs.rows import (
    QUEUE_TIMEOUT_S,
    STALE_AFTER_S,
    exit_reason,
    fail_job,
    job_status,
    reap,
    reap_all,
    settle_stalled,
)

log = logging.getLogger(__name__)

QUEUE_NAME = "planning"
TASK_NAME = "carepath.plan_job"


def queue_stale_after_s(settings: Settings) -> float:
    """Queue runner: how long a running job's child may be silent before the API fails the job.

    Longer than a worker's stall detection plus a sweep, so that a job whose worker died is
    handled by procrastinate's stalled-job handling (:func:`recover_stalled_jobs` retries it);
    the API steps in only when no worker is left to do that.
    """
    return STALE_AFTER_S + settings.worker_stalled_after_s + settings.worker_heartbeat_s


class QueueRunner:
    """PostgreSQL: jobs go through procrastinate; ``carepath worker`` runs them."""

    name = "queue"
    queued_timeout_s = QUEUE_TIMEOUT_S

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.stale_after_s = queue_stale_after_s(settings)
        self._app: Any = None
        self._lock = threading.Lock()

    def _opened(self) -> Any:
        with self._lock:
            if self._app is None:
                url = engine_url(self.engine)
                ensure_queue_schema(url, self.settings.db_connect_timeout_s)
                self._app = queue_app(url, min_size=1, max_size=2).open()
            return self._app

    def submit(self, job: m.PlanJob) -> None:
        app = self._opened()
        queue_id = app.configure_task(TASK_NAME, queue=QUEUE_NAME).defer(job_id=job.id)
        log.info("job %s queued as procrastinate job %s", job.id, queue_id)

    def check(self, session: Session, job: m.PlanJob) -> m.PlanJob:
        return reap(session, job, queued_timeout_s=self.queued_timeout_s, stale_after_s=self.stale_after_s)

    def reap_all(self, session: Session) -> int:
        return reap_all(session, queued_timeout_s=self.queued_timeout_s, stale_after_s=self.stale_after_s)

    def shutdown(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
                self._app = None


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


def ensure_queue_schema(database_url: str, connect_timeout_s: int | None = None) -> bool:
    """Create procrastinate's schema and tables unless present (see :func:`queue_schema`); True if created.

    Idempotent and safe to race (advisory lock).  Called at API startup (PostgreSQL) and at
    ``carepath worker`` start; ``carepath db upgrade`` may call it too.  ``connect_timeout_s``
    (the API passes ``db_connect_timeout_s``) bounds the wait for a database that does not
    answer: without it the API's startup waited for the kernel's TCP timeout (over 2 minutes).
    """
    import psycopg
    from psycopg import sql
    from procrastinate.schema import SchemaManager

    schema = queue_schema(database_url)
    timeout = {} if connect_timeout_s is None else {"connect_timeout": connect_timeout_s}
    with psycopg.connect(libpq_conninfo(database_url), **timeout) as conn:
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
    app.task(name=AREA_TASK_NAME, queue=QUEUE_NAME, pass_context=True, priority=AREA_PRIORITY)(solve_area_task)
    return app


def _after_exit(engine: Engine, job_id: str, pid: int | None, exitcode: int | None) -> None:
    """Fail the job if the child ``pid`` left it active (not if the job was queued again since)."""
    mine = or_(col(m.PlanJob.runner_pid) == pid,
               and_(col(m.PlanJob.runner_pid).is_(None), col(m.PlanJob.heartbeat_at).is_(None)))
    with Session(engine) as session:
        reason = f"{exit_reason(exitcode)} before finishing. Nothing was stored; plan again."
        if fail_job(session, job_id, reason, only_if=mine):
            log.warning("job %s: %s", job_id, exit_reason(exitcode))
        session.commit()


async def _plan_job_task(context: Any, job_id: str) -> None:
    """Procrastinate task: run one planning job in a child process and watch it.

    The child dies with the worker (:func:`die_with_parent`).  If the task is cancelled (an abort, or
    a worker stopped hard) the child is killed and the job failed.
    """
    extra = context.additional_context
    engine: Engine = extra["engine"]
    settings: Settings = extra["settings"]
    status = await asyncio.to_thread(job_status, engine, job_id)
    if status != m.JobStatus.QUEUED:
        log.info("skipping planning job %s: %s", job_id, status.value if status else "unknown")
        return
    children: dict[str, SolverChild] = extra["children"]
    process = spawn_child(engine_url(engine), job_id, settings)
    children[job_id] = process
    try:
        while process.is_alive():
            await asyncio.sleep(0.2)
    except asyncio.CancelledError:
        process.kill()  # children ignore SIGTERM (see child_main)
        process.join(timeout=5)
        await asyncio.to_thread(_after_exit, engine, job_id, process.pid, process.exitcode)
        raise
    finally:
        children.pop(job_id, None)
    process.join(timeout=5)
    await asyncio.to_thread(_after_exit, engine, job_id, process.pid, process.exitcode)


def _fail_aborted(engine: Engine, pids: dict[str, int | None]) -> None:
    """Fail the jobs whose solves a stopping worker is about to kill (only the runs of those children)."""
    with Session(engine) as session:
        for job_id, pid in pids.items():
            fail_job(session, job_id, "`carepath worker` was stopped while this job was planning. Nothing was "
                                      "stored; plan again.", only_if=col(m.PlanJob.runner_pid) == pid)
        session.commit()


# -- stalled jobs: a `carepath worker` that died (SIGKILL, OOM, host lost) mid-job


def _settle_stalled(engine: Engine, job_id: str, attempts: int) -> str:
    with Session(engine) as session:
        action = settle_stalled(session, job_id, attempts=attempts)
        session.commit()
        return action


def _sweep_lock_key(engine: Engine) -> str:
    return f"carepath.stalled_jobs.{queue_schema(engine_url(engine))}"


async def recover_stalled_jobs(app: Any, engine: Engine, settings: Settings) -> int:
    """Retry (or fail) the queue jobs of dead workers, through procrastinate's own stall detection.

    Procrastinate's workers write a heartbeat every ``worker_heartbeat_s``; a worker silent for
    ``worker_stalled_after_s`` is dead, and ``JobManager.get_stalled_jobs`` lists the jobs it
    left ``doing``.  Each is settled on our side first (:func:`settle_stalled`: the plan job is
    queued again, or failed after :data:`STALLED_RETRIES` deaths), then in procrastinate
    (``retry_job``, or ``finish_job``), so that a retried queue job always finds its plan job
    ``queued``.  One sweeper at a time (an advisory lock): two could otherwise retry the same
    job twice, the second time while a live worker already runs it.  Returns how many queue
    jobs were settled.

    (Procrastinate's documented recipe runs this as a periodic task; here it runs beside the
    worker instead, because a periodic task would wait for a free slot behind a long solve and
    its cron cannot go below a minute.)
    """
    from procrastinate.jobs import Status

    lock = await asyncio.to_thread(_try_lock, engine, _sweep_lock_key(engine))
    if lock is None:
        return 0
    settled = 0
    try:
        stalled = await app.job_manager.get_stalled_jobs(
            queue=QUEUE_NAME, task_name=TASK_NAME, seconds_since_heartbeat=settings.worker_stalled_after_s
        )
        for queued in stalled:
            job_id = str(queued.task_kwargs.get("job_id", ""))
            action = await asyncio.to_thread(_settle_stalled, engine, job_id, queued.attempts)
            if action == "retry":
                await app.job_manager.retry_job(queued)
            elif action == "finish":
                await app.job_manager.finish_job(queued, status=Status.SUCCEEDED, delete_job=True)
            elif action == "fail":
                await app.job_manager.finish_job(queued, status=Status.FAILED, delete_job=False)
            else:
                continue
            settled += 1
            log.warning("queue job %s (plan job %s) of a dead worker: %s", queued.id, job_id, action)
        # An area task of a dead worker: its job has taken the area over (or given it up) by now.
        for queued in await app.job_manager.get_stalled_jobs(
                queue=QUEUE_NAME, task_name=AREA_TASK_NAME, seconds_since_heartbeat=settings.worker_stalled_after_s):
            await app.job_manager.finish_job(queued, status=Status.FAILED, delete_job=True)
            settled += 1
    finally:
        await asyncio.to_thread(_unlock, lock)
    return settled


def _try_lock(engine: Engine, key: str) -> Any:
    """A connection holding the session-level advisory lock ``key``, or None if another holds it."""
    conn = engine.connect()
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key}).scalar()
        conn.commit()
    except Exception:
        conn.close()
        raise
    if not got:
        conn.close()
        return None
    return (conn, key)


def _unlock(lock: Any) -> None:
    conn, key = lock
    try:
        conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
        conn.commit()
    finally:
        conn.close()


async def _recover_stalled_forever(app: Any, engine: Engine, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.worker_heartbeat_s)
        try:
            await recover_stalled_jobs(app, engine, settings)
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("looking for stalled planning jobs failed")


async def work_async(
    database_url: str,
    settings: Settings | None = None,
    *,
    wait: bool = True,
    concurrency: int = 1,
    install_signal_handlers: bool = True,
) -> None:
    """Run planning jobs from the queue: forever (``wait``) or until the queue is empty.

    First the jobs of dead workers are retried or failed (:func:`recover_stalled_jobs`, then
    every ``worker_heartbeat_s`` while working), then jobs whose runner stopped are failed.
    Tests call ``work_async(url, wait=False, install_signal_handlers=False)`` in-process.
    """
    settings = settings or get_settings()
    ensure_queue_schema(database_url)
    engine = make_engine(database_url)
    try:
        app = queue_app(database_url, min_size=1, max_size=max(2, concurrency + 1))
        async with app.open_async():
            await recover_stalled_jobs(app, engine, settings)
            with Session(engine) as session:
                if failed := reap_all(session, queued_timeout_s=QUEUE_TIMEOUT_S,
                                      stale_after_s=queue_stale_after_s(settings)):
                    log.warning("failed %d planning job(s) whose runner had stopped", failed)
                session.commit()
            sweeper = asyncio.create_task(_recover_stalled_forever(app, engine, settings), name="stalled-jobs")
            children: dict[str, SolverChild] = {}
            worker = asyncio.create_task(app.run_worker_async(
                queues=[QUEUE_NAME], wait=wait, concurrency=concurrency, listen_notify=wait,
                install_signal_handlers=install_signal_handlers, delete_jobs="successful",
                additional_context={"engine": engine, "settings": settings, "children": children},
                name="carepath-worker", update_heartbeat_interval=settings.worker_heartbeat_s,
                stalled_worker_timeout=settings.worker_stalled_after_s,
            ), name="procrastinate-worker")
            try:
                await asyncio.shield(worker)
            except asyncio.CancelledError:
                # Cancelled (a second Ctrl-C: the first asked procrastinate to stop after the
                # running jobs, which it waits for however long they take): end the solves now;
                # their tasks then fail their jobs (nothing stored) and the worker can stop.
                log.warning("stopping now: %d running planning job(s) aborted", len(children))
                running = dict(children)
                await asyncio.to_thread(_fail_aborted, engine, {j: p.pid for j, p in running.items()})
                for process in running.values():
                    process.kill()
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
                raise
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
    finally:
        engine.dispose()


def work(database_url: str, settings: Settings | None = None, **kwargs: Any) -> None:
    """Synchronous :func:`work_async` (``carepath worker``)."""
    asyncio.run(work_async(database_url, settings, **kwargs))
