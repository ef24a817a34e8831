"""The optimizer's problem and solution: plain, frozen, typed data.

Units, stated once for the whole package
-----------------------------------------
* **Time** is an integer number of *minutes* counted from the problem's origin (minute 0).
  The optimizer never reads a clock and knows nothing of time zones: the dispatch layer
  chooses the origin (local midnight of the roster day, converted through UTC, so a DST
  day simply has 1380 or 1500 minutes) and converts back.  Benchmarks that need finer
  resolution (Solomon) scale every time value by the same factor; nothing here assumes 60.
* **Travel times** are integer minutes in one matrix per travel mode, indexed by
  location index (``problem.locations``).  Matrices need not be symmetric.
* **Distances** (optional, for KPIs only) are integer metres in the same layout.
* **Time windows** constrain the *start* of service, as in VRPTW and VROOM.

Everything is immutable so a problem can be shared by the solver, the checker and the
explainer without anyone changing it under the others' feet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping


class WorkerKind(str, Enum):
    """What a worker does; durations may differ per kind (a specialist may be faster)."""

    CARER = "carer"
    SPECIALIST_CARER = "specialist_carer"
    PERSONAL_ASSISTANT = "personal_assistant"
    DRIVER = "driver"
    HANDYMAN = "handyman"


class TravelMode(str, Enum):
    """How a worker moves between visits; each mode has its own travel-time matrix."""

    WALK = "walk"
    PUBLIC_TRANSPORT = "public_transport"
    CAR = "car"


class Gender(str, Enum):
    FEMALE = "F"
    MALE = "M"


@dataclass(frozen=True)
class Location:
    """A place visits and routes refer to by its index in ``Problem.locations``."""

    id: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class TimeWindow:
    """Allowed start of service ``[start, end]`` (inclusive, minutes)."""

    start: int
    end: int


@dataclass(frozen=True)
class BreakRule:
    """A paid break the worker must take inside ``[earliest, latest]`` (break start).

    Polish labour code art. 134: at least 15 minutes once the daily working-time dimension
    is 6 hours or more, another 15 minutes above 9 hours.  The dispatch layer derives the
    rules from the shift length; the optimizer just honours what it is given.  A break is
    taken between visits (never during one); travel may be interrupted by it.
    """

    duration: int
    earliest: int
    latest: int


@dataclass(frozen=True)
class Shift:
    """One working period of a worker on the day; split shifts are several of these.

    ``max_overtime`` minutes past ``end`` are allowed (hard limit) and penalised per minute.
    """

    start: int
    end: int
    max_overtime: int = 0
    breaks: tuple[BreakRule, ...] = ()


@dataclass(frozen=True)
class Worker:
    id: str
    kind: WorkerKind
    shifts: tuple[Shift, ...]
    start_location: int
    end_location: int
    travel_mode: TravelMode = TravelMode.CAR
    skills: frozenset[str] = frozenset()
    gender: Gender | None = None
    max_work_minutes: int | None = None
    """Cap on working time over all shifts of the day (travel and waiting count: CJEU C-266/14)."""
    capacity: Mapping[str, int] = field(default_factory=dict)
    """Named capacities (e.g. Solomon demand, seats); a visit's ``demand`` must fit."""


@dataclass(frozen=True)
class Visit:
    """A service at a place. ``workers_needed=2`` is a two-person visit: both start together."""

    id: str
    location: int
    duration: int
    windows: tuple[TimeWindow, ...]
    duration_by_kind: Mapping[WorkerKind, int] = field(default_factory=dict)
    required_skills: frozenset[str] = frozenset()
    worker_kinds: frozenset[WorkerKind] = frozenset()
    """Kinds of worker who may do it (a service's staff); empty: any kind with the skills."""
    mandatory: bool = False
    priority: int = 1
    """1 (lowest) .. 5 (highest); scales the drop penalty of optional visits."""
    soft_windows: bool = False
    max_lateness: int = 0
    """With ``soft_windows``: the start may be this many minutes after the last window's end."""
    required_workers: frozenset[str] = frozenset()
    preferred_workers: frozenset[str] = frozenset()
    forbidden_workers: frozenset[str] = frozenset()
    gender_preference: Gender | None = None
    gender_strict: bool = False
    workers_needed: int = 1
    pinned_worker: str | None = None
    pinned_start: int | None = None
    demand: Mapping[str, int] = field(default_factory=dict)
    client_id: str | None = None
    """The senior (or job) the visit belongs to; used for continuity KPIs and explanations."""
    end_location: int | None = None
    """Where the worker is when the visit ends, if not where it began (a ride ends at the
    destination); travel to the next stop starts there.  None: the visit's ``location``."""

    @property
    def exit_location(self) -> int:
        return self.location if self.end_location is None else self.end_location

    def duration_for(self, kind: WorkerKind) -> int:
        return self.duration_by_kind.get(kind, self.duration)


@dataclass(frozen=True)
class Dependency:
    """``after`` starts between ``min_delay`` and ``max_delay`` minutes after ``before`` starts.

    ``min_delay = max_delay = 0`` makes the two start together (a simultaneous pair of
    different services, e.g. two carers with different skills lifting a senior).
    ``different_workers``: the two visits must be done by two different workers (the second
    service of a pair is not the first carer's job).
    """

    before: str
    after: str
    min_delay: int = 0
    max_delay: int | None = None
    different_workers: bool = False
    both_or_neither: bool = False
    """``after`` always needs ``before``; with this, ``before`` also needs ``after``: both are
    planned or neither (a ride to the clinic only with its ride home)."""


@dataclass(frozen=True)
class Ride:
    """A passenger carried door to door: ``pickup`` and ``dropoff`` are two visits of the problem.

    Both go to the same worker and shift (the driver and the car), the pickup first.  From
    the start of the pickup to the end of the drop-off the passengers' ``load`` (e.g.
    ``{"seats": 2, "wheelchair": 1}`` for a senior in a wheelchair with an escort) takes up
    room in the car (``Worker.capacity``); several rides may share the car when the room,
    the windows and the ride times allow.  ``max_ride_time``: at most this many minutes from
    the end of the pickup service (the senior is in the car) to the start of the drop-off
    service (the car is at the destination); None: no limit.  An appointment is the
    drop-off visit's time window; a return trip is a second ride linked to the first by a
    ``Dependency``.
    """

    pickup: str
    dropoff: str
    load: Mapping[str, int] = field(default_factory=dict)
    max_ride_time: int | None = None


@dataclass(frozen=True)
class PlannedVisit:
    """One visit of a previous plan (for frozen work and minimal-change re-planning)."""

    visit_id: str
    worker_id: str
    start: int


@dataclass(frozen=True)
class Weights:
    """Objective weights, per unit.  Defaults live in ``optimizer/params.toml``.

    The objective, in order of dominance: visits placed by priority (drop penalties dwarf
    everything else), then travel minutes, lateness and overtime minutes, lost continuity
    and plan changes, and workload imbalance.
    """

    drop_mandatory: int = 10_000_000
    drop_per_priority: int = 100_000
    travel_minute: int = 10
    lateness_minute: int = 50
    overtime_minute: int = 40
    non_preferred_worker: int = 300
    gender_mismatch: int = 500
    changed_from_previous: int = 200
    imbalance: int = 1
    """Per route, (service minutes above the fair share)^2 x this; the fair share of a shift is
    1.1 x (all requested service minutes / all shift minutes) x the shift's minutes."""
    wait_minute: int = 0
    max_lateness_minute: int = 0
    """Per minute of the largest lateness of any one visit in the plan (on top of the
    per-minute lateness of every visit): spreads lateness instead of piling it on one senior."""


@dataclass(frozen=True)
class Problem:
    locations: tuple[Location, ...]
    travel_times: Mapping[TravelMode, tuple[tuple[int, ...], ...]]
    workers: tuple[Worker, ...]
    visits: tuple[Visit, ...]
    dependencies: tuple[Dependency, ...] = ()
    rides: tuple[Ride, ...] = ()
    distances: Mapping[TravelMode, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    previous_plan: tuple[PlannedVisit, ...] = ()
    freeze_until: int | None = None
    """Visits of ``previous_plan`` starting before this minute are kept as they were."""
    weights: Weights = field(default_factory=Weights)
    name: str = ""

    def visit_by_id(self) -> dict[str, Visit]:
        return {v.id: v for v in self.visits}

    def worker_by_id(self) -> dict[str, Worker]:
        return {w.id: w for w in self.workers}

    def travel(self, mode: TravelMode, a: int, b: int) -> int:
        return self.travel_times[mode][a][b]


# --------------------------------------------------------------------------- solution


@dataclass(frozen=True)
class Stop:
    """A visit in a route. ``travel`` is from the previous location, ``waiting`` before start."""

    visit_id: str
    location: int
    arrival: int
    start: int
    end: int
    travel: int
    waiting: int


@dataclass(frozen=True)
class BreakTaken:
    start: int
    end: int


@dataclass(frozen=True)
class Route:
    """The ordered work of one worker in one shift, from leaving the start location to arriving at the end."""

    worker_id: str
    shift_index: int
    start: int
    end: int
    stops: tuple[Stop, ...]
    breaks: tuple[BreakTaken, ...] = ()
    travel_minutes: int = 0
    service_minutes: int = 0
    waiting_minutes: int = 0
    overtime_minutes: int = 0
    distance_m: int | None = None

    @property
    def work_minutes(self) -> int:
        return self.end - self.start if self.stops else 0


class ReasonCode(str, Enum):
    NO_SKILLED_WORKER = "no_skilled_worker"
    FORBIDDEN_ONLY = "forbidden_workers_only"
    NO_WORKER_FREE = "no_worker_free_in_window"
    DEPENDENCY = "dependency_not_satisfiable"
    DISPLACED = "displaced_by_higher_priority"
    NOT_WORTH_IT = "optional_not_worth_cost"
    NOT_FOUND = "not_found_by_search"
    NO_CAR_ROOM = "no_car_with_room"
    APPOINTMENT_UNREACHABLE = "appointment_unreachable"


@dataclass(frozen=True)
class Unassigned:
    visit_id: str
    reason: ReasonCode
    message_en: str
    message_pl: str
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Kpis:
    visits_total: int
    visits_placed: int
    mandatory_total: int
    mandatory_placed: int
    placed_by_priority: Mapping[int, tuple[int, int]]
    """priority -> (placed, total)."""
    travel_minutes: int
    service_minutes: int
    waiting_minutes: int
    work_minutes: int
    overtime_minutes: int
    lateness_minutes: int
    utilisation: float
    """Service minutes / minutes of shift time of the workers who were used."""
    continuity_share: float
    """Of the placed visits that name preferred workers, the share done by one of them."""
    workers_used: int
    distance_m: int | None = None
    max_lateness_minutes: int = 0
    """The largest lateness of one visit (soft windows): the ``max_lateness_minute`` term."""


@dataclass(frozen=True)
class SolveStats:
    status: str
    objective: int
    elapsed_s: float
    solutions_found: int
    time_limit_s: float | None
    seed: int
    parameters: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Solution:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis | None = None
    stats: SolveStats | None = None

    def assignments(self) -> dict[str, list[tuple[str, int]]]:
        """visit id -> [(worker id, start)], two entries for a two-person visit."""
        out: dict[str, list[tuple[str, int]]] = {}
        for route in self.routes:
            for stop in route.stops:
                out.setdefault(stop.visit_id, []).append((route.worker_id, stop.start))
        return out
