"""Travel matrices kept between requests: the live day asks about the same day again and again.

A recommendation or a hand edit builds the day's problem from the database each time (what is
stored *now* counts), and at 10x the travel matrices were most of that build (4,345 places, three
modes).  The places rarely change within a day, so the matrices are kept by what they are
computed from: the mode and the exact points, in order (a content key: a new senior or a moved
address is a new key, never a stale answer).  They are kept as the rows the optimizer reads
(``problem_builder.matrix_rows``), so a hit costs nothing to convert either.

A point list that is a kept one plus a few new places (an inline request at a new address) is
not computed again: only the new places' rows and columns are asked of the provider
(``arrays(points, mode, sources, destinations)``) and the rest is copied from the kept matrix,
cell for cell what the whole square would hold (the provider's ``frame`` says the kept cells
still hold: the geodesic sphere, the OSRM server).  Metre matrices equal to one kept for another
mode (the geodesic estimate's are the same for every mode) are shared, not held twice.

Only the last ``KEEP`` matrices are kept (one day's modes); at 10x that is about 0.6 GB, which the
problem holds anyway while it is used.  Planning jobs build with the plain provider: a job runs
once, in its own process.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dispatch.planning.problem_builder import matrix_rows
from dispatch.providers.rows_on_demand import RowsOnDemand
from dispatch.settings import Settings
from dispatch.providers.travel import Point, TravelTimeProvider, provider_from_settings

KEEP = 3
"""Matrices kept (minutes and metres of one mode count as one)."""

GROW_AT_MOST = 0.25
"""A point list grows a kept matrix when at most this share of its places is new (a row and a column
per new place, 2 k n cells, against n ** 2 computed whole; copying the kept cells is not free either)."""

Rows = tuple[array, ...]


@dataclass(frozen=True)
class _Kept:
    points: tuple[Point, ...]
    frame: object
    minutes: Rows
    metres: Rows
    source: object = None
    """The provider's row source (``rows(points)``) when the rows are made on demand."""


class CachedTravel:
    """A provider that remembers the last ``KEEP`` matrices it computed, by mode and points."""

    def __init__(self, inner: TravelTimeProvider, keep: int = KEEP, on_demand: bool = True) -> None:
        self.inner = inner
        self.keep = keep
        self.on_demand = on_demand
        """Rows computed when read (:class:`RowsOnDemand`) where the provider makes single rows cheaply
        (``rows``: the offline estimate); False: whole matrices, grown by new places (as for OSRM)."""
        self._kept: OrderedDict[tuple[str, int, str], _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.grown = 0
        """Point lists answered by growing a kept matrix by their new places."""
        self.cells_asked = 0
        """Cells asked of the inner provider (tests: a new place costs a row and a column, not a day)."""

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[Rows, Rows]:  # type: ignore[override]
        mode = str(getattr(mode, "value", mode))
        points = tuple((float(lat), float(lon)) for lat, lon in points)
        key = (mode, len(points), hashlib.sha256(np.asarray(points, dtype=np.float64).tobytes()).hexdigest())
        with self._lock:
            hit = self._kept.get(key)
            if hit is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return hit.minutes, hit.metres
            base = next((k for (m, _, _), k in reversed(self._kept.items()) if m == mode), None)
            others = list(self._kept.values())
        if self.on_demand and hasattr(self.inner, "rows"):
            return self._on_demand(key, points, mode, others)
        frame = self._frame(points, mode)
        grown = self._grow(base, points, mode, frame) if base is not None and base.frame == frame else None
        if grown is not None:
            minutes, metres = grown
            self.grown += 1
        else:
            minutes, metres = self._whole(points, mode)
        metres_rows = _shared(metres, points, others) or matrix_rows(metres)
        kept = _Kept(points, frame, matrix_rows(minutes), metres_rows)
        with self._lock:
            self._kept[key] = kept
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
        return kept.minutes, kept.metres

    def _on_demand(self, key: tuple[str, int, str], points: tuple[Point, ...], mode: str,
                   others: list[_Kept]) -> tuple[Rows, Rows]:
        """Matrices whose rows are computed when read (:class:`RowsOnDemand`); the modes of one point
        list share its row source (the road metres of a row are made once) and its metre rows."""
        same = next((k for k in others if k.points == points and k.source is not None), None)
        source = same.source if same is not None else None
        if source is None:  # a kept list and a few places after it (an inline request at a new address)?
            source = next((grown for k in reversed(others) if k.source is not None
                           and len(points) - len(k.points) <= GROW_AT_MOST * len(points)
                           and (grown := k.source.grown(points)) is not None), None)  # type: ignore[attr-defined]
            if source is not None:
                self.grown += 1
        if source is None:
            source = self.inner.rows(points)  # type: ignore[attr-defined]
        n = len(points)

        def minutes(rows: Sequence[int]) -> np.ndarray:
            self.cells_asked += len(rows) * n
            return source.minutes(rows, mode)

        def metres(rows: Sequence[int]) -> np.ndarray:
            self.cells_asked += len(rows) * n
            return source.metres(rows)

        metre_rows = same.metres if same is not None else RowsOnDemand(n, metres)
        kept = _Kept(points, None, RowsOnDemand(n, minutes), metre_rows, source)  # type: ignore[arg-type]
        with self._lock:
            self._kept[key] = kept
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
        return kept.minutes, kept.metres

    def _frame(self, points: tuple[Point, ...], mode: str) -> object:
        frame = getattr(self.inner, "frame", None)
        return frame(points, mode) if frame is not None else None

    def _whole(self, points: tuple[Point, ...], mode: str) -> tuple[np.ndarray, np.ndarray]:
        self.cells_asked += len(points) ** 2
        arrays = getattr(self.inner, "arrays", None)
        if arrays is not None:
            return arrays(points, mode)
        minutes, metres = self.inner.matrix(points, mode)
        return np.asarray(minutes, dtype=np.int64), np.asarray(metres, dtype=np.int64)

    def _grow(self, base: _Kept, points: tuple[Point, ...], mode: str,
              frame: object) -> tuple[np.ndarray, np.ndarray] | None:
        """``points``' matrices from ``base`` and the rows and columns of the places it lacks."""
        arrays = getattr(self.inner, "arrays", None)
        if arrays is None or frame is None:
            return None
        where = {p: i for i, p in enumerate(base.points)}
        at = np.array([where.get(p, -1) for p in points], dtype=np.int64)
        new = np.flatnonzero(at < 0)
        if len(new) > GROW_AT_MOST * len(points):
            return None
        known = np.flatnonzero(at >= 0)
        everyone = list(range(len(points)))
        out_min, out_m = arrays(points, mode, new.tolist(), everyone)   # from the new places
        in_min, in_m = arrays(points, mode, everyone, new.tolist())     # to the new places
        self.cells_asked += 2 * len(new) * len(points)
        result = []
        for rows, out, into in ((base.minutes, out_min, in_min), (base.metres, out_m, in_m)):
            matrix = np.empty((len(points), len(points)), dtype=np.int64)
            if len(known) == len(base.points) and np.array_equal(at[known], np.arange(len(known))) \
                    and np.array_equal(known, np.arange(len(known))):
                for i, row in enumerate(rows):  # the kept places first, in their order: the top-left block
                    matrix[i, : len(known)] = np.frombuffer(row, dtype=np.int64)
            else:
                old = np.empty((len(base.points), len(base.points)), dtype=np.int64)
                for i, row in enumerate(rows):
                    old[i] = np.frombuffer(row, dtype=np.int64)
                matrix[np.ix_(known, known)] = old[np.ix_(at[known], at[known])]
            matrix[new, :] = out
            matrix[:, new] = into
            result.append(matrix)
        return result[0], result[1]


def _shared(metres: np.ndarray, points: tuple[Point, ...], kept: list[_Kept]) -> Rows | None:
    """A kept metre matrix of the same points equal to ``metres`` (another mode's), to hold once."""
    for k in kept:
        if k.points == points and len(k.metres) == len(metres) and all(
                np.array_equal(np.frombuffer(row, dtype=np.int64), metres[i]) for i, row in enumerate(k.metres)):
            return k.metres
    return None


_SHARED: list[tuple[Settings, CachedTravel]] = []
_SHARED_LOCK = threading.Lock()


def shared_travel(settings: Settings) -> CachedTravel:
    """The process's cached provider for ``settings`` (an app's settings object lives as long as the app;
    another settings object replaces it, so two configurations never keep two days' worth)."""
    with _SHARED_LOCK:
        if not _SHARED or _SHARED[0][0] is not settings:
            _SHARED[:] = [(settings, CachedTravel(provider_from_settings(settings)))]
        return _SHARED[0][1]
