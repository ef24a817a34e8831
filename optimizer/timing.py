"""Route timing: the one engine that says when each stop of a worker's route starts.

Our construction, the LNS, the repair of split days and the explanations all time routes
here, so a rule of the day (windows, breaks, shift end and overtime, working-time caps,
rides, empty routes) is applied the same way wherever a route is timed.  Two questions are
answered: ``Plan.simulate`` times a route's stops from scratch (earliest starts; the search
and the ride explanations), and ``free_gaps`` finds where one more visit fits into a
published route without moving anything (the explanations' insertion test).  For the search,
each route's forward pass is also kept with its state before every stop (``route_summary``),
so an insertion or a removal is timed from there until the old timing takes over
(``insertion_simulate``: the same result as ``simulate``, a few stops' work) and most
infeasible positions are ruled out in O(1) by break-free bounds (``may_insert``).  The OR-Tools model
(``routing``) states the same rules as constraints, and the independent checker
(``checker``) re-implements them on purpose; nothing else times a route.

The rules as timed here
-----------------------
* A visit starts in one of its windows (a soft window's last one stretched by its
  ``max_lateness``), no earlier than the worker arrives, at the earliest such minute, unless
  its start is fixed (pins, frozen work, linked visits already placed).
* Breaks go between visits (never inside one) inside their own windows: a break goes into
  the first gap where it fits without delaying the next visit; if waiting any longer would
  push it past its latest start, it is taken right away (it may interrupt the drive) and
  the following visits move later.  Breaks still due after the last visit are taken while
  driving back.  An empty route takes no break.
* A route leaves as late as its first visit allows and ends by its shift's end plus
  overtime, never into the worker's next shift (``rules.shift_end_limit``).
* A worker's working time (leaving the start place to arriving at the end place, over all
  shifts) stays within ``max_work_minutes``; an empty route is no work.
* Rides: the pickup first, the drop-off later on the same route, the car's room holds
  everyone on board at every stop, and a passenger sits no longer than the ride's limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, NamedTuple

from optimizer.model import Problem, Route, Visit, Worker
from optimizer.objective import TimedRoute, due_minute, previous_starts
from optimizer.rules import effective_pins, shift_end_limit

INF = 10**9
RETIME_PASSES = 12
"""Passes of ``retime_linked`` before it gives up (each fixes the links violated so far)."""
_RETIMED_KEPT = 16
"""Passes of one route ``retime_linked`` keeps (by the floors seen); more and they start over."""
_MISSING = object()
RIDE_RETIMES = 4
"""Forward passes tried per route when waiting before a drop-off makes a ride too long."""

Stops = list[tuple[int, int]]
"""A route's stops: (visit index, copy) in visiting order (copy 1 is a two-person visit's
second worker)."""


class Timing(NamedTuple):
    """A timed route: each stop's start, when the worker leaves and is back, the minutes
    driven (or walked), and the breaks taken (start, end)."""

    starts: list[int]
    departure: int
    end: int
    travel: int
    breaks: list[tuple[int, int]]


class PickupLater(NamedTuple):
    """A ride would be too long: starting its pickup at ``not_before`` may cure it."""

    pickup: int
    not_before: int


@dataclass
class RouteState:
    """One vehicle's (worker's shift's) route as it stands, with its timing.

    Its lists are replaced (``apply``), never changed in place: a snapshot of the plan keeps
    them as they are (``lns.Search.snapshot``), and so does a route's timing kept in a pass."""

    vehicle: int
    worker_index: int
    shift_index: int
    stops: Stops = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    span: int = 0
    """Working minutes (departure to end); 0 for an empty route."""
    travel: int = 0
    departure: int = 0
    end: int = 0
    breaks: list[tuple[int, int]] = field(default_factory=list)

    def clone(self) -> "RouteState":
        """A copy whose lists can change independently (cheaper than ``copy.deepcopy``)."""
        return RouteState(self.vehicle, self.worker_index, self.shift_index, list(self.stops),
                          list(self.starts), self.span, self.travel, self.departure, self.end,
                          list(self.breaks))

    def apply(self, stops: Stops, timing: Timing) -> None:
        """Take ``stops`` with their ``timing`` as this route."""
        self.stops = stops
        self.starts, self.departure, self.end, self.travel = timing.starts, timing.departure, timing.end, timing.travel
        self.span = timing.end - timing.departure if stops else 0
        self.breaks = list(timing.breaks) if stops else []


class QuickInsertion(NamedTuple):
    """``Plan.insertion_timing``: what inserting one visit changes on a plainly timed route."""

    start: int
    departure: int
    end: int
    travel_delta: int
    late_delta: int
    """Change in lateness minutes over the route's stops."""
    worst: int
    """The largest lateness among the stops whose start changed (the inserted one included)."""
    moved_delta: int = 0
    """Change in the number of stops starting more than the tolerance from their previous-plan
    start (``objective.moved_count``)."""


class PassState(NamedTuple):
    """Where a forward pass (``Plan._forward``) stands before a stop: everything the rest of
    the route's timing depends on (the worker free at ``t`` at ``loc``, ``bi`` of the
    shift's breaks taken, the departure once known, the load so far and who is on board)."""

    t: int
    loc: int
    travel: int
    bi: int
    departure: int | None
    load: dict | None
    on_board: dict | None
    boarded: dict | None


try:  # the forward pass in C (optimizer/_timing.c), built at install when a compiler is there
    from optimizer import _timing as _compiled

    _compiled.configure(Timing, PassState, PickupLater)
except ImportError:  # pragma: no cover - an install without a C compiler
    _compiled = None


@dataclass
class RouteSummary:
    """One route's forward pass kept for incremental evaluation (``Plan.route_summary``).

    Valid while the route has the same stops and the same fixed starts for them: the pass is
    deterministic, so a changed route that keeps the first k stops passes through
    ``states[k]`` exactly as this one did, and can be timed from there on.
    """

    stops: Stops
    fixed_vals: list
    defer_first: bool
    """The pass kept: ``simulate`` tries breaks after the first visit first (True), and only
    if that fails, before it (False)."""
    timing: Timing | None = None
    """The route's timing by this pass; None if the pass fails or stops at a ride too long
    (then ``states``, ``starts`` and ``breaks`` go as far as it got)."""
    later: PickupLater | None = None
    """Set when the pass stopped at a drop-off whose ride was too long (``simulate`` then
    moves the pickup and times again): a resumed pass that reaches one of this pass's states
    goes on exactly as this one did, so it stops there with the same answer."""
    states: list[PassState] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    breaks: list[tuple[int, int]] = field(default_factory=list)
    deferred: bool = False
    load: dict = field(default_factory=dict)
    """The route's total load per capacity kind (the pass checks it against the car)."""
    free_lb: list[int] = field(default_factory=list)
    """Per position, a lower bound on when the worker is free to leave for a visit inserted
    there (the end of the stop before, timed without breaks: breaks only delay)."""
    matrix: list = field(default_factory=list)
    """The route's travel matrix, and below its worker's durations per visit."""
    durations: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    """Per position, where the worker comes from (the start place, or the previous stop's exit)."""
    nexts: list[int] = field(default_factory=list)
    """Per position, where the worker goes next (the stop there, or the end place)."""
    penalty: int | None = None
    """The route's time terms (``Objective.route_time_cost``) at this timing, once asked for
    (``construct.Builder.route_penalty``)."""
    latest: list[int] = field(default_factory=list)
    """Per stop, the latest arrival after which the rest of the route cannot be timed even
    without breaks (with the end place's limit last): an arrival later than that fails
    whichever way the breaks go."""
    fixed_ref: object = None
    fixed_version: int = -1
    """The fixed starts (a :class:`FixedStarts`) and their version when this pass was last
    found valid: while both hold, or no change since touched ``visits``, ``route_summary``
    need not compare the stops' fixed starts again."""
    visits: frozenset = frozenset()
    """The visits of ``stops``."""


class FixedStarts(dict):
    """Visit index -> fixed start (``Plan.fixed``), counting its changes in ``version`` and
    keeping which visits the recent ones touched.

    Why: the search asks for a route's kept pass (``Plan.route_summary``) hundreds of
    thousands of times a second, and the pass holds only while the fixed starts of the
    route's stops are the ones it was timed with; comparing them costs a pass over the
    route each time.  With a version that every change moves, an unchanged dict answers at
    once; and a pass timed a few changes ago still holds when none of those changes touched
    its stops (``unchanged_since``): an LNS round fixes and frees a few visits, and half the
    routes' passes were compared stop by stop only to find them unchanged.  A write that
    changes nothing (a start set to what it was, a visit not there taken out) is no change.
    Reading is plain ``dict`` (``get`` is not overridden)."""

    __slots__ = ("version", "_log", "_base")

    LOG_SIZE = 1024
    """Changes remembered: older ones are forgotten (a pass timed before them is compared
    stop by stop)."""
    RECENT = 64
    """``unchanged_since`` looks this many changes back at most (then compares stop by stop)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.version = 0
        self._log: list = []
        self._base = 0

    def _changed(self, key) -> None:
        self._log.append(key)
        if len(self._log) > self.LOG_SIZE:
            half = self.LOG_SIZE // 2
            del self._log[:half]
            self._base += half
        self.version += 1

    def unchanged_since(self, version: int, visits: frozenset) -> bool:
        """Whether no change since ``version`` touched a visit of ``visits`` (False when
        those changes are too many or forgotten: the caller then compares)."""
        if version < self._base or self.version - version > self.RECENT:
            return False
        return visits.isdisjoint(self._log[version - self._base:])

    def __setitem__(self, key, value) -> None:
        if key in self and dict.__getitem__(self, key) == value:
            return
        self._changed(key)
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._changed(key)

    def __ior__(self, other):
        self.update(other)
        return self

    _MISSING = object()

    def pop(self, key, default=_MISSING):
        if key in self:
            self._changed(key)
            return super().pop(key)
        if default is FixedStarts._MISSING:
            raise KeyError(key)
        return default

    def popitem(self):
        key, value = super().popitem()
        self._changed(key)
        return key, value

    def clear(self) -> None:
        for key in list(self):
            self._changed(key)
        super().clear()

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def set_to(self, other: dict) -> None:
        """Make this dict equal to ``other`` in place, changing only the visits whose start
        differs (so the kept passes of routes none of them is on still hold)."""
        for key in [key for key in self if key not in other]:
            del self[key]
        for key, value in other.items():
            self[key] = value

    def __reduce__(self):
        # Pickle would restore the items before ``version`` exists (``__setitem__`` needs it).
        return (FixedStarts, (dict(self),))


@dataclass
class Resume:
    """How ``Plan._forward`` resumes from a summary: the first ``k0`` stops are the old
    route's; from index ``conv_from`` on, stop k of the new route is stop ``k - offset`` of
    the old one.  ``converged``: set by the pass (see ``_forward``)."""

    summary: RouteSummary
    k0: int
    conv_from: int
    offset: int
    converged: int = 0


def _added(total: dict, now: dict, then: dict | None) -> dict:
    """``total`` plus what was loaded between two states (``now`` minus ``then``)."""
    if not total and not now:
        return {}
    out = dict(total)
    for key, q in now.items():
        out[key] = out.get(key, 0) + q - ((then or {}).get(key, 0))
    return out


def trailing_breaks(rules: list, t: int, back: int, free_from: int) -> tuple[list[tuple[int, int]], int] | None:
    """``rules`` taken after the last visit (ended at ``t``, ``back`` minutes from the end
    place), driving whenever a break cannot start yet: (breaks, minute the route ends), or
    None when a break could no longer start within its window.  ``free_from``: the end of
    the last break already taken."""
    taken = []
    clock, left = t, back
    for rule in rules:
        b_start = max(clock, rule.earliest, free_from)
        if b_start > rule.latest:
            return None
        left -= min(left, b_start - clock)  # driven while waiting for the break
        taken.append((b_start, b_start + rule.duration))
        clock = free_from = b_start + rule.duration
    return taken, clock + left


def start_windows(visit: Visit) -> list[tuple[int, int]]:
    """The minutes ``visit`` may start in: its windows in order, the last one stretched by
    ``max_lateness`` when the windows are soft."""
    ws = sorted(visit.windows, key=lambda w: w.start)
    return [(w.start, w.end + (visit.max_lateness if visit.soft_windows and i == len(ws) - 1 else 0))
            for i, w in enumerate(ws)]


Block = tuple[int, int, int, int]
"""A fixed piece of a published route: (entry location, exit location, start, end)."""


def fixed_blocks(problem: Problem, route: Route, visits: Mapping[str, Visit], worker: Worker,
                 skip: str | None = None) -> list[Block]:
    """A published route's stops (minus ``skip``) and breaks as fixed blocks, in time order.

    A break is a block spent where the worker last was: conservative (the solver may take it
    while travelling), so an insertion found around it is always really feasible.
    """
    kept = [s for s in route.stops if s.visit_id != skip]
    out = [(s.location, visits[s.visit_id].exit_location, s.start, s.end) for s in kept]
    for b in route.breaks:
        prev = [s for s in kept if s.end <= b.start]
        loc = visits[prev[-1].visit_id].exit_location if prev else worker.start_location
        out.append((loc, loc, b.start, b.end))
    return sorted(out, key=lambda t: t[2])


class Gap(NamedTuple):
    """Where a visit fits between fixed blocks: before block ``position`` (0: first), starting
    any minute in ``[earliest, latest]``, for ``detour`` more minutes of travel."""

    position: int
    earliest: int
    latest: int
    detour: int


def allowed_span(allowed: list[tuple[int, int]]) -> tuple[int, int]:
    """The first and the last minute of the start ranges ``allowed`` (not empty)."""
    return min(a for a, _ in allowed), max(b for _, b in allowed)


def gap_may_hold(prev_end: int, next_start: int, duration: int, span: tuple[int, int]) -> bool:
    """Whether a gap between a block ending at ``prev_end`` and one starting at ``next_start``
    can hold a visit of ``duration`` starting in ``span`` (:func:`allowed_span`), travel aside.

    Travel is never negative, so a visit in the gap starts no earlier than ``prev_end`` and ends
    no later than ``next_start``: a gap that fails this fails :func:`free_gaps` whatever the
    travel, and is skipped before any travel is looked up (on a region's day most are).  The
    explanations' "who could give way" search relies on exactly this test to skip removals
    (``explain._removal_may_free``), so it lives here once."""
    return prev_end <= span[1] and next_start - duration >= span[0]


def free_gaps(problem: Problem, visit: Visit, worker: Worker, shift_index: int, blocks: list[Block],
              allowed: list[tuple[int, int]], other_work: int, positions: Iterable[int] | None = None) -> list[Gap]:
    """Where ``visit`` fits into a route of fixed ``blocks`` without moving anything: the
    insertion test of the explanations, exact for a plan as published.

    ``allowed``: the start ranges its windows (``start_windows``) and links leave.  The same
    rules as ``Plan.simulate``: travel in and out, the route back by the shift's end limit
    (``rules.shift_end_limit``: overtime, never into the next shift), the working-time cap
    (``other_work``: the worker's other shifts; this route counted from its shift start
    unless the visit goes first, conservatively), the car's capacity.  ``positions``: only the
    gaps before these blocks (``Gap.position``; the others are not looked at), all if None.
    """
    shift = worker.shifts[shift_index]
    matrix = problem.travel_times[worker.travel_mode]
    duration = visit.duration_for(worker.kind)
    cap = worker.max_work_minutes
    out: list[Gap] = []
    if not allowed:
        return out
    span = allowed_span(allowed)
    seq = [(worker.start_location, worker.start_location, shift.start, shift.start)] + blocks
    tail = (worker.end_location, worker.end_location, shift_end_limit(worker, shift_index), 0)
    for pos in range(len(seq)) if positions is None else positions:
        _, prev_exit, _, prev_end = seq[pos]
        nxt = seq[pos + 1] if pos + 1 < len(seq) else tail
        next_loc, _, next_start, _ = nxt
        if not gap_may_hold(prev_end, next_start, duration, span):
            continue
        t_in = matrix[prev_exit][visit.location]
        t_out = matrix[visit.exit_location][next_loc]
        earliest = prev_end + t_in
        latest = next_start - duration - t_out
        for a, b in allowed:
            lo, hi = max(a, earliest), min(b, latest)
            if lo > hi:
                continue
            if cap is not None:
                first_start = seq[1][2] if len(seq) > 1 else None
                route_start = lo - t_in if pos == 0 else seq[0][3]
                if pos == 0 and first_start is not None:
                    route_start = min(route_start, first_start)
                last_end = blocks[-1][3] if blocks else lo + duration
                route_end = max(last_end, lo + duration) + (
                    matrix[visit.exit_location][worker.end_location] if pos == len(seq) - 1 else 0
                )
                if other_work + (route_end - route_start) > cap:
                    continue
            if any(visit.demand.get(k, 0) > worker.capacity.get(k, 0) for k in visit.demand):
                continue
            detour = t_in + t_out - (
                matrix[prev_exit][next_loc] if pos + 1 < len(seq) else matrix[prev_exit][worker.end_location]
            )
            out.append(Gap(pos, lo, hi, detour))
    return out


def arrivals(matrix, start_location: int, departure: int, legs: list[tuple[int, int, int, int]],
             breaks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(arrival, travel) per stop of a timed route.  ``legs``: (entry location, exit location,
    start, end) per stop.  A stop's arrival is the end of the previous stop (or the
    departure) plus the travel to it and every break taken whole in between; waiting is the
    start minus the arrival."""
    out = []
    place, free = start_location, departure
    for entry, exit_, start, end in legs:
        travel = matrix[place][entry]
        pause = sum(e - s for s, e in breaks if s >= free and e <= start)
        out.append((free + travel + pause, travel))
        place, free = exit_, end
    return out


class Plan:
    """The routes of a plan being built or changed, and the engine that times them.

    State: ``routes`` (one ``RouteState`` per vehicle), ``fixed`` (visit index -> a start that
    may not move: pins, frozen work, placed linked visits) and ``placed``.  Links between
    visits (dependencies, both-or-neither pairs, different workers) are kept as indices.
    """

    compiled_forward = True
    """Whether ``_forward`` runs in C (``optimizer._timing``) where it can, when it was built."""

    incremental = True
    """Whether insertions are timed from the kept summaries (``route_summary``) and priced by
    what changed (issue #19 item 4); False re-times and re-prices whole routes, the code path
    before them, which ``benchmarks/lns_speed.py`` measures against."""

    def __init__(self, problem: Problem, vehicles: list[tuple[int, int]]):
        self.p = problem
        self.vehicles = vehicles
        self.routes = [RouteState(v, wi, si) for v, (wi, si) in enumerate(vehicles)]
        self.fixed: dict[int, int] = FixedStarts()
        self.placed: set[int] = set()
        self.index = {v.id: i for i, v in enumerate(problem.visits)}
        self.pins = effective_pins(problem)
        self.end_limit = {
            (wi, si): shift_end_limit(w, si) for wi, w in enumerate(problem.workers) for si in range(len(w.shifts))
        }
        for vid, (_, start) in self.pins.items():
            if start is not None:
                self.fixed[self.index[vid]] = start
        self.before: dict[int, list[tuple[int, int, int | None]]] = {}
        self.after: dict[int, list[tuple[int, int, int | None]]] = {}
        self.apart: dict[int, list[int]] = {}
        """Per visit, the visits that must be done by a different worker."""
        self.both: list[tuple[int, int]] = []
        """Dependencies (before, after) planned both or neither."""
        for d in problem.dependencies:
            a, b = self.index[d.before], self.index[d.after]
            self.before.setdefault(b, []).append((a, d.min_delay, d.max_delay))
            self.after.setdefault(a, []).append((b, d.min_delay, d.max_delay))
            if d.different_workers:
                self.apart.setdefault(a, []).append(b)
                self.apart.setdefault(b, []).append(a)
            if d.both_or_neither:
                self.both.append((a, b))
        self._deferred = False
        """Whether the last ``_simulate`` put a break after the first visit by preference."""
        self.windows = [start_windows(v) for v in problem.visits]
        self.spans = [allowed_span(ws) if ws else None for ws in self.windows]
        """Each visit's first and last allowed start (:func:`allowed_span`; None: no window)."""
        self.durations = {
            kind: [v.duration_for(kind) for v in problem.visits] for kind in {w.kind for w in problem.workers}
        }
        self.latest_start = [
            max(w.end for w in v.windows) + (v.max_lateness if v.soft_windows else 0) for v in problem.visits
        ]
        self.by_worker: dict[int, list[int]] = {}
        for r in self.routes:
            self.by_worker.setdefault(r.worker_index, []).append(r.vehicle)
        self.ride_at: dict[int, tuple[int, int, Mapping[str, int], int | None]] = {}
        """Per pickup or drop-off visit index: (pickup, drop-off, load, max ride time)."""
        for ride in problem.rides:
            entry = (self.index[ride.pickup], self.index[ride.dropoff], ride.load, ride.max_ride_time)
            self.ride_at[entry[0]] = entry
            self.ride_at[entry[1]] = entry
        self.due = [due_minute(v) for v in problem.visits]
        """Per visit, the minute after which a start is late (``objective.due_minute``)."""
        self.previous_start = previous_starts(problem)
        """(visit index, worker index) -> the previous plan's start (``objective.moved_count``)."""
        self.soft = any(v.soft_windows for v in problem.visits)
        """Whether any visit may start late at all (hard windows never are)."""
        self.loc_in = [v.location for v in problem.visits]
        self.loc_out = [v.exit_location for v in problem.visits]
        self.plain = not problem.rides and not any(v.demand for v in problem.visits)
        """No rides and no capacities: a route's timing depends on its windows, fixed starts
        and breaks only, which ``insertion_timing`` evaluates incrementally."""
        self._summaries: dict[tuple[int, bool], RouteSummary] = {}
        """Per vehicle, its route's last forward pass (``route_summary``), checked before use."""
        self._linkable = {vi for vi, v in enumerate(problem.visits)
                          if vi in self.before or vi in self.after or v.workers_needed > 1}
        """Visits tied to another (a dependency either way, or two workers at once)."""
        self._pinned = {self.index[vid] for vid in self.pins}
        self._ctxs: dict[int, tuple] = {}
        """Per vehicle, ``_timing_ctx``."""
        self._timed_in_c = bytes(0 if v.demand else 1 for v in problem.visits)
        """Per visit, 1 if ``optimizer._timing`` may time a route with it (no load of its own)."""
        self._older: dict[tuple[int, bool], RouteSummary] = {}
        """Per vehicle, the pass ``_summaries`` held before its last one (checked the same way)."""
        self._retimed: dict[int, tuple] = {}
        """Per vehicle, ``retime_linked``'s passes of its route: (the stops, their fixed starts
        other than the linked ones, then what ``_linked_passes`` gives for it), kept across
        calls while the stops and fixed starts are the same."""

    # ------------------------------------------------------------------ whole routes

    def simulate(self, route: RouteState, stops: Stops, fixed: dict[int, int]) -> Timing | None:
        """Earliest starts for ``stops`` on ``route``, or None if they cannot be timed.

        Breaks are placed during the same forward pass (see the module docstring).

        Rides: earliest starts can break a ride's time limit only by waiting before the
        drop-off (its appointment window is not open yet); then the pickup is moved later by
        the excess and the route timed again, a few times at most.

        A break that could come before or after the day's first visit comes after it: taken
        before, it would only start the route earlier (a longer day, against a cap on working
        time).  Only if the route then fails is it timed again with the break first.
        """
        self._deferred = False
        result = self._simulate_rides(route, stops, fixed, True)
        if result is None and self._deferred:
            result = self._simulate_rides(route, stops, fixed, False)
        return result

    def _simulate_rides(self, route: RouteState, stops: Stops, fixed: dict[int, int],
                        defer_first: bool) -> Timing | None:
        if not self.ride_at:
            return self.simulate_pass(route, stops, fixed, None, defer_first)  # type: ignore[return-value]
        later: dict[int, int] = {}
        for _ in range(RIDE_RETIMES):
            result = self.simulate_pass(route, stops, fixed, later, defer_first)
            if not isinstance(result, PickupLater):
                return result
            pickup, not_before = result
            if pickup in fixed or later.get(pickup, -1) >= not_before:
                return None
            later[pickup] = not_before
        return None

    def simulate_pass(self, route: RouteState, stops: Stops, fixed: dict[int, int],
                      later: dict[int, int] | None, defer_first: bool = True) -> Timing | PickupLater | None:
        """One forward pass of ``simulate``; ``later``: earliest starts asked for (ride pickups).

        Returns the timed route, None if infeasible, or ``PickupLater`` when a ride would be
        too long and starting that pickup later may cure it.
        """
        return self._forward(route, stops, fixed, later, defer_first)

    def _forward(self, route: RouteState, stops: Stops, fixed: dict[int, int], later: dict[int, int] | None,
                 defer_first: bool = True, record: "RouteSummary | None" = None, resume: "Resume | None" = None,
                 ) -> Timing | PickupLater | None:
        """The forward pass (``_forward_pass``), in C (``optimizer._timing``) for a route without
        rides or loads when it was built: the same answer and side effects, most of an LNS
        round's timing (``compiled_forward``; tests/optimizer/test_incremental.py runs both)."""
        if (_compiled is not None and self.compiled_forward and stops and type(stops) is list
                and isinstance(fixed, dict)):
            res = _compiled.forward(self, self._timing_ctx(route), stops, fixed, later, defer_first,
                                    record, resume)
            if res is not NotImplemented:
                return res
        return self._forward_pass(route, stops, fixed, later, defer_first, record, resume)

    def _timing_ctx(self, route: RouteState) -> tuple:
        """What ``optimizer._timing.forward`` needs of ``route``'s worker and shift (see the top
        of ``optimizer/_timing.c``), made once per vehicle: a vehicle's worker and shift never
        change."""
        ctx = self._ctxs.get(route.vehicle)
        if ctx is None:
            worker = self.p.workers[route.worker_index]
            shift = worker.shifts[route.shift_index]
            ctx = (self.p.travel_times[worker.travel_mode], self.durations[worker.kind], shift.start,
                   worker.start_location, worker.end_location,
                   tuple((r.earliest, r.latest, r.duration) for r in shift.breaks),
                   self.end_limit[(route.worker_index, route.shift_index)], self._timed_in_c, self.windows,
                   self.loc_in, self.loc_out, worker.capacity, self.ride_at)
            self._ctxs[route.vehicle] = ctx
        return ctx

    def _forward_pass(self, route: RouteState, stops: Stops, fixed: dict[int, int], later: dict[int, int] | None,
                      defer_first: bool = True, record: "RouteSummary | None" = None, resume: "Resume | None" = None,
                      ) -> Timing | PickupLater | None:
        """The forward pass itself (``simulate_pass``), written once for both of its uses.

        From scratch it times ``stops`` from the shift start; with ``record`` (a summary being
        built) it also keeps there the pass's state before each stop and after the last
        (``PassState``: what the rest of the route depends on), its starts and breaks.  With ``resume`` it starts
        from such a state of a route whose first ``resume.k0`` stops ``stops`` keeps as they
        were, and ends as soon as a stop of the old route starts as it did with the same
        state behind it (the rest of the route is then the old one's): the incremental
        evaluation of an insertion (``insertion_simulate``).  ``resume.converged`` is set to
        the index (in ``stops``) from which starts are the old route's.
        """
        worker = self.p.workers[route.worker_index]
        shift = worker.shifts[route.shift_index]
        matrix = self.p.travel_times[worker.travel_mode]
        rules = shift.breaks if stops else ()
        nb = len(rules)
        durations = self.durations[worker.kind]
        ride_at = self.ride_at
        visits = self.p.visits
        if resume is None:
            t, loc = shift.start, worker.start_location
            starts: list[int] = []
            travel_total = 0
            load: dict[str, int] = {}
            bi = 0
            taken: list[tuple[int, int]] = []
            departure: int | None = None
            on_board: dict[str, int] = {}
            boarded: dict[int, tuple[int, int]] = {}
            """Ride pickups on board: pickup index -> (its start, the end of its service)."""
            k0 = 0
            if record is not None:
                record.starts, record.breaks = starts, taken
        else:
            k0 = resume.k0
            old = resume.summary
            st = old.states[k0]
            t, loc, travel_total, bi, departure = st.t, st.loc, st.travel, st.bi, st.departure
            load = dict(st.load) if st.load else {}
            on_board = dict(st.on_board) if st.on_board else {}
            boarded = dict(st.boarded) if st.boarded else {}
            starts = old.starts[:k0]
            taken = old.breaks[:bi]
            self._deferred = old.deferred if k0 else False
            conv_from, offset = resume.conv_from, resume.offset
            old_starts, old_states, old_breaks = old.starts, old.states, old.breaks
            last_state = len(old_states) - 1
        for k in range(k0, len(stops)):
            if record is not None:
                record.states.append(PassState(t, loc, travel_total, bi, departure, dict(load) if load else None,
                                        dict(on_board) if on_board else None, dict(boarded) if boarded else None))
            vi = stops[k][0]
            visit = visits[vi]
            duration = durations[vi]
            tr = matrix[loc][visit.location]
            floor = later.get(vi, 0) if later else 0  # a pickup asked to start later: wait at the door
            while bi < nb:
                rule = rules[bi]
                b_start = max(t, rule.earliest, taken[-1][1] if taken else t)
                if b_start > rule.latest:
                    return None
                # The break may interrupt the drive to this visit or be taken on arrival (the
                # checker allows both, as OR-Tools plans them): the visit can start ``duration``
                # after the later of arriving and the break's start.
                ready = max(t + tr, b_start) + rule.duration
                start = self.start_at(vi, max(t + tr, floor), fixed)
                after_ok = start is not None and start + duration <= rule.latest
                if not starts and defer_first and after_ok:
                    self._deferred = True
                    break  # never start the day with a break that can wait
                if start is not None and ready <= start:
                    if not starts and bi == nb - 1:
                        # Before the day's first visit: as late as its window and the visit
                        # allow, so the day starts no earlier than it must.
                        b_start = max(b_start, min(rule.latest, start - rule.duration))
                        ready = max(t + tr, b_start) + rule.duration
                elif after_ok:
                    break  # can still be taken after this visit
                taken.append((b_start, b_start + rule.duration))
                t = ready - tr
                bi += 1
            start = self.start_at(vi, max(t + tr, floor), fixed)
            if start is None:
                return None
            if not starts:
                # Leave as late as the first visit allows, but no later than the first break
                # (taken before it: at the start place, on the way or on arrival).
                paused = sum(e - b for b, e in taken)
                departure = max(shift.start, min(taken[0][0], start - tr - paused)) if taken else start - tr
            starts.append(start)
            travel_total += tr
            t = start + duration
            loc = visit.exit_location
            for key, q in visit.demand.items():
                load[key] = load.get(key, 0) + q
            ride = ride_at.get(vi)
            if ride is not None:
                pickup, dropoff, ride_load, max_ride = ride
                if vi == pickup:
                    boarded[vi] = (start, t)
                    for key, q in ride_load.items():
                        on_board[key] = on_board.get(key, 0) + q
                        if on_board[key] > worker.capacity.get(key, 0):
                            return None
                else:
                    if pickup not in boarded:
                        return None  # drop-off before (or without) its pickup
                    p_start, p_end = boarded.pop(pickup)
                    for key, q in ride_load.items():
                        on_board[key] -= q
                    if max_ride is not None and start - p_end > max_ride:
                        return PickupLater(pickup, p_start + (start - p_end - max_ride))
            if (resume is not None and k >= conv_from and k - offset < last_state
                    and start == old_starts[k - offset]):
                # The old route's stop starts as before: if what it leaves behind is the same
                # too (breaks taken, who is on board), the rest of the route is the old one's.
                st = old_states[k - offset + 1]
                if (st.bi == bi and (bi == 0 or taken[-1][1] == old_breaks[bi - 1][1])
                        and st.boarded == (boarded or None)):
                    timing = old.timing
                    if timing is None:
                        # The old pass failed further on, or stopped at a ride too long, and
                        # so does this one (a pickup it holds back is before this stop:
                        # ``_resumed_rides`` converges only after the last one).
                        return old.later
                    if any(q > worker.capacity.get(key, 0) for key, q in _added(old.load, load, st.load).items()):
                        return None
                    resume.converged = k + 1
                    return Timing(starts + old_starts[k - offset + 1:], departure, timing.end,
                                  travel_total + timing.travel - st.travel, taken + old_breaks[bi:])
        if record is not None:
            record.states.append(PassState(t, loc, travel_total, bi, departure, dict(load) if load else None,
                                    dict(on_board) if on_board else None, dict(boarded) if boarded else None))
        if resume is not None:
            resume.converged = len(stops)
        if boarded:
            return None  # a passenger never dropped off
        if any(q > worker.capacity.get(key, 0) for key, q in load.items()):
            return None
        back = matrix[loc][worker.end_location] if stops else 0
        travel_total += back
        # Breaks still due after the last visit: driving back while waiting for each one, so
        # it is taken at the last visit's place, on the way or at the end place, whichever
        # its window allows first (a break due late in a shift whose visits end early fits
        # only on the way or at the end).
        trailing = trailing_breaks(list(rules[bi:]), t, back, taken[-1][1] if taken else t)
        if trailing is None:
            return None
        tail, end = trailing
        if end > self.end_limit[(route.worker_index, route.shift_index)]:
            return None
        taken.extend(tail)
        return Timing(starts, (departure if departure is not None else shift.start), end, travel_total, taken)

    def route_summary(self, route: RouteState, fixed: dict[int, int], defer_first: bool = True) -> RouteSummary | None:
        """``route``'s forward pass (``simulate``'s first, or with ``defer_first`` False its
        second) with its state before every stop, kept per vehicle and rebuilt when the
        route's stops or their fixed starts changed.  A pass that fails is kept too, as far as
        it got (an insertion that reaches the same state fails the same way), and so is one
        that stops at a ride too long (``RouteSummary.later``).  None only for a pass with no
        state at all."""
        stops = route.stops
        key = (route.vehicle, defer_first)
        kept = self._summaries.get(key)
        version = getattr(fixed, "version", None)
        if (kept is not None and version is not None and kept.fixed_ref is fixed and kept.stops == stops
                and (kept.fixed_version == version or fixed.unchanged_since(kept.fixed_version, kept.visits))):
            kept.fixed_version = version
            return kept if kept.states else None  # nothing it depends on changed since it was last checked
        fixed_vals = [fixed.get(vi) for vi, _ in stops]
        if kept is not None and (kept.stops != stops or kept.fixed_vals != fixed_vals):
            # The pass before this one: an LNS round that is not taken puts the routes back
            # as they were, and their passes are the ones kept before the round.
            older = self._older.get(key)
            self._older[key] = kept
            kept = older
            if kept is not None and kept.stops == stops and kept.fixed_vals == fixed_vals:
                self._summaries[key] = kept
            else:
                kept = None
        if kept is None:
            kept = RouteSummary(list(stops), fixed_vals, defer_first, visits=frozenset(vi for vi, _ in stops))
            self._deferred = False
            res = self._forward(route, stops, fixed, {} if self.ride_at else None, defer_first, kept)
            kept.deferred = self._deferred
            if isinstance(res, PickupLater):
                # Kept as far as the drop-off: a driver's route usually needs a pickup moved
                # (the appointment's window is not open yet), and its insertions are timed
                # from here like any other (``_resumed_rides`` moves the pickup).
                kept.later = res
            else:
                kept.timing = res
                kept.load = (kept.states[-1].load or {}) if res is not None else {}
            self._bounds(route, kept, fixed)
            self._summaries[key] = kept
        if version is not None:
            kept.fixed_ref, kept.fixed_version = fixed, version
        return kept if kept.states else None

    def summary_with(self, route: RouteState, fixed: dict[int, int], vi: int) -> RouteSummary | None:
        """``route_summary(route, fixed)`` for ``fixed`` = the plan's fixed starts plus one for
        ``vi``, the visit being inserted (a forced or pinned start): while ``vi`` is on no route
        the two agree on every route's stops, so the plan's own dict is asked and its quick
        check holds (a copy has no version, and every route would be compared stop by stop)."""
        return self.route_summary(route, self.fixed if vi not in self.placed else fixed)

    def _bounds(self, route: RouteState, summary: RouteSummary, fixed: dict[int, int]) -> None:
        """``summary.free_lb`` and ``summary.latest``: the route timed without breaks, forward
        (earliest ends) and backward (latest arrivals); in C (``optimizer._timing.bounds``) with
        the forward pass."""
        worker = self.p.workers[route.worker_index]
        shift = worker.shifts[route.shift_index]
        matrix = self.p.travel_times[worker.travel_mode]
        durations = self.durations[worker.kind]
        loc_in, loc_out, windows = self.loc_in, self.loc_out, self.windows
        stops = summary.stops
        summary.matrix, summary.durations = matrix, durations
        summary.ends = [worker.start_location] + [loc_out[vi] for vi, _ in stops]
        summary.nexts = [loc_in[vi] for vi, _ in stops] + [worker.end_location]
        if _compiled is not None and self.compiled_forward and type(stops) is list and isinstance(fixed, dict):
            summary.free_lb, summary.latest = _compiled.bounds(self._timing_ctx(route), stops, fixed)
            return
        t, loc = shift.start, worker.start_location
        free = [t]
        for vi, _ in stops:
            s = self.start_at(vi, t + matrix[loc][loc_in[vi]], fixed)
            t = (s if s is not None else INF) + durations[vi]
            loc = loc_out[vi]
            free.append(t)
        n = len(stops)
        latest = [0] * (n + 1)
        latest[n] = bound = self.end_limit[(route.worker_index, route.shift_index)]
        nxt = worker.end_location
        for k in range(n - 1, -1, -1):
            vk = stops[k][0]
            bound = bound - matrix[loc_out[vk]][nxt] - durations[vk]
            f = fixed.get(vk)
            if f is not None:
                bound = f if f <= bound else -INF
            else:
                for a, b in reversed(windows[vk]):
                    if a <= bound:
                        bound = b if b < bound else bound
                        break
                else:
                    bound = -INF
            latest[k] = bound
            nxt = loc_in[vk]
        summary.free_lb, summary.latest = free, latest

    def may_insert(self, route: RouteState, summary: RouteSummary, vi: int, pos: int, fixed: dict[int, int]) -> bool:
        """Whether ``vi`` inserted at ``pos`` of ``route`` could be timed at all, judged in a
        few steps from ``summary``'s bounds (``_bounds``): False only when even without
        breaks the visit or the stop after it could not start in time, so ``simulate`` would
        fail too.  Lets the search skip most infeasible positions without timing them."""
        return bool(self.insertable(summary, vi, [pos], fixed))

    def insertable(self, summary: RouteSummary, vi: int, positions: Iterable[int], fixed: dict[int, int]) -> list[int]:
        """Those of ``positions`` where ``may_insert`` holds, in their order: the same test
        as one loop (most positions of most routes fail it, and the search asks for every
        route a visit may go to)."""
        matrix, free_lb, ends, nexts, latest = summary.matrix, summary.free_lb, summary.ends, summary.nexts, summary.latest
        v_in = self.loc_in[vi]
        row_out = matrix[self.loc_out[vi]]
        duration = summary.durations[vi]
        start_at = self.start_at
        out = []
        for pos in positions:
            s = start_at(vi, free_lb[pos] + matrix[ends[pos]][v_in], fixed)
            if s is not None and s + duration + row_out[nexts[pos]] <= latest[pos]:
                out.append(pos)
        return out

    def ride_may_fit(self, route: RouteState, pickup: int, dropoff: int, fixed: dict[int, int]) -> bool:
        """Whether a ride (``pickup``, then ``dropoff``) could go into ``route`` at all, judged
        from the fixed starts of its stops: False only when no gap between fixed stops (the
        first opening at the shift's start, the last closing at its end limit) holds the pickup
        with a later gap for the drop-off, and none holds both with the trip between them.
        Breaks aside (they only delay), so ``simulate`` fails on such a route too.  Each leg's
        gap is first tested without travel (:func:`gap_may_hold`), then with the travel in and
        out.  The scan answers True (not judged) at the first stop without a fixed start: the
        gaps before it were judged on stops that cannot move, the rest cannot be.

        Why: the explanations test each unplaced ride against every car of the day with the
        plan as published (every start fixed, ``load_plan``); on a region's day most cars have
        no gap at the ride's time, and this pass over a route's starts spares their full
        timing (the rides were most of the explanations' time, benchmarks/README)."""
        stops = route.stops
        n = len(stops)
        if n and stops[0][0] not in fixed:
            return True  # the search's routes: nothing fixed, nothing judged, at once
        span_p, span_d = self.spans[pickup], self.spans[dropoff]
        if span_p is None or span_d is None:
            return False
        worker = self.p.workers[route.worker_index]
        durations = self.durations[worker.kind]
        matrix = self.p.travel_times[worker.travel_mode]
        loc_in, loc_out = self.loc_in, self.loc_out
        dur_p, dur_d = durations[pickup], durations[dropoff]
        p_in, p_out, d_in, d_out = loc_in[pickup], loc_out[pickup], loc_in[dropoff], loc_out[dropoff]
        trip = matrix[p_out][d_in]
        prev_end, prev_at = worker.shifts[route.shift_index].start, worker.start_location
        picked = False  # the pickup fits in an earlier gap
        for k in range(n + 1):
            if prev_end > span_d[1] or (not picked and prev_end > span_p[1]):
                return False  # every later gap opens too late
            if k < n:
                next_start = fixed.get(stops[k][0])
                if next_start is None:
                    return True  # a stop that may move: judged by ``simulate``
                next_at = loc_in[stops[k][0]]
            else:
                next_start, next_at = self.end_limit[(route.worker_index, route.shift_index)], worker.end_location
            if picked and gap_may_hold(prev_end, next_start, dur_d, span_d):
                drop_start = self.window_at(dropoff, prev_end + matrix[prev_at][d_in])
                if drop_start is not None and drop_start + dur_d + matrix[d_out][next_at] <= next_start:
                    return True
            if gap_may_hold(prev_end, next_start, dur_p, span_p):
                pick_start = self.window_at(pickup, prev_end + matrix[prev_at][p_in])
                if pick_start is not None:
                    drop_start = self.window_at(dropoff, pick_start + dur_p + trip)
                    if drop_start is not None and drop_start + dur_d + matrix[d_out][next_at] <= next_start:
                        return True
                    picked = picked or pick_start + dur_p + matrix[p_out][next_at] <= next_start
            if k < n:
                prev_end, prev_at = next_start + durations[stops[k][0]], loc_out[stops[k][0]]
        return False

    def insertion_simulate(self, route: RouteState, stops: Stops, k0: int, conv_from: int, offset: int,
                           fixed: dict[int, int], summary: RouteSummary | None = None,
                           ) -> tuple[Timing | None, int, RouteSummary | None]:
        """``simulate(route, stops, fixed)``, for ``stops`` that keep ``route``'s first ``k0``
        stops and from index ``conv_from`` on are its stops from ``conv_from - offset`` on
        (an insertion of ``offset`` stops), timed incrementally: from the kept pass's state
        before stop ``k0`` (``route_summary``) and only until the old route's timing takes
        over.

        Returns (the timing or None, the index from which starts are the summary's, the
        summary used, or None).  ``simulate``'s second pass (breaks before the first visit)
        resumes from a summary of its own; a ride too long moves its pickup and the pass
        resumes from it (``_resumed_rides``).  The result is always what ``simulate`` gives
        (tests/optimizer/test_incremental.py).  ``summary``: the route's (``route_summary``),
        if the caller has it at hand.
        """
        if summary is None and self.incremental:
            summary = self.route_summary(route, fixed)
        if summary is None or k0 >= len(summary.states):
            return self.simulate(route, stops, fixed), len(stops), None
        res, conv, deferred = self._resumed_rides(route, stops, k0, conv_from, offset, fixed, summary, True)
        if res is not None or not deferred:
            return res, conv, summary
        second = self.route_summary(route, fixed, False)
        if second is None or k0 >= len(second.states):
            return self._simulate_rides(route, stops, fixed, False), len(stops), None
        res, conv, _ = self._resumed_rides(route, stops, k0, conv_from, offset, fixed, second, False)
        return res, conv, second

    def _resumed_rides(self, route: RouteState, stops: Stops, k0: int, conv_from: int, offset: int,
                       fixed: dict[int, int], summary: RouteSummary, defer_first: bool,
                       ) -> tuple[Timing | None, int, bool]:
        """``_simulate_rides`` for ``insertion_simulate``, each pass resumed from ``summary``:
        a ride too long moves its pickup later, and the pass is resumed again from the
        pickup (or from ``k0``, if earlier); the old route's timing takes over only after
        every pickup held back.  Returns (the timing or None, where the old timing took
        over, whether a pass deferred the first break: ``simulate``'s cue for its second
        pass)."""
        later: dict[int, int] | None = {} if self.ride_at else None
        deferred = False
        for _ in range(RIDE_RETIMES):
            resume = Resume(summary, k0, conv_from, offset)
            res = self._forward(route, stops, fixed, later, defer_first, None, resume)
            deferred = deferred or self._deferred
            if not isinstance(res, PickupLater):
                return res, (resume.converged if res is not None else len(stops)), deferred
            pickup, not_before = res
            if later is None or pickup in fixed or later.get(pickup, -1) >= not_before:
                return None, len(stops), deferred
            later[pickup] = not_before
            at = next(k for k, (vi, _) in enumerate(stops) if vi == pickup)
            k0, conv_from = min(k0, at), max(conv_from, at + 1)
        return None, len(stops), deferred

    def start_at(self, vi: int, arrival: int, fixed: dict[int, int]) -> int | None:
        """Earliest allowed start of visit ``vi`` for an arrival, honouring a fixed start;
        None if impossible."""
        f = fixed.get(vi)
        if f is not None:
            return f if f >= arrival and self.window_at(vi, f) == f else None
        return self.window_at(vi, arrival)

    def window_at(self, vi: int, t: int) -> int | None:
        """Earliest start of visit ``vi`` in one of its windows at ``t`` or later, or None."""
        for start, end in self.windows[vi]:
            if t <= end:
                return t if t > start else start
        return None

    def work_ok(self, route: RouteState, span: int) -> bool:
        """Whether ``route`` may last ``span`` minutes within its worker's working-time cap
        (the worker's other routes as they stand)."""
        worker = self.p.workers[route.worker_index]
        if worker.max_work_minutes is None:
            return True
        other = sum(self.routes[v].span for v in self.by_worker[route.worker_index] if v != route.vehicle)
        return other + span <= worker.max_work_minutes

    def retime(self, route: RouteState) -> bool:
        """Time ``route``'s stops again with the plan's fixed starts; False (and the route
        unchanged) if they cannot be timed."""
        timing = self.simulate(route, route.stops, self.fixed)
        if timing is None:
            return False
        route.apply(route.stops, timing)
        return True

    def retime_without(self, route: RouteState, group: set[int]) -> bool:
        """Take the stops of ``group`` off ``route`` and time the rest again with the plan's
        fixed starts; False (and the route unchanged) if it cannot be timed.  One run of
        consecutive stops leaving is timed incrementally (``insertion_simulate`` with a
        negative offset), anything else whole; the timing is ``simulate``'s either way."""
        old = route.stops
        stops = [s for s in old if s[0] not in group]
        gone = len(old) - len(stops)
        k0 = next((k for k, s in enumerate(old) if s[0] in group), len(old))
        if gone and stops == old[:k0] + old[k0 + gone:]:
            timing = self.insertion_simulate(route, stops, k0, k0, -gone, self.fixed)[0]
        else:
            timing = self.simulate(route, stops, self.fixed)
        if timing is None:
            return False
        route.apply(stops, timing)
        return True

    def time_routes(self, changes: list[tuple[RouteState, Stops]], fixed: dict[int, int],
                    work_caps: bool = False) -> bool:
        """Give each route in ``changes`` its new stops, timed with ``fixed``, all or none:
        False (and nothing changed) if one cannot be timed or, with ``work_caps``, a worker's
        new routes exceed their working-time cap."""
        timed = []
        for route, stops in changes:
            timing = self.simulate(route, stops, fixed)
            if timing is None:
                return False
            timed.append((route, stops, timing))
        if work_caps:
            worked: dict[int, int] = {}
            for route, stops, timing in timed:
                if stops:
                    worked[route.worker_index] = worked.get(route.worker_index, 0) + timing.end - timing.departure
            for wi, minutes in worked.items():
                cap = self.p.workers[wi].max_work_minutes
                if cap is not None and minutes > cap:
                    return False
        for route, stops, timing in timed:
            route.apply(stops, timing)
        return True

    def load_plan(self, routes) -> bool:
        """Take a published plan (``model.Route`` list) as this plan's state, every stop's
        start fixed where the plan put it, so insertions go only where nothing has to move.
        False if a route cannot be re-timed as it was (then nothing is loaded)."""
        by_key = {(r.worker_index, r.shift_index): r for r in self.routes}
        worker_index = {w.id: i for i, w in enumerate(self.p.workers)}
        copies: dict[int, int] = {}
        fixed: dict[int, int] = {}
        staged: list[tuple[RouteState, Stops]] = []
        for route in routes:
            state = by_key.get((worker_index.get(route.worker_id, -1), route.shift_index))
            if state is None:
                return False
            stops = []
            for stop in route.stops:
                vi = self.index.get(stop.visit_id)
                if vi is None:
                    return False
                stops.append((vi, copies.get(vi, 0)))
                copies[vi] = copies.get(vi, 0) + 1
                fixed[vi] = stop.start
            staged.append((state, stops))
        if not self.time_routes(staged, fixed):
            return False
        self.fixed = FixedStarts(fixed)
        self.placed = set(copies)
        return True

    def take_out(self, vi: int, pinned_too: bool = False) -> list[int]:
        """Remove ``vi``, its ride's other leg and every placed visit that needs it; the
        routes are re-timed.  Returns what was removed ([] if a route could not be re-timed,
        or a pinned visit would go without ``pinned_too``; then nothing changes)."""
        return self.take_out_group((vi,), pinned_too)

    def take_out_group(self, seeds: Iterable[int], pinned_too: bool = False) -> list[int]:
        """``take_out`` of several visits at once (and what goes with each), all or nothing."""
        group: set[int] = set()
        stack = list(seeds)
        while stack:
            x = stack.pop()
            if x in group or x not in self.placed:
                continue
            group.add(x)
            ride = self.ride_at.get(x)
            if ride is not None:
                stack.extend(ride[:2])
            stack.extend(b for b, _, _ in self.after.get(x, []))
        if not pinned_too and any(self.p.visits[x].id in self.pins for x in group):
            return []
        fixed = {k: s for k, s in self.fixed.items() if k not in group}
        changes = [(route, [s for s in route.stops if s[0] not in group])
                   for route in self.routes if any(x in group for x, _ in route.stops)]
        if not self.time_routes(changes, fixed):
            return []
        for x in group:  # (in place: the other routes' kept passes hold, ``FixedStarts``)
            self.fixed.pop(x, None)
        self.placed -= group
        return sorted(group)

    def retime_linked(self) -> bool:
        """Move linked visits (pairs, dependencies, two-person) to their earliest joint starts.

        Once placed, a linked visit keeps its start so its partner stays valid; after other
        visits leave the plan, both could often start earlier (less lateness, more room).
        This re-times every route from scratch with the linked starts free: earliest starts,
        then each violated link raises a floor under the later side (a two-person visit's
        copies meet at the latest; ``after`` waits for ``before`` + min delay; ``before``
        moves up to ``after`` - max delay), and again, until nothing is violated.  Starts
        only grow from the unconstrained earliest, so what it finds is the earliest plan
        meeting every link, never later than the current one.  Pins stay; if a pass fails
        (a window or a shift end is exceeded) the plan is left as it was.  True if applied.
        """
        p = self.p
        tied = self.placed & self._linkable
        linked = tied - self._pinned
        if not linked:
            return False
        fixed = {vi: s for vi, s in self.fixed.items() if vi not in linked}
        floors: dict[int, int] = {}
        passes = self._linked_passes(fixed, tied)
        for _ in range(RETIME_PASSES):
            timed: dict[int, Timing] = {}
            starts_of: dict[int, list[int]] = {}
            changed = False
            for route in self.routes:
                if not route.stops:
                    continue
                stops = route.stops
                watch, memo, watched, unheld, tied_at = passes[route.vehicle]
                seen = (unheld if not floors or watched.isdisjoint(floors)
                        else tuple([floors.get(stops[k][0]) for k in watch]))
                hit = memo.get(seen) if self.incremental else None
                if hit is None:
                    res = self._retime_pass(route, fixed, floors, linked)
                    hit = (res, None if res is None or isinstance(res, PickupLater)
                           else [(stops[k][0], res.starts[k]) for k in tied_at])
                    if len(memo) >= _RETIMED_KEPT:
                        memo.clear()
                    memo[seen] = hit
                res, tied_starts = hit
                if res is None:
                    return False
                if isinstance(res, PickupLater):  # a ride too long: its pickup waits, as in ``simulate``
                    pickup, not_before = res
                    if pickup in fixed or floors.get(pickup, -1) >= not_before:
                        return False
                    floors[pickup] = not_before
                    changed = True
                    continue
                timed[route.vehicle] = res
                for vi, start in tied_starts:
                    starts_of.setdefault(vi, []).append(start)
            if changed:
                continue
            for vi, ss in starts_of.items():
                if len(ss) > 1 and min(ss) != max(ss):
                    floors[vi] = max(ss)
                    changed = True
            for b, links in self.before.items():
                if b not in starts_of:
                    continue
                sb = max(starts_of[b])
                for a, dmin, dmax in links:
                    if a not in starts_of:
                        continue
                    sa = max(starts_of[a])
                    if sb < sa + dmin:
                        floors[b] = max(floors.get(b, 0), sa + dmin)
                        changed = True
                    if dmax is not None and sb > sa + dmax:
                        floors[a] = max(floors.get(a, 0), sb - dmax)
                        changed = True
            if changed:
                continue
            worked: dict[int, int] = {}
            for v, timing in timed.items():
                wi = self.routes[v].worker_index
                worked[wi] = worked.get(wi, 0) + timing.end - timing.departure
            for wi, minutes in worked.items():
                cap = p.workers[wi].max_work_minutes
                if cap is not None and minutes > cap:
                    return False
            for v, timing in timed.items():
                route = self.routes[v]
                route.apply(route.stops, timing)
            fixed_now = self.fixed
            for vi in linked:
                start = max(starts_of[vi])
                if fixed_now.get(vi) != start:  # unchanged, the kept passes' quick check holds
                    fixed_now[vi] = start
            return True
        return False

    def _linked_passes(self, fixed: dict[int, int], tied: set[int]) -> dict[int, tuple]:
        """Per vehicle with stops, for ``retime_linked``: the positions of the stops it watches
        (tied visits, and ride stops, the only ones that get a floor), its memo of passes by
        the floors seen on them (each with the starts of its tied stops), the visits it
        watches, the memo's key with no floor on them, and the positions of its tied stops
        (a stop of a route is placed, so whether it is tied depends on the visit alone).

        A pass (``_retime_pass``) depends on the route's stops, their fixed starts (``fixed``:
        the plan's, less the linked visits') and the floors on its watched stops, nothing else;
        so the memo is kept across calls (``_retimed``) while the stops and their fixed starts
        are the same.  Why: every LNS round calls ``retime_linked``, and a round changes a few
        routes; the rest were timed again with the same floors (14 % of a round on the demo
        day).  Off when ``incremental`` is (the code path it is measured against)."""
        out: dict[int, tuple[list[int], dict]] = {}
        kept = self._retimed
        ride_at = self.ride_at
        for route in self.routes:
            stops = route.stops
            if not stops:
                continue
            v = route.vehicle
            fixed_vals = [fixed.get(vi) for vi, _ in stops]
            entry = kept.get(v) if self.incremental else None
            if entry is None or entry[0] != stops or entry[1] != fixed_vals:
                watch = [k for k, (vi, _) in enumerate(stops) if vi in tied or vi in ride_at]
                entry = (stops, fixed_vals, watch, {}, frozenset(stops[k][0] for k in watch), (None,) * len(watch),
                         [k for k in watch if stops[k][0] in tied])
                if self.incremental:
                    kept[v] = entry
            out[v] = entry[2:]
        return out

    def _retime_pass(self, route: RouteState, fixed: dict[int, int], floors: dict[int, int],
                     linked: set[int]) -> Timing | PickupLater | None:
        """``simulate_pass(route, route.stops, fixed, floors)`` for ``retime_linked``, resumed
        from the route's kept pass (``route_summary``) before its first stop that is linked
        or held back by a floor: up to there both passes see the same stops, fixed starts
        and floors, so they are in the same state."""
        stops = route.stops
        k0 = next((k for k, (vi, _) in enumerate(stops) if vi in linked or vi in floors), len(stops))
        if k0 == len(stops) and self.incremental:
            # Nothing on the route is linked or held back: its pass is the kept one (``fixed``
            # is the plan's own on these stops, so the summary's quick check applies).
            kept = self.route_summary(route, self.fixed)
            if kept is not None:
                return kept.timing if kept.later is None else kept.later
        kept = self._summaries.get((route.vehicle, True)) if self.incremental else None
        if kept is None or not kept.states or kept.stops != stops:
            return self.simulate_pass(route, stops, fixed, floors)
        if k0 == 0 or len(kept.states) <= k0 or kept.fixed_vals[:k0] != [fixed.get(vi) for vi, _ in stops[:k0]]:
            return self.simulate_pass(route, stops, fixed, floors)
        return self._forward(route, stops, fixed, floors, True, None, Resume(kept, k0, len(stops) + 1, 0))

    def delay_pickups(self) -> int:
        """Pick seniors up as late as their route allows; the number of pickups moved.

        Earliest-start timing brings a car to the clinic before the drop-off window opens,
        with the senior waiting inside.  Moving the pickup later by that wait changes
        nothing from the drop-off on (it waited anyway) and nothing the objective counts;
        it is kept only if every stop from the drop-off on starts exactly as before.
        """
        if not self.ride_at:
            return 0
        moved = 0
        for route in self.routes:
            stops = route.stops
            if not any(vi in self.ride_at for vi, _ in stops):
                continue
            worker = self.p.workers[route.worker_index]
            matrix = self.p.travel_times[worker.travel_mode]
            durations = self.durations[worker.kind]
            later: dict[int, int] = {}
            for pos, (vi, _) in enumerate(stops):
                ride = self.ride_at.get(vi)
                if ride is None or vi != ride[0] or vi in self.fixed:
                    continue
                j = next((k for k in range(pos + 1, len(stops)) if stops[k][0] == ride[1]), None)
                if j is None:
                    continue
                prev = stops[j - 1][0]
                gap = route.starts[j] - (route.starts[j - 1] + durations[prev]
                                         + matrix[self.loc_out[prev]][self.loc_in[ride[1]]])
                if gap <= 0:
                    continue
                trial = {**later, vi: route.starts[pos] + gap}
                res = self.simulate_pass(route, stops, self.fixed, trial)
                if not isinstance(res, Timing) or res.starts[j:] != route.starts[j:] or res.end != route.end:
                    continue
                later = trial
                route.apply(stops, res)
                moved += 1
        return moved

    def waiting(self, route: RouteState) -> int:
        """Minutes ``route``'s worker waits before starts (``arrivals``)."""
        if not route.stops:
            return 0
        worker = self.p.workers[route.worker_index]
        durations = self.durations[worker.kind]
        legs = [(self.loc_in[vi], self.loc_out[vi], s, s + durations[vi]) for (vi, _), s in zip(route.stops, route.starts)]
        arrived = arrivals(self.p.travel_times[worker.travel_mode], worker.start_location, route.departure, legs,
                           sorted(route.breaks))
        return sum(s - a for s, (a, _) in zip(route.starts, arrived))

    def timed_routes(self, waiting: bool = True) -> list[TimedRoute]:
        """The plan's routes with stops, as the objective reads them (waiting left at 0
        without ``waiting``: it costs nothing when ``wait_minute`` is 0)."""
        return [TimedRoute(r.worker_index, r.shift_index, [vi for vi, _ in r.stops], r.starts, r.end,
                           self.waiting(r) if waiting else 0)
                for r in self.routes if r.stops]

    # ------------------------------------------------------------------ one insertion

    def insertion_timing(self, route: RouteState, vi: int, pos: int, fixed: dict[int, int]) -> QuickInsertion | None:
        """Timing of ``vi`` inserted at ``pos`` of a route ``simulate`` times plainly (a shift
        without breaks on a day without rides or capacities), or None if it does not fit.

        The same timing as ``simulate`` (earliest starts, fixed starts kept), but from the
        stop before the insertion on, and only until a stop starts when it did before (the
        rest of the route is then unchanged): most insertions are judged in a few steps
        instead of a whole route.  Checks the shift end and the working-time cap.
        """
        p = self.p
        worker = p.workers[route.worker_index]
        loc_in, loc_out = self.loc_in, self.loc_out
        durations = self.durations[worker.kind]
        matrix = p.travel_times[worker.travel_mode]
        shift = worker.shifts[route.shift_index]
        stops, starts = route.stops, route.starts
        n = len(stops)
        if pos == 0:
            t, loc = shift.start, worker.start_location
        else:
            prev = stops[pos - 1][0]
            t, loc = starts[pos - 1] + durations[prev], loc_out[prev]
        tr = matrix[loc][loc_in[vi]]
        start = self.start_at(vi, t + tr, fixed)
        if start is None:
            return None
        departure = start - tr if pos == 0 else route.departure
        nxt_loc = loc_in[stops[pos][0]] if pos < n else worker.end_location
        travel_delta = tr + matrix[loc_out[vi]][nxt_loc] - (
            matrix[loc][nxt_loc] if n else 0)
        due = self.due
        late_delta = max(0, start - due[vi])
        worst = late_delta
        previous, wi = self.previous_start, route.worker_index
        tolerance = p.weights.previous_start_tolerance
        moved_delta = 0
        if previous:
            before = previous.get((vi, wi))
            moved_delta = int(before is not None and abs(start - before) > tolerance)
        t, loc = start + durations[vi], loc_out[vi]
        end = None
        for k in range(pos, n):
            vk = stops[k][0]
            new = self.start_at(vk, t + matrix[loc][loc_in[vk]], fixed)
            if new is None:
                return None
            old = starts[k]
            if new == old:
                end = route.end
                break
            late_new = max(0, new - due[vk])
            late_delta += late_new - max(0, old - due[vk])
            if late_new > worst:
                worst = late_new
            if previous:
                before = previous.get((vk, wi))
                if before is not None:
                    moved_delta += int(abs(new - before) > tolerance) - int(abs(old - before) > tolerance)
            t, loc = new + durations[vk], loc_out[vk]
        if end is None:
            end = t + matrix[loc][worker.end_location]
        if end > self.end_limit[(route.worker_index, route.shift_index)]:
            return None
        if not self.work_ok(route, end - departure):
            return None
        return QuickInsertion(start, departure, end, travel_delta, late_delta, worst, moved_delta)
