"""A compiled search for "plain linked" days: many visits tied to another, nothing else special.

Why: on days where a large share of the visits are linked (two carers at once, a visit a set
time after another; the Mankowska et al. 2014 home-care family) the general search pairs
OR-Tools, which cannot see the links and rejects most of its own moves, with our LNS
(``optimizer.lns``), which re-times whole routes in Python: a few hundred rounds a second,
and on the published 75- and 100-patient days plans 10-16 % above the best known at 10 s
(issue #19 item 5).  When the day uses nothing but windows, skills, shifts without breaks and
dependencies, the same kind of rounds (string removals, greedy reinsertion, annealing) run
as C loops in ``optimizer._linked`` (see the top of ``optimizer/_linked.c`` for how starts
are found and insertions priced), tens of thousands of rounds a second.

:func:`plain_linked_day` says whether a day qualifies and turns it into the arrays the C
search takes; :func:`improve_linked` runs it from the builder's plan and loads the best plan
back into the builder, so everything after it (the objective, the checker, the explanations)
is the usual code.  The day's rules are read through the one place each lives
(``rules.allowed_workers``, ``rules.shift_end_limit``, ``objective.due_minute``); the C search
re-implements only the timing and the three cost terms it prices, and its result is
re-timed by ``timing.Plan`` and re-priced by ``optimizer.objective`` before it is used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from optimizer.construct import Builder
from optimizer.model import Problem
from optimizer.objective import due_minute
from optimizer.rules import allowed_workers, effective_pins, shift_end_limit
from optimizer.stop import StoppingCriterion
from optimizer.timing import FixedStarts

try:
    from optimizer import _linked as _compiled
except ImportError:  # not built (no C compiler at install): linked days use the general search
    _compiled = None

log = logging.getLogger(__name__)

NO_MAXIMUM = 1 << 60
"""A dependency without a maximum delay, as the C search reads it."""


def available() -> bool:
    """Whether ``optimizer._linked`` was built."""
    return _compiled is not None


@dataclass(frozen=True)
class LinkedDay:
    """A plain linked day as the arrays ``optimizer._linked.run`` takes (int64 unless noted)."""

    travel: np.ndarray
    visit_location: np.ndarray
    duration: np.ndarray
    open: np.ndarray
    due: np.ndarray
    latest: np.ndarray
    """Last start allowed: the window's end, plus ``max_lateness`` for a soft window."""
    worker_start: np.ndarray
    worker_end: np.ndarray
    shift_start: np.ndarray
    shift_end: np.ndarray
    """Latest return (``rules.shift_end_limit``)."""
    eligible: np.ndarray
    """visits x workers, uint8."""
    dep_before: np.ndarray
    dep_after: np.ndarray
    dep_min: np.ndarray
    dep_max: np.ndarray
    dep_different: np.ndarray
    weights: tuple[int, int, int]
    """(travel minute, lateness minute, largest lateness minute)."""


def plain_linked_day(problem: Problem, linked_share: float = 0.0) -> LinkedDay | None:
    """The day as a :class:`LinkedDay`, or None when it uses anything the C search does not
    price or time: optional visits, several windows, two-person visits, rides, capacities,
    breaks, several shifts, overtime, working-time caps, pins, a previous plan, preferences,
    waiting or imbalance costs, per-kind durations, visits ending elsewhere.  Also None when
    fewer than ``linked_share`` of the visits are linked (the general search does well there).
    """
    w = problem.weights
    if (not problem.visits or not problem.workers or problem.rides or problem.previous_plan
            or problem.freeze_until is not None or effective_pins(problem)):
        return None
    if w.imbalance != 0 or w.wait_minute != 0:
        return None
    modes = {wk.travel_mode for wk in problem.workers}
    if len(modes) != 1:
        return None
    for wk in problem.workers:
        if len(wk.shifts) != 1 or wk.shifts[0].breaks or wk.shifts[0].max_overtime or wk.max_work_minutes is not None:
            return None
        if wk.capacity:
            return None
    for v in problem.visits:
        if (not v.mandatory or len(v.windows) != 1 or v.workers_needed != 1 or v.duration_by_kind or v.demand
                or v.end_location is not None or v.preferred_workers
                or (v.gender_preference is not None and not v.gender_strict)):
            return None
    linked = {d.before for d in problem.dependencies} | {d.after for d in problem.dependencies}
    if not problem.dependencies or len(linked) < linked_share * len(problem.visits):
        return None
    index = {v.id: i for i, v in enumerate(problem.visits)}
    allowed = allowed_workers(problem)
    eligible = np.zeros((len(problem.visits), len(problem.workers)), dtype=np.uint8)
    for vi, workers in enumerate(allowed):
        if not workers:
            return None
        eligible[vi, workers] = 1
    matrix = problem.travel_times[next(iter(modes))]

    def i64(values) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(values, dtype=np.int64))

    visits = problem.visits
    deps = problem.dependencies
    return LinkedDay(
        travel=i64(matrix).reshape(-1),
        visit_location=i64([v.location for v in visits]),
        duration=i64([v.duration for v in visits]),
        open=i64([v.windows[0].start for v in visits]),
        due=i64([due_minute(v) for v in visits]),
        latest=i64([v.windows[0].end + (v.max_lateness if v.soft_windows else 0) for v in visits]),
        worker_start=i64([wk.start_location for wk in problem.workers]),
        worker_end=i64([wk.end_location for wk in problem.workers]),
        shift_start=i64([wk.shifts[0].start for wk in problem.workers]),
        shift_end=i64([shift_end_limit(wk, 0) for wk in problem.workers]),
        eligible=np.ascontiguousarray(eligible),
        dep_before=i64([index[d.before] for d in deps]),
        dep_after=i64([index[d.after] for d in deps]),
        dep_min=i64([d.min_delay for d in deps]),
        dep_max=i64([NO_MAXIMUM if d.max_delay is None else d.max_delay for d in deps]),
        dep_different=i64([1 if d.different_workers else 0 for d in deps]),
        weights=(int(w.travel_minute), int(w.lateness_minute), int(w.max_lateness_minute)),
    )


@dataclass
class LinkedStats:
    iterations: int = 0
    accepted: int = 0
    improvements: int = 0
    cost: int = 0
    """The C search's own price of its best plan (travel, lateness, largest lateness)."""


def search_linked(day: LinkedDay, routes: list[list[int]], *, seed: int = 0, stop: StoppingCriterion | None = None,
                  max_iterations: int | None = None, avg_removed: float = 10.0, max_string: float = 10.0,
                  blink: float = 0.01, t0: float = 1.0, tf: float = 0.01,
                  ) -> tuple[list[list[int]], list[list[int]], LinkedStats] | None:
    """Run the compiled search from ``routes`` (per worker, visit indices in order; visits in
    none are inserted first).  Returns (routes, starts, stats) of the best plan found, or None
    when a visit fits nowhere.  Raises RuntimeError when ``optimizer._linked`` was not built."""
    if _compiled is None:
        raise RuntimeError("optimizer._linked was not built (no C compiler at install?)")
    def i64(a: np.ndarray) -> np.ndarray:  # (the C reads raw buffers: the dtype must be right)
        return np.ascontiguousarray(a, dtype=np.int64)

    out = _compiled.run(
        travel=i64(day.travel), visit_location=i64(day.visit_location), duration=i64(day.duration),
        open=i64(day.open), due=i64(day.due), latest=i64(day.latest), worker_start=i64(day.worker_start),
        worker_end=i64(day.worker_end), shift_start=i64(day.shift_start), shift_end=i64(day.shift_end),
        eligible=np.ascontiguousarray(day.eligible, dtype=np.uint8), dep_before=i64(day.dep_before),
        dep_after=i64(day.dep_after), dep_min=i64(day.dep_min), dep_max=i64(day.dep_max),
        dep_different=i64(day.dep_different), weights=day.weights, routes=routes, seed=seed % (1 << 63),
        avg_removed=avg_removed, max_string=max_string, blink=blink, t0=t0, tf=tf, stop=stop,
        max_iterations=max_iterations)
    plan, starts, iterations, accepted, improvements, cost = out
    if plan is None:
        return None
    return plan, starts, LinkedStats(iterations, accepted, improvements, cost)


def improve_linked(builder: Builder, day: LinkedDay, *, seed: int, stop: StoppingCriterion | None = None,
                   max_iterations: int | None = None) -> LinkedStats | None:
    """Improve the builder's plan with the compiled search and load the best plan back (its
    linked visits' starts fixed where the search put them, the rest timed by ``timing.Plan``).
    None, and the builder unchanged, when the search found no plan with every visit or its
    plan cannot be timed by ``timing.Plan`` (a disagreement that would be a bug here)."""
    p = builder.p
    by_worker: list[list[int]] = [[] for _ in p.workers]
    vehicle_of: dict[int, int] = {}
    for r in builder.routes:
        vehicle_of[r.worker_index] = r.vehicle
        by_worker[r.worker_index] = [vi for vi, copy in r.stops if copy == 0]
    if len(vehicle_of) != len(p.workers):
        return None
    found = search_linked(day, by_worker, seed=seed, stop=stop, max_iterations=max_iterations)
    if found is None:
        return None
    routes, starts, stats = found
    linked = {int(x) for x in day.dep_before} | {int(x) for x in day.dep_after}
    fixed = {vi: s for r, ss in zip(routes, starts) for vi, s in zip(r, ss) if vi in linked}
    changes = [(builder.routes[vehicle_of[wi]], [(vi, 0) for vi in r]) for wi, r in enumerate(routes)]
    before = ([r.clone() for r in builder.routes], FixedStarts(builder.fixed), set(builder.placed))
    if not builder.time_routes(changes, fixed):  # type: ignore[arg-type]
        log.warning("the linked search's plan could not be re-timed; keeping the plan before it")
        builder.routes, builder.fixed, builder.placed = before
        return None
    builder.fixed = FixedStarts(fixed)
    builder.placed = {vi for r in routes for vi in r}
    return stats


__all__ = ["LinkedDay", "LinkedStats", "available", "improve_linked", "plain_linked_day", "search_linked"]
