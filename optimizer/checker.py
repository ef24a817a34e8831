"""Independent feasibility checker: does a solution obey every hard rule of its problem?

Why a second code path
----------------------
The solver encodes the rules as OR-Tools dimensions and constraints; a modelling slip there
(an off-by-one in a window, a break that silently swallows travel) produces plans that look
fine and are wrong.  This module re-reads the *problem* and the *solution* only, with plain
Python arithmetic, so the two implementations check each other.  It must never import the
solver or ``ortools``.

What it reports
---------------
``check`` returns *every* violation it finds, each as a :class:`Violation` with a stable
``rule`` code (see :class:`Rule`), an English message a dispatcher can act on, and where it
happened (worker, visit, shift).  One fault is reported under one code where possible: the
checker trusts the values the solution states (a stop's ``end``, a break's bounds) when it
moves on to the next rule, so one wrong number does not cascade into a dozen complaints.

Severity: ``"error"`` makes the plan infeasible; ``"warning"`` is something a dispatcher
should see that does not break a rule of the problem (a mandatory visit left unplanned, a
route whose reported totals disagree with its stops).  :func:`is_feasible` ignores warnings.

Conventions (where the data model leaves room)
----------------------------------------------
* Times are minutes from the problem origin, and messages print them as such ("minute 490"),
  never as a clock time: the checker does not know the day's time zone, and on a DST day
  (23 or 25 hours) minute 490 is not 08:10.  Whoever shows a violation to a person with a
  clock knows the day (the roster day's origin is its local midnight).
* Travel from a visit starts at its ``exit_location`` (a ride ends at its destination).
* A break may interrupt travel: a break that starts between leaving one place and arriving
  at the next delays the arrival by its length.  A break taken while waiting at the door
  (starting at or after the arrival) does not.
* A visit with no windows may start at any time.
* Capacities are per route (one shift: the worker starts from the base again after it).
* Empty routes (no stops) are only checked against the shift bounds; they need no breaks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable, Literal, Sequence

from optimizer.model import (
    BreakRule,
    BreakTaken,
    Problem,
    Route,
    Shift,
    Solution,
    Stop,
    Visit,
    Worker,
)

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


class Rule(StrEnum):
    """Stable codes of the rules the checker verifies (a ``Rule`` *is* a ``str``)."""

    # routes and accounting
    UNKNOWN_WORKER = "unknown_worker"
    INVALID_SHIFT = "invalid_shift"
    DUPLICATE_ROUTE = "duplicate_route"
    WORKER_ROUTES_OVERLAP = "worker_routes_overlap"
    UNKNOWN_VISIT = "unknown_visit"
    VISIT_PLACEMENT_COUNT = "visit_placement_count"
    VISIT_DUPLICATE_WORKER = "visit_duplicate_worker"
    VISIT_PLACED_AND_UNASSIGNED = "visit_placed_and_unassigned"
    VISIT_NOT_ACCOUNTED = "visit_not_accounted"
    UNASSIGNED_DUPLICATE = "unassigned_duplicate"
    TWO_PERSON_NOT_SYNCHRONISED = "two_person_not_synchronised"
    MANDATORY_UNASSIGNED = "mandatory_unassigned"  # warning
    # timing along a route
    ROUTE_START_BEFORE_SHIFT = "route_start_before_shift"
    SHIFT_END_EXCEEDED = "shift_end_exceeded"
    OVERTIME_MISMATCH = "overtime_mismatch"
    TRAVEL_UNKNOWN = "travel_unknown"
    STOP_LOCATION = "stop_location"
    TRAVEL_TOO_SHORT = "travel_too_short"
    TRAVEL_MISMATCH = "travel_mismatch"
    START_BEFORE_ARRIVAL = "start_before_arrival"
    WAITING_MISMATCH = "waiting_mismatch"
    SERVICE_DURATION = "service_duration"
    ROUTE_END_TOO_EARLY = "route_end_too_early"
    ROUTE_TOTALS_MISMATCH = "route_totals_mismatch"  # warning
    # windows
    TIME_WINDOW = "time_window"
    LATENESS_EXCEEDED = "lateness_exceeded"
    # working time
    MAX_WORK_EXCEEDED = "max_work_exceeded"
    # breaks
    BREAK_MISSING = "break_missing"
    BREAK_MALFORMED = "break_malformed"
    BREAK_OUTSIDE_ROUTE = "break_outside_route"
    BREAK_OVERLAPS_VISIT = "break_overlaps_visit"
    BREAKS_OVERLAP = "breaks_overlap"
    # who may do a visit
    MISSING_SKILL = "missing_skill"
    WRONG_WORKER_KIND = "wrong_worker_kind"
    NOT_REQUIRED_WORKER = "not_required_worker"
    FORBIDDEN_WORKER = "forbidden_worker"
    GENDER_MISMATCH = "gender_mismatch"
    PINNED_WORKER = "pinned_worker"
    PINNED_START = "pinned_start"
    # between visits
    DEPENDENCY_DELAY = "dependency_delay"
    DEPENDENCY_BEFORE_UNASSIGNED = "dependency_before_unassigned"
    DEPENDENCY_UNKNOWN_VISIT = "dependency_unknown_visit"
    DEPENDENCY_SAME_WORKER = "dependency_same_worker"
    DEPENDENCY_AFTER_UNASSIGNED = "dependency_after_unassigned"
    FROZEN_CHANGED = "frozen_changed"
    CAPACITY_EXCEEDED = "capacity_exceeded"
    # rides
    RIDE_UNKNOWN_VISIT = "ride_unknown_visit"
    RIDE_SPLIT = "ride_split"
    RIDE_ORDER = "ride_dropoff_before_pickup"
    RIDE_NO_ROOM = "ride_no_room"
    RIDE_TOO_LONG = "ride_too_long"


WARNING_RULES: frozenset[Rule] = frozenset({Rule.MANDATORY_UNASSIGNED, Rule.ROUTE_TOTALS_MISMATCH})


@dataclass(frozen=True)
class Violation:
    """One broken rule, located as precisely as the rule allows."""

    rule: str
    message: str
    worker_id: str | None = None
    visit_id: str | None = None
    shift_index: int | None = None
    severity: Severity = ERROR


def is_feasible(violations: Iterable[Violation]) -> bool:
    """True when no violation is an error (warnings do not make a plan infeasible)."""
    return not any(v.severity == ERROR for v in violations)


def _v(
    rule: Rule,
    message: str,
    *,
    worker: str | None = None,
    visit: str | None = None,
    shift: int | None = None,
) -> Violation:
    """Build a violation; severity follows from the rule so callers cannot mislabel it."""
    severity: Severity = WARNING if rule in WARNING_RULES else ERROR
    return Violation(rule, message, worker, visit, shift, severity)


def at(minute: int) -> str:
    """A point in time as messages print it: "minute 490", minutes from the problem origin.

    Not a clock time: which wall-clock time a minute is depends on the day's time zone (a DST
    day has 1380 or 1500 minutes), which the optimizer does not know.
    """
    return f"minute {minute}"


def span(start: int, end: int) -> str:
    """An interval as messages print it: "minutes 480-510"."""
    return f"minutes {start}-{end}"


# ----------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Placed:
    """One stop of a visit with the route it is on (a two-person visit has two)."""

    route: Route
    stop: Stop


@dataclass
class _Index:
    """Look-ups shared by the rule functions, built once per ``check``."""

    problem: Problem
    solution: Solution
    visits: dict[str, Visit]
    workers: dict[str, Worker]
    placements: dict[str, list[_Placed]]
    ride_loads: dict[str, dict[str, int]] | None = None

    @classmethod
    def build(cls, problem: Problem, solution: Solution) -> _Index:
        """Index stops by visit once, so every rule sees every placement (two-person too)."""
        placements: dict[str, list[_Placed]] = {}
        for route in solution.routes:
            for stop in route.stops:
                placements.setdefault(stop.visit_id, []).append(_Placed(route, stop))
        return cls(problem, solution, problem.visit_by_id(), problem.worker_by_id(), placements)

    def shift_of(self, route: Route) -> Shift | None:
        """The route's shift, or None when the worker or the shift index is unknown."""
        worker = self.workers.get(route.worker_id)
        if worker is None or not 0 <= route.shift_index < len(worker.shifts):
            return None
        return worker.shifts[route.shift_index]

    def travel(self, worker: Worker, a: int, b: int) -> int | None:
        """Travel minutes for the worker's mode, or None when the matrix has no such entry."""
        matrix = self.problem.travel_times.get(worker.travel_mode)
        if matrix is None or not (0 <= a < len(matrix)) or not (0 <= b < len(matrix[a])):
            return None
        return matrix[a][b]

    def start_of(self, visit_id: str) -> int | None:
        """A placed visit's start (the earliest, should two-person starts disagree)."""
        placed = self.placements.get(visit_id)
        return min(p.stop.start for p in placed) if placed else None


# ---------------------------------------------------------------------- routes & accounting


def _check_route_identity(ix: _Index) -> list[Violation]:
    """Every route belongs to a known worker and one of their shifts, once per shift.

    Later rules need the worker (travel mode, skills) and the shift (bounds, breaks); a route
    failing here is not checked further for timing.
    """
    out: list[Violation] = []
    seen: Counter[tuple[str, int]] = Counter()
    for route in ix.solution.routes:
        wid, si = route.worker_id, route.shift_index
        worker = ix.workers.get(wid)
        if worker is None:
            msg = f"Route of worker {wid}: there is no such worker in the problem."
            out.append(_v(Rule.UNKNOWN_WORKER, msg, worker=wid, shift=si))
        elif ix.shift_of(route) is None:
            msg = f"Worker {wid} has no shift number {si} (they have {len(worker.shifts)})."
            out.append(_v(Rule.INVALID_SHIFT, msg, worker=wid, shift=si))
        else:
            seen[(wid, si)] += 1
    for (wid, si), n in seen.items():
        if n > 1:
            msg = f"Worker {wid} has {n} routes for shift {si}; at most one is allowed."
            out.append(_v(Rule.DUPLICATE_ROUTE, msg, worker=wid, shift=si))
    return out


def _check_worker_routes_overlap(ix: _Index) -> list[Violation]:
    """A worker cannot be on two routes at once (split shifts with overtime may collide)."""
    out: list[Violation] = []
    by_worker: dict[str, list[Route]] = {}
    for route in ix.solution.routes:
        if route.stops:
            by_worker.setdefault(route.worker_id, []).append(route)
    for wid, routes in by_worker.items():
        routes = sorted(routes, key=lambda r: (r.start, r.end))
        for a, b in zip(routes, routes[1:]):
            if b.start < a.end:
                msg = (
                    f"Worker {wid} would be on two routes at once: shift {a.shift_index} runs "
                    f"{span(a.start, a.end)}, shift {b.shift_index} starts at {at(b.start)}."
                )
                out.append(_v(Rule.WORKER_ROUTES_OVERLAP, msg, worker=wid, shift=b.shift_index))
    return out


def _check_accounting(ix: _Index) -> list[Violation]:
    """Each visit is either placed (with the right number of distinct workers) or unassigned.

    Two-person visits must start at the same minute for both workers.  A mandatory visit
    without a worker is not infeasibility (the day may be overbooked) but a dispatcher must
    see it, hence a warning.
    """
    out: list[Violation] = []
    for vid, placed in ix.placements.items():
        if vid in ix.visits:
            continue
        for p in placed:
            wid = p.route.worker_id
            msg = f"Worker {wid} has a stop for visit {vid}, which is not in the problem."
            out.append(_v(Rule.UNKNOWN_VISIT, msg, worker=wid, visit=vid, shift=p.route.shift_index))
    unassigned = Counter(u.visit_id for u in ix.solution.unassigned)
    for vid, n in unassigned.items():
        if vid not in ix.visits:
            msg = f"Visit {vid} is listed as unassigned but is not in the problem."
            out.append(_v(Rule.UNKNOWN_VISIT, msg, visit=vid))
        elif n > 1:
            msg = f"Visit {vid} is listed {n} times as unassigned; once is enough."
            out.append(_v(Rule.UNASSIGNED_DUPLICATE, msg, visit=vid))
    for visit in ix.problem.visits:
        out += _check_visit_accounting(visit, ix.placements.get(visit.id, []), visit.id in unassigned)
    return out


def _check_visit_accounting(
    visit: Visit, placed: Sequence[_Placed], listed_unassigned: bool
) -> list[Violation]:
    """Accounting of one visit: planned xor unassigned, right number of distinct workers, in sync."""
    out: list[Violation] = []
    vid = visit.id
    if placed and listed_unassigned:
        msg = f"Visit {vid} is both planned and listed as unassigned."
        out.append(_v(Rule.VISIT_PLACED_AND_UNASSIGNED, msg, visit=vid))
    if not placed:
        if not listed_unassigned:
            msg = f"Visit {vid} is neither planned nor listed as unassigned."
            out.append(_v(Rule.VISIT_NOT_ACCOUNTED, msg, visit=vid))
        if visit.mandatory:
            out.append(_v(Rule.MANDATORY_UNASSIGNED, f"Mandatory visit {vid} has no worker.", visit=vid))
        return out
    if len(placed) != visit.workers_needed:
        msg = f"Visit {vid} needs {visit.workers_needed} worker(s) but is planned {len(placed)} time(s)."
        out.append(_v(Rule.VISIT_PLACEMENT_COUNT, msg, visit=vid))
    for wid, n in Counter(p.route.worker_id for p in placed).items():
        if n > 1:
            msg = f"Worker {wid} is planned {n} times for visit {vid}; each worker may do it once."
            out.append(_v(Rule.VISIT_DUPLICATE_WORKER, msg, worker=wid, visit=vid))
    starts = sorted({p.stop.start for p in placed})
    if visit.workers_needed > 1 and len(starts) > 1:
        msg = (
            f"Two-person visit {vid} must start at the same time for all its workers; "
            f"planned starts: {', '.join(at(s) for s in starts)}."
        )
        out.append(_v(Rule.TWO_PERSON_NOT_SYNCHRONISED, msg, visit=vid))
    return out


# ----------------------------------------------------------------------------- timing


def _breaks_in(breaks: Sequence[BreakTaken], lo: int, hi: int) -> int:
    """Minutes of breaks that start in ``[lo, hi)``: they interrupt the leg between lo and hi."""
    return sum(b.end - b.start for b in breaks if lo <= b.start < hi and b.end >= b.start)


def _check_route_bounds(route: Route, shift: Shift) -> list[Violation]:
    """The route lies inside its shift (overtime allowed up to ``max_overtime``)."""
    out: list[Violation] = []
    wid, si = route.worker_id, route.shift_index
    if route.start < shift.start:
        msg = f"Worker {wid} leaves at {at(route.start)}, before the shift starts at {at(shift.start)}."
        out.append(_v(Rule.ROUTE_START_BEFORE_SHIFT, msg, worker=wid, shift=si))
    limit = shift.end + shift.max_overtime
    if route.end > limit:
        msg = (
            f"Worker {wid} finishes at {at(route.end)}, past the shift end {at(shift.end)} "
            f"plus {shift.max_overtime} min of allowed overtime ({at(limit)})."
        )
        out.append(_v(Rule.SHIFT_END_EXCEEDED, msg, worker=wid, shift=si))
    overtime = max(0, route.end - shift.end)
    if route.overtime_minutes != overtime:
        msg = (
            f"Route of worker {wid} reports {route.overtime_minutes} min of overtime; finishing at "
            f"{at(route.end)} for a shift ending {at(shift.end)} means {overtime} min."
        )
        out.append(_v(Rule.OVERTIME_MISMATCH, msg, worker=wid, shift=si))
    return out


def _check_leg(
    ix: _Index, worker: Worker, route: Route, place: int, left: int, stop: Stop, target: int
) -> list[Violation]:
    """One leg to a stop: enough time for travel plus interrupting breaks; travel field right."""
    wid, vid, si = worker.id, stop.visit_id, route.shift_index
    mode = worker.travel_mode.value
    leg = ix.travel(worker, place, target)
    if leg is None:
        msg = f"No {mode} travel time from location {place} to location {target} for worker {wid}."
        return [_v(Rule.TRAVEL_UNKNOWN, msg, worker=wid, visit=vid, shift=si)]
    out: list[Violation] = []
    paused = _breaks_in(route.breaks, left, stop.arrival)
    earliest = left + leg + paused
    if stop.arrival < earliest:
        extra = f" plus {paused} min of break" if paused else ""
        msg = (
            f"Worker {wid} cannot reach visit {vid} by {at(stop.arrival)}: leaving at "
            f"{at(left)} with {leg} min of travel{extra}, the earliest arrival is {at(earliest)}."
        )
        out.append(_v(Rule.TRAVEL_TOO_SHORT, msg, worker=wid, visit=vid, shift=si))
    if stop.travel != leg:
        msg = f"Stop for visit {vid} reports {stop.travel} min of travel; the {mode} matrix says {leg} min."
        out.append(_v(Rule.TRAVEL_MISMATCH, msg, worker=wid, visit=vid, shift=si))
    return out


def _check_stop(worker: Worker, route: Route, stop: Stop, visit: Visit | None) -> list[Violation]:
    """One stop: location, start after arrival, waiting field, service duration for the kind."""
    out: list[Violation] = []
    wid, vid, si = worker.id, stop.visit_id, route.shift_index
    if visit is not None and stop.location != visit.location:
        msg = f"Stop for visit {vid} is at location {stop.location}; the visit is at {visit.location}."
        out.append(_v(Rule.STOP_LOCATION, msg, worker=wid, visit=vid, shift=si))
    if stop.start < stop.arrival:
        arrives = at(stop.arrival)
        msg = f"Visit {vid} starts at {at(stop.start)}, before worker {wid} arrives at {arrives}."
        out.append(_v(Rule.START_BEFORE_ARRIVAL, msg, worker=wid, visit=vid, shift=si))
    if stop.waiting != stop.start - stop.arrival:
        msg = (
            f"Stop for visit {vid} reports {stop.waiting} min of waiting; arriving {at(stop.arrival)} "
            f"and starting {at(stop.start)} means {stop.start - stop.arrival} min."
        )
        out.append(_v(Rule.WAITING_MISMATCH, msg, worker=wid, visit=vid, shift=si))
    if visit is not None:
        duration = visit.duration_for(worker.kind)
        if stop.end != stop.start + duration:
            msg = (
                f"Visit {vid} lasts {duration} min for a {worker.kind.value}: starting at "
                f"{at(stop.start)} it ends at {at(stop.start + duration)}, not {at(stop.end)}."
            )
            out.append(_v(Rule.SERVICE_DURATION, msg, worker=wid, visit=vid, shift=si))
    return out


def _check_route_timing(ix: _Index, route: Route, worker: Worker) -> list[Violation]:
    """Arrivals, starts and ends along the route follow from travel, service and breaks.

    Each leg must leave enough time for the matrix travel plus the breaks that interrupt it;
    each stop's reported ``travel`` and ``waiting`` must match; service lasts the visit's
    duration for the worker's kind.  Travel uses the visit's real location, so a wrong
    ``stop.location`` is reported once (``stop_location``) and not as wrong travel.  The
    stated ``end`` of a stop is where the next leg starts, so one wrong value is one report.
    """
    out: list[Violation] = []
    wid, si = worker.id, route.shift_index
    place, left = worker.start_location, route.start
    for stop in route.stops:
        visit = ix.visits.get(stop.visit_id)
        target = visit.location if visit is not None else stop.location
        out += _check_leg(ix, worker, route, place, left, stop, target)
        out += _check_stop(worker, route, stop, visit)
        place = visit.exit_location if visit is not None else stop.location
        left = stop.end
    leg = ix.travel(worker, place, worker.end_location)
    if leg is None:
        mode, home = worker.travel_mode.value, worker.end_location
        msg = f"No {mode} travel time from location {place} to location {home} for worker {wid}."
        return out + [_v(Rule.TRAVEL_UNKNOWN, msg, worker=wid, shift=si)]
    earliest = left + leg + _breaks_in(route.breaks, left, route.end)
    if route.end < earliest:
        msg = (
            f"Worker {wid} cannot be back at location {worker.end_location} by {at(route.end)}: "
            f"after the last visit ends at {at(left)} the earliest is {at(earliest)}."
        )
        out.append(_v(Rule.ROUTE_END_TOO_EARLY, msg, worker=wid, shift=si))
    return out


def _route_totals(ix: _Index, route: Route, worker: Worker) -> tuple[int | None, int, int]:
    """(travel incl. the way back or None if unknown, service, waiting) recomputed from stops."""
    service = sum(s.end - s.start for s in route.stops)
    waiting = sum(s.start - s.arrival for s in route.stops)
    if not route.stops:
        return 0, service, waiting
    legs: list[int | None] = []
    place = worker.start_location
    for stop in route.stops:
        visit = ix.visits.get(stop.visit_id)
        legs.append(ix.travel(worker, place, visit.location if visit else stop.location))
        place = visit.exit_location if visit else stop.location
    legs.append(ix.travel(worker, place, worker.end_location))
    known = [leg for leg in legs if leg is not None]
    return (sum(known) if len(known) == len(legs) else None), service, waiting


def _check_route_totals(ix: _Index, route: Route, worker: Worker) -> list[Violation]:
    """Reported route totals agree with the stops (a warning: the stops are the plan).

    Travel includes the way back to the end location, as the route runs until arriving there.
    """
    travel, service, waiting = _route_totals(ix, route, worker)
    wrong = []
    if travel is not None and route.travel_minutes != travel:
        wrong.append(f"travel {route.travel_minutes} (stops say {travel})")
    if route.service_minutes != service:
        wrong.append(f"service {route.service_minutes} (stops say {service})")
    if route.waiting_minutes != waiting:
        wrong.append(f"waiting {route.waiting_minutes} (stops say {waiting})")
    if not wrong:
        return []
    msg = f"Route of worker {worker.id} reports wrong totals in minutes: {'; '.join(wrong)}."
    return [_v(Rule.ROUTE_TOTALS_MISMATCH, msg, worker=worker.id, shift=route.shift_index)]


# ----------------------------------------------------------------------------- windows


def _check_windows(ix: _Index) -> list[Violation]:
    """Service starts inside a window; soft windows may run late by at most ``max_lateness``.

    Soft windows only relax the *last* window's end: starting before the first window or
    in a gap between two windows is still a violation.  Checked once per distinct start.
    """
    out: list[Violation] = []
    for visit in ix.problem.visits:
        if not visit.windows:
            continue
        for start in sorted({p.stop.start for p in ix.placements.get(visit.id, [])}):
            v = _window_violation(visit, start)
            if v is not None:
                out.append(v)
    return out


def _window_violation(visit: Visit, start: int) -> Violation | None:
    """The violation of one start against the visit's windows, or None when it fits."""
    if any(w.start <= start <= w.end for w in visit.windows):
        return None
    last_end = max(w.end for w in visit.windows)
    if visit.soft_windows and start > last_end:
        late = start - last_end
        if late <= visit.max_lateness:
            return None
        msg = (
            f"Visit {visit.id} starts at {at(start)}, {late} min after its last window ends "
            f"({at(last_end)}); at most {visit.max_lateness} min late is allowed."
        )
        return _v(Rule.LATENESS_EXCEEDED, msg, visit=visit.id)
    windows = sorted(visit.windows, key=lambda w: w.start)
    text = ", ".join(span(w.start, w.end) for w in windows)
    msg = f"Visit {visit.id} starts at {at(start)}, outside its time window(s) {text}."
    return _v(Rule.TIME_WINDOW, msg, visit=visit.id)


# ----------------------------------------------------------------------------- working time


def _check_max_work(ix: _Index) -> list[Violation]:
    """Working time over all of a worker's used routes stays within ``max_work_minutes``.

    Working time is leaving the start place to arriving at the end (travel and waiting
    count); routes without stops count zero, as in ``Route.work_minutes``.
    """
    out: list[Violation] = []
    total: Counter[str] = Counter()
    for route in ix.solution.routes:
        total[route.worker_id] += route.work_minutes
    for wid, minutes in total.items():
        worker = ix.workers.get(wid)
        if worker is None or worker.max_work_minutes is None or minutes <= worker.max_work_minutes:
            continue
        msg = f"Worker {wid} would work {minutes} min today; the limit is {worker.max_work_minutes} min."
        out.append(_v(Rule.MAX_WORK_EXCEEDED, msg, worker=wid))
    return out


# ----------------------------------------------------------------------------- breaks


def _check_breaks(route: Route, shift: Shift) -> list[Violation]:
    """Every break rule of the shift is met by its own break, taken between visits.

    A break meets a rule when it is long enough and starts in the rule's window; where it
    lies (inside the route, not during a visit, not over another break) is reported by its
    own rule so that one misplaced break is one violation.  Unused routes need no break.
    """
    if not route.stops:
        return []
    out: list[Violation] = []
    wid, si = route.worker_id, route.shift_index
    valid: list[BreakTaken] = []
    for b in route.breaks:
        when = span(b.start, b.end)
        if b.end < b.start:
            msg = f"Break of worker {wid} ends at {at(b.end)}, before it starts at {at(b.start)}."
            out.append(_v(Rule.BREAK_MALFORMED, msg, worker=wid, shift=si))
            continue
        valid.append(b)
        if b.start < route.start or b.end > route.end:
            whole = span(route.start, route.end)
            msg = f"Break of worker {wid} at {when} is outside the route ({whole})."
            out.append(_v(Rule.BREAK_OUTSIDE_ROUTE, msg, worker=wid, shift=si))
        for s in route.stops:
            if b.start < s.end and s.start < b.end:
                during = f"visit {s.visit_id} ({span(s.start, s.end)})"
                msg = f"Break of worker {wid} at {when} falls during {during}."
                out.append(_v(Rule.BREAK_OVERLAPS_VISIT, msg, worker=wid, visit=s.visit_id, shift=si))
    ordered = sorted(valid, key=lambda b: (b.start, b.end))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start < a.end and a.start < b.end:
                msg = (
                    f"Breaks of worker {wid} at {span(a.start, a.end)} and "
                    f"{span(b.start, b.end)} overlap."
                )
                out.append(_v(Rule.BREAKS_OVERLAP, msg, worker=wid, shift=si))
    for rule in _unmet_break_rules(shift.breaks, valid):
        msg = (
            f"Worker {wid} needs a break of at least {rule.duration} min starting between "
            f"{at(rule.earliest)} and {at(rule.latest)}; none is planned."
        )
        out.append(_v(Rule.BREAK_MISSING, msg, worker=wid, shift=si))
    return out


def _meets(b: BreakTaken, rule: BreakRule) -> bool:
    """A break meets a rule when it is long enough and starts in the rule's window."""
    return b.end - b.start >= rule.duration and rule.earliest <= b.start <= rule.latest


def _unmet_break_rules(rules: Sequence[BreakRule], breaks: Sequence[BreakTaken]) -> list[BreakRule]:
    """Rules left without a break in a maximum matching (one break serves one rule)."""
    fits = [
        [j for j, b in enumerate(breaks) if _meets(b, r)]
        for r in rules
    ]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return [rules[i] for i in range(len(rules)) if not augment(i, set())]


# ----------------------------------------------------------------------------- eligibility


def _check_eligibility(route: Route, worker: Worker, ix: _Index) -> list[Violation]:
    """The worker may do each visit: skills, kind, required/forbidden workers, strict gender, pin.

    A strict gender preference is not met by a worker whose gender is not recorded.
    """
    out: list[Violation] = []
    wid, si = worker.id, route.shift_index
    for stop in route.stops:
        visit = ix.visits.get(stop.visit_id)
        if visit is None:
            continue
        vid = visit.id
        where = dict(worker=wid, visit=vid, shift=si)
        missing = visit.required_skills - worker.skills
        if missing:
            msg = f"Worker {wid} lacks skill(s) {', '.join(sorted(missing))} needed for visit {vid}."
            out.append(_v(Rule.MISSING_SKILL, msg, **where))
        if visit.worker_kinds and worker.kind not in visit.worker_kinds:
            kinds = ", ".join(sorted(k.value for k in visit.worker_kinds))
            msg = f"Visit {vid} needs a worker of kind {kinds}; worker {wid} is a {worker.kind.value}."
            out.append(_v(Rule.WRONG_WORKER_KIND, msg, **where))
        if visit.required_workers and wid not in visit.required_workers:
            names = ", ".join(sorted(visit.required_workers))
            msg = f"Visit {vid} may only be done by {names}, not by {wid}."
            out.append(_v(Rule.NOT_REQUIRED_WORKER, msg, **where))
        if wid in visit.forbidden_workers:
            out.append(_v(Rule.FORBIDDEN_WORKER, f"Worker {wid} must not be sent to visit {vid}.", **where))
        wanted = visit.gender_preference
        if visit.gender_strict and wanted is not None and worker.gender != wanted:
            has = worker.gender.value if worker.gender else "not recorded"
            msg = f"Visit {vid} requires a worker of gender {wanted.value}; worker {wid}'s gender is {has}."
            out.append(_v(Rule.GENDER_MISMATCH, msg, **where))
        if visit.pinned_start is not None and stop.start != visit.pinned_start:
            pinned = at(visit.pinned_start)
            msg = f"Visit {vid} is fixed to start at {pinned} but is planned at {at(stop.start)}."
            out.append(_v(Rule.PINNED_START, msg, **where))
    return out


def _check_pinned_workers(ix: _Index) -> list[Violation]:
    """A visit pinned to a worker, when placed, is done by that worker (one of them if two-person)."""
    out: list[Violation] = []
    for visit in ix.problem.visits:
        placed = ix.placements.get(visit.id)
        if visit.pinned_worker is None or not placed:
            continue
        workers = sorted({p.route.worker_id for p in placed})
        if visit.pinned_worker not in workers:
            names = ", ".join(workers)
            msg = f"Visit {visit.id} is fixed to worker {visit.pinned_worker} but is planned for {names}."
            out.append(_v(Rule.PINNED_WORKER, msg, worker=workers[0], visit=visit.id))
    return out


def _check_capacity(route: Route, worker: Worker, ix: _Index) -> list[Violation]:
    """Per route and capacity key, the visits' demand fits the worker's capacity (missing key = 0)."""
    out: list[Violation] = []
    demand: Counter[str] = Counter()
    for stop in route.stops:
        visit = ix.visits.get(stop.visit_id)
        if visit is not None:
            demand.update(visit.demand)
    for key in sorted(demand):
        cap = worker.capacity.get(key)
        need = demand[key]
        if need <= (cap or 0):
            continue
        has = f"capacity is {cap}" if cap is not None else "the worker has no such capacity"
        msg = f"Worker {worker.id}'s visits need {need} of '{key}'; {has}."
        out.append(_v(Rule.CAPACITY_EXCEEDED, msg, worker=worker.id, shift=route.shift_index))
    return out


# ----------------------------------------------------------------------------- across visits


def _check_dependencies(ix: _Index) -> list[Violation]:
    """``after`` starts ``min_delay``..``max_delay`` after ``before``; ``after`` needs ``before``;
    a pair marked ``different_workers`` shares no worker."""
    out: list[Violation] = []
    for dep in ix.problem.dependencies:
        unknown = [v for v in (dep.before, dep.after) if v not in ix.visits]
        if unknown:
            msg = f"A dependency refers to visit(s) {', '.join(unknown)}, not in the problem."
            out.append(_v(Rule.DEPENDENCY_UNKNOWN_VISIT, msg, visit=unknown[0]))
            continue
        before, after = ix.start_of(dep.before), ix.start_of(dep.after)
        if after is None:
            if before is not None and dep.both_or_neither:
                msg = f"Visit {dep.before} is planned without visit {dep.after}; they go together or not at all."
                out.append(_v(Rule.DEPENDENCY_AFTER_UNASSIGNED, msg, visit=dep.before))
            continue
        if before is None:
            msg = f"Visit {dep.after} is planned but visit {dep.before}, which must come before it, is not."
            out.append(_v(Rule.DEPENDENCY_BEFORE_UNASSIGNED, msg, visit=dep.after))
            continue
        delay = after - before
        if delay < dep.min_delay or (dep.max_delay is not None and delay > dep.max_delay):
            most = "" if dep.max_delay is None else f" and at most {dep.max_delay}"
            msg = (
                f"Visit {dep.after} starts {delay} min after visit {dep.before}; "
                f"it must be at least {dep.min_delay}{most} min."
            )
            out.append(_v(Rule.DEPENDENCY_DELAY, msg, visit=dep.after))
        if dep.different_workers:
            first = {p.route.worker_id for p in ix.placements[dep.before]}
            shared = sorted(first & {p.route.worker_id for p in ix.placements[dep.after]})
            for worker in shared:
                msg = (
                    f"Visits {dep.before} and {dep.after} must be done by different workers; "
                    f"worker {worker} does both."
                )
                out.append(_v(Rule.DEPENDENCY_SAME_WORKER, msg, worker=worker, visit=dep.after))
    return out


def _check_frozen(ix: _Index) -> list[Violation]:
    """Visits of the previous plan starting before ``freeze_until`` keep their worker and start."""
    freeze = ix.problem.freeze_until
    if freeze is None:
        return []
    out: list[Violation] = []
    for pv in ix.problem.previous_plan:
        if pv.start >= freeze:
            continue
        now = [(p.route.worker_id, p.stop.start) for p in ix.placements.get(pv.visit_id, [])]
        if (pv.worker_id, pv.start) in now:
            continue
        planned = ", ".join(f"{w} at {at(s)}" for w, s in now) or "nobody"
        msg = (
            f"Visit {pv.visit_id} was fixed to {pv.worker_id} at {at(pv.start)} (before the freeze "
            f"at {at(freeze)}); the plan has {planned}."
        )
        out.append(_v(Rule.FROZEN_CHANGED, msg, worker=pv.worker_id, visit=pv.visit_id))
    return out


def _check_rides(ix: _Index) -> list[Violation]:
    """Rides: both legs or neither, on one route, pickup first, ride time within the limit."""
    out: list[Violation] = []
    for ride in ix.problem.rides:
        unknown = [v for v in (ride.pickup, ride.dropoff) if v not in ix.visits]
        if unknown:
            msg = f"A ride refers to visit(s) {', '.join(unknown)}, not in the problem."
            out.append(_v(Rule.RIDE_UNKNOWN_VISIT, msg, visit=unknown[0]))
            continue
        ups, downs = ix.placements.get(ride.pickup, []), ix.placements.get(ride.dropoff, [])
        if not ups and not downs:
            continue
        if len(ups) != 1 or len(downs) != 1 or ups[0].route is not downs[0].route:
            msg = (
                f"Ride {ride.pickup} -> {ride.dropoff} must be one car's: pickup on {_where(ups)}, "
                f"drop-off on {_where(downs)}."
            )
            out.append(_v(Rule.RIDE_SPLIT, msg, visit=ride.pickup))
            continue
        route, up, down = ups[0].route, ups[0].stop, downs[0].stop
        order = [s.visit_id for s in route.stops]
        if order.index(ride.dropoff) < order.index(ride.pickup):
            msg = f"Worker {route.worker_id} drops off {ride.dropoff} before picking up {ride.pickup}."
            out.append(_v(Rule.RIDE_ORDER, msg, worker=route.worker_id, visit=ride.dropoff))
            continue
        if ride.max_ride_time is not None and down.start - up.end > ride.max_ride_time:
            msg = (
                f"The passenger of ride {ride.pickup} -> {ride.dropoff} sits {down.start - up.end} min "
                f"in the car ({at(up.end)} to {at(down.start)}); at most {ride.max_ride_time} min."
            )
            out.append(_v(Rule.RIDE_TOO_LONG, msg, worker=route.worker_id, visit=ride.dropoff))
    return out


def _where(placed: list[_Placed]) -> str:
    return ", ".join(f"{p.route.worker_id}/{p.route.shift_index}" for p in placed) or "nowhere"


def _ride_loads(ix: _Index) -> dict[str, dict[str, int]]:
    """Per ride visit, the load it adds (pickup) or removes (drop-off); built once per ``check``
    (per route it cost O(routes x rides): 2 s of a 10x day's check)."""
    if ix.ride_loads is None:
        loads: dict[str, dict[str, int]] = {}
        for ride in ix.problem.rides:
            loads[ride.pickup] = dict(ride.load)
            loads[ride.dropoff] = {k: -q for k, q in ride.load.items()}
        ix.ride_loads = loads
    return ix.ride_loads


def _check_car_room(route: Route, worker: Worker, ix: _Index) -> list[Violation]:
    """At every stop the passengers on board fit the car (``Worker.capacity``)."""
    loads = _ride_loads(ix)
    if not loads:
        return []
    out: list[Violation] = []
    on_board: dict[str, int] = {}
    for stop in route.stops:
        for key, q in loads.get(stop.visit_id, {}).items():
            on_board[key] = on_board.get(key, 0) + q
            room = worker.capacity.get(key, 0)
            if q > 0 and on_board[key] > room:
                msg = (
                    f"After picking up {stop.visit_id} worker {worker.id}'s car carries {on_board[key]} "
                    f"of '{key}'; it has room for {room}."
                )
                out.append(_v(Rule.RIDE_NO_ROOM, msg, worker=worker.id, visit=stop.visit_id,
                              shift=route.shift_index))
    return out


# ----------------------------------------------------------------------------- entry point


def check(problem: Problem, solution: Solution) -> list[Violation]:
    """Every rule the solution breaks (errors first) plus warnings; empty for a clean plan.

    Routes of unknown workers or shifts are reported and then skipped by the per-route
    rules (timing, breaks, eligibility, capacity); visit-level rules still see their stops.
    """
    ix = _Index.build(problem, solution)
    out = _check_route_identity(ix)
    out += _check_worker_routes_overlap(ix)
    out += _check_accounting(ix)
    for route in solution.routes:
        worker, shift = ix.workers.get(route.worker_id), ix.shift_of(route)
        if worker is None or shift is None:
            continue
        out += _check_route_bounds(route, shift)
        if route.stops:
            out += _check_route_timing(ix, route, worker)
        out += _check_route_totals(ix, route, worker)
        out += _check_breaks(route, shift)
        out += _check_eligibility(route, worker, ix)
        out += _check_capacity(route, worker, ix)
        out += _check_car_room(route, worker, ix)
    out += _check_windows(ix)
    out += _check_pinned_workers(ix)
    out += _check_max_work(ix)
    out += _check_dependencies(ix)
    out += _check_rides(ix)
    out += _check_frozen(ix)
    out.sort(key=lambda v: v.severity != ERROR)  # stable: errors first, each in check order
    return out
