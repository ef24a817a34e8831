"""Planning jobs when processes die, with real processes: ``carepath worker`` killed with SIGKILL or
stopped with SIGTERM mid-solve (PostgreSQL), an API process killed while its child solves
(SQLite), and each guard that ties a solver child to its parent.

The workers run as subprocesses (``carepath worker``) with short heartbeat and stall thresholds
(``CAREPATH_WORKER_HEARTBEAT_S``, ``CAREPATH_WORKER_STALLED_AFTER_S``) so that a dead worker is
noticed in seconds.  Each subprocess is started in a session of its own and killed by its
process group at the end if it is still there.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from dispatch import jobs
from dispatch.storage import models as m
from fixtures.seed import load_scenario
from dispatch.settings import Settings
from tests.api.conftest import DAY, small_scenario

REPO = Path(__file__).resolve().parents[2]
CAREPATH = Path(sys.executable).parent / "carepath"
HEARTBEAT_S, STALLED_AFTER_S = 0.5, 2.0


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its new parent to reap it counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _terminal_signals() -> None:
    """In a started child before exec: SIGINT's default action, as under a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Processes:
    """Subprocesses started by a test, each in its own session; whatever is left is killed at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` as a terminal would: in its own session, with Ctrl-C's default action.
        (A process that ignores SIGINT passes that on through exec, and the worker's first
        Ctrl-C puts back the handler it found: a test run that ignored SIGINT would start a
        worker that ignores every Ctrl-C but the first.)"""
        log = self.tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, preexec_fn=_terminal_signals)
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.tmp_path.glob("*.log")))

    def cleanup(self) -> None:
        """Kill each started process's group (it may hold a child that outlived a failed test)."""
        for process in self.started:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


@pytest.fixture
def db(engine, tmp_path):
    """The migrated test database with the small API scenario; yields (engine, settings)."""
    with Session(engine) as s:
        load_scenario(s, small_scenario())
    settings = Settings(database_url=jobs.engine_url(engine), data_dir=tmp_path,
                        worker_heartbeat_s=HEARTBEAT_S, worker_stalled_after_s=STALLED_AFTER_S)
    return engine, settings


def needs_postgresql(engine) -> None:
    if engine.url.get_backend_name() != "postgresql":
        pytest.skip("`carepath worker` and its queue need PostgreSQL")


def job_row(engine, job_id: str) -> m.PlanJob:
    with Session(engine) as s:
        job = s.get(m.PlanJob, job_id)
        assert job is not None
        s.expunge(job)
        return job


def roster_versions(engine) -> list[tuple[dt.date, int]]:
    with Session(engine) as s:
        return [(r.date, r.version) for r in s.scalars(select(m.Roster).order_by(m.Roster.id)).all()]


def queue_rows(engine, job_id: str) -> list[tuple[str, int]]:
    """(status, attempts) of the procrastinate jobs carrying plan job ``job_id``."""
    schema = jobs.queue_schema(jobs.engine_url(engine))
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT status, attempts FROM "{schema}".procrastinate_jobs '
                                 "WHERE args->>'job_id' = :id"), {"id": job_id}).all()
    return [(str(r[0]), int(r[1])) for r in rows]


def worker_env(engine, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    env.update({
        "CAREPATH_DATABASE_URL": jobs.engine_url(engine),
        "CAREPATH_DATA_DIR": str(tmp_path),
        "CAREPATH_SECRET_KEY": "test-secret-" + "x" * 32,
        "CAREPATH_WORKER_HEARTBEAT_S": str(HEARTBEAT_S),
        "CAREPATH_WORKER_STALLED_AFTER_S": str(STALLED_AFTER_S),
    })
    return env


def plan_through_the_queue(engine, settings: Settings, time_limit: float) -> str:
    """What ``POST /rosters/{date}/plan`` does on PostgreSQL: a job row, then a procrastinate job."""
    with Session(engine) as s:
        job = jobs.create_job(s, DAY, None, time_limit, "dispatcher")
        s.commit()
        runner = jobs.QueueRunner(engine, settings)
        try:
            runner.submit(job)
        finally:
            runner.shutdown()
        return job.id


def solving(engine, job_id: str) -> bool:
    """The job's child has built the day's problem and is solving it (its first heartbeat says so)."""
    job = job_row(engine, job_id)
    return job.status == m.JobStatus.RUNNING and job.progress.get("visits_total") is not None


def test_killed_worker_job_is_retried_by_another_worker_and_its_child_dies(db, tmp_path, processes) -> None:
    """SIGKILL `carepath worker` mid-solve: its solver child dies within seconds; the queue job,
    left `doing` by the dead worker, is found through procrastinate's worker heartbeats by a
    worker started afterwards, the plan job goes back to `queued` (audited) with nothing stored,
    and the retry succeeds with exactly one roster; no queue job stays `doing`."""
    engine, settings = db
    needs_postgresql(engine)
    job_id = plan_through_the_queue(engine, settings, time_limit=4)
    env = worker_env(engine, tmp_path)
    first = processes.start("worker-1", [str(CAREPATH), "worker"], env)
    wait_until(lambda: solving(engine, job_id), 60, f"the first worker never solved the job\n{processes.logs()}")
    child = job_row(engine, job_id).runner_pid
    assert child is not None and child != first.pid and pid_alive(child)

    first.send_signal(signal.SIGKILL)  # the worker only, not its process group
    first.wait(10)
    wait_until(lambda: not pid_alive(child), 5, f"solver child {child} outlived its killed worker")
    assert queue_rows(engine, job_id) == [("doing", 0)]  # what the issue saw: stuck until someone acts
    assert roster_versions(engine) == []

    second = processes.start("worker-2", [str(CAREPATH), "worker"], env)
    wait_until(lambda: job_row(engine, job_id).status in jobs.FINAL, 90,
               f"the job was not retried: {job_row(engine, job_id)}\n{processes.logs()}")
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.SUCCEEDED, f"{job.error}\n{processes.logs()}"
    assert job.runner_pid not in (None, child)
    assert roster_versions(engine) == [(DAY, 1)]
    with Session(engine) as s:
        requeues = s.scalar(select(func.count()).select_from(m.AuditLog).where(
            m.AuditLog.action == "plan_job.requeue", m.AuditLog.entity_id == job_id))
    assert requeues == 1
    wait_until(lambda: all(status != "doing" for status, _ in queue_rows(engine, job_id)), 10,
               f"the retried queue job was not finished: {queue_rows(engine, job_id)}")

    os.killpg(second.pid, signal.SIGTERM)
    assert second.wait(30) == 0, processes.logs()


def test_sigterm_lets_the_running_job_finish_and_leaves_no_child(db, tmp_path, processes) -> None:
    """SIGTERM to the worker's whole process group (as `systemctl stop` does) mid-solve: the solve
    is not cut short (the child ignores it), the job succeeds, the worker exits 0 and no solver
    child is left; no queue job stays `doing`."""
    engine, settings = db
    needs_postgresql(engine)
    job_id = plan_through_the_queue(engine, settings, time_limit=3)
    worker = processes.start("worker", [str(CAREPATH), "worker"], worker_env(engine, tmp_path))
    wait_until(lambda: solving(engine, job_id), 60, f"the worker never solved the job\n{processes.logs()}")
    child = job_row(engine, job_id).runner_pid
    assert child is not None

    os.killpg(worker.pid, signal.SIGTERM)
    assert worker.wait(60) == 0, processes.logs()
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.SUCCEEDED, f"{job.error}\n{processes.logs()}"
    assert roster_versions(engine) == [(DAY, 1)]
    wait_until(lambda: not pid_alive(child), 5, f"solver child {child} outlived its stopped worker")
    assert all(status != "doing" for status, _ in queue_rows(engine, job_id))


def test_second_ctrl_c_aborts_the_running_job_and_leaves_no_child(db, tmp_path, processes) -> None:
    """Ctrl-C twice (SIGINT to the worker's process group, as a terminal sends it): the first asks
    for a stop after the running job, the second aborts it: the worker exits 0 long before the
    job's time limit, the job is failed saying the worker was stopped, nothing is stored, no
    solver child is left."""
    engine, settings = db
    needs_postgresql(engine)
    job_id = plan_through_the_queue(engine, settings, time_limit=300)
    worker = processes.start("worker", [str(CAREPATH), "worker"], worker_env(engine, tmp_path))
    wait_until(lambda: solving(engine, job_id), 60, f"the worker never solved the job\n{processes.logs()}")
    child = job_row(engine, job_id).runner_pid
    assert child is not None

    os.killpg(worker.pid, signal.SIGINT)
    time.sleep(1)
    assert worker.poll() is None and pid_alive(child)  # the first Ctrl-C lets the solve go on
    # The second Ctrl-C.  A worker whose event loop reads both presses in one turn takes them as
    # one stop request, and the solve goes on to its limit; a user presses again, and so does
    # this test, twice at most.
    for _ in range(3):
        os.killpg(worker.pid, signal.SIGINT)
        try:
            code = worker.wait(30)
            break
        except subprocess.TimeoutExpired:
            continue
    else:
        pytest.fail(f"three more Ctrl-C did not stop the worker\n{processes.logs()}")
    assert code == 0, processes.logs()
    job = job_row(engine, job_id)
    assert job.status == m.JobStatus.FAILED, processes.logs()
    assert job.error.startswith("`carepath worker` was stopped while this job was planning")
    assert roster_versions(engine) == []
    wait_until(lambda: not pid_alive(child), 5, f"solver child {child} outlived its stopped worker")


def test_solver_child_dies_with_a_killed_api_process(db, tmp_path, processes) -> None:
    """SQLite: the API process (a ProcessRunner) is killed with SIGKILL while its child solves:
    the child is gone within seconds instead of solving on for nobody."""
    engine, _ = db
    if engine.url.get_backend_name() != "sqlite":
        pytest.skip("the process runner is the SQLite runner")
    with Session(engine) as s:
        job_id = jobs.create_job(s, DAY, None, 60, "dispatcher").id
        s.commit()
    api = processes.start("api", [sys.executable, "-m", "tests.dispatch.job_parents", "runner",
                                  jobs.engine_url(engine), job_id, str(tmp_path)])
    wait_until(lambda: solving(engine, job_id), 60, f"the child never solved the job\n{processes.logs()}")
    child = job_row(engine, job_id).runner_pid
    assert child is not None and child != api.pid and pid_alive(child)
    api.send_signal(signal.SIGKILL)
    api.wait(10)
    wait_until(lambda: not pid_alive(child), 5, f"solver child {child} outlived the killed API process")


@pytest.mark.parametrize("guard", ["prctl", "watch"])
def test_each_guard_alone_ends_an_orphaned_child(guard: str, tmp_path, processes) -> None:
    """Either guard of die_with_parent on its own ends the child within seconds of its parent's
    SIGKILL: the kernel's parent-death signal (Linux), and the portable watcher thread."""
    if guard == "prctl" and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    ready = tmp_path / "child.pid"
    parent = processes.start("parent", [sys.executable, "-m", "tests.dispatch.job_parents", "probe",
                                        "1" if guard == "prctl" else "0", "1" if guard == "watch" else "0",
                                        str(ready)])
    wait_until(ready.exists, 60, f"the child never got ready\n{processes.logs()}")
    child = int(ready.read_text())
    assert pid_alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    wait_until(lambda: not pid_alive(child), 5, f"child {child} outlived its parent with only the {guard} guard")
