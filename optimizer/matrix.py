"""A travel matrix whose rows are made when first read: a region's day without its N x N square.

Why: a day of 10,000 visits has about 6,500 places; one dense square per travel mode (and one
of metres) held as rows of machine integers was 340 MB each, seven of them with the copies
``decompose`` made, and building them took most of the problem build (measured:
``benchmarks/README.md``, "A region's day on a modest machine").  The search never reads the
whole square: a large day is split into areas (``optimizer.decompose``), each solved on its own
small dense block, and only the passes across areas (the repair, the explanations, the KPIs and
the checker) read cells of the whole day, along routes and around the few unplaced visits.

``LazyMatrix`` is that square, read as before (``m[a][b]``, ``len(m)``, ``np.asarray(m)``):
row ``a`` is computed by ``cells([a], None)`` the first time it is read and kept; an area's block
is computed directly (``block``), without rows.  ``cells(sources, destinations)`` is whoever
knows the travel model (``dispatch.providers.travel.GeodesicProvider.lazy``: straight lines from
coordinates); it must answer a block cell for cell as the whole square would, so a plan is the
same whichever way its matrix was held (``tests/optimizer/test_matrix.py``).

It is a ``dict`` (row index -> row) on purpose: the hot loops read ``m[a][b]`` millions of
times, and a dict's own lookup, with ``__missing__`` only for a row not made yet, is as fast as
a tuple's; a Python-level ``__getitem__`` was several times slower per read.  It is not a
mapping to its users: iterating yields rows, ``len`` is the number of places.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

CellSource = Callable[[np.ndarray | None, np.ndarray | None], np.ndarray]
"""``cells(sources, destinations)``: the integer block of those rows and columns (None: all),
as a 2-D array ``len(sources) x len(destinations)``."""

_BAND = 256
"""Rows computed together when the whole square is walked (``__iter__``, ``__array__``)."""

_INT32 = np.iinfo(np.int32)


def as_row(values: np.ndarray) -> array:
    """One row as machine integers: 4 bytes a cell when every value fits, else 8."""
    if len(values) == 0 or (values.min() >= _INT32.min and values.max() <= _INT32.max):
        return array("i", np.ascontiguousarray(values, dtype=np.int32).tobytes())
    return array("q", np.ascontiguousarray(values, dtype=np.int64).tobytes())


class LazyMatrix(dict):  # type: ignore[type-arg]
    """An ``size`` x ``size`` integer matrix whose rows are computed from ``cells`` on first read.

    ``max_rows`` bounds the rows kept (the oldest go first); None keeps every row read, which
    at worst is the dense square as 4-byte integers.  Rows read so far are the dict's entries;
    ``rows_computed`` counts the rows made (tests and benchmarks: what a pass cost).
    """

    def __init__(self, size: int, cells: CellSource, max_rows: int | None = None) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f"a matrix size must not be negative, got {size}")
        self.size = size
        self.cells = cells
        self.max_rows = max_rows
        self.rows_computed = 0

    # ------------------------------------------------------------------ reading
    def __missing__(self, key: Any) -> Any:
        i = operator.index(key)
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(f"row {key} of a {self.size} x {self.size} matrix")
        if dict.__contains__(self, i):  # a negative index of a kept row
            return dict.__getitem__(self, i)
        row = self.keep(i, np.asarray(self.cells(np.array([i], dtype=np.int64), None))[0])
        self.rows_computed += 1
        return row

    def keep(self, i: int, values: np.ndarray) -> array:
        """Keep ``values`` as row ``i`` (its source made it along with another matrix's row:
        the metres of a minutes row); returns the kept row."""
        row = as_row(values)
        if self.max_rows is not None:
            while dict.__len__(self) >= max(1, self.max_rows):
                dict.__delitem__(self, next(dict.__iter__(self)))
        dict.__setitem__(self, i, row)
        return row

    def has_row(self, i: int) -> bool:
        """Whether row ``i`` is kept (reading it costs nothing)."""
        return dict.__contains__(self, i)

    def block(self, sources: Sequence[int] | np.ndarray | None,
              destinations: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The ``sources`` x ``destinations`` block (None: every place) as int64, computed directly
        (rows already kept are not reused: a block is made once per area)."""
        src = None if sources is None else np.asarray(sources, dtype=np.int64)
        dst = None if destinations is None else np.asarray(destinations, dtype=np.int64)
        return np.asarray(self.cells(src, dst), dtype=np.int64)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[array]:  # type: ignore[override]
        """Every row in order; rows not kept are made band by band and not kept (walking the
        whole square, to write it as JSON or compare it, must not keep it)."""
        for r0 in range(0, self.size, _BAND):
            rows = range(r0, min(self.size, r0 + _BAND))
            if all(dict.__contains__(self, i) for i in rows):
                yield from (dict.__getitem__(self, i) for i in rows)
                continue
            band = self.block(np.arange(rows.start, rows.stop), None)
            for i, values in zip(rows, band):
                yield dict.__getitem__(self, i) if dict.__contains__(self, i) else as_row(values)

    def __contains__(self, value: object) -> bool:
        return any(value == row for row in self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.block(None, None)
        return out if dtype is None else out.astype(dtype, copy=False)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        try:
            if len(other) != self.size:  # type: ignore[arg-type]
                return False
            return bool(np.array_equal(np.asarray(self), np.asarray(other, dtype=np.int64)))
        except (TypeError, ValueError):
            return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyMatrix({self.size} x {self.size}, {dict.__len__(self)} rows kept)"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (a queue task, a forked child) without its kept rows: they are made again.
        return (LazyMatrix, (self.size, self.cells, self.max_rows))

    def rows_kept(self) -> int:
        """Rows made and kept so far."""
        return dict.__len__(self)


def dense_block(matrix: Sequence[Sequence[int]], index: Sequence[int] | np.ndarray,
                whole: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """``matrix`` restricted to the places ``index`` (rows and columns), as int64.

    A lazy matrix computes just that block; a dense one is turned into one numpy array once
    (kept in ``whole`` by the matrix's id, when given, for the next block of the same matrix)."""
    idx = np.asarray(index, dtype=np.int64)
    if isinstance(matrix, LazyMatrix):
        return matrix.block(idx, idx)
    key = id(matrix)
    arr = None if whole is None else whole.get(key)
    if arr is None:
        arr = np.asarray(matrix, dtype=np.int64)
        if whole is not None:
            whole[key] = arr
    return arr[np.ix_(idx, idx)]


def is_lazy(matrix: object) -> bool:
    """Whether ``matrix`` makes its rows on demand."""
    return isinstance(matrix, LazyMatrix)


__all__ = ["CellSource", "LazyMatrix", "as_row", "dense_block", "is_lazy"]
