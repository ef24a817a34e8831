"""Why a ride (pickup and drop-off) was not placed: exact insertion tests on the final plan.

A ride is two stops in one car, so the one-visit slot search of ``explain`` does not apply.
In this order:

1. no worker of the right kind with the skills (driving licence)   -> ``NO_SKILLED_WORKER``
2. no such worker's car has room for the passengers (a wheelchair place, seats)
                                                                    -> ``NO_CAR_ROOM``
3. all with room are excluded for this senior                        -> ``FORBIDDEN_ONLY``
4. the direct trip is longer than the ride-time limit, or even straight from the start of
   the pickup window it misses the drop-off window (the appointment)  -> ``APPOINTMENT_UNREACHABLE``
5. it must follow a visit that is not placed (a return trip)          -> ``DEPENDENCY``
6. it fits into the plan as published (every other stop keeps its start; shared rides
   allowed): optional and dearer than dropping -> ``NOT_WORTH_IT``, else ``NOT_FOUND``
7. it does not fit even in an eligible driver's empty shift           -> ``NO_WORKER_FREE``
8. otherwise the cheapest single stop (or other ride) whose removal lets it in is named:
   ``DISPLACED`` when it outranks the ride (``objective.outranks``), else ``NO_WORKER_FREE``
   (the cars' time is taken by visits that matter as much or less, named in ``details``)

Like ``explain``, the result is a code, a case and facts (times in minutes), worded at the
edge (``dispatch.planning.explanations``).  The tests run the route-timing engine (``optimizer.timing``,
through the construction's insertion), so they apply the same rules as the solver: room at every
stop, ride time, windows, breaks, shift ends.
"""

from __future__ import annotations

from optimizer.construct import Builder
from optimizer.timing import RouteState
from optimizer.model import Problem, ReasonCase, ReasonCode, Ride, Route, Unassigned, Visit, Worker
from optimizer.objective import drop_penalty, drop_rank, outranks
from optimizer.rules import car_fits, eligible_workers, qualified


DISPLACE_TRIES = 6
"""Stops tried (least important first) when looking for one that would make room: each
try re-times the whole plan, and a dispatcher needs one good answer, not all of them."""


def _why(visit: Visit, ride: Ride, code: ReasonCode, case: ReasonCase, facts: dict[str, object]) -> Unassigned:
    """The reason for a ride leg: code, case and facts (``ride``: [pickup, drop-off]); no words."""
    return Unassigned(visit.id, code, {"case": case.value, "ride": [ride.pickup, ride.dropoff], **facts})


class PlanProbe:
    """The published plan loaded once into a ``Builder`` (every stop's start fixed), for
    insertion tests of rides: each test works on a copy of the routes, so one plan serves
    every unplaced ride and every "what if this stop gave way" question."""

    def __init__(self, problem: Problem, routes: list[Route]) -> None:
        vehicles = [(wi, si) for wi, w in enumerate(problem.workers) for si in range(len(w.shifts))]
        self.builder = Builder(problem, vehicles, [eligible_workers(problem, v) for v in problem.visits])
        b = self.builder
        if not b.load_plan(routes):  # not for a checked plan; then tests run on empty shifts
            b.routes = [RouteState(r.vehicle, r.worker_index, r.shift_index) for r in b.routes]
        self.routes = [r.clone() for r in b.routes]
        self.fixed = dict(b.fixed)
        self.placed = set(b.placed)
        self._kept = [dict(vars(r)) for r in self.routes]
        """Each route's state as loaded: a test works on the routes themselves and puts back
        what it changed (``_put_back``), instead of copying every route of the day first (on a
        region's day 1,200 routes a test, most of an explanation's time)."""
        self.routes_with: dict[int, list[RouteState]] = {}
        """The loaded routes each placed visit is on (a two-person visit is on two)."""
        for route in self.routes:
            for vi, _ in route.stops:
                self.routes_with.setdefault(vi, []).append(route)
        self.skilled_memo: dict[tuple, list[Worker]] = {}
        """``explain_ride``'s skilled drivers per kind of ride (its legs' skills and worker
        kinds): a region's day has 1,200 workers and hundreds of rides of a few kinds."""

    def _put_back(self) -> None:
        """The routes as loaded again: the fields of those a test changed set back.  A route is
        changed only through new lists (``RouteState.apply`` replaces ``stops`` and ``starts``;
        the timing engine never changes a list in place), so one whose lists are the loaded ones
        is as loaded."""
        for route, kept in zip(self.routes, self._kept):
            if route.stops is not kept["stops"] or route.starts is not kept["starts"]:
                vars(route).update(kept)

    def try_insert(self, ride: Ride, *, without: str | None = None, empty: bool = False,
                   first: Ride | None = None) -> tuple[str, int] | None:
        """(worker id, pickup start) where the ride fits, or None; ``without``: with that
        stop (and its ride partner) out of the plan; ``empty``: into empty shifts; ``first``:
        after that ride was put in (None if it does not fit)."""
        b = self.builder
        if empty:
            self.builder.routes = [RouteState(r.vehicle, r.worker_index, r.shift_index) for r in self.routes]
            b.fixed, b.placed = {}, set()
            return self._try(ride, without, empty, first)
        self.builder.routes = list(self.routes)
        # The test works on the loaded fixed starts and placed set themselves and puts back the
        # entries it touches (the ride's legs, the first ride's, the stop taken out and its
        # partner), instead of copying 10,000 of each per test on a region's day.
        touched = {b.index[v] for r in (ride, first) if r is not None for v in (r.pickup, r.dropoff)}
        if without is not None:
            touched.add(b.index[without])
            partner = b.ride_at.get(b.index[without])
            if partner is not None:
                touched |= {partner[0], partner[1]}
        starts = {vi: self.fixed[vi] for vi in touched if vi in self.fixed}
        placed = touched & self.placed
        b.fixed, b.placed = self.fixed, self.placed
        try:
            return self._try(ride, without, empty, first)
        finally:
            self._put_back()
            for vi in touched:
                if vi in starts:
                    self.fixed[vi] = starts[vi]
                else:
                    self.fixed.pop(vi, None)
            self.placed -= touched
            self.placed |= placed

    def _try(self, ride: Ride, without: str | None, empty: bool, first: Ride | None) -> tuple[str, int] | None:
        b = self.builder
        if without is not None and not empty:
            gone = {b.index[without]}
            partner = b.ride_at.get(b.index[without])
            if partner is not None:
                gone |= {partner[0], partner[1]}
            for vi in gone:
                b.fixed.pop(vi, None)
            changed = {id(r): r for vi in gone for r in self.routes_with.get(vi, [])}
            for state in changed.values():
                state.stops = [s for s in state.stops if s[0] not in gone]
                if not b.retime(state):  # not for a checked plan
                    return None
            b.placed -= gone
        if first is not None and not b._insert_ride(b.ride_at[b.index[first.pickup]]):
            return None
        p = b.index[ride.pickup]
        if not b._insert_ride(b.ride_at[p]):
            return None
        for route, kept in zip(b.routes, self._kept):
            if route.stops is kept["stops"]:
                continue  # as loaded, so not where the ride went (the loaded plan does not have it)
            for (vi, _), start in zip(route.stops, route.starts):
                if vi == p:
                    return b.p.workers[route.worker_index].id, start
        return None  # pragma: no cover - placed means it is on a route


def explain_ride(problem: Problem, visit: Visit, ride: Ride, routes: list[Route],
                 starts: dict[str, int], probe: PlanProbe | None = None,
                 visits: dict[str, Visit] | None = None) -> Unassigned:
    """The reason for an unplaced ride leg (``visit`` is its pickup or drop-off).

    ``probe``: the plan loaded once for all rides of the day (built here if not given);
    ``visits``: the problem's visits by id, if the caller has them (a region's day has 10,000)."""
    visits = visits if visits is not None else problem.visit_by_id()
    pickup, dropoff = visits[ride.pickup], visits[ride.dropoff]
    kind = tuple((frozenset(v.required_skills), frozenset(v.worker_kinds)) for v in (pickup, dropoff))
    skilled = probe.skilled_memo.get(kind) if probe is not None else None
    if skilled is None:
        skilled = [w for w in problem.workers
                   if qualified(w.skills, w.kind, pickup) and qualified(w.skills, w.kind, dropoff)]
        if probe is not None:
            probe.skilled_memo[kind] = skilled
    kinds = sorted(k.value for k in pickup.worker_kinds)
    if not skilled:
        return _why(visit, ride, ReasonCode.NO_SKILLED_WORKER, ReasonCase.NOBODY_HAS_SKILLS,
                    {"required_skills": sorted(pickup.required_skills), "worker_kinds": kinds})
    roomy = [w for w in skilled if car_fits(w, ride.load)]
    if not roomy:
        return _why(visit, ride, ReasonCode.NO_CAR_ROOM, ReasonCase.NO_ROOM,
                    {"load": dict(ride.load), "drivers_with_skills": [w.id for w in skilled]})
    eligible = sorted(set(eligible_workers(problem, pickup)) & set(eligible_workers(problem, dropoff)))
    if not eligible:
        return _why(visit, ride, ReasonCode.FORBIDDEN_ONLY, ReasonCase.ALL_EXCLUDED,
                    {"drivers_with_room": [w.id for w in roomy]})
    earliest = min(w.start for w in pickup.windows)
    latest_drop = max(w.end for w in dropoff.windows) + (dropoff.max_lateness if dropoff.soft_windows else 0)
    direct = min(
        problem.travel_times[problem.workers[wi].travel_mode][pickup.exit_location][dropoff.location]
        + pickup.duration_for(problem.workers[wi].kind)
        for wi in eligible
    )
    trip = min(
        problem.travel_times[problem.workers[wi].travel_mode][pickup.exit_location][dropoff.location]
        for wi in eligible
    )
    if ride.max_ride_time is not None and trip > ride.max_ride_time:
        return _why(visit, ride, ReasonCode.APPOINTMENT_UNREACHABLE, ReasonCase.RIDE_TOO_LONG,
                    {"direct_minutes": trip, "max_ride_time": ride.max_ride_time})
    if earliest + direct > latest_drop:
        return _why(visit, ride, ReasonCode.APPOINTMENT_UNREACHABLE, ReasonCase.ARRIVES_LATE,
                    {"earliest_pickup": earliest, "direct_minutes": direct, "arrival": earliest + direct,
                     "latest_dropoff": latest_drop})
    probe = probe or PlanProbe(problem, routes)
    rides = {r.pickup: r for r in problem.rides} | {r.dropoff: r for r in problem.rides}
    first: Ride | None = None
    for dep in problem.dependencies:
        if dep.after in (ride.pickup, ride.dropoff) and dep.before not in starts:
            # A return left out only because its outbound was (both or neither): judge it
            # with the outbound put in first, if the outbound fits at all.
            outbound = rides.get(dep.before)
            if dep.both_or_neither and outbound is not None and probe.try_insert(outbound) is not None:
                first = outbound
                continue
            return _why(visit, ride, ReasonCode.DEPENDENCY, ReasonCase.BEFORE_UNPLACED, {"depends_on": dep.before})
    partner = next((d for d in problem.dependencies if d.both_or_neither and d.after not in starts
                    and d.before in (ride.pickup, ride.dropoff)), None)
    fit = probe.try_insert(ride, first=first)
    if fit is not None and partner is not None and rides.get(partner.after) is not None:
        if probe.try_insert(rides[partner.after], first=ride) is None:
            return _why(visit, ride, ReasonCode.DEPENDENCY, ReasonCase.RETURN_NO_ROOM,
                        {"depends_on": partner.after, "both_or_neither": True, "worker": fit[0],
                         "pickup_start": fit[1]})
    if fit is not None:
        worker, at = fit
        penalty = drop_penalty(problem, pickup) + drop_penalty(problem, dropoff)
        detail = {"worker": worker, "pickup_start": at, "drop_penalty": penalty}
        if not (pickup.mandatory or dropoff.mandatory):
            return _why(visit, ride, ReasonCode.NOT_WORTH_IT, ReasonCase.DEARER_THAN_DROPPING, detail)
        return _why(visit, ride, ReasonCode.NOT_FOUND, ReasonCase.FREE_SLOT, detail)
    if probe.try_insert(ride, empty=True, first=first) is None:
        return _why(visit, ride, ReasonCode.NO_WORKER_FREE, ReasonCase.OFF_SHIFT,
                    {"eligible_workers": [problem.workers[wi].id for wi in eligible],
                     "earliest_pickup": earliest, "latest_dropoff": latest_drop})
    eligible_ids = {problem.workers[wi].id for wi in eligible}
    # Only stops in the ride's time span can be in its way (pickup window to latest drop-off).
    candidates = sorted(
        {s.visit_id for r in routes if r.worker_id in eligible_ids for s in r.stops
         if s.end >= earliest and s.start <= latest_drop},
        key=lambda vid: (drop_rank(problem, visits[vid]), vid),
    )
    for other in candidates[:DISPLACE_TRIES]:
        if visits[other].pinned_worker or visits[other].pinned_start is not None:
            continue
        fit = probe.try_insert(ride, without=other, first=first)
        if fit is not None:
            o = visits[other]
            detail = {"best_insertion": {"worker": fit[0], "pickup_start": fit[1]}, "would_displace": other,
                      "displaced_priority": o.priority, "displaced_mandatory": o.mandatory,
                      "own_priority": visit.priority, "own_mandatory": visit.mandatory,
                      "blocking_visits": candidates[:20], "blocking_count": len(candidates)}
            if outranks(problem, o, visit):
                return _why(visit, ride, ReasonCode.DISPLACED, ReasonCase.WOULD_DISPLACE, detail)
            case = ReasonCase.KEPT_LESS_IMPORTANT if outranks(problem, visit, o) else ReasonCase.SAME_RANK
            return _why(visit, ride, ReasonCode.NO_WORKER_FREE, case, detail)
    detail = {"blocking_visits": candidates[:20], "blocking_count": len(candidates),
              "own_priority": visit.priority, "own_mandatory": visit.mandatory}
    if candidates and all(outranks(problem, visits[c], visit) for c in candidates):
        return _why(visit, ride, ReasonCode.DISPLACED, ReasonCase.BOOKED_BY_MORE_IMPORTANT, detail)
    return _why(visit, ride, ReasonCode.NO_WORKER_FREE, ReasonCase.BOOKED_MIXED, detail)
