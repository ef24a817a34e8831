"""The SQLite runner: the API process spawns one child per job itself, at most
``CAREPATH_MAX_PLAN_JOBS`` at once, and pumps their exits into the job rows."""

from __future__ import annotations

import collections
import logging
import multiprocessing
import multiprocessing.connection
import threading
import time
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.settings import Settings
from dispatch.jobs.child import engine_url, spawn_child
from dispatch.jobs.starter import SolverChild
from dispatch.jobs.rows import (
    ACTIVE,
    STALE_AFTER_S,
    START_TIMEOUT_S,
    begin_write,
    exit_reason,
    fail_job,
    job_status,
    reap,
)

log = logging.getLogger(__name__)

PUMP_POLL_S = 0.2
"""Process runner: how soon a submitted job is noticed while children are solving."""


class Runner(Protocol):
    name: str

    def submit(self, job: m.PlanJob) -> None: ...

    def check(self, session: Session, job: m.PlanJob) -> m.PlanJob: ...

    def reap_all(self, session: Session) -> int: ...

    def shutdown(self) -> None: ...


class ProcessRunner:
    """SQLite: solver children of the API process, at most ``settings.max_plan_jobs`` at once.

    A submitted job waits in a FIFO (its row stays ``queued``) until a slot is free.  One
    thread per runner, the *pump*, starts the children, notices those that exit and fails a
    job whose child died before finishing.  Children are started by the pump only, so that
    the number running is counted in one place.

    Jobs above the limit wait rather than being refused (429): planning a week is seven
    requests in a row and nobody should have to retry them; a waiting job is ``queued`` like
    any other and can be cancelled.  The limit is per API process (the SQLite set-up is one
    process, ``carepath serve``).  On shutdown the children are killed and their jobs, and the
    waiting ones, are failed: a job does not outlive the API that runs it.
    """

    name = "process"
    queued_timeout_s = START_TIMEOUT_S
    stale_after_s = STALE_AFTER_S

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.limit = settings.max_plan_jobs
        self._children: dict[str, SolverChild] = {}
        self._pending: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._pump: threading.Thread | None = None

    def submit(self, job: m.PlanJob) -> None:
        with self._lock:
            if self._stopping:
                raise RuntimeError("the API is shutting down")
            self._pending.append(job.id)
            if self._pump is None or not self._pump.is_alive():
                self._pump = threading.Thread(target=self._run, name="plan-jobs", daemon=True)
                self._pump.start()
            running, waiting = len(self._children), len(self._pending)
        self._wake.set()
        log.info("job %s submitted (%d solving, %d waiting, limit %d)", job.id, running, waiting, self.limit)

    def child(self, job_id: str) -> SolverChild | None:
        with self._lock:
            return self._children.get(job_id)

    def solving(self) -> list[str]:
        """Ids of the jobs that have a child process now."""
        with self._lock:
            return list(self._children)

    def check(self, session: Session, job: m.PlanJob) -> m.PlanJob:
        """Fail the job if its child exited without finishing; then the heartbeat rules.

        A job waiting for a slot, or whose child is starting, is not "never started".
        """
        with self._lock:
            process = self._children.get(job.id)
            pumping = self._pump is not None and self._pump.is_alive() and not self._stopping
            vouched = pumping and (process is not None or job.id in self._pending)
        if process is not None and not process.is_alive():
            self._settle_exit(session, job.id, process)
            session.flush()
            with self._lock:
                self._children.pop(job.id, None)
        if job.status in ACTIVE:
            # The pump thread settles exited children in its own session; ``job`` may have been
            # loaded before it committed, so what reap() judges must be the row as it is now.
            # On SQLite (WAL, SQLAlchemy's BEGIN) a transaction reads the snapshot of its first
            # read: a read-only one is ended first, or the refresh would read the old row again.
            if (session.get_bind().dialect.name == "sqlite" and session.in_transaction()
                    and not (session.new or session.dirty or session.deleted)):
                session.commit()
            session.refresh(job)
        return reap(session, job, queued_timeout_s=None if vouched else self.queued_timeout_s)

    def reap_all(self, session: Session) -> int:
        """:meth:`check` every active job; returns how many were failed."""
        failed = 0
        for job in session.scalars(select(m.PlanJob).where(col(m.PlanJob.status).in_(ACTIVE))).all():
            if self.check(session, job).status == m.JobStatus.FAILED:
                failed += 1
        return failed

    def shutdown(self) -> None:
        """Stop starting jobs, kill the children still planning and fail their jobs and the waiting ones."""
        with self._lock:
            self._stopping = True
            pump = self._pump
        self._wake.set()
        if pump is not None:
            pump.join(timeout=30)

    # -- the pump thread

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._stopping:
                        break
                try:
                    self._collect()
                    self._start_waiting()
                    self._wait()
                except Exception:  # noqa: BLE001 - e.g. the database busy: the next round retries
                    log.exception("planning jobs: runner round failed")
                    time.sleep(PUMP_POLL_S)
        finally:
            self._stop_all()

    def _wait(self) -> None:
        with self._lock:
            sentinels = [p.sentinel for p in self._children.values()]
        if sentinels:  # a child's exit or a submit (polled) ends the wait
            multiprocessing.connection.wait(sentinels, timeout=PUMP_POLL_S)
        else:
            self._wake.wait(timeout=5.0)
        self._wake.clear()

    def _settle_exit(self, session: Session, job_id: str, process: SolverChild) -> bool:
        """Fail ``job_id`` if its (exited) child left it active; True if it did."""
        process.join(timeout=0)
        begin_write(session)
        reason = f"{exit_reason(process.exitcode)} before finishing. Nothing was stored; plan again."
        if fail_job(session, job_id, reason):
            log.warning("job %s: %s", job_id, reason)
            return True
        return False

    def _collect(self) -> None:
        with self._lock:
            exited = [(job_id, p) for job_id, p in self._children.items() if not p.is_alive()]
        for job_id, process in exited:
            with Session(self.engine) as session:
                self._settle_exit(session, job_id, process)
                session.commit()
            with self._lock:
                self._children.pop(job_id, None)

    def _start_waiting(self) -> None:
        """Start waiting jobs, oldest first, while a slot is free."""
        while True:
            with self._lock:
                if self._stopping or len(self._children) >= self.limit or not self._pending:
                    return
                job_id = self._pending[0]  # only this thread takes jobs out
            if job_status(self.engine, job_id) != m.JobStatus.QUEUED:  # cancelled while waiting
                with self._lock:
                    self._pending.popleft()
                continue
            try:
                process = spawn_child(engine_url(self.engine), job_id, self.settings)
            except Exception as exc:  # noqa: BLE001 - reported on the job
                log.exception("could not start planning job %s", job_id)
                with self._lock:
                    self._pending.popleft()
                with Session(self.engine) as session:
                    begin_write(session)
                    fail_job(session, job_id, f"could not start the planning process: {type(exc).__name__}: {exc}")
                    session.commit()
                continue
            with self._lock:  # waiting -> solving in one step, so check() always vouches for it
                self._pending.popleft()
                self._children[job_id] = process
            log.info("job %s started in process %s", job_id, process.pid)

    def _stop_all(self) -> None:
        with self._lock:
            self._stopping = True
            children = dict(self._children)
            waiting = list(self._pending)
            self._children.clear()
            self._pending.clear()
        for process in children.values():
            if process.is_alive():
                process.kill()  # children ignore SIGTERM (see child_main)
                process.join(timeout=5)
        if not children and not waiting:
            return
        with Session(self.engine) as session:
            begin_write(session)
            for job_id in children:
                fail_job(session, job_id, "the API stopped while this job was planning. Nothing was stored; plan again.")
            for job_id in waiting:
                fail_job(session, job_id, "the API stopped before this job started. Nothing was stored; plan again.")
            session.commit()
