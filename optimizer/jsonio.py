"""The documented JSON format of optimizer problems and solutions.

JSON is how problems leave the process: the CLI (``carepath solve problem.json``), the
HTTP API, benchmark instances and bug reports all carry a problem as a file, so the format
is a public contract, versioned by the ``"format"`` key (``carepath-problem/1``,
``carepath-solution/1``).  ``optimizer/FORMAT.md`` describes it for people and
``optimizer/schema/*.schema.json`` for machines; this module is the reference reader and
writer.

Design choices, and why:

* The JSON mirrors ``optimizer.model`` one to one (same key names, same nesting), so the
  dataclass docstrings document the JSON too and nothing needs translating in one's head.
* Fields at their default are left out on output, and may be left out on input: a typical
  visit is four keys, not twenty, which keeps files small and diffs readable.
* Reading validates everything the solver would otherwise trip over later, far from the
  cause: types, ranges, matrix shapes, window order and every cross-reference (location
  indices, worker and visit ids).  The first problem found raises
  :class:`ProblemFormatError` naming the JSON path and what is wrong.
* Writing does not validate (a broken problem can still be dumped to look at it);
  :func:`check_problem` validates a :class:`Problem` built in code.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import MISSING, fields, is_dataclass
from enum import Enum
from functools import cache
from collections.abc import Iterable, Mapping
from typing import Any

from optimizer._validation import (
    REQUIRED,
    FormatError,
    Obj,
    ProblemFormatError,
    Reader,
    SolutionFormatError,
    describe,
    item_path,
    key_path,
)
from optimizer.model import (
    BreakRule,
    BreakTaken,
    Dependency,
    Gender,
    Kpis,
    Location,
    PlannedVisit,
    Problem,
    ReasonCode,
    Ride,
    Route,
    Shift,
    Solution,
    SolveStats,
    Stop,
    TimeWindow,
    TravelMode,
    Unassigned,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)

__all__ = [
    "PROBLEM_FORMAT",
    "SOLUTION_FORMAT",
    "FormatError",
    "ProblemFormatError",
    "SolutionFormatError",
    "problem_to_dict",
    "problem_from_dict",
    "solution_to_dict",
    "solution_from_dict",
    "read_problem",
    "write_problem",
    "read_solution",
    "write_solution",
    "check_problem",
    "dumps",
]

PROBLEM_FORMAT = "carepath-problem/1"
SOLUTION_FORMAT = "carepath-solution/1"

PathLike = str | os.PathLike[str]


# =========================================================================== writing


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(cls: type) -> dict[str, Any]:
    """Field name -> default value of a dataclass (fields without a default are absent)."""
    if cls not in _DEFAULTS:
        out: dict[str, Any] = {}
        for f in fields(cls):
            if f.default is not MISSING:
                out[f.name] = f.default
            elif f.default_factory is not MISSING:
                out[f.name] = f.default_factory()
        _DEFAULTS[cls] = out
    return _DEFAULTS[cls]


def _encode(obj: Any, **encoded: Any) -> dict[str, Any]:
    """The JSON object for dataclass ``obj``, leaving out fields whose value is the default.

    ``encoded`` gives the JSON form of each field in output order; the decision to omit is
    made on the Python value, so e.g. an empty skill set is omitted however it was spelled.
    """
    defaults = _defaults(type(obj))
    out: dict[str, Any] = {}
    for name, value in encoded.items():
        if name in defaults and getattr(obj, name) == defaults[name]:
            continue
        out[name] = value
    return out


def _enum(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _sorted(values: Iterable[str]) -> list[str]:
    return sorted(values)


def _int_map(m: Mapping[str, int]) -> dict[str, int]:
    return {k: m[k] for k in sorted(m)}


def _matrix(rows: Iterable[Iterable[int]]) -> list[list[int]]:
    return [list(row) for row in rows]


def _matrices(by_mode: Mapping[Any, Iterable[Iterable[int]]]) -> dict[str, list[list[int]]]:
    # Keys may be TravelMode or its plain string value (it is a str enum); write the value.
    encoded = {TravelMode(k).value: _matrix(v) for k, v in by_mode.items()}
    return {k: encoded[k] for k in sorted(encoded)}


def _plain(value: Any, path: str) -> Any:
    """Free-form values (``Unassigned.details``, ``SolveStats.parameters``) as JSON values.

    Tuples become arrays (and so come back as lists); anything JSON cannot hold is a
    programming error in the caller, reported with its path rather than as json's TypeError
    about "Object of type X" with no hint where it was.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} cannot be written as JSON")
        return value
    if isinstance(value, Enum):
        return _plain(value.value, path)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{path}: JSON object keys must be strings, got {k!r}")
            out[k] = _plain(v, key_path(path, k))
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, item_path(path, i)) for i, v in enumerate(value)]
    raise TypeError(f"{path}: {type(value).__name__} cannot be written as JSON")


def _float(value: float, path: str) -> float:
    if not math.isfinite(value):
        # json.dump would write NaN, which is not JSON and which strict readers reject.
        raise ValueError(f"{path}: {value!r} cannot be written as JSON")
    return value


def _location_to(loc: Location) -> dict[str, Any]:
    return _encode(loc, id=loc.id, lat=loc.lat, lon=loc.lon)


def _shift_to(s: Shift) -> dict[str, Any]:
    return _encode(
        s,
        start=s.start,
        end=s.end,
        max_overtime=s.max_overtime,
        breaks=[{"duration": b.duration, "earliest": b.earliest, "latest": b.latest} for b in s.breaks],
    )


def _worker_to(w: Worker) -> dict[str, Any]:
    return _encode(
        w,
        id=w.id,
        kind=_enum(w.kind),
        travel_mode=_enum(w.travel_mode),
        shifts=[_shift_to(s) for s in w.shifts],
        start_location=w.start_location,
        end_location=w.end_location,
        skills=_sorted(w.skills),
        gender=_enum(w.gender),
        max_work_minutes=w.max_work_minutes,
        capacity=_int_map(w.capacity),
    )


def _visit_to(v: Visit) -> dict[str, Any]:
    by_kind = {WorkerKind(k).value: d for k, d in v.duration_by_kind.items()}
    return _encode(
        v,
        id=v.id,
        client_id=v.client_id,
        location=v.location,
        end_location=v.end_location,
        duration=v.duration,
        duration_by_kind={k: by_kind[k] for k in sorted(by_kind)},
        windows=[{"start": w.start, "end": w.end} for w in v.windows],
        soft_windows=v.soft_windows,
        max_lateness=v.max_lateness,
        mandatory=v.mandatory,
        priority=v.priority,
        required_skills=_sorted(v.required_skills),
        worker_kinds=sorted(WorkerKind(k).value for k in v.worker_kinds),
        workers_needed=v.workers_needed,
        required_workers=_sorted(v.required_workers),
        preferred_workers=_sorted(v.preferred_workers),
        forbidden_workers=_sorted(v.forbidden_workers),
        gender_preference=_enum(v.gender_preference),
        gender_strict=v.gender_strict,
        pinned_worker=v.pinned_worker,
        pinned_start=v.pinned_start,
        demand=_int_map(v.demand),
    )


def problem_to_dict(p: Problem) -> dict[str, Any]:
    """The JSON document (a dict of JSON values) for ``p``; defaults are left out."""
    deps = [
        _encode(d, before=d.before, after=d.after, min_delay=d.min_delay, max_delay=d.max_delay,
                different_workers=d.different_workers, both_or_neither=d.both_or_neither)
        for d in p.dependencies
    ]
    rides = [
        _encode(r, pickup=r.pickup, dropoff=r.dropoff, load=_int_map(r.load), max_ride_time=r.max_ride_time)
        for r in p.rides
    ]
    plan = [{"visit_id": x.visit_id, "worker_id": x.worker_id, "start": x.start} for x in p.previous_plan]
    weights = _encode(p.weights, **{f.name: getattr(p.weights, f.name) for f in fields(Weights)})
    return {"format": PROBLEM_FORMAT} | _encode(
        p,
        name=p.name,
        locations=[_location_to(loc) for loc in p.locations],
        travel_times=_matrices(p.travel_times),
        distances=_matrices(p.distances),
        workers=[_worker_to(w) for w in p.workers],
        visits=[_visit_to(v) for v in p.visits],
        dependencies=deps,
        rides=rides,
        previous_plan=plan,
        freeze_until=p.freeze_until,
        weights=weights,
    )


def _route_to(r: Route) -> dict[str, Any]:
    stops = [
        {
            "visit_id": s.visit_id,
            "location": s.location,
            "arrival": s.arrival,
            "start": s.start,
            "end": s.end,
            "travel": s.travel,
            "waiting": s.waiting,
        }
        for s in r.stops
    ]
    return _encode(
        r,
        worker_id=r.worker_id,
        shift_index=r.shift_index,
        start=r.start,
        end=r.end,
        stops=stops,
        breaks=[{"start": b.start, "end": b.end} for b in r.breaks],
        travel_minutes=r.travel_minutes,
        service_minutes=r.service_minutes,
        waiting_minutes=r.waiting_minutes,
        overtime_minutes=r.overtime_minutes,
        distance_m=r.distance_m,
    )


def _kpis_to(k: Kpis) -> dict[str, Any]:
    by_priority = {
        str(prio): [placed, total]
        for prio, (placed, total) in sorted(k.placed_by_priority.items())
    }
    return _encode(
        k,
        visits_total=k.visits_total,
        visits_placed=k.visits_placed,
        mandatory_total=k.mandatory_total,
        mandatory_placed=k.mandatory_placed,
        placed_by_priority=by_priority,
        travel_minutes=k.travel_minutes,
        service_minutes=k.service_minutes,
        waiting_minutes=k.waiting_minutes,
        work_minutes=k.work_minutes,
        overtime_minutes=k.overtime_minutes,
        lateness_minutes=k.lateness_minutes,
        utilisation=_float(k.utilisation, "kpis.utilisation"),
        continuity_share=_float(k.continuity_share, "kpis.continuity_share"),
        workers_used=k.workers_used,
        distance_m=k.distance_m,
        max_lateness_minutes=k.max_lateness_minutes,
    )


def _stats_to(s: SolveStats) -> dict[str, Any]:
    return _encode(
        s,
        status=s.status,
        objective=s.objective,
        elapsed_s=_float(s.elapsed_s, "stats.elapsed_s"),
        solutions_found=s.solutions_found,
        time_limit_s=None if s.time_limit_s is None else _float(s.time_limit_s, "stats.time_limit_s"),
        seed=s.seed,
        parameters=_plain(s.parameters, "stats.parameters"),
    )


def solution_to_dict(s: Solution) -> dict[str, Any]:
    """The JSON document for ``s``; defaults are left out.

    ``Unassigned.details`` and ``SolveStats.parameters`` are written as JSON values, so
    tuples in them read back as lists.  Non-finite floats are refused (``ValueError``):
    NaN is not JSON.
    """
    unassigned = [
        _encode(
            u,
            visit_id=u.visit_id,
            reason=_enum(u.reason),
            message_en=u.message_en,
            message_pl=u.message_pl,
            details=_plain(u.details, f"unassigned[{i}].details"),
        )
        for i, u in enumerate(s.unassigned)
    ]
    return {"format": SOLUTION_FORMAT} | _encode(
        s,
        routes=[_route_to(r) for r in s.routes],
        unassigned=unassigned,
        kpis=None if s.kpis is None else _kpis_to(s.kpis),
        stats=None if s.stats is None else _stats_to(s.stats),
    )


# =========================================================================== reading


@cache
def _keys(cls: type) -> frozenset[str]:
    """The JSON keys of a dataclass: exactly its field names."""
    assert is_dataclass(cls)
    return frozenset(f.name for f in fields(cls))


def _document(r: Reader, d: Any, fmt: str, cls: type) -> Obj:
    """The top-level object, after checking the format marker.

    The marker is checked before unknown keys so that a solution passed where a problem is
    expected says so, instead of complaining about an unknown key ``routes``.
    """
    doc = r.object(d, "", _keys(cls) | {"format"}, check_unknown=False)
    if "format" not in doc.value:
        r.fail("format", f"missing format marker; expected \"format\": \"{fmt}\"")
    found = doc.value["format"]
    if found != fmt:
        kind = fmt.split("/")[0]
        if isinstance(found, str) and found.startswith(kind + "/"):
            r.fail("format", f"unsupported format version {found!r}; this reader understands {fmt!r}")
        r.fail("format", f"expected {fmt!r}, got {found!r}")
    doc.reject_unknown()
    return doc


class _ProblemReader:
    """Reads one problem document, keeping what later sections are checked against."""

    def __init__(self) -> None:
        self.r = Reader(ProblemFormatError)
        self.n_locations = 0
        self.worker_ids: set[str] = set()
        self.visit_ids: set[str] = set()

    def fail(self, path: str, message: str) -> Any:
        self.r.fail(path, message)

    # ------------------------------------------------------------------ helpers

    def location_index(self, o: Obj, key: str, default: Any = REQUIRED) -> Any:
        index = o.integer(key, default)
        if index is None:
            return None
        if not 0 <= index < self.n_locations:
            self.fail(o.path(key), f"location index {index} out of range ({self.n_locations} locations)")
        return index

    def worker_refs(self, o: Obj, key: str) -> frozenset[str]:
        ids = o.string_set(key)
        for i, wid in enumerate(o.value.get(key) or []):
            if wid not in self.worker_ids:
                self.fail(item_path(o.path(key), i), f"unknown worker {wid!r}")
        return ids

    def matrices(self, o: Obj, key: str, default: Any) -> dict[TravelMode, tuple[tuple[int, ...], ...]]:
        """One n x n matrix of non-negative integers per travel mode (``{"car": [[...]]}``)."""
        n = self.n_locations
        path = o.path(key)
        out: dict[TravelMode, tuple[tuple[int, ...], ...]] = {}
        for mode_name, rows in self.r.mapping(o.raw(key, default), path).items():
            mpath = key_path(path, mode_name)
            mode = self.r.enum(mode_name, mpath, TravelMode, "travel mode")
            shape = f"must be a {n}x{n} matrix (a row and a column per location)"
            if not isinstance(rows, list) or len(rows) != n:
                got = f"it has {len(rows)} rows" if isinstance(rows, list) else f"got {describe(rows)}"
                self.fail(mpath, f"{shape}, {got}")
            matrix = []
            for i, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != n:
                    got = f"has {len(row)} entries" if isinstance(row, list) else f"is {describe(row)}"
                    self.fail(mpath, f"{shape}, row {i} {got}")
                rpath = item_path(mpath, i)
                matrix.append(tuple(
                    self.r.integer(x, item_path(rpath, j), minimum=0) for j, x in enumerate(row)
                ))
            out[mode] = tuple(matrix)
        return out

    def windows(self, o: Obj, key: str) -> tuple[TimeWindow, ...]:
        out: list[TimeWindow] = []
        for value, path in o.array(key, min_items=1):
            w = self.r.object(value, path, _keys(TimeWindow))
            start = w.integer("start", minimum=0)
            end = w.integer("end", minimum=0)
            if end < start:
                self.fail(w.path("end"), f"window end {end} is before its start {start}")
            if out and start <= out[-1].end:
                self.fail(w.path("start"), f"window start {start} is not after the previous window's end "
                          f"{out[-1].end}; windows must be in order and must not overlap")
            out.append(TimeWindow(start, end))
        return tuple(out)

    # ----------------------------------------------------------------- sections

    def location(self, value: Any, path: str) -> Location:
        o = self.r.object(value, path, _keys(Location))
        loc = Location(
            id=o.string("id", nonempty=True),
            lat=o.number("lat", None, minimum=-90, maximum=90),
            lon=o.number("lon", None, minimum=-180, maximum=180),
        )
        if (loc.lat is None) != (loc.lon is None):
            self.fail(path, "lat and lon must be given together")
        return loc

    def shift(self, value: Any, path: str) -> Shift:
        o = self.r.object(value, path, _keys(Shift))
        start = o.integer("start", minimum=0)
        end = o.integer("end", minimum=0)
        if end < start:
            self.fail(o.path("end"), f"shift end {end} is before its start {start}")
        breaks = []
        for bvalue, bpath in o.array("breaks", ()):
            b = self.r.object(bvalue, bpath, _keys(BreakRule))
            rule = BreakRule(
                duration=b.integer("duration", minimum=1),
                earliest=b.integer("earliest", minimum=0),
                latest=b.integer("latest", minimum=0),
            )
            if rule.latest < rule.earliest:
                self.fail(b.path("latest"),
                          f"break latest start {rule.latest} is before its earliest start {rule.earliest}")
            if rule.earliest < start or rule.latest > end:
                self.fail(bpath, f"break start range [{rule.earliest}, {rule.latest}] "
                          f"is not inside its shift [{start}, {end}]")
            breaks.append(rule)
        return Shift(start=start, end=end, max_overtime=o.integer("max_overtime", 0, minimum=0),
                     breaks=tuple(breaks))

    def worker(self, value: Any, path: str, travel_modes: Iterable[TravelMode]) -> Worker:
        o = self.r.object(value, path, _keys(Worker))
        wid = o.string("id", nonempty=True)
        if wid in self.worker_ids:
            self.fail(o.path("id"), f"duplicate worker id {wid!r}")
        kind = o.enum("kind", WorkerKind, "worker kind")
        mode = o.enum("travel_mode", TravelMode, "travel mode", TravelMode.CAR)
        if mode not in travel_modes:
            have = ", ".join(sorted(m.value for m in travel_modes)) or "none"
            self.fail(o.path("travel_mode"), f"no travel_times matrix for travel mode {mode.value!r} (have: {have})")
        shifts: list[Shift] = []
        for svalue, spath in o.array("shifts"):
            shift = self.shift(svalue, spath)
            # Overtime is not counted here: it is an allowance, and the solver cannot use it
            # to run into the next shift anyway (a worker is in one route at a time).
            if shifts and shift.start < shifts[-1].end:
                self.fail(key_path(spath, "start"), f"shift start {shift.start} is before the previous shift's end "
                          f"{shifts[-1].end}; shifts must be in order and must not overlap")
            shifts.append(shift)
        worker = Worker(
            id=wid,
            kind=kind,
            travel_mode=mode,
            shifts=tuple(shifts),
            start_location=self.location_index(o, "start_location"),
            end_location=self.location_index(o, "end_location"),
            skills=o.string_set("skills"),
            gender=o.enum("gender", Gender, "gender", None),
            max_work_minutes=o.integer("max_work_minutes", None, minimum=0),
            capacity=o.int_map("capacity", minimum=0),
        )
        self.worker_ids.add(wid)
        return worker

    def visit(self, value: Any, path: str) -> Visit:
        o = self.r.object(value, path, _keys(Visit))
        vid = o.string("id", nonempty=True)
        if vid in self.visit_ids:
            self.fail(o.path("id"), f"duplicate visit id {vid!r}")
        location = self.location_index(o, "location")
        end_location = self.location_index(o, "end_location", None)
        duration = o.integer("duration", minimum=0)
        by_kind: dict[WorkerKind, int] = {}
        bpath = o.path("duration_by_kind")
        for kind_name, minutes in self.r.mapping(o.raw("duration_by_kind", {}), bpath).items():
            kpath = key_path(bpath, kind_name)
            kind = self.r.enum(kind_name, kpath, WorkerKind, "worker kind")
            by_kind[kind] = self.r.integer(minutes, kpath, minimum=0)
        windows = self.windows(o, "windows")
        # max_lateness without soft_windows is ignored by the solver, not an error: the
        # dispatch layer copies both from the request as they are.
        soft = o.boolean("soft_windows", False)
        max_lateness = o.integer("max_lateness", 0, minimum=0)
        required = self.worker_refs(o, "required_workers")
        preferred = self.worker_refs(o, "preferred_workers")
        forbidden = self.worker_refs(o, "forbidden_workers")
        for name, ids in (("required_workers", required), ("preferred_workers", preferred)):
            clash = sorted(ids & forbidden)
            if clash:
                self.fail(o.path("forbidden_workers"), f"worker {clash[0]!r} is both forbidden and in {name}")
        gender = o.enum("gender_preference", Gender, "gender", None)
        strict = o.boolean("gender_strict", False)
        if strict and gender is None:
            self.fail(o.path("gender_strict"), "gender_strict needs a gender_preference")
        pinned = o.string("pinned_worker", None, nonempty=True)
        if pinned is not None:
            if pinned not in self.worker_ids:
                self.fail(o.path("pinned_worker"), f"unknown worker {pinned!r}")
            if pinned in forbidden:
                self.fail(o.path("pinned_worker"), f"pinned worker {pinned!r} is in forbidden_workers")
        visit = Visit(
            id=vid,
            location=location,
            duration=duration,
            windows=windows,
            duration_by_kind=by_kind,
            required_skills=o.string_set("required_skills"),
            worker_kinds=o.enum_set("worker_kinds", WorkerKind, "worker kind"),
            mandatory=o.boolean("mandatory", False),
            priority=o.integer("priority", 1, minimum=1, maximum=5),
            soft_windows=soft,
            max_lateness=max_lateness,
            required_workers=required,
            preferred_workers=preferred,
            forbidden_workers=forbidden,
            gender_preference=gender,
            gender_strict=strict,
            workers_needed=o.integer("workers_needed", 1, minimum=1),
            pinned_worker=pinned,
            pinned_start=o.integer("pinned_start", None, minimum=0),
            demand=o.int_map("demand", minimum=0),
            client_id=o.string("client_id", None, nonempty=True),
            end_location=end_location,
        )
        self.visit_ids.add(vid)
        return visit

    def dependency(self, value: Any, path: str) -> Dependency:
        o = self.r.object(value, path, _keys(Dependency))
        ids = {}
        for key in ("before", "after"):
            ids[key] = o.string(key, nonempty=True)
            if ids[key] not in self.visit_ids:
                self.fail(o.path(key), f"dependency refers to unknown visit {ids[key]!r}")
        if ids["before"] == ids["after"]:
            self.fail(o.path("after"), f"visit {ids['after']!r} cannot depend on itself")
        dep = Dependency(
            before=ids["before"],
            after=ids["after"],
            min_delay=o.integer("min_delay", 0, minimum=0),
            max_delay=o.integer("max_delay", None, minimum=0),
            different_workers=o.boolean("different_workers", False),
            both_or_neither=o.boolean("both_or_neither", False),
        )
        if dep.max_delay is not None and dep.max_delay < dep.min_delay:
            self.fail(o.path("max_delay"), f"max_delay {dep.max_delay} is less than min_delay {dep.min_delay}")
        return dep

    def ride(self, value: Any, path: str, in_ride: dict[str, str], needed: dict[str, int]) -> Ride:
        o = self.r.object(value, path, _keys(Ride))
        ids = {}
        for key in ("pickup", "dropoff"):
            ids[key] = o.string(key, nonempty=True)
            if ids[key] not in self.visit_ids:
                self.fail(o.path(key), f"ride refers to unknown visit {ids[key]!r}")
            if ids[key] in in_ride:
                self.fail(o.path(key), f"visit {ids[key]!r} is already part of a ride ({in_ride[ids[key]]})")
            if needed[ids[key]] != 1:
                self.fail(o.path(key), f"visit {ids[key]!r} needs {needed[ids[key]]} workers; a ride leg is one driver's")
        if ids["pickup"] == ids["dropoff"]:
            self.fail(o.path("dropoff"), f"visit {ids['dropoff']!r} cannot be its own drop-off")
        for key in ("pickup", "dropoff"):
            in_ride[ids[key]] = path
        return Ride(
            pickup=ids["pickup"],
            dropoff=ids["dropoff"],
            load=o.int_map("load", minimum=0),
            max_ride_time=o.integer("max_ride_time", None, minimum=0),
        )

    def planned(self, value: Any, path: str, seen: set[tuple[str, str]]) -> PlannedVisit:
        o = self.r.object(value, path, _keys(PlannedVisit))
        pv = PlannedVisit(
            visit_id=o.string("visit_id", nonempty=True),
            worker_id=o.string("worker_id", nonempty=True),
            start=o.integer("start", minimum=0),
        )
        if pv.visit_id not in self.visit_ids:
            self.fail(o.path("visit_id"), f"previous plan refers to unknown visit {pv.visit_id!r}")
        if pv.worker_id not in self.worker_ids:
            self.fail(o.path("worker_id"), f"previous plan refers to unknown worker {pv.worker_id!r}")
        if (pv.visit_id, pv.worker_id) in seen:
            self.fail(path, f"visit {pv.visit_id!r} is planned twice for worker {pv.worker_id!r}")
        seen.add((pv.visit_id, pv.worker_id))
        return pv

    def weights(self, doc: Obj) -> Weights:
        if "weights" not in doc.value:
            return Weights()
        o = self.r.object(doc.value["weights"], doc.path("weights"), _keys(Weights))
        defaults = _defaults(Weights)
        return Weights(**{name: o.integer(name, defaults[name], minimum=0) for name in sorted(_keys(Weights))})

    def problem(self, d: Any) -> Problem:
        doc = _document(self.r, d, PROBLEM_FORMAT, Problem)
        name = doc.string("name", "")
        locations = tuple(self.location(v, p) for v, p in doc.array("locations", min_items=1))
        seen_ids: dict[str, int] = {}
        for i, loc in enumerate(locations):
            if loc.id in seen_ids:
                self.fail(f"locations[{i}].id",
                          f"duplicate location id {loc.id!r} (also locations[{seen_ids[loc.id]}])")
            seen_ids[loc.id] = i
        self.n_locations = len(locations)
        travel = self.matrices(doc, "travel_times", REQUIRED)
        if not travel:
            self.fail("travel_times", "needs at least one travel-time matrix")
        distances = self.matrices(doc, "distances", {})
        workers = tuple(self.worker(v, p, travel) for v, p in doc.array("workers"))
        visits = tuple(self.visit(v, p) for v, p in doc.array("visits"))
        deps = tuple(self.dependency(v, p) for v, p in doc.array("dependencies", ()))
        in_ride: dict[str, str] = {}
        needed = {v.id: v.workers_needed for v in visits}
        rides = tuple(self.ride(v, p, in_ride, needed) for v, p in doc.array("rides", ()))
        seen: set[tuple[str, str]] = set()
        plan = tuple(self.planned(v, p, seen) for v, p in doc.array("previous_plan", ()))
        return Problem(
            locations=locations,
            travel_times=travel,
            workers=workers,
            visits=visits,
            dependencies=deps,
            rides=rides,
            distances=distances,
            previous_plan=plan,
            freeze_until=doc.integer("freeze_until", None, minimum=0),
            weights=self.weights(doc),
            name=name,
        )


def problem_from_dict(d: Mapping[str, Any]) -> Problem:
    """Validate a problem document and build the :class:`Problem`.

    Raises :class:`ProblemFormatError` (a ``ValueError``) at the first problem found.
    """
    return _ProblemReader().problem(d)


def check_problem(p: Problem) -> None:
    """Apply the reader's checks to a problem built in code (raises ``ProblemFormatError``).

    Paths in the error are those of the JSON form of ``p``, which mirrors the dataclasses.
    """
    problem_from_dict(problem_to_dict(p))


# ------------------------------------------------------------------- solution


def _route_from(r: Reader, value: Any, path: str) -> Route:
    o = r.object(value, path, _keys(Route))
    start = o.integer("start", minimum=0)
    end = o.integer("end", minimum=0)
    if end < start:
        r.fail(o.path("end"), f"route end {end} is before its start {start}")
    stops = []
    for svalue, spath in o.array("stops"):
        s = r.object(svalue, spath, _keys(Stop))
        stop = Stop(
            visit_id=s.string("visit_id", nonempty=True),
            location=s.integer("location", minimum=0),
            arrival=s.integer("arrival", minimum=0),
            start=s.integer("start", minimum=0),
            end=s.integer("end", minimum=0),
            travel=s.integer("travel", minimum=0),
            waiting=s.integer("waiting", minimum=0),
        )
        if stop.end < stop.start:
            r.fail(s.path("end"), f"stop end {stop.end} is before its start {stop.start}")
        stops.append(stop)
    breaks = []
    for bvalue, bpath in o.array("breaks", ()):
        b = r.object(bvalue, bpath, _keys(BreakTaken))
        taken = BreakTaken(start=b.integer("start", minimum=0), end=b.integer("end", minimum=0))
        if taken.end < taken.start:
            r.fail(b.path("end"), f"break end {taken.end} is before its start {taken.start}")
        breaks.append(taken)
    return Route(
        worker_id=o.string("worker_id", nonempty=True),
        shift_index=o.integer("shift_index", minimum=0),
        start=start,
        end=end,
        stops=tuple(stops),
        breaks=tuple(breaks),
        travel_minutes=o.integer("travel_minutes", 0, minimum=0),
        service_minutes=o.integer("service_minutes", 0, minimum=0),
        waiting_minutes=o.integer("waiting_minutes", 0, minimum=0),
        overtime_minutes=o.integer("overtime_minutes", 0, minimum=0),
        distance_m=o.integer("distance_m", None, minimum=0),
    )


def _kpis_from(r: Reader, o: Obj) -> Kpis:
    by_priority: dict[int, tuple[int, int]] = {}
    ppath = o.path("placed_by_priority")
    for key, pair in r.mapping(o.raw("placed_by_priority"), ppath).items():
        kpath = key_path(ppath, key)
        try:
            prio = int(key)
        except ValueError:
            prio = None
        if prio is None or str(prio) != key:
            r.fail(kpath, f"priority key must be an integer written as a string, got {key!r}")
        items = r.array(pair, kpath)
        if len(items) != 2:
            r.fail(kpath, f"must be [placed, total], got {len(items)} numbers")
        placed, total = (r.integer(v, p, minimum=0) for v, p in items)
        if placed > total:
            r.fail(kpath, f"placed {placed} is more than total {total}")
        by_priority[prio] = (placed, total)
    ints = {
        name: o.integer(name, minimum=0)
        for name in ("visits_total", "visits_placed", "mandatory_total", "mandatory_placed",
                     "travel_minutes", "service_minutes", "waiting_minutes", "work_minutes",
                     "overtime_minutes", "lateness_minutes", "workers_used")
    }
    return Kpis(
        placed_by_priority=by_priority,
        utilisation=o.number("utilisation", minimum=0),
        continuity_share=o.number("continuity_share", minimum=0, maximum=1),
        distance_m=o.integer("distance_m", None, minimum=0),
        max_lateness_minutes=o.integer("max_lateness_minutes", 0, minimum=0),
        **ints,
    )


def _stats_from(o: Obj) -> SolveStats:
    return SolveStats(
        status=o.string("status", nonempty=True),
        objective=o.integer("objective"),
        elapsed_s=o.number("elapsed_s", minimum=0),
        solutions_found=o.integer("solutions_found", minimum=0),
        time_limit_s=o.number("time_limit_s", None, minimum=0),
        seed=o.integer("seed"),
        parameters=o.json_object("parameters"),
    )


def solution_from_dict(d: Mapping[str, Any]) -> Solution:
    """Validate a solution document and build the :class:`Solution`.

    Only the document itself is checked (types, ranges, ``end >= start``); whether the
    solution fits a problem is the checker's business, not the file format's.
    Raises :class:`SolutionFormatError` (a ``ValueError``).
    """
    r = Reader(SolutionFormatError)
    doc = _document(r, d, SOLUTION_FORMAT, Solution)
    routes = tuple(_route_from(r, v, p) for v, p in doc.array("routes"))
    unassigned = []
    for value, path in doc.array("unassigned"):
        o = r.object(value, path, _keys(Unassigned))
        unassigned.append(Unassigned(
            visit_id=o.string("visit_id", nonempty=True),
            reason=o.enum("reason", ReasonCode, "reason code"),
            message_en=o.string("message_en"),
            message_pl=o.string("message_pl"),
            details=o.json_object("details"),
        ))
    kpis = doc.object("kpis", _keys(Kpis), None)
    stats = doc.object("stats", _keys(SolveStats), None)
    return Solution(
        routes=routes,
        unassigned=tuple(unassigned),
        kpis=None if kpis is None else _kpis_from(r, kpis),
        stats=None if stats is None else _stats_from(stats),
    )


# ====================================================================== files


def dumps(doc: Mapping[str, Any]) -> str:
    """JSON text for a document: indented, but short values, number rows and records on one line.

    Plain ``indent=2`` puts every matrix entry on its own line (a 50-location matrix
    becomes 2,500 lines) and every field of every stop on its own line.  Here arrays of
    scalars (matrix rows) and flat objects inside arrays (stops, windows, locations) always
    stay on one line each, and any other value whose compact form fits in the line width
    is written compactly: files stay small and still diff line by line.
    """
    return _format(doc, 0, 0) + "\n"


_WIDTH = 100


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _flat(value: Any) -> bool:
    """An object of scalars only: a record that reads best on one line."""
    return isinstance(value, dict) and not any(isinstance(v, (dict, list)) for v in value.values())


def _format(value: Any, indent: int, used: int) -> str:
    compact = _compact(value)
    if not isinstance(value, (dict, list)) or not value:
        return compact
    if used + len(compact) <= _WIDTH:
        return compact
    if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            lines.append(pad + key + _format(v, indent + 2, indent + 2 + len(key)))
        return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"
    lines = [pad + (_compact(v) if _flat(v) else _format(v, indent + 2, indent + 2)) for v in value]
    return "[\n" + ",\n".join(lines) + "\n" + " " * indent + "]"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load(path: PathLike, error: type[FormatError]) -> Any:
    """Parse a JSON file, turning syntax errors into ``error`` so callers catch one type."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:  # json would silently keep the last one
                raise error("", f"duplicate key {k!r} in a JSON object")
            out[k] = v
        return out

    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise error("", f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except FormatError:
        raise
    except ValueError as e:
        raise error("", f"not valid JSON: {e}") from None


def _write(doc: Mapping[str, Any], path: PathLike) -> None:
    text = dumps(doc)  # build first so a failure leaves no half-written file
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def read_problem(path: PathLike) -> Problem:
    """Read and validate a problem file (raises ``ProblemFormatError``, ``OSError``)."""
    return problem_from_dict(_load(path, ProblemFormatError))


def write_problem(p: Problem, path: PathLike) -> None:
    _write(problem_to_dict(p), path)


def read_solution(path: PathLike) -> Solution:
    """Read and validate a solution file (raises ``SolutionFormatError``, ``OSError``)."""
    return solution_from_dict(_load(path, SolutionFormatError))


def write_solution(s: Solution, path: PathLike) -> None:
    _write(solution_to_dict(s), path)
