"""The planning-job lifecycle without HTTP: the child's body, cancellation, reaping, the process runner."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from dispatch import jobs
from dispatch.storage import models as m
from dispatch.storage.db import session_scope
from fixtures.seed import load_scenario
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
    import optimizer

    real_solve = optimizer.solve

    def solve_then_cancel(problem, params, stop=None):
        solution = real_solve(problem, params, stop)
        with Session(engine) as s:
            jobs.request_cancel(s, job_id, "dispatcher")
            s.commit()
        return solution

    monkeypatch.setattr(optimizer, "solve", solve_then_cancel)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.CANCELLED and job.roster_id is None
    assert rosters(engine) == []


def test_job_failed_by_a_reaper_while_solving_stores_nothing(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the job was declared failed meanwhile (stale heartbeat), the late result is not stored."""
    engine, settings = db
    job_id = new_job(engine)
    import optimizer

    real_solve = optimizer.solve

    def solve_then_fail(problem, params, stop=None):
        solution = real_solve(problem, params, stop)
        with Session(engine) as s:
            jobs.fail_job(s, job_id, "declared dead")
            s.commit()
        return solution

    monkeypatch.setattr(optimizer, "solve", solve_then_fail)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.FAILED and job.error == "declared dead"
    assert rosters(engine) == []


def test_solver_error_fails_the_job_with_the_reason(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in the child is recorded on the job (type and message); nothing is stored."""
    engine, settings = db
    job_id = new_job(engine)
    import optimizer

    def broken(problem, params, stop=None):
        raise RuntimeError("boom in the solver")

    monkeypatch.setattr(optimizer, "solve", broken)
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


def wait_for_child(runner: jobs.ProcessRunner, job_id: str, timeout: float = 60.0):
    """The job's child process once the runner started it, and once the child is solving."""
    deadline = time.monotonic() + timeout
    while runner.child(job_id) is None or job_row(engine_of(runner), job_id).heartbeat_at is None:
        assert time.monotonic() < deadline, f"job {job_id} did not start: {job_row(engine_of(runner), job_id)}"
        time.sleep(0.1)
    return runner.child(job_id)


def engine_of(runner: jobs.ProcessRunner):
    return runner.engine


def test_process_runner_reports_a_killed_child(db) -> None:
    """ProcessRunner: SIGKILL the child mid-solve; check() fails the job with the signal; nothing stored."""
    engine, settings = db
    runner = jobs.ProcessRunner(engine, settings)
    job_id = new_job(engine, time_limit=30)
    with Session(engine) as s:
        runner.submit(s.get(m.PlanJob, job_id))
    child = wait_for_child(runner, job_id)
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    with Session(engine, expire_on_commit=False) as s:
        job = runner.check(s, s.get(m.PlanJob, job_id))
        s.commit()
    assert job.status == m.JobStatus.FAILED
    assert job.error.startswith("the planning process was killed by signal 9 before finishing")
    assert rosters(engine) == []
    runner.shutdown()


def test_process_runner_runs_at_most_the_limit_and_the_rest_wait(db, tmp_path) -> None:
    """Limit 1, two days planned at once: the second waits queued (not reaped as never started,
    however old) and starts only after the first finished; both succeed.  Checked on the
    runner's own state while they run and on the jobs' recorded start/finish times."""
    engine, _ = db
    if engine.url.get_backend_name() != "sqlite":
        pytest.skip("the process runner is the SQLite runner")
    settings = Settings(database_url=jobs.engine_url(engine), data_dir=tmp_path, max_plan_jobs=1)
    runner = jobs.ProcessRunner(engine, settings)
    first, second = new_job(engine, DAY, time_limit=2), new_job(engine, DAY + dt.timedelta(days=1), time_limit=2)
    with Session(engine) as s:  # the second looks ancient: waiting for a slot is not "never started"
        s.get(m.PlanJob, second).created_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        s.commit()
    with Session(engine) as s:
        runner.submit(s.get(m.PlanJob, first))
        runner.submit(s.get(m.PlanJob, second))
    deadline = time.monotonic() + 120
    seen_running: set[str] = set()
    while {job_row(engine, j).status for j in (first, second)} != {m.JobStatus.SUCCEEDED}:
        assert time.monotonic() < deadline, [job_row(engine, j) for j in (first, second)]
        solving = runner.solving()
        assert len(solving) <= 1, f"two solver processes at once: {solving}"
        seen_running.update(solving)
        with Session(engine, expire_on_commit=False) as s:
            checked = runner.check(s, s.get(m.PlanJob, second))
            s.commit()
        assert checked.status != m.JobStatus.FAILED, checked.error
        time.sleep(0.05)
    a, b = job_row(engine, first), job_row(engine, second)
    assert seen_running == {first, second}
    assert a.finished_at is not None and b.started_at is not None and b.started_at > a.finished_at
    assert [r.date for r in rosters(engine)] == [DAY, DAY + dt.timedelta(days=1)]
    runner.shutdown()


def test_job_cancelled_while_waiting_for_a_slot_never_starts(db, tmp_path) -> None:
    """A job waiting for a slot and cancelled meanwhile ends 'cancelled' and gets no process."""
    engine, _ = db
    if engine.url.get_backend_name() != "sqlite":
        pytest.skip("the process runner is the SQLite runner")
    settings = Settings(database_url=jobs.engine_url(engine), data_dir=tmp_path, max_plan_jobs=1)
    runner = jobs.ProcessRunner(engine, settings)
    first, second = new_job(engine, DAY, time_limit=2), new_job(engine, DAY + dt.timedelta(days=1), time_limit=2)
    with Session(engine) as s:
        runner.submit(s.get(m.PlanJob, first))
        runner.submit(s.get(m.PlanJob, second))
        jobs.request_cancel(s, second, "dispatcher")
        s.commit()
    deadline = time.monotonic() + 60
    while job_row(engine, first).status != m.JobStatus.SUCCEEDED:
        assert time.monotonic() < deadline and runner.child(second) is None
        time.sleep(0.05)
    time.sleep(1)  # a round of the runner after the slot freed
    assert runner.child(second) is None and runner.solving() == []
    assert job_row(engine, second).status == m.JobStatus.CANCELLED and job_row(engine, second).started_at is None
    runner.shutdown()


def test_process_runner_shutdown_kills_children_and_fails_running_and_waiting_jobs(db, tmp_path) -> None:
    """Shutdown (the API stops): the solving child is killed, its job and the waiting one fail with a reason."""
    engine, _ = db
    if engine.url.get_backend_name() != "sqlite":
        pytest.skip("the process runner is the SQLite runner")
    settings = Settings(database_url=jobs.engine_url(engine), data_dir=tmp_path, max_plan_jobs=1)
    runner = jobs.ProcessRunner(engine, settings)
    first, second = new_job(engine, DAY, time_limit=60), new_job(engine, DAY + dt.timedelta(days=1), time_limit=60)
    with Session(engine) as s:
        runner.submit(s.get(m.PlanJob, first))
        runner.submit(s.get(m.PlanJob, second))
    child = wait_for_child(runner, first)
    runner.shutdown()
    assert not child.is_alive()
    a, b = job_row(engine, first), job_row(engine, second)
    assert a.status == m.JobStatus.FAILED and a.error.startswith("the API stopped while this job was planning")
    assert b.status == m.JobStatus.FAILED and b.error.startswith("the API stopped before this job started")
    assert rosters(engine) == []
    with pytest.raises(RuntimeError), Session(engine) as s:
        runner.submit(s.get(m.PlanJob, second))


def test_second_job_for_a_day_waits_for_the_first_transaction_then_conflicts(db) -> None:
    """One active job per day and area even under concurrency: a second create while the first
    is not committed yet waits for it, then is refused (PostgreSQL used to let both through)."""
    engine, _ = db
    outcome: list[object] = []
    with Session(engine) as first:
        jobs.create_job(first, DAY, None, 1.0, "dispatcher")

        def second() -> None:
            with Session(engine) as s:
                try:
                    outcome.append(jobs.create_job(s, DAY, None, 1.0, "dispatcher"))
                    s.commit()
                except jobs.JobConflict as exc:
                    outcome.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), f"the second create did not wait for the first: {outcome}"
        first.commit()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], jobs.JobConflict), outcome
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.PlanJob)) == 1


def test_empty_day_job_succeeds_with_an_empty_roster_without_searching(db) -> None:
    """A day with no visits: the job stores an empty draft, and the solver's stats on it say no
    search ran (it used to search for the whole time limit)."""
    engine, settings = db
    empty_day = dt.date(2026, 12, 6)  # a Sunday: the small scenario has weekday visits only
    job_id = new_job(engine, empty_day, time_limit=30)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.SUCCEEDED, job.error
    assert job.progress["visits_total"] == 0 and job.progress["visits_placed"] == 0
    [roster] = rosters(engine)
    assert roster.date == empty_day and roster.id == job.roster_id
    assert roster.solver_stats["status"] == "NO_VISITS" and roster.solver_stats["solutions_found"] == 0
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.RosterAssignment)) == 0


def test_a_child_whose_job_was_taken_over_stores_nothing(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a requeue another run owns the job (another pid): the old run's result is not stored
    and it does not touch the new run's row."""
    engine, settings = db
    job_id = new_job(engine)
    import optimizer

    real_solve = optimizer.solve

    def solve_then_lose_the_job(problem, params, stop=None):
        solution = real_solve(problem, params, stop)
        # A write transaction from the start (BEGIN IMMEDIATE on SQLite): a read-then-write one could meet
        # the heartbeat's write in between and fail with SQLITE_BUSY_SNAPSHOT (seen under load).
        with session_scope(engine) as s:
            s.get(m.PlanJob, job_id).runner_pid = os.getpid() + 1  # the new owner
        return solution

    monkeypatch.setattr(optimizer, "solve", solve_then_lose_the_job)
    jobs.run_job(jobs.engine_url(engine), job_id, settings)
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.RUNNING and job.runner_pid == os.getpid() + 1 and job.roster_id is None
    assert rosters(engine) == []


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


def test_requeued_job_counts_its_queue_wait_from_the_requeue(db) -> None:
    """A job queued again after its worker died is not 'never started' just because it was
    created long ago; a runner that vouches for its queued jobs (None) is never second-guessed."""
    engine, _ = db
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(hours=2)
    with Session(engine) as s:
        s.add_all([
            m.PlanJob(id="requeued", date=DAY, created_by="x", created_at=old, heartbeat_at=now),
            m.PlanJob(id="forgotten", date=DAY, created_by="x", created_at=old, heartbeat_at=old),
            m.PlanJob(id="waiting", date=DAY, created_by="x", created_at=old),
        ])
        s.commit()
        for job_id in ("requeued", "forgotten"):
            jobs.reap(s, s.get(m.PlanJob, job_id), queued_timeout_s=jobs.QUEUE_TIMEOUT_S)
        jobs.reap(s, s.get(m.PlanJob, "waiting"), queued_timeout_s=None)
        s.commit()
    assert {i: job_row(engine, i).status for i in ("requeued", "forgotten", "waiting")} == {
        "requeued": m.JobStatus.QUEUED, "forgotten": m.JobStatus.FAILED, "waiting": m.JobStatus.QUEUED}


def test_stalled_queue_jobs_follow_their_plan_jobs(db) -> None:
    """PostgreSQL, procrastinate's real tables: queue jobs left `doing` by a worker whose heartbeat
    stopped are found by procrastinate's get_stalled_jobs and settled by their plan job: retried
    (plan job queued again, nothing kept) when its child is dead, failed with a reason naming the
    dead worker after STALLED_RETRIES retries, finished when the plan job already ended, and left
    alone while the child still beats."""
    engine, settings = db
    if engine.url.get_backend_name() != "postgresql":
        pytest.skip("the queue is PostgreSQL only")
    import asyncio

    from procrastinate.jobs import Status

    url = jobs.engine_url(engine)
    jobs.ensure_queue_schema(url)
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(minutes=10)
    plan = {"dead": (m.JobStatus.RUNNING, old, 0), "dead-again": (m.JobStatus.RUNNING, old, jobs.STALLED_RETRIES),
            "done": (m.JobStatus.SUCCEEDED, old, 0), "beating": (m.JobStatus.RUNNING, now, 0)}
    with Session(engine) as s:
        for i, (job_id, (status, beat, _)) in enumerate(plan.items()):
            s.add(m.PlanJob(id=job_id, date=DAY + dt.timedelta(days=i), status=status, created_by="x",
                            created_at=old, started_at=old, heartbeat_at=beat, runner_pid=4242,
                            progress={"visits_total": 7}))
        s.commit()

    async def scenario() -> dict[str, int]:
        app = jobs.queue_app(url)
        async with app.open_async():
            queue_ids = {job_id: await app.configure_task(jobs.TASK_NAME, queue=jobs.QUEUE_NAME)
                         .defer_async(job_id=job_id) for job_id in plan}
            dead_worker = await app.job_manager.register_worker()
            while await app.job_manager.fetch_job(queues=[jobs.QUEUE_NAME], worker_id=dead_worker):
                pass  # every waiting queue job is now `doing` in the worker about to die
            async with app.connector.pool.connection() as conn:
                await conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                                   "WHERE id = %s", (dead_worker,))
                await conn.execute("UPDATE procrastinate_jobs SET attempts = %s WHERE id = %s",
                                   (jobs.STALLED_RETRIES, queue_ids["dead-again"]))
            await jobs.recover_stalled_jobs(app, engine, settings)
            return queue_ids

    queue_ids = asyncio.run(scenario())
    schema = jobs.queue_schema(url)
    with engine.connect() as conn:
        queue = {row[0]: (row[1], row[2]) for row in conn.execute(
            text(f'SELECT id, status, attempts FROM "{schema}".procrastinate_jobs WHERE id = ANY(:ids)'),
            {"ids": list(queue_ids.values())})}
    assert queue.get(queue_ids["dead"]) == (Status.TODO.value, 1)
    assert queue[queue_ids["dead-again"]][0] == Status.FAILED.value
    assert queue_ids["done"] not in queue  # finished (and deleted, like any successful queue job)
    assert queue.get(queue_ids["beating"]) == (Status.DOING.value, 0)
    dead = job_row(engine, "dead")
    assert dead.status == m.JobStatus.QUEUED and dead.runner_pid is None and dead.started_at is None
    assert dead.progress == {} and dead.heartbeat_at > old
    failed = job_row(engine, "dead-again")
    assert failed.status == m.JobStatus.FAILED
    assert failed.error.startswith(f"the `carepath worker` running this job stopped (killed or crashed) "
                                   f"{jobs.STALLED_RETRIES + 1} times")
    assert job_row(engine, "done").status == m.JobStatus.SUCCEEDED
    assert job_row(engine, "beating").status == m.JobStatus.RUNNING
    assert rosters(engine) == []
