"""A travel matrix whose rows are computed when first read: what the live day's questions need.

A recommendation or a hand edit reads the rows of the places its routes pass through, each in
its worker's travel mode; a 10x day has 4,345 places and three modes, and the whole squares
(19 million cells each) were most of the first answer after a start.  Here a row is computed the
first time the optimizer reads it (``matrix[a][b]``) and kept, so a question costs the rows it
reads, and the next questions reuse them.

It is the optimizer's row format all the same (``problem_builder.matrix_rows``: a sequence of
``array('q')`` rows indexed ``m[a][b]``), and everything a sequence of rows does still works:
``len``, iteration, slices, ``numpy.asarray`` (all rows, computed in one block) and pickling (as
the plain tuple of rows).  The cells are the provider's, cell for cell what the whole square holds
(``dispatch.providers.travel.GeodesicRows``); only providers whose single rows are cheap offer this
(the offline estimate: an OSRM row is an HTTP request, so OSRM matrices are asked for whole).
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

RowMaker = Callable[[Sequence[int]], np.ndarray]
"""Computes the rows of the given source indices as an int64 block (one row per index, in order)."""


class RowsOnDemand(Sequence[array]):
    """``n`` rows of ``n`` int64 cells, each made by ``make`` when first read and then kept.

    Two threads reading the same new row may both compute it; they compute the same cells, and the
    one kept is either (a list slot is assigned atomically)."""

    __slots__ = ("_rows", "_make", "computed")

    def __init__(self, n: int, make: RowMaker) -> None:
        self._rows: list[array | None] = [None] * n
        self._make = make
        self.computed = 0
        """Rows computed so far (tests and benchmarks: a question costs the rows it reads)."""

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: Any) -> Any:  # type: ignore[override]
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self._rows))))
        if isinstance(i, tuple):  # m[a, b], as a numpy matrix is read
            a, b = i
            return self[a][b]
        row = self._rows[i]
        if row is None:
            row = self._fill([operator.index(i) % len(self._rows)])[0]
        return row

    def __iter__(self) -> Iterator[array]:
        self.fill_all()
        return iter(self._rows)  # type: ignore[arg-type]

    def _fill(self, indices: Sequence[int]) -> list[array]:
        block = np.ascontiguousarray(self._make(indices), dtype=np.int64)
        out = []
        for k, i in enumerate(indices):
            row = array("q", block[k].tobytes())
            self._rows[i] = row
            out.append(row)
        self.computed += len(indices)
        return out

    def fill_all(self) -> None:
        """Every row not computed yet, in blocks (a caller that reads the whole matrix)."""
        missing = [i for i, row in enumerate(self._rows) if row is None]
        for k in range(0, len(missing), 256):
            self._fill(missing[k:k + 256])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        self.fill_all()
        n = len(self._rows)
        out = np.empty((n, n), dtype=np.int64)
        for i, row in enumerate(self._rows):
            out[i] = np.frombuffer(row, dtype=np.int64)  # type: ignore[arg-type]
        return out if dtype is None else out.astype(dtype)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the plain tuple of rows (a process it is sent to gets the matrix, not the maker)."""
        return (tuple, (tuple(self),))

    def __repr__(self) -> str:
        return f"RowsOnDemand({len(self._rows)} rows, {self.computed} computed)"
