"""A split day's areas solved in parallel by the queue's workers (PostgreSQL).

A planning job's solver (the job's child process, ``dispatch.jobs.child``) splits the day as
``optimizer.solve`` would (``optimizer.plan_areas``).  With more than one area and a deadline,
:func:`solve_on_queue` writes one ``plan_job_areas`` row per area (the area's problem and the
search parameters as JSON, its share of the search time, the search's deadline) and defers one
procrastinate task per area (``carepath.solve_area``, queue ``planning``, ahead of planning jobs
waiting there).  Then whoever claims a row first solves it: a ``carepath worker`` on this or
another machine (:func:`run_area`, in a child process of the worker like a planning job's, since a
solve holds the GIL; it goes on with the job's next queued area), or the job's own solver.  So one worker is enough (the job solves every area itself,
one after another, as ``optimizer.solve`` does) and each worker added takes areas off it.
Everyone claims the largest area still queued (:func:`_largest_first`): the areas' times are in
proportion to their sizes, so the last ones claimed are the smallest and the solvers finish close
together (longest first, as in list scheduling).

A claim is a conditional ``UPDATE ... WHERE status = 'queued'``: an area is solved once.  Each
area gets the same time whoever solves it, its share of the job's search time in proportion to
its visits (``optimizer.search_stop``, ``optimizer.area_budgets``), and never more than is left
until the search's deadline on the database's clock (machines' clocks may differ; the database's is the one all of them read), and the repair
and the explanations then get the reserve a solve in one process gives them, counted from when the
areas are back.  So more workers return the same plan sooner rather than a better plan in the same
time: the job's time limit stays an upper bound, and a dispatcher who wants a better plan asks for
more time.  (The build of the problem, the repair and the explanations run in the job alone: they
bound the speed-up, ``benchmarks/README.md``.)

Faults: an area whose solver failed, or whose solver stopped beating for :data:`AREA_STALE_S`
(its worker was killed), is taken over by the job's solver (with no time left it still gets its first
plan, as in ``optimizer.solve``).  An area still being solved elsewhere is waited for until the
job's deadline (an area's plan is worth more than the explanations that time would buy; an area
search overruns its share when even its first plan takes longer, as on the 30x day at 90 s), and
given up then: its visits are left out (``optimizer.unsolved``), the repair across areas places
what fits in the other areas' routes, and the explanations say their reasons were not computed.  A cancel of the job, or the
job's end, cancels the rows still open: their solvers see it at their next beat and stop.
When the job has merged the areas (``optimizer.finish``) it deletes its rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, delete, extract, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dispatch.jobs.starter import SolverChild
from dispatch.settings import Settings, get_settings
from dispatch.storage import models as m
from dispatch.storage.db import make_engine

log = logging.getLogger(__name__)

AREA_TASK_NAME = "carepath.solve_area"
AREA_PRIORITY = 10
"""Procrastinate priority of area tasks (planning jobs have 0): a free worker helps a running job
before it starts another."""
AREA_HEARTBEAT_S = 1.0
"""How often an area's solver writes its heartbeat (and learns whether the job still wants it)."""
AREA_STALE_S = 10.0
"""An area whose solver has not beaten for this long is taken over by the job's solver."""
POLL_S = 0.2
"""How often the job's solver looks at its areas while workers solve them."""


def me() -> str:
    """Who claims an area: this thread of this process, on this machine (``host:pid:thread``)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{threading.get_ident()}"


def queue_solver(engine: Engine, job_id: str, settings: Settings) -> Any:
    """The ``plan_day`` solver of planning job ``job_id``: :func:`solve_on_queue` on PostgreSQL, None
    (``optimizer.solve`` in this process) on SQLite, which has no queue."""
    if engine.url.get_backend_name() != "postgresql" or not settings.queue_areas:
        return None

    def solver(problem: Any, params: Any, stop: Any) -> Any:
        return solve_on_queue(engine, job_id, problem, params, stop)

    return solver


# ------------------------------------------------------------------------ the job's side


def solve_on_queue(engine: Engine, job_id: str, problem: Any, params: Any, stop: Any) -> Any:
    """``optimizer.solve`` with a split day's areas handed to the queue's workers (see the module).

    A day of one area, or a solve without a deadline, is solved here as ``optimizer.solve`` does."""
    import optimizer

    stop = stop if stop is not None else optimizer.MaxRuntime(params.time_limit_s) \
        if params.time_limit_s is not None else optimizer.NoLimit()
    started = stop.clock()
    limit = stop.remaining()
    areas = optimizer.plan_areas(problem, params)
    if len(areas) < 2 or limit is None:
        return optimizer.solve(problem, params, stop)
    search = optimizer.search_stop(stop, len(areas), limit, started, params.explain)
    search_left = search.remaining() or 0.0
    reserve = (stop.remaining() or 0.0) - search_left
    budgets = optimizer.area_budgets(search_left, optimizer.area_weights(areas))
    fanned_out = stop.clock()
    give_up_at = fanned_out + (stop.remaining() or 0.0)
    _write_areas(engine, job_id, areas, params, budgets, search_left)
    written_s = stop.clock() - fanned_out
    try:
        try:
            _defer_areas(engine, job_id, len(areas))
        except Exception:  # noqa: BLE001 - without the tasks the job solves every area itself
            log.exception("job %s: could not queue its areas; solving them here", job_id)
        results, here = _collect(engine, job_id, areas, params, search, stop, budgets, give_up_at)
    finally:
        _close_areas(engine, job_id)
    areas_s = stop.clock() - fanned_out
    done = sum(1 for r in results if r.status != optimizer.NOT_SOLVED)
    log.info("job %s: %d of %d areas solved (%d here) in %.1f s", job_id, done, len(areas), here, areas_s)
    # The repair and the explanations get the reserve a solve in one process gives them, counted
    # from now: with areas back early the plan comes back early, not later with more explained.
    finishing = stop.clock()
    solution = optimizer.finish(problem, areas, results, params, stop.within(reserve), limit)
    assert solution.stats is not None
    recorded = {**solution.stats.parameters, "areas_wall_s": round(areas_s, 2), "areas_written_s": round(written_s, 2),
                "areas_solved_by_job": here, "finish_s": round(stop.clock() - finishing, 2)}
    return replace(solution, stats=replace(solution.stats, parameters=recorded))


def _write_areas(engine: Engine, job_id: str, areas: Sequence[Any], params: Any, budgets: Sequence[float],
                 search_left: float) -> None:
    import datetime as dt

    import optimizer

    recorded = params.recorded()
    with Session(engine) as session:
        deadline = session.scalar(select(func.now())) + dt.timedelta(seconds=search_left)
        session.execute(delete(m.PlanJobArea).where(col(m.PlanJobArea.job_id) == job_id))  # a requeued job's
        for idx, area in enumerate(areas):
            session.add(m.PlanJobArea(job_id=job_id, idx=idx, problem=optimizer.problem_to_dict(area.problem),
                                      params=recorded, budget_s=budgets[idx], deadline_at=deadline))
        session.commit()


def _defer_areas(engine: Engine, job_id: str, count: int) -> None:
    from dispatch.jobs.child import engine_url
    from dispatch.jobs.queue import QUEUE_NAME, queue_app

    app = queue_app(engine_url(engine), min_size=1, max_size=1).open()
    try:
        task = app.configure_task(AREA_TASK_NAME, queue=QUEUE_NAME, priority=AREA_PRIORITY)
        for idx in range(count):
            task.defer(job_id=job_id, idx=idx)
    finally:
        app.close()


def _collect(engine: Engine, job_id: str, areas: Sequence[Any], params: Any, search: Any, stop: Any,
             budgets: Sequence[float], give_up_at: float) -> tuple[list[Any], int]:
    """Every area's result (and how many were solved here): fetched from the rows as workers finish
    them, or solved here (a queued area, the largest first; a failed or silent one, taken over), until
    ``give_up_at``; areas not back by then are ``optimizer.unsolved``."""
    import optimizer

    results: dict[int, Any] = {}
    weights = optimizer.area_weights(areas)
    here = me()
    solved_here = 0
    while len(results) < len(areas) and not stop.cancelled:
        results.update(_finished(engine, job_id, set(results)))
        if len(results) == len(areas):
            break
        claimed = _claim_for_job(engine, job_id, here)
        if claimed is not None:
            # The area's share, as ``optimizer.solve`` gives it when this solver is alone (its
            # weight over the open areas'; what the earlier areas overran is taken off), never more
            # than any worker gets.  With no time left the area still gets its first plan, as in
            # ``optimizer.solve``.
            idx, open_idx = claimed
            area_stop = optimizer.area_stop(search, [weights[idx]] + [weights[i] for i in open_idx if i != idx])
            if (area_stop.remaining() or 0.0) > budgets[idx]:
                area_stop = search.within(budgets[idx])
            results[idx] = optimizer.solve_one_area(areas[idx].problem, params, area_stop)
            _set_status(engine, job_id, idx, here, m.JobStatus.SUCCEEDED)
            solved_here += 1
            continue
        if stop.clock() >= give_up_at or stop():
            break
        time.sleep(POLL_S)
    return [results.get(i) or optimizer.unsolved(area) for i, area in enumerate(areas)], solved_here


def _finished(engine: Engine, job_id: str, known: set[int]) -> dict[int, Any]:
    import optimizer

    with Session(engine) as session:
        rows = session.execute(
            select(m.PlanJobArea.idx, m.PlanJobArea.result).where(
                col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.status) == m.JobStatus.SUCCEEDED,
                col(m.PlanJobArea.result).is_not(None), col(m.PlanJobArea.idx).not_in(known or {-1}))
        ).all()
    out = {}
    for idx, doc in rows:
        try:
            out[idx] = optimizer.area_result_from_dict(doc)
        except optimizer.FormatError:
            log.exception("job %s: area %d came back malformed; left to the job", job_id, idx)
            _reopen(engine, job_id, idx)
    return out


def _reopen(engine: Engine, job_id: str, idx: int) -> None:
    with Session(engine) as session:
        session.execute(update(m.PlanJobArea).where(col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.idx) == idx)
                        .values(status=m.JobStatus.FAILED, result=None, error="malformed result"))
        session.commit()


def _claim_for_job(engine: Engine, job_id: str, here: str) -> tuple[int, list[int]] | None:
    """Claim an area for the job's own solver: a queued one (the last first: workers take the
    first), else a failed one or one whose solver went silent; None if there is none.  Returns
    (the area's index, the indices of the areas open for the job, the claimed one included)."""
    stale = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, AREA_STALE_S)
    open_ = or_(col(m.PlanJobArea.status).in_([m.JobStatus.QUEUED, m.JobStatus.FAILED]),
                and_(col(m.PlanJobArea.status) == m.JobStatus.RUNNING, col(m.PlanJobArea.heartbeat_at) < stale))
    with Session(engine) as session:
        candidates = session.execute(
            select(m.PlanJobArea.idx, m.PlanJobArea.status, m.PlanJobArea.budget_s)
            .where(col(m.PlanJobArea.job_id) == job_id, open_)
        ).all()
        # Queued areas first, largest first; then the failed and silent ones (taken over).
        order = sorted(candidates, key=lambda r: (r[1] != m.JobStatus.QUEUED, _largest_first(r[0], r[2])))
        for idx, _, _ in order:
            won = session.execute(
                update(m.PlanJobArea)
                .where(col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.idx) == idx, open_)
                .values(status=m.JobStatus.RUNNING, claimed_by=here, heartbeat_at=func.now())
            ).rowcount
            session.commit()
            if won:
                return int(idx), [int(i) for i, _, _ in order]
    return None


def _set_status(engine: Engine, job_id: str, idx: int, here: str, status: m.JobStatus, **values: Any) -> bool:
    with Session(engine) as session:
        won = session.execute(
            update(m.PlanJobArea)
            .where(col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.idx) == idx,
                   col(m.PlanJobArea.claimed_by) == here, col(m.PlanJobArea.status) == m.JobStatus.RUNNING)
            .values(status=status, **values)
        ).rowcount
        session.commit()
        return bool(won)


def _close_areas(engine: Engine, job_id: str) -> None:
    """The job is done with its areas: their rows go (a solver still at one sees it at its next beat)."""
    with Session(engine) as session:
        session.execute(delete(m.PlanJobArea).where(col(m.PlanJobArea.job_id) == job_id))
        session.commit()


# ------------------------------------------------------------------------ a worker's side


def run_area(database_url: str, job_id: str, idx: int) -> list[tuple[int, str]]:
    """Solve the areas of job ``job_id`` still queued, the largest first (:func:`_largest_first`),
    until none is left; ``idx`` is the area whose task started this (one task per area, so that
    as many workers as areas can help; which area a worker solves is decided by the claim).  A
    process is started once per job and worker, not once per area: a fresh interpreter takes
    seconds to import the solver.  Returns each claimed area's outcome in a word ("succeeded",
    "lost", "failed").  Never raises: the rows are the report."""
    engine = make_engine(database_url)
    outcomes: list[tuple[int, str]] = []
    here = me()
    try:
        while (claimed := _claim_for_worker(engine, job_id, here)) is not None:
            outcome = _solve_claimed(engine, job_id, here, *claimed)
            outcomes.append((claimed[0], outcome))
            if outcome == "lost":  # the job cancelled or gave up: it wants no more
                break
        return outcomes
    finally:
        engine.dispose()


def _largest_first(idx: int, budget_s: float) -> tuple[float, int]:
    """The order areas are claimed in, by the job and by the workers alike: the largest first (an
    area's search time is in proportion to its visits), then by index.  Why: with the largest
    taken first the last areas claimed are the smallest, so whoever finishes first waits at most
    a small area's time for the rest (at 30x with the job from the end and a worker from the
    start, the two-solver areas phase was 1.82x one solver's)."""
    return (-budget_s, idx)


def _claim_for_worker(engine: Engine, job_id: str, here: str) -> tuple[int, float, float] | None:
    """Claim a queued area of the job, the largest first (:func:`_largest_first`): (index, its
    search seconds, seconds to the search's deadline on the database's clock); None if none is
    queued."""
    with Session(engine) as session:
        queued = session.execute(select(m.PlanJobArea.idx, m.PlanJobArea.budget_s).where(
            col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.status) == m.JobStatus.QUEUED)).all()
        for idx, _ in sorted(queued, key=lambda r: _largest_first(r[0], r[1])):
            claimed = session.execute(
                update(m.PlanJobArea)
                .where(col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.idx) == idx,
                       col(m.PlanJobArea.status) == m.JobStatus.QUEUED)
                .values(status=m.JobStatus.RUNNING, claimed_by=here, heartbeat_at=func.now())
                .returning(m.PlanJobArea.budget_s, extract("epoch", col(m.PlanJobArea.deadline_at) - func.now()))
            ).first()
            session.commit()
            if claimed is not None:
                return int(idx), float(claimed[0]), float(claimed[1])
    return None


def _solve_claimed(engine: Engine, job_id: str, here: str, idx: int, budget: float, left: float) -> str:
    """Solve a claimed area for at most ``budget`` seconds and no later than ``left`` from now;
    store the result unless the job no longer wants it."""
    import optimizer

    lost = threading.Event()
    stop = optimizer.FirstOf(optimizer.MaxRuntime(max(0.0, min(budget, left))), optimizer.Cancel(lost))
    beat = threading.Thread(target=_beat, args=(engine, job_id, idx, here, lost), daemon=True,
                            name=f"area-beat-{idx}")
    beat.start()
    try:
        with Session(engine) as session:
            row = session.get(m.PlanJobArea, (job_id, idx))
            problem_doc, params_doc = (row.problem, row.params) if row is not None else (None, None)
        if problem_doc is None:
            return "lost"
        problem = optimizer.problem_from_dict(problem_doc)
        params = optimizer.SolveParams(**params_doc)
        result = optimizer.solve_one_area(problem, params, stop)
        if lost.is_set():
            return "lost"
        stored = _set_status(engine, job_id, idx, here, m.JobStatus.SUCCEEDED,
                             result=optimizer.area_result_to_dict(result))
        return "succeeded" if stored else "lost"
    except Exception as exc:  # noqa: BLE001 - the row is the report; the job takes the area over
        log.exception("area %d of job %s failed", idx, job_id)
        _set_status(engine, job_id, idx, here, m.JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return "failed"
    finally:
        lost.set()  # ends the beat thread too
        beat.join(timeout=5)


def _beat(engine: Engine, job_id: str, idx: int, here: str, lost: threading.Event) -> None:
    """Write the area's heartbeat; set ``lost`` when the row is no longer this solver's (the job
    cancelled, gave up or took it over), which ends the search at its next check."""
    while not lost.wait(AREA_HEARTBEAT_S):
        try:
            with Session(engine) as session:
                mine = session.execute(
                    update(m.PlanJobArea)
                    .where(col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.idx) == idx,
                           col(m.PlanJobArea.claimed_by) == here, col(m.PlanJobArea.status) == m.JobStatus.RUNNING)
                    .values(heartbeat_at=func.now())
                ).rowcount
                session.commit()
        except Exception:  # noqa: BLE001 - a missed beat is not fatal
            log.exception("heartbeat of area %d of job %s failed", idx, job_id)
            continue
        if not mine:
            lost.set()


def area_child_main(database_url: str, job_id: str, idx: int, settings: Settings | None, starter_pid: int) -> None:
    """Entry point of an area's solver child (as ``child.child_main`` for a planning job)."""
    from dispatch.jobs.child import die_with_parent, lower_priority

    die_with_parent(starter_pid)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s[%(process)d]: %(message)s")
    lower_priority((settings or get_settings()).solver_nice)
    for solved, outcome in run_area(database_url, job_id, idx):
        log.info("area %d of job %s: %s", solved, job_id, outcome)


def spawn_area_child(database_url: str, job_id: str, idx: int, settings: Settings | None) -> SolverChild:
    """Start an area's solver child (see :mod:`dispatch.jobs.starter`)."""
    from dispatch.jobs.starter import start_child

    return start_child(area_child_main, (database_url, job_id, idx, settings), f"carepath-area-{job_id[:8]}-{idx}")


def area_waiting(engine: Engine, job_id: str, idx: int) -> bool:
    with Session(engine) as session:
        return session.scalar(select(m.PlanJobArea.status).where(
            col(m.PlanJobArea.job_id) == job_id, col(m.PlanJobArea.idx) == idx)) == m.JobStatus.QUEUED


def _fail_dead_child(engine: Engine, job_id: str, idx: int, pid: int | None, exitcode: int | None) -> None:
    """An area child that exited with an area of the job still running left it: failed, for the job
    to take over.  Any area the child claimed, not only ``idx`` (its task's): a child goes on with
    the job's queued areas, largest first, whichever task started it."""
    if pid is None:
        return
    with Session(engine) as session:
        session.execute(
            update(m.PlanJobArea)
            .where(col(m.PlanJobArea.job_id) == job_id,
                   col(m.PlanJobArea.claimed_by).startswith(f"{socket.gethostname()[:60]}:{pid}:"),
                   col(m.PlanJobArea.status) == m.JobStatus.RUNNING)
            .values(status=m.JobStatus.FAILED, error=f"the area's solver process exited ({exitcode})")
        )
        session.commit()


async def solve_area_task(context: Any, job_id: str, idx: int) -> None:
    """Procrastinate task: solve one area of a running job in a child process and watch it."""
    extra = context.additional_context
    engine: Engine = extra["engine"]
    settings: Settings = extra["settings"]
    if not await asyncio.to_thread(area_waiting, engine, job_id, idx):
        return  # claimed by the job itself, or the job is done with it
    from dispatch.jobs.child import engine_url

    process = spawn_area_child(engine_url(engine), job_id, idx, settings)
    try:
        while process.is_alive():
            await asyncio.sleep(0.2)
    except asyncio.CancelledError:
        process.kill()
        process.join(timeout=5)
        await asyncio.to_thread(_fail_dead_child, engine, job_id, idx, process.pid, process.exitcode)
        raise
    process.join(timeout=5)
    await asyncio.to_thread(_fail_dead_child, engine, job_id, idx, process.pid, process.exitcode)
