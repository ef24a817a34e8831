"""Run one benchmark step in a forked child: its own memory peak, a hard timeout, crash isolation.

A peer that segfaults, runs out of memory or overruns its limit costs one row, not the run.
The child reports its peak resident memory (``VmHWM``), so each solve's memory is its own
(plus the small parent it was forked from, whose size is recorded once as the baseline).
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from typing import Any, Callable


def rss_mb(field: str = "VmHWM") -> float | None:
    """Peak (``VmHWM``) or current (``VmRSS``) resident memory of this process, in MiB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _child(conn, fn: Callable[..., Any], args: tuple) -> None:
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # report, never hang the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"))
    finally:
        conn.close()


def run_isolated(fn: Callable[..., Any], args: tuple, timeout_s: float) -> tuple[str, Any]:
    """``("ok", result)``, ``("error", message)``, ``("timeout", "no answer within N s")`` or
    ``("crashed", exitcode)``."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args), daemon=False)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout_s):
            try:
                outcome = parent.recv()
            except EOFError:
                outcome = None
            proc.join(30)
            if outcome is not None:
                return outcome
            return "crashed", proc.exitcode
        return "timeout", f"no answer within {timeout_s:g} s"
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent.close()
