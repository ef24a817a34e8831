"""A split day's areas on the PostgreSQL queue (``dispatch.jobs.areas``): workers solve them, the
job merges; an area whose solver failed or went silent is taken over, one not back in time is
given up (its visits repaired or explained), and the time limit holds.

Cheap: the area solvers that stand in for ``carepath worker`` children run in threads of the test
process (the spawn of a fresh interpreter is the process runner's business, tested elsewhere)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from dispatch import jobs
from dispatch.jobs import areas as area_jobs
from dispatch.settings import Settings
from dispatch.storage import models as m
from fixtures.seed import load_scenario
from optimizer import (MaxRuntime, SolveParams, area_result_from_dict, check, is_feasible, plan_areas,
                       problem_from_dict, problem_to_dict)
from tests.api.conftest import DAY, small_scenario
from tests.optimizer.test_decompose import day

PARAMS = SolveParams(time_limit_s=1.0, seed=0, max_visits_per_area=8)


@pytest.fixture
def pg(backend: str, request: pytest.FixtureRequest):
    """The migrated PostgreSQL test database's engine (the SQLite variant is skipped before its
    database is made)."""
    if backend != "postgresql":
        pytest.skip("the queue is PostgreSQL only")
    return request.getfixturevalue("engine")


def _job(engine, time_limit: float = 1.0) -> str:
    with Session(engine) as s:
        job = jobs.create_job(s, DAY, None, time_limit, "dispatcher")
        s.commit()
        return job.id


def _rows(engine, job_id: str) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(m.PlanJobArea).where(m.PlanJobArea.job_id == job_id))


def _elsewhere(engine, job_id: str, idx: int, **values) -> None:
    """Area ``idx`` claimed by a solver on another machine, then left as ``values`` say."""
    with Session(engine) as s:
        s.execute(update(m.PlanJobArea).where(m.PlanJobArea.job_id == job_id, m.PlanJobArea.idx == idx)
                  .values(status=m.JobStatus.RUNNING, claimed_by="elsewhere:1:1", heartbeat_at=func.now())
                  .values(**values))
        s.commit()


def test_failed_and_silent_areas_are_taken_over_by_the_job(pg, monkeypatch: pytest.MonkeyPatch) -> None:
    """Area 0's worker failed, area 1's worker went silent (killed): the job solves both itself."""
    job_id = _job(pg)
    seen: list[int] = []

    def workers_that_die(engine, job_id: str, count: int) -> None:
        seen.append(count)
        _elsewhere(engine, job_id, 0, status=m.JobStatus.FAILED, error="RuntimeError: boom")
        _elsewhere(engine, job_id, 1, heartbeat_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 0, 60))

    monkeypatch.setattr(area_jobs, "_defer_areas", workers_that_die)
    p = day()
    sol = area_jobs.solve_on_queue(pg, job_id, p, PARAMS, MaxRuntime(1.0))
    assert seen == [len(plan_areas(p, PARAMS))]
    assert is_feasible(check(p, sol))
    assert sol.stats is not None and sol.stats.parameters["areas"] == seen[0]
    assert "areas_not_solved" not in sol.stats.parameters
    assert len(sol.assignments()) + len(sol.unassigned) == len(p.visits)
    assert _rows(pg, job_id) == 0  # the job's rows go once merged


def test_an_area_not_back_in_time_is_given_up_and_the_limit_holds(pg, monkeypatch: pytest.MonkeyPatch) -> None:
    """Area 0's worker keeps beating but never answers: at the search's deadline plus the grace the
    job gives it up, its visits go to the repair and the reasons, and the call ends within the limit."""
    job_id = _job(pg)
    monkeypatch.setattr(area_jobs, "_defer_areas", lambda engine, job_id, count: _elsewhere(engine, job_id, 0))
    p = day()
    began = time.monotonic()
    sol = area_jobs.solve_on_queue(pg, job_id, p, PARAMS, MaxRuntime(1.0))
    assert time.monotonic() - began <= 1.05 + 0.5  # + the split, the rows' writes, a loaded machine
    assert is_feasible(check(p, sol))
    assert sol.stats is not None and sol.stats.parameters["areas_not_solved"] == 1
    assert {u.visit_id for u in sol.unassigned} | set(sol.assignments()) == {v.id for v in p.visits}
    assert _rows(pg, job_id) == 0


class _ThreadProcess:
    """A worker's area child as a thread of this process (``spawn_area_child``'s stand-in)."""

    def __init__(self, database_url: str, job_id: str, idx: int, settings) -> None:
        self.pid = None
        self.exitcode = None
        self._thread = threading.Thread(target=lambda: area_jobs.run_area(database_url, job_id, idx), daemon=True)
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        self.exitcode = 0

    def kill(self) -> None:
        pass


def test_a_plan_job_hands_its_areas_to_a_procrastinate_worker(pg, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A planning job of a 2-area day (the small scenario, at most 4 visits an area) on PostgreSQL:
    a real procrastinate worker (in-process) takes the area tasks and solves both (the job itself
    is kept from helping), the job merges them and stores one roster that passes the checker."""
    with Session(pg) as s:
        load_scenario(s, small_scenario())
    weights = tmp_path / "weights.toml"
    weights.write_text("[search]\nmax_visits_per_area = 4\n", encoding="utf-8")
    settings = Settings(database_url=jobs.engine_url(pg), data_dir=tmp_path, weights_file=weights)
    url = jobs.engine_url(pg)
    jobs.ensure_queue_schema(url)
    job_id = _job(pg, time_limit=4.0)  # the in-process worker takes a second to start
    monkeypatch.setattr(area_jobs, "_claim_for_job", lambda *args: None)  # the job never solves an area itself
    monkeypatch.setattr(area_jobs, "spawn_area_child", _ThreadProcess)
    solved_by: list[str] = []
    real = area_jobs.run_area

    def recording(database_url: str, job_id: str, idx: int) -> list[tuple[int, str]]:
        outcomes = real(database_url, job_id, idx)
        solved_by.extend(outcome for _, outcome in outcomes)
        return outcomes

    monkeypatch.setattr(area_jobs, "run_area", recording)
    written: list[tuple[list[int], list[float], float]] = []
    real_write = area_jobs._write_areas

    def capture(engine, job_id, areas, params, budgets, search_left):
        written.append(([len(a.problem.visits) for a in areas], list(budgets), search_left))
        return real_write(engine, job_id, areas, params, budgets, search_left)

    monkeypatch.setattr(area_jobs, "_write_areas", capture)
    # The JSON readers build their pydantic models on first use, which two threads must not do at
    # once (Python 3.11's ast.parse is not thread-safe there); worker children are processes.
    problem_from_dict(problem_to_dict(day()))
    area_result_from_dict({"format": "carepath-area-result/1", "routes": [], "dropped": [], "status": "x"})
    job = threading.Thread(target=jobs.run_job, args=(url, job_id, settings), daemon=True)
    job.start()
    deadline = time.monotonic() + 20
    while job.is_alive() and time.monotonic() < deadline:
        asyncio.run(jobs.work_async(url, settings, wait=False, concurrency=2, install_signal_handlers=False))
        job.join(0.1)
    job.join(5)
    with Session(pg) as s:
        row = s.get(m.PlanJob, job_id)
        assert row is not None and row.status == m.JobStatus.SUCCEEDED, row.error
        roster = s.get(m.Roster, row.roster_id)
        assert roster is not None and roster.solver_stats["parameters"]["areas"] == 2
        assert "areas_not_solved" not in roster.solver_stats["parameters"], solved_by
        assert roster.solver_stats["parameters"]["areas_solved_by_job"] == 0
        assert row.progress["visits_placed"] == row.progress["visits_total"] == 7
    assert solved_by.count("succeeded") == 2
    assert _rows(pg, job_id) == 0
    # Each area's search time is its share of the job's in proportion to its visits
    # (``optimizer.area_weights``), as ``optimizer.solve`` gives it.
    (sizes, budgets, search_left), = written
    assert sum(budgets) == pytest.approx(search_left)
    for size, budget in zip(sizes, budgets):
        assert budget == pytest.approx(search_left * size / sum(sizes))


def test_area_tasks_of_a_dead_worker_are_finished(pg) -> None:
    """An area task left `doing` by a worker that died is finished by the stalled-job sweep (its job
    takes the area over: the silent area's heartbeat), not retried."""
    from sqlalchemy import text

    url = jobs.engine_url(pg)
    jobs.ensure_queue_schema(url)

    async def scenario() -> int:
        app = jobs.queue_app(url)
        async with app.open_async():
            queue_id = await app.configure_task(area_jobs.AREA_TASK_NAME, queue=jobs.QUEUE_NAME).defer_async(
                job_id="gone", idx=0)
            dead_worker = await app.job_manager.register_worker()
            while await app.job_manager.fetch_job(queues=[jobs.QUEUE_NAME], worker_id=dead_worker):
                pass
            async with app.connector.pool.connection() as conn:
                await conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                                   "WHERE id = %s", (dead_worker,))
            assert await jobs.recover_stalled_jobs(app, pg, Settings(database_url=url)) >= 1
            return queue_id

    queue_id = asyncio.run(scenario())
    with pg.connect() as conn:
        left = conn.execute(text(f'SELECT count(*) FROM "{jobs.queue_schema(url)}".procrastinate_jobs '
                                 'WHERE id = :id'), {"id": queue_id}).scalar()
    assert left == 0


def test_the_job_and_the_workers_claim_the_largest_area_first(pg) -> None:
    """Five areas of search times 2, 9, 5, 9 and 1 s: a worker and the job, claiming in turn, take
    them largest first (ties by index): 1, 3, 2, 0, 4; so the last claimed is the smallest and
    whoever finishes first waits little for the other (``_largest_first``)."""
    job_id = _job(pg)
    p = day()
    with Session(pg) as s:
        for idx, budget in enumerate((2.0, 9.0, 5.0, 9.0, 1.0)):
            s.add(m.PlanJobArea(job_id=job_id, idx=idx, problem=problem_to_dict(p), params={}, budget_s=budget,
                                deadline_at=s.scalar(select(func.now()))))
        s.commit()
    order = []
    for turn in range(5):
        if turn % 2 == 0:
            claimed = area_jobs._claim_for_worker(pg, job_id, "worker:1:1")
            order.append(claimed[0] if claimed else None)
        else:
            claimed_by_job = area_jobs._claim_for_job(pg, job_id, "job:1:1")
            order.append(claimed_by_job[0] if claimed_by_job else None)
    assert order == [1, 3, 2, 0, 4]
    assert area_jobs._claim_for_worker(pg, job_id, "worker:1:1") is None


def test_a_dead_area_child_fails_every_area_it_held_not_only_its_tasks(pg) -> None:
    """A child started by area 0's task went on to area 2 and died there: area 2 is failed (the job
    takes it over at once) though the task was area 0's; areas of other solvers stay as they are."""
    import socket

    job_id = _job(pg)
    p = day()
    with Session(pg) as s:
        for idx in range(3):
            s.add(m.PlanJobArea(job_id=job_id, idx=idx, problem=problem_to_dict(p), params={}, budget_s=1.0,
                                deadline_at=s.scalar(select(func.now()))))
        s.commit()
    child = f"{socket.gethostname()[:60]}:4242:1"
    _elsewhere(pg, job_id, 0, status=m.JobStatus.SUCCEEDED, claimed_by=child)
    _elsewhere(pg, job_id, 1)  # another machine's solver, still at it
    _elsewhere(pg, job_id, 2, claimed_by=child)
    area_jobs._fail_dead_child(pg, job_id, 0, 4242, -9)
    with Session(pg) as s:
        status = dict(s.execute(select(m.PlanJobArea.idx, m.PlanJobArea.status)
                                .where(m.PlanJobArea.job_id == job_id)).all())
    assert status == {0: m.JobStatus.SUCCEEDED, 1: m.JobStatus.RUNNING, 2: m.JobStatus.FAILED}
