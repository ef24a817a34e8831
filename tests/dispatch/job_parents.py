"""Parent processes for the tests that kill a parent and check its solver child dies too.

Run as ``python -m tests.dispatch.job_parents <mode> ...`` from the repository root:

* ``probe <use_prctl 0|1> <watch 0|1> <ready-file>``: start one child (from the fork server, like
  the job runners: :func:`dispatch.jobs.starter.start_child`) that installs only the named guard of :func:`dispatch.jobs.die_with_parent`, writes
  its pid to ``ready-file`` and sleeps; the parent then sleeps too, until killed.
* ``runner <database-url> <job-id> <data-dir>``: act as the API process: a ``ProcessRunner``
  starts the job's solver child; then sleep until killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def probe_child(use_prctl: bool, watch: bool, ready: str, starter_pid: int) -> None:
    """The child: guard as told, say so, then idle (a stand-in for a long solve)."""
    from dispatch.jobs import die_with_parent

    die_with_parent(starter_pid, use_prctl=use_prctl, watch=watch)
    tmp = Path(ready + ".tmp")
    tmp.write_text(str(os.getpid()))
    tmp.rename(ready)
    time.sleep(600)


def idle(seconds: float, starter_pid: int) -> None:
    """A child that only waits (for tests of how children are started and watched)."""
    time.sleep(seconds)


def report_environment(path: str, starter_pid: int) -> None:
    """Write the child's solver niceness setting and working directory to ``path`` (relative)."""
    from dispatch.settings import get_settings

    Path(path).write_text(f"{get_settings().solver_nice} {os.getcwd()}")


def _probe(use_prctl: str, watch: str, ready: str) -> None:
    from dispatch.jobs.starter import start_child
    from tests.dispatch.job_parents import probe_child as target  # by its module's name, not __main__'s

    start_child(target, (use_prctl == "1", watch == "1", ready), "probe")
    time.sleep(600)


def _runner(database_url: str, job_id: str, data_dir: str) -> None:
    from sqlmodel import Session

    from dispatch import jobs
    from dispatch.storage import models as m
    from dispatch.storage.db import make_engine
    from dispatch.settings import Settings

    engine = make_engine(database_url)
    runner = jobs.ProcessRunner(engine, Settings(database_url=database_url, data_dir=data_dir))
    with Session(engine) as session:
        job = session.get(m.PlanJob, job_id)
        assert job is not None
        runner.submit(job)
    time.sleep(600)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"probe": _probe, "runner": _runner}[mode](*args)
