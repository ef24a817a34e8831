"""An HHCRSP instance as a carepath :class:`Problem`, and a carepath solution back as routes.

carepath counts time in integer minutes, the family in real ones, so every time value is
multiplied by ``SCALE`` (1 unit = 1/SCALE minute).  Travel times are rounded *up*: any plan
that is feasible in the integer problem stays feasible when re-simulated with the real
distances (arrivals can only be earlier), and the reported starts can be handed to
:mod:`benchmarks.hhcrsp.evaluate` unchanged.  Window starts and minimum delays are rounded
up, maximum delays down, for the same reason (with whole-minute data nothing is rounded).

Mapping (issue #8):

* one mandatory visit per patient-service, id ``"<patient>/<service>"``, skill = the
  service, one soft window ``[e, l]`` whose end may be overrun up to the whole horizon;
* one carer per caregiver, skills = abilities, one shift ``[0, HORIZON]``, office to office;
* simultaneous pair: ``Dependency(first, second, 0, 0, different_workers=True)``;
  sequential pair: ``Dependency(first, second, dmin, dmax, different_workers=True)``;
* objective weights: travel, lateness and the largest lateness 1 per unit, everything else
  0 except the drop penalty, so carepath's objective is ``SCALE x 3 x`` the family's cost
  up to the rounding of travel times.
"""

from __future__ import annotations

import math

from benchmarks.hhcrsp.evaluate import PlannedStop, Routes
from benchmarks.hhcrsp.instance import Instance
from optimizer import (
    Dependency,
    Location,
    Problem,
    Shift,
    Solution,
    TimeWindow,
    TravelMode,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)

SCALE = 100
"""carepath time units per real minute."""

EPS = 1e-9


def visit_id(patient: str, service: str) -> str:
    return f"{patient}/{service}"


def split_visit_id(vid: str) -> tuple[str, str]:
    patient, _, service = vid.rpartition("/")
    return patient, service


def horizon(inst: Instance) -> float:
    """A day long enough for any plan: last window end + all service + a longest leg per stop.

    Used as every shift's end and as the lateness cap, so neither ever binds.
    """
    longest = max((max(row) for row in inst.distances), default=0.0)
    service = sum(r.duration for p in inst.patients for r in p.required)
    stops = sum(len(p.required) for p in inst.patients)
    last = max((p.window[1] for p in inst.patients), default=0.0)
    return math.ceil(last + service + (stops + 1) * longest)


def up(x: float, scale: int = SCALE) -> int:
    return math.ceil(x * scale - EPS)


def down(x: float, scale: int = SCALE) -> int:
    return math.floor(x * scale + EPS)


def travel_matrix(inst: Instance, scale: int = SCALE) -> tuple[tuple[int, ...], ...]:
    """Scaled travel times, rounded up (see the module docstring)."""
    return tuple(tuple(up(d, scale) for d in row) for row in inst.distances)


def to_problem(inst: Instance, scale: int = SCALE) -> Problem:
    """The instance as a carepath problem (locations: 0 = office, i = i-th patient)."""
    end = up(horizon(inst), scale)
    times = travel_matrix(inst, scale)
    locations = (Location(inst.office_id),) + tuple(Location(p.id) for p in inst.patients)
    visits: list[Visit] = []
    dependencies: list[Dependency] = []
    for i, p in enumerate(inst.patients, start=1):
        e, l = up(p.window[0], scale), down(p.window[1], scale)
        for r in p.required:
            visits.append(Visit(
                id=visit_id(p.id, r.service),
                location=i,
                duration=up(r.duration, scale),
                windows=(TimeWindow(e, max(e, l)),),
                required_skills=frozenset({r.service}),
                mandatory=True,
                soft_windows=True,
                max_lateness=max(0, end - max(e, l)),
                client_id=p.id,
            ))
        if p.sync is not None:
            first, second = (visit_id(p.id, r.service) for r in p.required)
            lo, hi = (0, 0) if p.sync.type == "simultaneous" else (up(p.sync.dmin, scale), down(p.sync.dmax, scale))
            dependencies.append(Dependency(first, second, lo, hi, different_workers=True))
    workers = tuple(
        Worker(
            id=c.id,
            kind=WorkerKind.CARER,
            shifts=(Shift(0, end),),
            start_location=0,
            end_location=0,
            travel_mode=TravelMode.CAR,
            skills=c.abilities,
        )
        for c in inst.caregivers
    )
    weights = Weights(
        drop_mandatory=1_000_000_000,
        drop_per_priority=1_000_000_000,
        travel_minute=1,
        lateness_minute=1,
        overtime_minute=0,
        non_preferred_worker=0,
        gender_mismatch=0,
        changed_from_previous=0,
        imbalance=0,
        wait_minute=0,
        max_lateness_minute=1,
    )
    return Problem(
        locations=locations,
        travel_times={TravelMode.CAR: times},
        workers=workers,
        visits=tuple(visits),
        dependencies=tuple(dependencies),
        weights=weights,
        name=inst.name,
    )


def to_routes(inst: Instance, solution: Solution, scale: int = SCALE) -> Routes:
    """caregiver id -> its stops in visiting order with real (unscaled) starts; every
    caregiver appears, unused ones with an empty list."""
    out: Routes = {c.id: [] for c in inst.caregivers}
    for route in sorted(solution.routes, key=lambda r: (r.worker_id, r.shift_index)):
        for stop in route.stops:
            patient, service = split_visit_id(stop.visit_id)
            out.setdefault(route.worker_id, []).append(PlannedStop(patient, service, stop.start / scale))
    return out
