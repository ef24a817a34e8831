"""The planning-job lifecycle without HTTP: the child's body, cancellation, reaping, the process runner."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dispatch import jobs
from dispatch import models as m
from dispatch.seed import load_scenario
from dispatch.settings import Settings
from tests.api.conftest import DAY, small_scenario


@pytest.fixture
def db(engine, tmp_path):
    """The migrated test database with the small API scenario loaded; yields (engine, settings)."""
    with Session(engine) as s:
        load_scenario(s, small_scenario())
    return engine, Settings(database_url=jobs.engine_url(engine), data_dir=tmp_path)


def new_job(engine, day: dt.date = DAY, area: str | None = None, time_limit: float = 1.0) -> str:
    with Session(engine) as s:
        job = jobs.create_job(s, day, area, time_limit, "dispatcher")
        s.commit()
        return job.id


def job_row(engine, job_id: str) -> m.PlanJob:
    with Session(engine) as s:
        job = s.get(m.PlanJob, job_id)
        assert job is not None
        s.expunge(job)
        return job


def rosters(engine) -> list[m.Roster]:
    with Session(engine) as s:
        return list(s.scalars(select(m.Roster).order_by(m.Roster.id)).all())


def test_run_job_stores_a_draft_and_records_progress(db) -> None:
    """The child's body plans the day, stores draft version 1 and marks the job succeeded with progress."""
    engine, settings = db
    job_id = new_job(engine)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.SUCCEEDED, job.error
    assert job.runner_pid == os.getpid() and job.started_at and job.finished_at and job.heartbeat_at
    assert job.progress["visits_total"] == 7 and job.progress["visits_placed"] == 7  # 3 visits + 4 taxi stops
    [roster] = rosters(engine)
    assert job.roster_id == roster.id and roster.status == m.RosterStatus.DRAFT and roster.version == 1
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.RosterAssignment).where(
            m.RosterAssignment.roster_id == roster.id)) == 7  # 3 visits + 4 taxi stops


def test_area_job_numbers_versions_per_area(db) -> None:
    """An area plan is stored with its area and its own version sequence, apart from the city-wide one."""
    engine, settings = db
    for area in (None, "area-centrum", "area-centrum"):
        job_id = new_job(engine, area=area)
        jobs.run_job(jobs.engine_url(engine), job_id, settings)
        assert job_row(engine, job_id).status == m.JobStatus.SUCCEEDED
    assert [(r.area, r.version) for r in rosters(engine)] == [(None, 1), ("area-centrum", 1), ("area-centrum", 2)]


def test_cancel_during_the_solve_stores_nothing(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancel that arrives while solving ends the job 'cancelled' and rolls the roster back."""
    engine, settings = db
    job_id = new_job(engine)
    import optimizer.solve

    real_solve = optimizer.solve.solve

    def solve_then_cancel(problem, params):
        solution = real_solve(problem, params)
        with Session(engine) as s:
            jobs.request_cancel(s, job_id, "dispatcher")
            s.commit()
        return solution

    monkeypatch.setattr(optimizer.solve, "solve", solve_then_cancel)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.CANCELLED and job.roster_id is None
    assert rosters(engine) == []


def test_job_failed_by_a_reaper_while_solving_stores_nothing(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the job was declared failed meanwhile (stale heartbeat), the late result is not stored."""
    engine, settings = db
    job_id = new_job(engine)
    import optimizer.solve

    real_solve = optimizer.solve.solve

    def solve_then_fail(problem, params):
        solution = real_solve(problem, params)
        with Session(engine) as s:
            jobs.fail_job(s, job_id, "declared dead")
            s.commit()
        return solution

    monkeypatch.setattr(optimizer.solve, "solve", solve_then_fail)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.FAILED and job.error == "declared dead"
    assert rosters(engine) == []


def test_solver_error_fails_the_job_with_the_reason(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in the child is recorded on the job (type and message); nothing is stored."""
    engine, settings = db
    job_id = new_job(engine)
    import optimizer.solve

    def broken(problem, params):
        raise RuntimeError("boom in the solver")

    monkeypatch.setattr(optimizer.solve, "solve", broken)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.FAILED and job.error == "RuntimeError: boom in the solver"
    assert rosters(engine) == []


def test_request_cancel_rules(db) -> None:
    """Queued -> cancelled at once; running -> cancel_requested; finished -> JobFinished; unknown -> None."""
    engine, _ = db
    queued = new_job(engine)
    with Session(engine) as s:
        assert jobs.request_cancel(s, queued, "dispatcher").status == m.JobStatus.CANCELLED
        s.commit()
        running = m.PlanJob(id="r1", date=DAY + dt.timedelta(days=1), status=m.JobStatus.RUNNING, created_by="x",
                            heartbeat_at=dt.datetime.now(dt.UTC))
        done = m.PlanJob(id="d1", date=DAY + dt.timedelta(days=2), status=m.JobStatus.SUCCEEDED, created_by="x")
        s.add_all([running, done])
        s.commit()
        job = jobs.request_cancel(s, "r1", "dispatcher")
        assert job.status == m.JobStatus.RUNNING and job.cancel_requested
        with pytest.raises(jobs.JobFinished):
            jobs.request_cancel(s, "d1", "dispatcher")
        assert jobs.request_cancel(s, "nope", "dispatcher") is None


def test_reap_fails_only_jobs_whose_runner_stopped(db) -> None:
    """Stale running and long-queued jobs fail with a reason; fresh ones and finished ones are untouched."""
    engine, _ = db
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(hours=1)
    rows = [
        m.PlanJob(id="stale", date=DAY, status=m.JobStatus.RUNNING, created_by="x", created_at=old, heartbeat_at=old),
        m.PlanJob(id="fresh", date=DAY, status=m.JobStatus.RUNNING, created_by="x", created_at=old, heartbeat_at=now),
        m.PlanJob(id="lost", date=DAY, status=m.JobStatus.QUEUED, created_by="x", created_at=old),
        m.PlanJob(id="new", date=DAY, status=m.JobStatus.QUEUED, created_by="x", created_at=now),
        m.PlanJob(id="done", date=DAY, status=m.JobStatus.SUCCEEDED, created_by="x", created_at=old),
    ]
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
        assert jobs.reap_all(s, queued_timeout_s=jobs.START_TIMEOUT_S) == 2
        s.commit()
    status = {i: job_row(engine, i).status for i in ("stale", "fresh", "lost", "new", "done")}
    assert status == {"stale": m.JobStatus.FAILED, "fresh": m.JobStatus.RUNNING, "lost": m.JobStatus.FAILED,
                      "new": m.JobStatus.QUEUED, "done": m.JobStatus.SUCCEEDED}
    assert "stopped reporting" in job_row(engine, "stale").error


def test_process_runner_reports_a_killed_child(db) -> None:
    """ProcessRunner: SIGKILL the child mid-solve; check() fails the job with the signal; nothing stored."""
    engine, settings = db
    runner = jobs.ProcessRunner(engine, settings)
    job_id = new_job(engine, time_limit=30)
    with Session(engine) as s:
        runner.submit(s.get(m.PlanJob, job_id))
    deadline = time.monotonic() + 60
    while job_row(engine, job_id).heartbeat_at is None:
        assert time.monotonic() < deadline and runner.child(job_id).is_alive()
        time.sleep(0.1)
    child = runner.child(job_id)
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    with Session(engine, expire_on_commit=False) as s:
        job = runner.check(s, s.get(m.PlanJob, job_id))
        s.commit()
    assert job.status == m.JobStatus.FAILED
    assert job.error.startswith("the planning process was killed by signal 9 before finishing")
    assert rosters(engine) == []
    runner.shutdown()


def test_runner_is_chosen_by_database_backend(db) -> None:
    """SQLite gets child processes of the API; PostgreSQL gets the procrastinate queue."""
    engine, settings = db
    runner = jobs.runner_for(engine, settings)
    expected = jobs.ProcessRunner if engine.url.get_backend_name() == "sqlite" else jobs.QueueRunner
    assert isinstance(runner, expected)
    runner.shutdown()


def test_queue_connects_to_the_same_database_in_its_own_schema() -> None:
    """The queue uses the app's database and credentials, with search_path set to its own schema."""
    url = "postgresql+psycopg://postgres:pw@127.0.0.1:5432/db?options=-csearch_path%3Dt_1"
    assert jobs.libpq_conninfo(url).startswith("postgresql://postgres:pw@127.0.0.1:5432/db?")
    assert jobs.queue_schema(url) == "t_1_queue"
    info = jobs.queue_conninfo(url)
    assert info.startswith("postgresql://postgres:pw@127.0.0.1:5432/db?options=")
    assert "t_1_queue" in info and "t_1%" not in info.replace("t_1_queue", "")
    assert jobs.queue_schema("postgresql://u@h/db") == "carepath_queue"
    assert "carepath_queue" in jobs.queue_conninfo("postgresql://u@h/db")
