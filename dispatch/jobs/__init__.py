"""Planning jobs: a day's solve in the background, with progress, cancellation and crash detection.

A solve holds the GIL for seconds to minutes, so it never runs in the API process.  Every job
runs in a child process of its own (forked from a fork server that has the solver loaded, so a
job starts in milliseconds rather than after 2 s of imports: :mod:`dispatch.jobs.starter`; own
database engine) whose body is :func:`run_job`.  A child dies with the process that
started it (:func:`die_with_parent`): a killed API or worker leaves no solver behind.  Who
starts the child depends on the database the API process is configured with (:func:`runner_for`):

* **SQLite** (a laptop, a single-office install, the tests): :class:`ProcessRunner`.  The API
  process spawns the children itself, at most ``CAREPATH_MAX_PLAN_JOBS`` at once; further jobs
  wait ``queued`` for a free slot.  No extra service to run; a job dies with the API process
  (shutdown kills the children and marks their jobs, and the waiting ones, failed).
* **PostgreSQL** (production): :class:`QueueRunner`.  The API defers a procrastinate job
  (task ``carepath.plan_job``, queue ``planning``) on the same database, and ``carepath worker``
  (:func:`work`) runs it, again in a spawned child per job, so the worker's event loop stays
  responsive and a crash inside OR-Tools kills only the child.  Procrastinate's own tables live in a
  schema of their own (:func:`queue_schema`, ``carepath_queue`` by default) and are created
  idempotently by :func:`ensure_queue_schema` (API startup and worker start call it).  A worker
  that dies mid-job is found by procrastinate's worker heartbeats, and its job is run again by
  another worker, or failed after :data:`STALLED_RETRIES` deaths (:func:`recover_stalled_jobs`).

Life of a job (``PlanJob`` row): ``queued -> running -> succeeded | failed | cancelled``, and
``running -> queued`` when its worker died.  Every transition is a conditional
``UPDATE ... WHERE status = <expected>``, so two actors (the child, the API's cancel, a reaper,
a stalled-job sweep) can never both win:

* the child moves ``queued -> running`` (recording its pid) only if no cancel was requested;
* the child stores the roster and moves ``running -> succeeded`` in **one transaction**, only if
  the job is still running *in that child* and no cancel was requested; otherwise it rolls the
  roster back.  So a cancelled, failed or requeued job never leaves a roster behind;
* while solving, a heartbeat thread in the child writes ``heartbeat_at`` (and the latest progress)
  about once a second and polls ``cancel_requested``.  A cancel sets the event the solve's
  stopping criterion watches (``optimizer.Cancel``): every phase of the solve ends at its next
  check and ``solve`` returns; the child then marks the job cancelled and stores nothing;
* a job whose runner stopped is failed by :func:`reap` on the next read, at API startup and at
  worker start: a running job with no heartbeat for :data:`STALE_AFTER_S` (longer for the
  queue, see :func:`queue_stale_after_s`), a queued job nobody started (:data:`START_TIMEOUT_S`
  for a child process, unless it waits for a slot; :data:`QUEUE_TIMEOUT_S` for the queue), or
  (process runner) a child that exited while its job was still active.

On PostgreSQL a split day's areas are solved in parallel: the job's child hands them to the
queue as tasks of their own (``carepath.solve_area``), which any free ``carepath worker`` takes,
and merges what comes back (``dispatch.jobs.areas``).

The package's modules: ``rows`` (job rows and their transitions), ``child`` (the planning
child process), ``process`` (the SQLite runner), ``queue`` (the PostgreSQL queue and its
worker), ``areas`` (a split day's areas on the queue).  This module picks the runner and names the package's public API.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from dispatch.jobs.child import die_with_parent, engine_url, run_job
from dispatch.jobs.process import ProcessRunner, Runner
from dispatch.jobs.queue import (
    QUEUE_NAME,
    QueueRunner,
    TASK_NAME,
    ensure_queue_schema,
    libpq_conninfo,
    queue_app,
    queue_conninfo,
    queue_schema,
    queue_stale_after_s,
    recover_stalled_jobs,
    work,
    work_async,
)
from dispatch.jobs.rows import (
    ACTIVE,
    FINAL,
    HEARTBEAT_EVERY_S,
    JobConflict,
    JobFinished,
    MAX_JOB_DAYS,
    MAX_TIME_LIMIT_S,
    QUEUE_TIMEOUT_S,
    STALE_AFTER_S,
    STALLED_RETRIES,
    START_TIMEOUT_S,
    active_job,
    begin_write,
    create_job,
    exit_reason,
    fail_job,
    job_view,
    reap,
    reap_all,
    request_cancel,
    settle_stalled,
)
from dispatch.settings import Settings


def backend_of(engine: Engine) -> str:
    return engine.url.get_backend_name()


def runner_for(engine: Engine, settings: Settings) -> ProcessRunner | QueueRunner:
    """The runner for this database: SQLite -> child processes of the API, PostgreSQL -> the queue."""
    if backend_of(engine) == "sqlite":
        return ProcessRunner(engine, settings)
    return QueueRunner(engine, settings)


__all__ = [
    "ACTIVE",
    "FINAL",
    "HEARTBEAT_EVERY_S",
    "JobConflict",
    "JobFinished",
    "MAX_JOB_DAYS",
    "MAX_TIME_LIMIT_S",
    "ProcessRunner",
    "QUEUE_NAME",
    "QUEUE_TIMEOUT_S",
    "QueueRunner",
    "Runner",
    "STALE_AFTER_S",
    "STALLED_RETRIES",
    "START_TIMEOUT_S",
    "TASK_NAME",
    "active_job",
    "backend_of",
    "begin_write",
    "create_job",
    "die_with_parent",
    "engine_url",
    "ensure_queue_schema",
    "exit_reason",
    "fail_job",
    "job_view",
    "libpq_conninfo",
    "queue_app",
    "queue_conninfo",
    "queue_schema",
    "queue_stale_after_s",
    "reap",
    "reap_all",
    "recover_stalled_jobs",
    "request_cancel",
    "run_job",
    "runner_for",
    "settle_stalled",
    "work",
    "work_async",
]
