"""Travel matrices kept between requests: the live day asks about the same day again and again.

A recommendation or a hand edit builds the day's problem from the database each time (what is
stored *now* counts), and at 10x the travel matrices are most of that build (4,345 places, three
modes: 16 of 20 seconds).  The places rarely change within a day, so the matrices are kept by
what they are computed from: the mode and the exact points, in order (a content key: a new
senior or a moved address is a new key, never a stale answer).  They are kept as the rows the
optimizer reads (``problem_builder.matrix_rows``), so a hit costs nothing to convert either.

Only the last ``KEEP`` matrices are kept (one day's modes); at 10x that is about 0.9 GB, which the
problem holds anyway while it is used.  Planning jobs build with the plain provider: a job runs
once, in its own process.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from dispatch.planning.problem_builder import matrix_rows
from dispatch.settings import Settings
from dispatch.providers.travel import Point, TravelTimeProvider, provider_from_settings

KEEP = 3
"""Matrices kept (minutes and metres of one mode count as one)."""


class CachedTravel:
    """A provider that remembers the last ``KEEP`` matrices it computed, by mode and points."""

    def __init__(self, inner: TravelTimeProvider, keep: int = KEEP) -> None:
        self.inner = inner
        self.keep = keep
        self._kept: OrderedDict[tuple[str, int, str], tuple[object, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[object, object]:  # type: ignore[override]
        key = (str(getattr(mode, "value", mode)), len(points),
               hashlib.sha256(np.asarray(points, dtype=np.float64).tobytes()).hexdigest())
        with self._lock:
            hit = self._kept.get(key)
            if hit is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return hit
        minutes, metres = self.inner.matrix(points, mode)
        rows = (matrix_rows(minutes), matrix_rows(metres))
        with self._lock:
            self._kept[key] = rows
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
        return rows


_SHARED: list[tuple[Settings, CachedTravel]] = []
_SHARED_LOCK = threading.Lock()


def shared_travel(settings: Settings) -> CachedTravel:
    """The process's cached provider for ``settings`` (an app's settings object lives as long as the app;
    another settings object replaces it, so two configurations never keep two days' worth)."""
    with _SHARED_LOCK:
        if not _SHARED or _SHARED[0][0] is not settings:
            _SHARED[:] = [(settings, CachedTravel(provider_from_settings(settings)))]
        return _SHARED[0][1]
