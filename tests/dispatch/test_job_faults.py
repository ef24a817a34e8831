"""The API process killed (SIGKILL) during a SQLite child-process solve (issue 20, item 3): the
job ends failed with a reason, nothing is published or half-written, and planning again succeeds.

``test_job_processes.py`` shows the solver child dies with its killed parent; this is what the
records say afterwards, as the restarted server finds them.  (The PostgreSQL side, a killed
``carepath worker`` whose job procrastinate hands to another worker, is
``test_killed_worker_job_is_retried_by_another_worker_and_its_child_dies`` there.)
"""

from __future__ import annotations

import datetime as dt
import signal
import sys

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dispatch import jobs
from dispatch.storage import models as m
from dispatch.planning.recommend import load_latest
from optimizer import check, is_feasible
from optimizer.plan_edit import solution_of
from tests.api.conftest import DAY
from tests.dispatch.test_job_processes import (  # noqa: F401 - fixtures
    db, job_row, pid_alive, processes, roster_versions, solving, wait_until,
)


def test_a_killed_api_process_leaves_the_job_failed_with_a_reason_and_a_retry_succeeds(db, tmp_path,
                                                                                      processes) -> None:
    """SIGKILL the API process mid-solve; the restarted server (``reap_all`` at startup, once the
    heartbeat is stale) fails the job with a reason; no roster, no assignment; a new job plans the day
    and its roster passes the independent checker."""
    engine, settings = db
    if engine.url.get_backend_name() != "sqlite":
        pytest.skip("the process runner is the SQLite runner")
    with Session(engine) as s:
        job_id = jobs.create_job(s, DAY, None, 60, "dispatcher").id
        s.commit()
    api = processes.start("api", [sys.executable, "-m", "tests.dispatch.job_parents", "runner",
                                  jobs.engine_url(engine), job_id, str(tmp_path)])
    wait_until(lambda: solving(engine, job_id), 60, f"the child never solved the job\n{processes.logs()}")
    child = job_row(engine, job_id).runner_pid
    api.send_signal(signal.SIGKILL)
    api.wait(10)
    wait_until(lambda: not pid_alive(child), 5, f"solver child {child} outlived the killed API process")
    assert job_row(engine, job_id).status == m.JobStatus.RUNNING  # nobody has looked yet

    # What the restarted server's startup check (ProcessRunner.reap_all -> reap) does, once the
    # dead job's heartbeat is stale (STALE_AFTER_S; the clock is moved on instead of waiting).
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=jobs.STALE_AFTER_S + 1)
    with Session(engine) as s:
        jobs.reap(s, s.get(m.PlanJob, job_id), queued_timeout_s=None, now=later)
        s.commit()
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.FAILED and "Nothing was stored; plan again" in (job.error or "")
    assert roster_versions(engine) == []
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.RosterAssignment)) == 0

    runner = jobs.ProcessRunner(engine, settings)
    try:
        with Session(engine) as s:
            retry = jobs.create_job(s, DAY, None, 2, "dispatcher")
            s.commit()
            runner.submit(retry)
        wait_until(lambda: job_row(engine, retry.id).status in jobs.FINAL, 90,
                   f"the retry did not finish: {job_row(engine, retry.id)}")
    finally:
        runner.shutdown()
    assert job_row(engine, retry.id).status == m.JobStatus.SUCCEEDED, job_row(engine, retry.id).error
    assert roster_versions(engine) == [(DAY, 1)]
    with Session(engine) as s:  # the stored plan, read back into the day's problem, re-checked
        _, loaded = load_latest(s, DAY, None, settings)
        violations = check(loaded.problem, solution_of(loaded.problem, loaded.routes))
    assert is_feasible(violations), [v.message for v in violations]
