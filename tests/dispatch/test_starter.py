"""Solver children started from the fork server (``dispatch.jobs.starter``)."""

from __future__ import annotations

import os
import signal
import threading

from dispatch.jobs.starter import start_child
from tests.dispatch.job_parents import idle


def test_a_killed_child_reads_killed_from_every_thread_watching_it() -> None:
    """The runners poll a child from their own thread while request threads check the job: every
    watcher must see the SIGKILL (-9), none the 255 that a second read of the fork server's status
    pipe gave (which turned "killed by signal 9" into "exited with code 255" in job errors)."""
    child = start_child(idle, (60,), "idle")
    assert child.pid and child.is_alive()
    seen: list[int | None] = []
    stop = threading.Event()

    def watch() -> None:
        while child.is_alive() and not stop.is_set():
            pass
        seen.append(child.exitcode)

    watchers = [threading.Thread(target=watch) for _ in range(4)]
    for w in watchers:
        w.start()
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    stop.set()
    for w in watchers:
        w.join(10)
    assert child.exitcode == -signal.SIGKILL
    assert seen == [-signal.SIGKILL] * 4


def test_a_child_has_the_starters_environment_and_directory_of_now(tmp_path, monkeypatch) -> None:
    """The fork server keeps the environment it started with; a child gets its starter's current
    one (as a spawned child did), so settings changed since reach the solver."""
    from tests.dispatch.job_parents import report_environment

    start_child(idle, (0,), "warm-up").join(30)  # the server exists before the change
    monkeypatch.setenv("CAREPATH_SOLVER_NICE", "7")
    monkeypatch.chdir(tmp_path)
    child = start_child(report_environment, ("out.txt",), "report")
    child.join(30)
    assert child.exitcode == 0
    assert (tmp_path / "out.txt").read_text() == f"7 {tmp_path}"
