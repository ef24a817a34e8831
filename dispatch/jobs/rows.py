"""Planning-job rows and their state transitions: create, cancel, fail, reap, settle, show.

Every transition is a conditional ``UPDATE ... WHERE status = <expected>`` (see ``dispatch.jobs``),
so any process may call these: the API, a runner, the child, a stalled-job sweep.  The timing
constants of the lifecycle live here too, next to the code that judges them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.storage import models as m

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 1.0
"""How often the child writes its heartbeat and progress (and polls for a cancel)."""
STALE_AFTER_S = 30.0
"""A running job whose heartbeat is older than this is failed: its process is gone or hung."""
START_TIMEOUT_S = 120.0
"""Process runner: a job still queued this long after creation never got its child started."""
QUEUE_TIMEOUT_S = 30 * 60.0
"""Queue runner: a job no worker picked up in this time is failed (is ``carepath worker`` running?)."""
MAX_TIME_LIMIT_S = 600.0
SILENT_AFTER_S = 5 * HEARTBEAT_EVERY_S
"""A running job whose child missed this many seconds of beats has no child any more (used when
its worker is known dead, to tell a dead run from one that is merely cut off from the queue)."""
STALLED_RETRIES = 2
"""How often a job whose ``carepath worker`` died is run again before it is failed (a day that
keeps killing its worker, e.g. by exhausting memory, must not do so forever)."""
MAX_JOB_DAYS = 7
"""The longest job: a week (Monday to Sunday)."""
ACTIVE = (m.JobStatus.QUEUED, m.JobStatus.RUNNING)
FINAL = (m.JobStatus.SUCCEEDED, m.JobStatus.FAILED, m.JobStatus.CANCELLED)


def utcnow() -> dt.datetime:
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


def active_job(session: Session, day: dt.date, area: str | None, days: int = 1) -> m.PlanJob | None:
    """The queued or running job whose days overlap ``day`` .. ``day + days - 1`` for ``area``, if any.

    A week job (``days`` 7) covers its seven days: a day job inside that week conflicts with it,
    and a week job with any day or week job of those days (two jobs storing drafts of one day at
    the same time would make the week's continuity and its report meaningless).
    """
    area_match = col(m.PlanJob.area).is_(None) if area is None else col(m.PlanJob.area) == area
    last = day + dt.timedelta(days=days - 1)
    candidates = session.scalars(
        select(m.PlanJob)
        .where(col(m.PlanJob.date) >= day - dt.timedelta(days=MAX_JOB_DAYS - 1), col(m.PlanJob.date) <= last,
               area_match, col(m.PlanJob.status).in_(ACTIVE))
        .order_by(col(m.PlanJob.created_at).desc())
    ).all()
    return next((j for j in candidates if j.date + dt.timedelta(days=(j.days or 1) - 1) >= day), None)


def _lock_day(session: Session, day: dt.date, area: str | None, days: int = 1) -> None:
    """Serialise job creation for the days ``day`` .. ``day + days - 1`` and ``area`` until the transaction ends.

    SQLite: :func:`begin_write` already holds the database's write lock.  PostgreSQL: without a
    lock two concurrent plan requests would both find no active job and both start one (the
    check-then-insert race); a transaction-level advisory lock per day makes the second wait, then
    see the first's job.  A week takes its days' locks in date order, so two requests never wait
    for each other in a circle.
    """
    if session.get_bind().dialect.name == "postgresql":
        for i in range(days):
            key = f"carepath.plan_job.{(day + dt.timedelta(days=i)).isoformat()}.{area or ''}"
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def create_job(
    session: Session, day: dt.date, area: str | None, time_limit_s: float, actor: str,
    replan: dict[str, Any] | None = None, days: int = 1,
) -> m.PlanJob:
    """A queued job for ``day`` (audited); raises :class:`JobConflict` if one is already active on its days.

    ``replan``: a re-plan of the published version (``dispatch.planning.replan.ReplanSpec.to_json``)
    instead of a plan from scratch; the same job otherwise.  ``days``: 7 plans the week from
    ``day`` (a Monday; the caller checks), ``time_limit_s`` then being each day's.
    The caller commits, then hands the job to a runner: the runner's process must see the row.
    """
    if days not in (1, MAX_JOB_DAYS) or (days > 1 and replan is not None):
        raise ValueError(f"a planning job covers 1 or {MAX_JOB_DAYS} days (a re-plan one), not {days}")
    begin_write(session)
    _lock_day(session, day, area, days)
    existing = active_job(session, day, area, days)
    if existing is not None:
        raise JobConflict(existing)
    job = m.PlanJob(
        id=str(uuid.uuid4()), date=day, area=area, time_limit_s=float(time_limit_s), created_by=actor,
        progress={}, replan=replan, days=days,
    )
    session.add(job)
    session.flush()
    changes = {"date": {"old": None, "new": day.isoformat()}, "area": {"old": None, "new": area},
               "time_limit_s": {"old": None, "new": float(time_limit_s)}}
    if replan is not None:
        changes["replan"] = {"old": None, "new": replan}
    if days != 1:
        changes["days"] = {"old": None, "new": days}
    audit.record(session, actor, "plan_job.create", "plan_job", job.id, changes)
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
    now = utcnow()
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
        update(m.PlanJob).where(*conditions).values(status=m.JobStatus.FAILED, error=reason[:2000], finished_at=utcnow())
    )
    return bool(result.rowcount)


def reap(
    session: Session,
    job: m.PlanJob,
    *,
    queued_timeout_s: float | None,
    stale_after_s: float = STALE_AFTER_S,
    now: dt.datetime | None = None,
) -> m.PlanJob:
    """Fail ``job`` if its runner has evidently stopped (stale heartbeat, never started).

    ``stale_after_s``: a running job silent this long is dead (the queue runner waits longer, so
    that procrastinate's stalled-job handling gets the first say, see :func:`recover_stalled_jobs`).
    ``queued_timeout_s``: a queued job nobody started in this time (counted from its creation or
    its last requeue) is dead; ``None`` when the runner vouches for it (it waits for a free slot).
    """
    if job.status not in ACTIVE:
        return job
    now = now or utcnow()
    if job.status == m.JobStatus.RUNNING:
        stale = now - dt.timedelta(seconds=stale_after_s)
        last = job.heartbeat_at or job.created_at
        if last >= stale:
            return job
        gone = "it crashed or was killed"
        if stale_after_s > STALE_AFTER_S:
            gone += ", and no worker took the job back (is `carepath worker` running?)"
        reason = (
            f"the planning process stopped reporting (last heartbeat {last.isoformat(timespec='seconds')}, "
            f"more than {stale_after_s:.0f} s ago): {gone}. Nothing was stored; plan again."
        )
        condition = and_(
            col(m.PlanJob.status) == m.JobStatus.RUNNING,
            or_(col(m.PlanJob.heartbeat_at) < stale,
                and_(col(m.PlanJob.heartbeat_at).is_(None), col(m.PlanJob.created_at) < stale)),
        )
    else:
        if queued_timeout_s is None:
            return job
        never = now - dt.timedelta(seconds=queued_timeout_s)
        # heartbeat_at of a queued job is set when a stalled worker's job was queued again.
        if (job.heartbeat_at or job.created_at) >= never:
            return job
        reason = (
            f"no runner started this job within {queued_timeout_s:.0f} s"
            + (" (is `carepath worker` running?)" if queued_timeout_s >= QUEUE_TIMEOUT_S else "")
            + ". Nothing was stored; plan again."
        )
        condition = and_(
            col(m.PlanJob.status) == m.JobStatus.QUEUED,
            or_(col(m.PlanJob.heartbeat_at) < never,
                and_(col(m.PlanJob.heartbeat_at).is_(None), col(m.PlanJob.created_at) < never)),
        )
    begin_write(session)
    if fail_job(session, job.id, reason, only_if=condition):
        log.warning("planning job %s failed: %s", job.id, reason)
        session.flush()
        session.refresh(job)
    return job


def reap_all(
    session: Session,
    *,
    queued_timeout_s: float | None,
    stale_after_s: float = STALE_AFTER_S,
    now: dt.datetime | None = None,
) -> int:
    """:func:`reap` every active job; returns how many were failed."""
    jobs = session.scalars(select(m.PlanJob).where(col(m.PlanJob.status).in_(ACTIVE))).all()
    failed = 0
    for job in jobs:
        reaped = reap(session, job, queued_timeout_s=queued_timeout_s, stale_after_s=stale_after_s, now=now)
        if reaped.status == m.JobStatus.FAILED:
            failed += 1
    return failed


def exit_reason(exitcode: int | None) -> str:
    """Why a child process ended, in words."""
    if exitcode is None:
        return "the planning process is gone"
    if exitcode < 0:
        return f"the planning process was killed by signal {-exitcode}"
    return f"the planning process exited with code {exitcode}"


def running_here() -> Any:
    """The job is running *in this process*.

    Every write of a running child carries this condition: after a worker died and its job was
    queued again (:func:`recover_stalled_jobs`), a new run owns the row, and an old child that
    somehow survived can no longer beat, cancel or store on its behalf.
    """
    return and_(col(m.PlanJob.status) == m.JobStatus.RUNNING, col(m.PlanJob.runner_pid) == os.getpid())


def update_job(engine: Engine, job_id: str, *conditions: Any, **values: Any) -> int:
    with Session(engine) as session:
        result = session.execute(
            update(m.PlanJob).where(col(m.PlanJob.id) == job_id, *conditions).values(**values)
        )
        session.commit()
        return int(result.rowcount or 0)


def job_status(engine: Engine, job_id: str) -> m.JobStatus | None:
    with Session(engine) as session:
        return session.scalar(select(m.PlanJob.status).where(col(m.PlanJob.id) == job_id))


def settle_stalled(session: Session, job_id: str, *, attempts: int, now: dt.datetime | None = None) -> str:
    """Decide what becomes of plan job ``job_id`` whose worker died; update the row accordingly.

    ``attempts``: how often procrastinate already retried the queue job.  Returns what to do
    with the queue job: ``"retry"`` (the row is ``queued`` again, or still is), ``"finish"``
    (the row already has its outcome), ``"fail"`` (the row is failed now, or is gone) or
    ``"wait"`` (its child still beats: a worker cut off from the database, not dead; look
    again at the next sweep).  Every change is conditional, so a sweep racing a live child
    cannot undo the child's work.
    """
    now = now or utcnow()
    begin_write(session)
    job = session.get(m.PlanJob, job_id, populate_existing=True)
    if job is None:
        return "fail"
    if job.status in FINAL:
        return "finish"
    silent = now - dt.timedelta(seconds=SILENT_AFTER_S)
    if job.status == m.JobStatus.RUNNING and job.heartbeat_at is not None and job.heartbeat_at >= silent:
        return "wait"
    dead_child = and_(col(m.PlanJob.status) == m.JobStatus.RUNNING,
                      or_(col(m.PlanJob.heartbeat_at).is_(None), col(m.PlanJob.heartbeat_at) < silent))
    deaths = attempts + 1
    if job.status == m.JobStatus.RUNNING and job.cancel_requested:
        done = session.execute(update(m.PlanJob).where(col(m.PlanJob.id) == job_id, dead_child)
                               .values(status=m.JobStatus.CANCELLED, finished_at=now)).rowcount
        return "finish" if done else "wait"
    if attempts >= STALLED_RETRIES:
        reason = (f"the `carepath worker` running this job stopped (killed or crashed) {deaths} times; it is not "
                  "run again. Nothing was stored; plan again.")
        if fail_job(session, job_id, reason, only_if=or_(col(m.PlanJob.status) == m.JobStatus.QUEUED, dead_child)):
            log.warning("planning job %s failed: %s", job_id, reason)
            return "fail"
        return "wait"
    if job.status == m.JobStatus.QUEUED:
        return "retry"  # the worker died before its child started the job: just run it again
    requeued = session.execute(
        update(m.PlanJob).where(col(m.PlanJob.id) == job_id, dead_child)
        # heartbeat_at = now: "queued since", for the queued-job timeout (see reap)
        .values(status=m.JobStatus.QUEUED, started_at=None, heartbeat_at=now, runner_pid=None, progress={})
    ).rowcount
    if not requeued:
        return "wait"
    reason = (f"the `carepath worker` running this job stopped (killed or crashed); nothing was stored; "
              f"queued again (retry {deaths} of {STALLED_RETRIES})")
    log.warning("planning job %s: %s", job_id, reason)
    audit.record(session, "carepath-worker", "plan_job.requeue", "plan_job", job_id,
                 {"status": {"old": m.JobStatus.RUNNING.value, "new": m.JobStatus.QUEUED.value},
                  "reason": {"old": None, "new": reason}})
    return "retry"


def job_view(job: m.PlanJob, runner: str, roster_version: int | None = None) -> dict[str, Any]:
    """Plain data for the API's job resource."""
    p = job.progress or {}
    return {
        "id": job.id,
        "date": job.date,
        "days": job.days or 1,
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
            "changes": p.get("changes"),
            "days": p.get("days"),
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
