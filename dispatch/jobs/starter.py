"""Starting solver children: from a fork server that has the solver loaded, each tied to its starter.

Why a fork server and not ``spawn``: a spawned child is a fresh interpreter that imports the
solver, SQLAlchemy, the models and the catalogue before it plans anything: 1.5-2 s of CPU per
job (measured: ``python -c "import dispatch.jobs.child, dispatch.planning.rosters"`` takes 2.0 s),
paid again by every planning job, re-plan and area.  The fork server imports them once per
starting process (the API, ``carepath worker``) and forks a child per job in milliseconds.  Why
not plain ``fork``: the API and the worker have threads (uvicorn's pool, the runner, heartbeats),
and a fork copies their locks in whatever state they are; the fork server is a fresh,
single-threaded interpreter.

What a spawned child had and a forked one must be given: the starter's environment and working
directory *now* (the fork server keeps the ones it started with), and settings read afresh.

The fork server outlives a SIGTERM sent to the whole process group and ends with its starter
(:mod:`dispatch.jobs.fork_server`); its children end with it (:func:`dispatch.jobs.child.die_with_parent`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

PRELOAD = ["dispatch.jobs.fork_server"]
"""What the fork server imports once: the solver, so that no child imports it again, and SIGTERM ignored."""


class SolverChild:
    """A started child, safe to watch from several threads at once.

    A forked child's exit status comes from the fork server as 8 bytes on a pipe, read once: a
    second thread polling at the same moment reads the end of the pipe and multiprocessing takes
    that for a dead server (exit code 255).  The runners poll from their own thread while request
    threads check a job, so every look at the status goes through one lock here.
    """

    def __init__(self, process: BaseProcess) -> None:
        self._process = process
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def name(self) -> str:
        return self._process.name

    @property
    def exitcode(self) -> int | None:
        with self._lock:
            return self._process.exitcode

    def is_alive(self) -> bool:
        with self._lock:
            return self._process.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` for the exit (without reading the status), then read it under the lock."""
        multiprocessing.connection.wait([self._process.sentinel], timeout)
        with self._lock:
            self._process.join(0)

    def kill(self) -> None:
        self._process.kill()


def start_child(target: Callable[..., None], args: tuple[Any, ...], name: str) -> SolverChild:
    """Start ``target(*args, starter_pid)`` in a child forked from this process's fork server.

    The last argument is this process's pid: the child ties its life to it
    (:func:`dispatch.jobs.child.die_with_parent`).  The child ignores SIGINT and SIGTERM (they
    reach it too when sent to the whole process group); its starter decides, and ends it with
    SIGKILL.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    process = ctx.Process(target=_enter, args=(target, (*args, os.getpid()), dict(os.environ), os.getcwd()),
                          name=name, daemon=True)
    process.start()
    return SolverChild(process)


def _let_the_fork_server_end_with_its_starter() -> None:
    """Close this child's copy of the fork server's "alive" pipe.

    multiprocessing hands every child the pipe's write end (so that a child could start processes
    through the same server), and the server ends only when every holder has closed it: a running
    solve would keep the server, and so itself, alive after its starter was killed.  A solver child
    starts no processes, so it lets go.  (``_forkserver_alive_fd`` is multiprocessing's own name for
    that end; where a Python lacks it, there is nothing to close.)
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def _enter(target: Callable[..., None], args: tuple[Any, ...], environ: dict[str, str], cwd: str) -> None:
    """The child's first step: the starter's environment and directory, signals ignored, then ``target``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _let_the_fork_server_end_with_its_starter()
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    from dispatch.settings import get_settings

    get_settings.cache_clear()  # read from the environment just restored, if the child needs it
    target(*args)
