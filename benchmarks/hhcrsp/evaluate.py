"""The family's cost and feasibility, recomputed from the instance alone (no carepath, no OR-Tools).

Why separate: the number we report must not come from the code being measured.  Given the
real-valued instance and routes with start times, this module re-checks every rule in
double precision and recomputes ``(distance + total tardiness + max tardiness) / 3``:

* each required (patient, service) is done exactly once, by a caregiver with the ability;
* along a route, from the office (left at time 0 at the earliest): a start is no earlier
  than the window start ``e`` and no earlier than the previous start + its duration +
  the distance between the two places (travel time = distance);
* simultaneous pairs start together, sequential ones ``dmin..dmax`` apart (second listed
  service after the first), and the two services of a pair have different caregivers;
* tardiness of a service = ``max(0, start - l)``, summed and maximised over all services;
  distance = office -> stops -> office over every non-empty route.

Starts are *validated*, not recomputed: a plan may wait on purpose (to meet a partner).
Violations are listed, never silently repaired; an infeasible plan still gets its cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from benchmarks.hhcrsp.instance import Instance

TOL = 1e-6
"""Minutes of slack allowed when comparing real start times."""


@dataclass(frozen=True)
class PlannedStop:
    patient: str
    service: str
    start: float

    def as_json(self) -> dict[str, Any]:
        return {"patient": self.patient, "service": self.service, "start": round(self.start, 6)}


Routes = dict[str, list[PlannedStop]]
"""caregiver id -> stops in visiting order (the office before the first and after the last)."""


@dataclass(frozen=True)
class Evaluation:
    distance: float
    total_tardiness: float
    max_tardiness: float
    violations: tuple[str, ...] = field(default=())

    @property
    def cost(self) -> float:
        return (self.distance + self.total_tardiness + self.max_tardiness) / 3.0

    @property
    def feasible(self) -> bool:
        return not self.violations


def routes_from_json(data: Mapping[str, Sequence[Mapping[str, Any]]]) -> Routes:
    """Routes in the results.json form back to :class:`PlannedStop` lists."""
    return {c: [PlannedStop(str(s["patient"]), str(s["service"]), float(s["start"])) for s in stops]
            for c, stops in data.items()}


def routes_to_json(routes: Routes) -> dict[str, list[dict[str, Any]]]:
    return {c: [s.as_json() for s in stops] for c, stops in routes.items()}


def evaluate(inst: Instance, routes: Routes) -> Evaluation:
    """Cost terms and every violated rule of ``routes`` on ``inst``."""
    node = inst.node_of()
    patients = {p.id: p for p in inst.patients}
    abilities = {c.id: c.abilities for c in inst.caregivers}
    dist = inst.distances
    bad: list[str] = []
    done: dict[tuple[str, str], list[tuple[str, float]]] = {}
    distance = 0.0
    for cid, stops in routes.items():
        if cid not in abilities:
            bad.append(f"unknown caregiver {cid}")
            continue
        if not stops:
            continue
        here, free = 0, 0.0  # the office, left at time 0 at the earliest
        for k, s in enumerate(stops):
            p = patients.get(s.patient)
            req = None if p is None else next((r for r in p.required if r.service == s.service), None)
            if p is None or req is None:
                bad.append(f"{cid} stop {k}: {s.patient}/{s.service} is not a required service")
                continue
            if s.service not in abilities[cid]:
                bad.append(f"{cid} lacks ability {s.service} for {s.patient}")
            done.setdefault((s.patient, s.service), []).append((cid, s.start))
            there = node[s.patient]
            leg = dist[here][there]
            distance += leg
            if s.start < p.window[0] - TOL:
                bad.append(f"{cid}: {s.patient}/{s.service} starts at {s.start:.4f}, before its window {p.window[0]}")
            if s.start < free + leg - TOL:
                bad.append(f"{cid}: {s.patient}/{s.service} starts at {s.start:.4f}, "
                           f"before arrival at {free + leg:.4f}")
            here, free = there, max(free + leg, s.start) + req.duration
        distance += dist[here][0]
    tardiness: list[float] = []
    for p in inst.patients:
        starts: list[tuple[str, float] | None] = []
        for r in p.required:
            got = done.get((p.id, r.service), [])
            if len(got) != 1:
                bad.append(f"{p.id}/{r.service} done {len(got)} times (must be exactly once)")
            starts.append(got[0] if got else None)
            if got:
                tardiness.append(max(0.0, got[0][1] - p.window[1]))
        if p.sync is None or None in starts:
            continue
        (c1, t1), (c2, t2) = starts  # type: ignore[misc]
        if c1 == c2:
            bad.append(f"{p.id}: both services by the same caregiver {c1}")
        gap = t2 - t1
        lo, hi = (0.0, 0.0) if p.sync.type == "simultaneous" else (p.sync.dmin, p.sync.dmax)
        if gap < lo - TOL or gap > hi + TOL:
            bad.append(f"{p.id}: {p.sync.type} services {gap:.4f} min apart, must be in [{lo}, {hi}]")
    return Evaluation(distance, sum(tardiness), max(tardiness, default=0.0), tuple(bad))
