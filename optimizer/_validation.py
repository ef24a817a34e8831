"""The rules of the JSON format that a schema cannot state, and the errors every check raises.

Types, ranges, required and unknown keys follow from ``optimizer.model`` and are checked by
``optimizer._shape``.  What remains is relations *between* values: location indices against
the number of locations, matrix sizes, ids that must be unique or must exist, windows, shifts
and breaks in order, a visit that cannot depend on itself.  They are checked here, on the
typed problem or solution once its shape is known to be right, in document order; the first
fault raises a :class:`FormatError` naming the JSON path (``visits[3].windows[0].end``) and
what is wrong.

Each check is one function whose docstring states the rule: ``python -m optimizer.schema_gen``
lists those docstrings in ``optimizer/FORMAT.md`` ("What the reader checks beyond the schema").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

from optimizer.model import (
    Kpis,
    Location,
    Problem,
    Route,
    Shift,
    Solution,
    TimeWindow,
    TravelMode,
    Visit,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FormatError(ValueError):
    """A JSON document does not follow its carepath format.

    ``path`` locates the offending value the way one would write it in Python or jq
    (``visits[3].windows[0].end``; empty for the document as a whole) and ``message`` says
    what is wrong with it; ``str()`` gives both as ``"path: message"``.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path or '<document>'}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling passes ``str(self)`` as the only argument; keep both fields
        # so errors survive multiprocessing (the solver may run in a worker process).
        return (type(self), (self.path, self.message))


class ProblemFormatError(FormatError):
    """A problem document (``carepath-problem/1``) is malformed or inconsistent."""


class SolutionFormatError(FormatError):
    """A solution document (``carepath-solution/2``, or ``/1``) is malformed."""


# ----------------------------------------------------------------------------- paths


def key_path(path: str, key: str) -> str:
    """The path of ``key`` inside the object at ``path`` (odd keys are quoted, jq-style)."""
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def item_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def loc_path(loc: Iterable[str | int]) -> str:
    """The path of a location given as keys and indices (``("visits", 3, "id")``)."""
    path = ""
    for step in loc:
        path = item_path(path, step) if isinstance(step, int) else key_path(path, step)
    return path


def describe(value: Any) -> str:
    """A short rendering of a JSON value for error messages (``'abc'``, ``480.5``, ``an array``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ----------------------------------------------------------------------- problem rules


class _Faults:
    """Raises ``error`` at a path; ``entry`` finds where a set member was written."""

    def __init__(self, error: type[FormatError], doc: Mapping[str, Any]) -> None:
        self.error = error
        self.doc = doc

    def fail(self, path: str, message: str) -> NoReturn:
        raise self.error(path, message)

    def first_entry(self, loc: Sequence[str | int], members: Iterable[str]) -> tuple[str, str]:
        """Of ``members`` of the set at ``loc``, the one written first, and its path.

        Sets lose the order they were written in; the index in the error is the one in the
        document, so a person can find the entry (for a problem built in code, the index in
        its JSON form, where sets are sorted).
        """
        node: Any = self.doc
        for step in loc:
            node = node[step]
        written = list(node)
        index = min(written.index(m) for m in members)
        return item_path(loc_path(loc), index), written[index]


def _location_ids(f: _Faults, locations: Sequence[Location]) -> None:
    """Location ids are unique; ``lat`` and ``lon`` are given together or not at all."""
    seen: dict[str, int] = {}
    for i, loc in enumerate(locations):
        if loc.id in seen:
            f.fail(f"locations[{i}].id", f"duplicate location id {loc.id!r} (also locations[{seen[loc.id]}])")
        seen[loc.id] = i
        if (loc.lat is None) != (loc.lon is None):
            f.fail(f"locations[{i}]", "lat and lon must be given together")


def _matrix_shapes(f: _Faults, key: str, matrices: Mapping[TravelMode, Sequence[Sequence[int]]], n: int) -> None:
    """Every matrix in ``travel_times`` and ``distances`` is N x N for N locations."""
    shape = f"must be a {n}x{n} matrix (a row and a column per location)"
    for mode, rows in matrices.items():
        path = key_path(key, TravelMode(mode).value)
        if len(rows) != n:
            f.fail(path, f"{shape}, it has {len(rows)} rows")
        for i, row in enumerate(rows):
            if len(row) != n:
                f.fail(path, f"{shape}, row {i} has {len(row)} entries")


def _location_index(f: _Faults, path: str, index: int | None, n: int) -> None:
    """Location indices (``start_location``, ``end_location``, ``location``) are below the number of locations."""
    if index is not None and index >= n:
        f.fail(path, f"location index {index} out of range ({n} locations)")


def _shift_order(f: _Faults, path: str, shifts: Sequence[Shift]) -> None:
    """A shift ends after it starts; a worker's shifts are in time order and do not overlap;
    a break's start range is ordered and inside its shift."""
    for k, shift in enumerate(shifts):
        spath = item_path(path, k)
        if shift.end < shift.start:
            f.fail(f"{spath}.end", f"shift end {shift.end} is before its start {shift.start}")
        for b, rule in enumerate(shift.breaks):
            bpath = item_path(f"{spath}.breaks", b)
            if rule.latest < rule.earliest:
                f.fail(f"{bpath}.latest",
                       f"break latest start {rule.latest} is before its earliest start {rule.earliest}")
            if rule.earliest < shift.start or rule.latest > shift.end:
                f.fail(bpath, f"break start range [{rule.earliest}, {rule.latest}] "
                       f"is not inside its shift [{shift.start}, {shift.end}]")
        # Overtime is not counted here: it is an allowance, and the solver cannot use it to
        # run into the next shift anyway (a worker is in one route at a time).
        if k and shift.start < shifts[k - 1].end:
            f.fail(f"{spath}.start", f"shift start {shift.start} is before the previous shift's end "
                   f"{shifts[k - 1].end}; shifts must be in order and must not overlap")


def _workers(f: _Faults, p: Problem) -> None:
    """Worker ids are unique; each worker's travel mode has a ``travel_times`` matrix."""
    seen: set[str] = set()
    n = len(p.locations)
    for i, w in enumerate(p.workers):
        path = f"workers[{i}]"
        if w.id in seen:
            f.fail(f"{path}.id", f"duplicate worker id {w.id!r}")
        seen.add(w.id)
        if w.travel_mode not in p.travel_times:
            have = ", ".join(sorted(TravelMode(m).value for m in p.travel_times)) or "none"
            f.fail(f"{path}.travel_mode",
                   f"no travel_times matrix for travel mode {TravelMode(w.travel_mode).value!r} (have: {have})")
        _shift_order(f, f"{path}.shifts", w.shifts)
        _location_index(f, f"{path}.start_location", w.start_location, n)
        _location_index(f, f"{path}.end_location", w.end_location, n)


def _window_order(f: _Faults, path: str, windows: Sequence[TimeWindow]) -> None:
    """A window ends at or after its start; a visit's windows are in order and do not overlap."""
    for k, w in enumerate(windows):
        wpath = item_path(path, k)
        if w.end < w.start:
            f.fail(f"{wpath}.end", f"window end {w.end} is before its start {w.start}")
        if k and w.start <= windows[k - 1].end:
            f.fail(f"{wpath}.start", f"window start {w.start} is not after the previous window's end "
                   f"{windows[k - 1].end}; windows must be in order and must not overlap")


def _visit_workers(f: _Faults, i: int, v: Visit, workers: set[str]) -> None:
    """Every worker id a visit names (``required_workers``, ``preferred_workers``,
    ``forbidden_workers``, ``pinned_worker``) is a worker of the problem; a forbidden worker is
    not also required, preferred or pinned; ``gender_strict`` needs a ``gender_preference``."""
    path = f"visits[{i}]"
    for key in ("required_workers", "preferred_workers", "forbidden_workers"):
        unknown = getattr(v, key) - workers
        if unknown:
            wpath, wid = f.first_entry(("visits", i, key), unknown)
            f.fail(wpath, f"unknown worker {wid!r}")
    for key in ("required_workers", "preferred_workers"):
        clash = sorted(getattr(v, key) & v.forbidden_workers)
        if clash:
            f.fail(f"{path}.forbidden_workers", f"worker {clash[0]!r} is both forbidden and in {key}")
    if v.gender_strict and v.gender_preference is None:
        f.fail(f"{path}.gender_strict", "gender_strict needs a gender_preference")
    if v.pinned_worker is not None:
        if v.pinned_worker not in workers:
            f.fail(f"{path}.pinned_worker", f"unknown worker {v.pinned_worker!r}")
        if v.pinned_worker in v.forbidden_workers:
            f.fail(f"{path}.pinned_worker", f"pinned worker {v.pinned_worker!r} is in forbidden_workers")


def _visits(f: _Faults, p: Problem) -> None:
    """Visit ids are unique."""
    seen: set[str] = set()
    workers = {w.id for w in p.workers}
    n = len(p.locations)
    for i, v in enumerate(p.visits):
        path = f"visits[{i}]"
        if v.id in seen:
            f.fail(f"{path}.id", f"duplicate visit id {v.id!r}")
        seen.add(v.id)
        _location_index(f, f"{path}.location", v.location, n)
        _location_index(f, f"{path}.end_location", v.end_location, n)
        _window_order(f, f"{path}.windows", v.windows)
        _visit_workers(f, i, v, workers)


def _dependencies(f: _Faults, p: Problem) -> None:
    """A dependency joins two different visits of the problem; ``max_delay`` is at least ``min_delay``."""
    visits = {v.id for v in p.visits}
    for i, d in enumerate(p.dependencies):
        path = f"dependencies[{i}]"
        for key in ("before", "after"):
            vid = getattr(d, key)
            if vid not in visits:
                f.fail(f"{path}.{key}", f"dependency refers to unknown visit {vid!r}")
        if d.before == d.after:
            f.fail(f"{path}.after", f"visit {d.after!r} cannot depend on itself")
        if d.max_delay is not None and d.max_delay < d.min_delay:
            f.fail(f"{path}.max_delay", f"max_delay {d.max_delay} is less than min_delay {d.min_delay}")


def _rides(f: _Faults, p: Problem) -> None:
    """A ride's pickup and drop-off are two different one-person visits of the problem, and a
    visit is a leg of at most one ride."""
    needed = {v.id: v.workers_needed for v in p.visits}
    in_ride: dict[str, str] = {}
    for i, r in enumerate(p.rides):
        path = f"rides[{i}]"
        for key in ("pickup", "dropoff"):
            vid = getattr(r, key)
            if vid not in needed:
                f.fail(f"{path}.{key}", f"ride refers to unknown visit {vid!r}")
            if vid in in_ride:
                f.fail(f"{path}.{key}", f"visit {vid!r} is already part of a ride ({in_ride[vid]})")
            if needed[vid] != 1:
                f.fail(f"{path}.{key}", f"visit {vid!r} needs {needed[vid]} workers; a ride leg is one driver's")
        if r.pickup == r.dropoff:
            f.fail(f"{path}.dropoff", f"visit {r.dropoff!r} cannot be its own drop-off")
        in_ride[r.pickup] = in_ride[r.dropoff] = path


def _previous_plan(f: _Faults, p: Problem) -> None:
    """Every ``previous_plan`` entry names a visit and a worker of the problem, each pair once."""
    visits = {v.id for v in p.visits}
    workers = {w.id for w in p.workers}
    seen: set[tuple[str, str]] = set()
    for i, pv in enumerate(p.previous_plan):
        path = f"previous_plan[{i}]"
        if pv.visit_id not in visits:
            f.fail(f"{path}.visit_id", f"previous plan refers to unknown visit {pv.visit_id!r}")
        if pv.worker_id not in workers:
            f.fail(f"{path}.worker_id", f"previous plan refers to unknown worker {pv.worker_id!r}")
        if (pv.visit_id, pv.worker_id) in seen:
            f.fail(path, f"visit {pv.visit_id!r} is planned twice for worker {pv.worker_id!r}")
        seen.add((pv.visit_id, pv.worker_id))


def check_problem_rules(p: Problem, doc: Mapping[str, Any]) -> None:
    """Apply every problem rule to ``p``, read from ``doc`` (raises ``ProblemFormatError``)."""
    f = _Faults(ProblemFormatError, doc)
    _location_ids(f, p.locations)
    n = len(p.locations)
    _matrix_shapes(f, "travel_times", p.travel_times, n)
    _matrix_shapes(f, "distances", p.distances, n)
    _workers(f, p)
    _visits(f, p)
    _dependencies(f, p)
    _rides(f, p)
    _previous_plan(f, p)


PROBLEM_RULES: tuple[Callable[..., None], ...] = (
    _location_ids, _matrix_shapes, _location_index, _workers, _shift_order, _visits, _window_order,
    _visit_workers, _dependencies, _rides, _previous_plan,
)
"""The problem rules, in the order FORMAT.md lists them."""


# ---------------------------------------------------------------------- solution rules


def _route_times(f: _Faults, i: int, r: Route) -> None:
    """A route, each of its stops and each of its breaks ends at or after it starts."""
    path = f"routes[{i}]"
    if r.end < r.start:
        f.fail(f"{path}.end", f"route end {r.end} is before its start {r.start}")
    for k, s in enumerate(r.stops):
        if s.end < s.start:
            f.fail(f"{path}.stops[{k}].end", f"stop end {s.end} is before its start {s.start}")
    for k, b in enumerate(r.breaks):
        if b.end < b.start:
            f.fail(f"{path}.breaks[{k}].end", f"break end {b.end} is before its start {b.start}")


def _placed_by_priority(f: _Faults, k: Kpis) -> None:
    """In ``kpis.placed_by_priority`` no priority has more visits placed than in total."""
    for prio, (placed, total) in k.placed_by_priority.items():
        if placed > total:
            f.fail(key_path("kpis.placed_by_priority", str(prio)), f"placed {placed} is more than total {total}")


def check_solution_rules(s: Solution, doc: Mapping[str, Any]) -> None:
    """Apply the solution document's rules to ``s`` (raises ``SolutionFormatError``).

    Only the document itself: whether the plan fits a problem is the checker's business.
    """
    f = _Faults(SolutionFormatError, doc)
    for i, r in enumerate(s.routes):
        _route_times(f, i, r)
    if s.kpis is not None:
        _placed_by_priority(f, s.kpis)


SOLUTION_RULES: tuple[Callable[..., None], ...] = (_route_times, _placed_by_priority)
"""The solution rules, in the order FORMAT.md lists them."""
