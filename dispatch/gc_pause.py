"""The cyclic garbage collector paused while a day's problem is built in bulk.

Building a 10x day's problem makes a few hundred thousand objects that all stay alive (records,
visits, workers, routes); each of them counts towards the collector's thresholds, so the build
set off full collections that traversed everything the process holds, the objects being built
included, again and again: about 0.7 s of a 10x first answer's CPU, more in a process that holds
more.  Nothing built here is cyclic garbage (reference counting frees the temporaries), so the
collector is paused for the build and runs as usual afterwards.

Process-wide and shared by threads: the collector is enabled again when the last pause ends, and
only if it was enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside (module docstring); nests, and is safe across threads."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
