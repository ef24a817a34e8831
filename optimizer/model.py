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

This module is also the single source of the JSON problem and solution format: the JSON
mirrors these dataclasses one to one, the value ranges are the ``Annotated`` aliases below,
and the docstring under each field is its description in the JSON Schema and in the field
reference of ``optimizer/FORMAT.md`` (both generated: ``python -m optimizer.schema_gen``).
A new field needs a docstring; rules between fields (ids that must exist, windows in order)
are checked by ``optimizer._validation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Mapping

from annotated_types import Ge, Interval, MinLen

Minute = Annotated[int, Ge(0)]
"""A point in time: integer minutes from the problem's origin."""
Minutes = Annotated[int, Ge(0)]
"""A length of time in integer minutes."""
LocationIndex = Annotated[int, Ge(0)]
"""A 0-based index into ``Problem.locations``."""
Count = Annotated[int, Ge(0)]
Metres = Annotated[int, Ge(0)]
Id = Annotated[str, MinLen(1)]
"""A non-empty name: of a location, worker, visit or client, or a skill."""
Amount = Annotated[int, Ge(0)]
"""A named quantity (seats, wheelchair places, Solomon demand)."""
Matrix = tuple[tuple[Annotated[int, Ge(0)], ...], ...]
"""Row ``i``, column ``j``: from location ``i`` to location ``j``; one row and column per location."""
Weight = Annotated[int, Ge(0)]
"""Cost units per unit of an objective term."""


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
    """F (female) or M (male)."""

    FEMALE = "F"
    MALE = "M"


@dataclass(frozen=True)
class Location:
    """A place (a client's home, the office, a worker's home), referred to by its index in ``Problem.locations``."""

    id: Id
    """Unique name of the place, for people and logs; other sections use the index, not this id."""
    lat: Annotated[float, Interval(ge=-90, le=90)] | None = None
    """WGS84 latitude in degrees; give both ``lat`` and ``lon`` or neither.  Informational (maps,
    explanations): the optimizer uses only the matrices."""
    lon: Annotated[float, Interval(ge=-180, le=180)] | None = None
    """WGS84 longitude in degrees; give both ``lat`` and ``lon`` or neither."""


@dataclass(frozen=True)
class TimeWindow:
    """Allowed start of service ``[start, end]``, both inclusive, in minutes from the origin.

    A window constrains when the visit starts, not when it ends.
    """

    start: Minute
    """Earliest start of service.  A worker who arrives earlier waits."""
    end: Minute
    """Latest start of service, not before ``start``."""


@dataclass(frozen=True)
class BreakRule:
    """A paid break the worker must take inside ``[earliest, latest]`` (break start).

    Polish labour code art. 134: at least 15 minutes once the daily working-time dimension
    is 6 hours or more, another 15 minutes above 9 hours.  The dispatch layer derives the
    rules from the shift length; the optimizer just honours what it is given.  A break is
    taken between visits (never during one); travel may be interrupted by it.
    """

    duration: Annotated[int, Ge(1)]
    """Length of the break in minutes."""
    earliest: Minute
    """Earliest start of the break, not before the shift's start."""
    latest: Minute
    """Latest start of the break, not after the shift's end and not before ``earliest``."""


@dataclass(frozen=True)
class Shift:
    """One working period of a worker on the day; a split shift is several of these, in time order and not overlapping.

    ``max_overtime`` minutes past ``end`` are allowed (hard limit) and penalised per minute.
    """

    start: Minute
    """The earliest the worker leaves the start location."""
    end: Minute
    """When the worker is due back at the end location."""
    max_overtime: Minutes = 0
    """Minutes the worker may work past ``end`` (hard limit); each costs ``Weights.overtime_minute``."""
    breaks: tuple[BreakRule, ...] = ()
    """Breaks to take within this shift."""


@dataclass(frozen=True)
class Worker:
    """A person who can be given visits."""

    id: Id
    """Unique worker id, referred to by visits, ``previous_plan`` and solutions."""
    kind: WorkerKind
    """What the worker does."""
    shifts: tuple[Shift, ...]
    """The worker's shifts on the day, in time order; routes refer to a shift by its 0-based index here."""
    start_location: LocationIndex
    """Where every shift of the worker starts (office or home)."""
    end_location: LocationIndex
    """Where every shift of the worker ends."""
    travel_mode: TravelMode = TravelMode.CAR
    """How the worker travels; ``travel_times`` must have a matrix for it."""
    skills: frozenset[Id] = frozenset()
    """Skills the worker has; a visit's ``required_skills`` must all be among them."""
    gender: Gender | None = None
    """The worker's gender, matched against visits' ``gender_preference``; none never matches a preference."""
    max_work_minutes: Minutes | None = None
    """Cap on working time over all shifts of the day (travel and waiting count: CJEU C-266/14); none: no cap beyond the shifts."""
    capacity: Mapping[str, Amount] = field(default_factory=dict)
    """Named capacities (e.g. Solomon demand, seats in a driver's car); a visit's ``demand`` must fit."""


@dataclass(frozen=True)
class Visit:
    """A service at a place. ``workers_needed=2`` is a two-person visit: both start together."""

    id: Id
    """Unique visit id, referred to by dependencies, rides, ``previous_plan`` and solutions."""
    location: LocationIndex
    """Where the service takes place (where the worker must be at its start)."""
    duration: Minutes
    """Service time in minutes, for worker kinds not in ``duration_by_kind``."""
    windows: Annotated[tuple[TimeWindow, ...], MinLen(1)]
    """Allowed start times: one or more windows, in time order and not overlapping; the visit starts within one of them."""
    duration_by_kind: Mapping[WorkerKind, Minutes] = field(default_factory=dict)
    """Service time in minutes for particular worker kinds, e.g. ``{"specialist_carer": 30}``."""
    required_skills: frozenset[Id] = frozenset()
    """Skills every worker doing the visit must have."""
    worker_kinds: frozenset[WorkerKind] = frozenset()
    """Kinds of worker who may do it (a service's staff); empty: any kind with the skills."""
    mandatory: bool = False
    """Leaving a mandatory visit out costs ``Weights.drop_mandatory``, far more than anything else."""
    priority: Annotated[int, Interval(ge=1, le=5)] = 1
    """1 (lowest) .. 5 (highest); leaving an optional visit out costs priority x ``Weights.drop_per_priority``."""
    soft_windows: bool = False
    """If true, the visit may start up to ``max_lateness`` minutes after the last window's end,
    each late minute costing ``Weights.lateness_minute``; if false the windows are hard."""
    max_lateness: Minutes = 0
    """With ``soft_windows``: the start may be this many minutes after the last window's end (ignored otherwise)."""
    required_workers: frozenset[Id] = frozenset()
    """Worker ids: only these workers may do the visit; empty: any worker."""
    preferred_workers: frozenset[Id] = frozenset()
    """Worker ids the client is used to (continuity of care); anyone else costs ``Weights.non_preferred_worker``."""
    forbidden_workers: frozenset[Id] = frozenset()
    """Worker ids that must not do the visit; must not overlap ``required_workers``, ``preferred_workers`` or ``pinned_worker``."""
    gender_preference: Gender | None = None
    """Gender of worker the client asked for."""
    gender_strict: bool = False
    """If true the gender preference is a hard rule (needs ``gender_preference``), otherwise a mismatch costs ``Weights.gender_mismatch``."""
    workers_needed: Annotated[int, Ge(1)] = 1
    """How many workers the visit needs; 2 is a two-person visit (e.g. a hoist transfer): all start at the same minute."""
    pinned_worker: Id | None = None
    """Worker id the visit is fixed to (agreed with the client or already dispatched)."""
    pinned_start: Minute | None = None
    """Minute the visit is fixed to start at."""
    demand: Mapping[str, Amount] = field(default_factory=dict)
    """Named amounts the visit uses of a worker's ``capacity``."""
    client_id: Id | None = None
    """The senior (or job) the visit belongs to; used for continuity KPIs and explanations."""
    end_location: LocationIndex | None = None
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

    before: Id
    """Id of the visit that comes first."""
    after: Id
    """Id of the visit that follows; not ``before``."""
    min_delay: Minutes = 0
    """Minimum minutes between the two starts."""
    max_delay: Minutes | None = None
    """Maximum minutes between the two starts, at least ``min_delay``; none: no maximum."""
    different_workers: bool = False
    """If true, the two visits go to two different workers."""
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

    pickup: Id
    """Id of the one-person visit where the passenger gets in (e.g. at the senior's door); a visit is in at most one ride."""
    dropoff: Id
    """Id of the one-person visit where the passenger gets out (e.g. at the clinic: its window holds the appointment); not ``pickup``."""
    load: Mapping[str, Amount] = field(default_factory=dict)
    """Room taken in the car, e.g. ``{"seats": 2, "wheelchair": 1}``; compared with the worker's ``capacity``."""
    max_ride_time: Minutes | None = None
    """At most this many minutes from the end of the pickup to the start of the drop-off (time in the car); none: no limit."""


@dataclass(frozen=True)
class PlannedVisit:
    """One assignment of a previous plan (for frozen work and minimal-change re-planning); a two-person visit has two."""

    visit_id: Id
    """Id of a visit of the problem."""
    worker_id: Id
    """Id of a worker of the problem."""
    start: Minute
    """Planned start of service."""


@dataclass(frozen=True)
class Weights:
    """Objective weights, per unit.  Defaults live in ``optimizer/params.toml``.

    The objective, in order of dominance: visits placed by priority (drop penalties dwarf
    everything else), then travel minutes, lateness and overtime minutes, lost continuity
    and plan changes, and workload imbalance.
    """

    drop_mandatory: Weight = 10_000_000
    """Cost of leaving out a mandatory visit."""
    drop_per_priority: Weight = 100_000
    """Cost of leaving out an optional visit, per priority level."""
    travel_minute: Weight = 10
    """Cost per minute of travel."""
    lateness_minute: Weight = 50
    """Cost per minute a soft-window visit starts after its last window's end."""
    overtime_minute: Weight = 40
    """Cost per minute worked past a shift's end."""
    non_preferred_worker: Weight = 300
    """Cost per visit with ``preferred_workers`` done by none of them."""
    gender_mismatch: Weight = 500
    """Cost per visit whose non-strict ``gender_preference`` is not met."""
    changed_from_previous: Weight = 50_000
    """Cost per assignment of ``previous_plan`` not kept: its worker no longer does the visit (it
    moved to another worker, or was left out), or starts it more than ``previous_start_tolerance``
    minutes from its previous start.  Half the price of the least important visit (an urgent
    visit may move published stops, a visit of priority 1 at most one) and far above what travel
    savings alone can pay (5,000 travel minutes at the default ``travel_minute``), so a re-plan
    moves a published stop only to place work (measured: ``benchmarks/README.md``)."""
    previous_start_tolerance: Minutes = 15
    """Minutes a ``previous_plan`` assignment's start may move, either way, and still count as
    kept (a worker told 9:00 can be at the door by 9:15)."""
    imbalance: Weight = 1
    """Per route, (service minutes above the fair share)^2 x this; the fair share of a shift is
    1.1 x (all requested service minutes / all shift minutes) x the shift's minutes."""
    wait_minute: Weight = 0
    """Cost per minute a worker waits at a client before a window opens."""
    max_lateness_minute: Weight = 0
    """Per minute of the largest lateness of any one visit in the plan (on top of the
    per-minute lateness of every visit): spreads lateness instead of piling it on one senior."""


@dataclass(frozen=True)
class Problem:
    """One day of in-home services to plan: places, travel times, workers and their shifts, visits and their rules."""

    locations: Annotated[tuple[Location, ...], MinLen(1)]
    """Every place a visit, a route start or a route end refers to, by its 0-based index here;
    the matrices have one row and one column per location, in this order."""
    travel_times: Annotated[Mapping[TravelMode, Matrix], MinLen(1)]
    """Travel minutes from location ``i`` (row) to location ``j`` (column), one N x N matrix per
    travel mode that some worker uses; need not be symmetric."""
    workers: tuple[Worker, ...]
    """The people available on the day; ids unique."""
    visits: tuple[Visit, ...]
    """The services to place; ids unique."""
    dependencies: tuple[Dependency, ...] = ()
    """Rules between the start times of two visits (e.g. a medication check hours after the medication)."""
    rides: tuple[Ride, ...] = ()
    """Passengers carried door to door (senior taxi): pickup and drop-off visit pairs."""
    distances: Mapping[TravelMode, Matrix] = field(default_factory=dict)
    """Distances in metres, same layout as ``travel_times``; only for reporting (KPIs), never in the objective."""
    previous_plan: tuple[PlannedVisit, ...] = ()
    """The assignments of an earlier plan of the day, for re-planning with few changes
    (changing one costs ``Weights.changed_from_previous``)."""
    freeze_until: Minute | None = None
    """Visits of ``previous_plan`` starting before this minute are kept as they were."""
    weights: Weights = field(default_factory=Weights)
    """Objective weights; keys left out take their defaults (see ``optimizer/params.toml``)."""
    name: str = ""
    """Free-text label (instance name, date, area)."""

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

    visit_id: Id
    """Id of the problem's visit."""
    location: LocationIndex
    """Location index of the visit (as in the problem)."""
    arrival: Minute
    """When the worker arrives at the location."""
    start: Minute
    """When service starts (in one of the visit's windows, or late within ``max_lateness`` for soft windows)."""
    end: Minute
    """When service ends (start plus the duration for this worker's kind)."""
    travel: Minutes
    """Minutes of travel from the previous location of the route (the start location for the first stop)."""
    waiting: Minutes
    """Minutes waited before the start of service (arriving before the window opens, or for the second worker of a two-person visit)."""


@dataclass(frozen=True)
class BreakTaken:
    """A break taken in a route."""

    start: Minute
    """When the break starts."""
    end: Minute
    """When the break ends."""


@dataclass(frozen=True)
class Route:
    """The ordered work of one worker in one shift, from leaving the start location to arriving at the end."""

    worker_id: Id
    """Id of the problem's worker."""
    shift_index: Annotated[int, Ge(0)]
    """0-based index of the shift in the worker's ``shifts``."""
    start: Minute
    """When the worker leaves the start location."""
    end: Minute
    """When the worker arrives at the end location."""
    stops: tuple[Stop, ...]
    """The visits in the order they are done; a two-person visit is a stop in two routes, with the same start."""
    breaks: tuple[BreakTaken, ...] = ()
    """Breaks taken, in time order."""
    travel_minutes: Minutes = 0
    """Total travel minutes of the route, including the way back to the end location."""
    service_minutes: Minutes = 0
    """Total minutes of service."""
    waiting_minutes: Minutes = 0
    """Total minutes of waiting."""
    overtime_minutes: Minutes = 0
    """Minutes worked past the shift's end."""
    distance_m: Metres | None = None
    """Distance travelled in metres, when the problem has distances for the worker's travel mode."""

    @property
    def work_minutes(self) -> int:
        return self.end - self.start if self.stops else 0


class ReasonCode(str, Enum):
    """Why a visit was left out of the plan (the situation under a code is ``details["case"]``,
    a ``ReasonCase``; ``REASON_CASES`` lists which cases each code has)."""

    NO_SKILLED_WORKER = "no_skilled_worker"
    """Nobody has the required skills or kind."""
    NOT_ENOUGH_ELIGIBLE = "not_enough_eligible_workers"
    """A visit for several workers at once (``workers_needed`` 2) with fewer who may do it (have
    the skills, or may go to the senior)."""
    FORBIDDEN_ONLY = "forbidden_workers_only"
    """Every suitable worker is forbidden."""
    NO_WORKER_FREE = "no_worker_free_in_window"
    """No eligible worker is free in its windows: off shift, or booked by visits that matter as
    much or less (named in ``details.blocking_visits`` and ``details.would_displace``)."""
    DEPENDENCY = "dependency_not_satisfiable"
    """Its dependency cannot be met."""
    DISPLACED = "displaced_by_higher_priority"
    """It would fit, but only by dropping visits that outrank it (``optimizer.objective.outranks``:
    mandatory over optional, then a higher priority)."""
    NOT_WORTH_IT = "optional_not_worth_cost"
    """An optional visit whose cost exceeds its drop penalty."""
    NOT_FOUND = "not_found_by_search"
    """The search found no place for it within the time limit."""
    NO_CAR_ROOM = "no_car_with_room"
    """A ride: no car on duty has room for its passengers (e.g. a wheelchair place)."""
    APPOINTMENT_UNREACHABLE = "appointment_unreachable"
    """A ride: even a direct trip from the pickup window cannot reach the drop-off window."""


class ReasonCase(str, Enum):
    """Which situation under a ``ReasonCode`` an unplaced visit is in (``details["case"]``).

    The code is what a program branches on; the case tells whoever words the reason which
    sentence fits, and the other ``details`` are the facts it needs (ids, counts, priorities,
    and times as minutes from the origin).  ``details["ride"]`` ([pickup, drop-off]) marks a
    ride's leg.  The optimizer words nothing: ``dispatch.planning.explanations`` does, in Polish and
    English, with local clock times through the day's time zone.
    """

    NOBODY_HAS_SKILLS = "nobody_has_skills"
    """Nobody on duty has ``required_skills`` and one of ``worker_kinds``."""
    TOO_FEW_SKILLED = "too_few_skilled"
    """Fewer workers with the skills (``skilled_workers``) than ``workers_needed``."""
    TOO_FEW_ALLOWED = "too_few_allowed"
    """Enough with the skills, but fewer may go to the senior (``eligible_workers``) than needed."""
    ALL_EXCLUDED = "all_excluded"
    """Everyone with the skills (a ride: with room in the car) is excluded for the senior."""
    PARTNER_UNPLACED = "partner_unplaced"
    """Planned only together with ``depends_on`` (both or neither), which is not placed."""
    BEFORE_UNPLACED = "before_unplaced"
    """It must follow ``depends_on``, which is not placed."""
    DELAY_OUTSIDE_WINDOWS = "delay_outside_windows"
    """The delay after the linked visit puts every allowed start outside ``windows``."""
    RETURN_NO_ROOM = "return_no_room"
    """A ride that fits (``worker``, ``pickup_start``) but goes only with its return
    ``depends_on``, for which there is no room after it."""
    DEARER_THAN_DROPPING = "dearer_than_dropping"
    """Optional, and its best slot costs more than leaving it out (``drop_penalty``)."""
    FREE_SLOT = "free_slot"
    """A free slot exists (``slots``; a ride: ``worker``, ``pickup_start``): the search missed it."""
    NOT_EXPLAINED = "not_explained"
    """No reason was computed (``SolveParams.explain`` off, or a plan from another solver)."""
    NEEDS_TOGETHER = "needs_together"
    """Needs ``workers_needed`` at once; only ``on_shift_in_window`` are on shift in its ``windows``."""
    OFF_SHIFT = "off_shift"
    """No eligible worker is on shift in its ``windows`` (a ride: to pick up from ``earliest_pickup``
    and arrive by ``latest_dropoff``)."""
    KEPT_LESS_IMPORTANT = "kept_less_important"
    """It would fit (``best_insertion``) if ``would_displace`` gave way, which matters less."""
    SAME_RANK = "same_rank"
    """It would fit (``best_insertion``) if ``would_displace`` gave way, which matters as much."""
    WORKING_TIME = "working_time"
    """No visit is in the way in its ``windows``; the workers' other work that day (working-time
    cap, breaks) leaves no room."""
    BOOKED_MIXED = "booked_mixed"
    """The time is booked by ``blocking_count`` visits (``blocking_visits``, the first 20), not all
    more important; no single one giving way frees enough room."""
    WOULD_DISPLACE = "would_displace"
    """It would fit (``best_insertion``) if ``would_displace``, which outranks it, gave way."""
    BOOKED_BY_MORE_IMPORTANT = "booked_by_more_important"
    """The time is booked by ``blocking_count`` visits, each more important; no single one giving
    way frees enough room."""
    NO_ROOM = "no_room"
    """No car on duty has room for the passengers (``load``)."""
    RIDE_TOO_LONG = "ride_too_long"
    """The direct trip (``direct_minutes``) is longer than ``max_ride_time``."""
    ARRIVES_LATE = "arrives_late"
    """Even picked up at ``earliest_pickup`` the senior arrives at ``arrival``, after ``latest_dropoff``."""


REASON_CASES: Mapping[ReasonCode, tuple[ReasonCase, ...]] = {
    ReasonCode.NO_SKILLED_WORKER: (ReasonCase.NOBODY_HAS_SKILLS,),
    ReasonCode.NOT_ENOUGH_ELIGIBLE: (ReasonCase.TOO_FEW_SKILLED, ReasonCase.TOO_FEW_ALLOWED),
    ReasonCode.FORBIDDEN_ONLY: (ReasonCase.ALL_EXCLUDED,),
    ReasonCode.NO_WORKER_FREE: (ReasonCase.NEEDS_TOGETHER, ReasonCase.OFF_SHIFT, ReasonCase.KEPT_LESS_IMPORTANT,
                                ReasonCase.SAME_RANK, ReasonCase.WORKING_TIME, ReasonCase.BOOKED_MIXED),
    ReasonCode.DEPENDENCY: (ReasonCase.PARTNER_UNPLACED, ReasonCase.BEFORE_UNPLACED,
                            ReasonCase.DELAY_OUTSIDE_WINDOWS, ReasonCase.RETURN_NO_ROOM),
    ReasonCode.DISPLACED: (ReasonCase.WOULD_DISPLACE, ReasonCase.BOOKED_BY_MORE_IMPORTANT),
    ReasonCode.NOT_WORTH_IT: (ReasonCase.DEARER_THAN_DROPPING,),
    ReasonCode.NOT_FOUND: (ReasonCase.FREE_SLOT, ReasonCase.NOT_EXPLAINED),
    ReasonCode.NO_CAR_ROOM: (ReasonCase.NO_ROOM,),
    ReasonCode.APPOINTMENT_UNREACHABLE: (ReasonCase.RIDE_TOO_LONG, ReasonCase.ARRIVES_LATE),
}
"""The cases each reason code has: what a wording of the reasons must cover."""


@dataclass(frozen=True)
class Unassigned:
    """A visit left out of the plan and why: a reason code and the facts behind it, not words.

    The coordinator's sentences (Polish, English, local clock times) are made from these by
    whoever shows them (``dispatch.planning.explanations``), as VROOM leaves its ``unassigned`` ids to
    the caller: a minute means a clock time only through the day's time zone, which the
    optimizer does not know.
    """

    visit_id: Id
    """Id of the problem's visit."""
    reason: ReasonCode
    """Why the visit was left out."""
    details: Mapping[str, object] = field(default_factory=dict)
    """The facts behind the reason (a JSON object): ``case`` (which situation under the reason code,
    see ``ReasonCase``) and what a sentence about it needs: worker and visit ids, counts, priorities,
    and times as minutes from the origin (``windows`` as ``[start, end]`` pairs)."""


@dataclass(frozen=True)
class Kpis:
    """Summary figures of a plan."""

    visits_total: Count
    """Visits in the problem."""
    visits_placed: Count
    """Visits placed in a route."""
    mandatory_total: Count
    """Mandatory visits in the problem."""
    mandatory_placed: Count
    """Mandatory visits placed."""
    placed_by_priority: Mapping[int, tuple[Count, Count]]
    """priority -> (placed, total); in JSON the priority is a string key and the pair an array, e.g. ``{"5": [3, 3]}``."""
    travel_minutes: Minutes
    """Travel minutes over all routes."""
    service_minutes: Minutes
    """Service minutes over all routes."""
    waiting_minutes: Minutes
    """Waiting minutes over all routes."""
    work_minutes: Minutes
    """Working minutes over all routes (route end minus start)."""
    overtime_minutes: Minutes
    """Overtime minutes over all routes."""
    lateness_minutes: Minutes
    """Minutes soft-window visits start after their last window's end, summed."""
    utilisation: Annotated[float, Ge(0)]
    """Service minutes / minutes of shift time of the workers who were used (0 when none was used)."""
    continuity_share: Annotated[float, Interval(ge=0, le=1)]
    """Of the placed visits that name preferred workers, the share done by one of them."""
    workers_used: Count
    """Workers with at least one stop."""
    distance_m: Metres | None = None
    """Distance in metres over all routes, when known."""
    max_lateness_minutes: Minutes = 0
    """The largest lateness of one visit (soft windows): the ``max_lateness_minute`` term."""


@dataclass(frozen=True)
class SolveStats:
    """How the solve went; for reproducing and comparing runs."""

    status: Id
    """Solver status as reported by the optimizer (e.g. the OR-Tools routing status name)."""
    objective: int
    """Objective value of the plan, in the cost units of the problem's weights."""
    elapsed_s: Annotated[float, Ge(0)]
    """Wall-clock seconds the solve took."""
    solutions_found: Count
    """Improving solutions found during the search."""
    time_limit_s: Annotated[float, Ge(0)] | None
    """Time limit of the solve in seconds; none: no limit."""
    seed: int
    """Random seed of the search, for reproducing the run."""
    parameters: Mapping[str, object] = field(default_factory=dict)
    """Search parameters used (free-form JSON object)."""


@dataclass(frozen=True)
class Solution:
    """The optimizer's answer: one route per used worker shift, the visits left out with the reason, summary figures."""

    routes: tuple[Route, ...]
    """The ordered work of each worker in each shift that has work."""
    unassigned: tuple[Unassigned, ...]
    """Visits of the problem that were left out, each with the reason."""
    kpis: Kpis | None = None
    """Summary figures of the plan; none: not computed."""
    stats: SolveStats | None = None
    """How the solve went; none: not recorded."""

    def assignments(self) -> dict[str, list[tuple[str, int]]]:
        """visit id -> [(worker id, start)], two entries for a two-person visit."""
        out: dict[str, list[tuple[str, int]]] = {}
        for route in self.routes:
            for stop in route.stops:
                out.setdefault(stop.visit_id, []).append((route.worker_id, stop.start))
        return out


# --------------------------------------------------------------------------- one area of a split day


@dataclass(frozen=True)
class AreaResult:
    """One area's search, as it travels from whoever solved it (this process, or a queue worker
    elsewhere) to the step that merges the areas (``optimizer.areas.finish``).

    Not part of the solution format: a working document between two steps of one solve, written
    and read by ``optimizer.jsonio.area_result_to_dict`` / ``area_result_from_dict``."""

    routes: tuple[Route, ...]
    """The area's routes, location indices the *area* problem's (``finish`` maps them back)."""
    dropped: tuple[Id, ...]
    """Ids of the area's visits the search left out."""
    status: str
    """The area search's status (``RawResult.status``; ``NOT_SOLVED`` when nobody solved it)."""
    objective: int = 0
    """The area search's routing objective."""
    solutions_found: int = 0
    elapsed_s: float = 0.0
    first_plan_s: float = 0.0
    """Seconds to the area's first plan (``solve`` keeps that much back for the later areas)."""
