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
8. otherwise the cheapest single stop (or other ride) whose removal lets it in is named
                                                                    -> ``DISPLACED``

The tests run the construction's exact route timing (``construct.Builder``), so they apply
the same rules as the solver: room at every stop, ride time, windows, breaks, shift ends.
"""

from __future__ import annotations

from optimizer.construct import Builder, RouteState
from optimizer.model import Problem, ReasonCode, Ride, Route, Unassigned, Visit
from optimizer.rules import car_fits, drop_penalty, eligible_workers


DISPLACE_TRIES = 6
"""Stops tried (least important first) when looking for one that would make room: each
try re-times the whole plan, and a dispatcher needs one good answer, not all of them."""


def _hhmm(minute: int) -> str:
    day, rest = divmod(minute, 1440)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text} (+{day}d)"


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

    def _retime(self, state) -> bool:
        b = self.builder
        sim = b.simulate(state, state.stops, b.fixed)
        if sim is None:  # not for a checked plan; leave the route as it is
            return False
        state.starts, state.departure, state.end, state.travel = sim
        state.span = state.end - state.departure if state.stops else 0
        state.breaks = list(b.last_breaks)
        return True

    def try_insert(self, ride: Ride, *, without: str | None = None, empty: bool = False,
                   first: Ride | None = None) -> tuple[str, int] | None:
        """(worker id, pickup start) where the ride fits, or None; ``without``: with that
        stop (and its ride partner) out of the plan; ``empty``: into empty shifts; ``first``:
        after that ride was put in (None if it does not fit)."""
        b = self.builder
        if empty:
            b.routes = [RouteState(r.vehicle, r.worker_index, r.shift_index) for r in self.routes]
        else:
            b.routes = [r.clone() for r in self.routes]
        b.fixed = {} if empty else dict(self.fixed)
        b.placed = set() if empty else set(self.placed)
        if without is not None and not empty:
            gone = {b.index[without]}
            partner = b.ride_at.get(b.index[without])
            if partner is not None:
                gone |= {partner[0], partner[1]}
            for state in b.routes:
                if any(vi in gone for vi, _ in state.stops):
                    state.stops = [s for s in state.stops if s[0] not in gone]
                    for vi in gone:
                        b.fixed.pop(vi, None)
                    if not self._retime(state):
                        return None
            b.placed -= gone
        if first is not None and not b._insert_ride(b.ride_at[b.index[first.pickup]]):
            return None
        p = b.index[ride.pickup]
        if not b._insert_ride(b.ride_at[p]):
            return None
        for route in b.routes:
            for (vi, _), start in zip(route.stops, route.starts):
                if vi == p:
                    return b.p.workers[route.worker_index].id, start
        return None  # pragma: no cover - placed means it is on a route


def explain_ride(problem: Problem, visit: Visit, ride: Ride, routes: list[Route],
                 starts: dict[str, int], probe: PlanProbe | None = None) -> Unassigned:
    """The reason for an unplaced ride leg (``visit`` is its pickup or drop-off).

    ``probe``: the plan loaded once for all rides of the day (built here if not given)."""
    visits = problem.visit_by_id()
    pickup, dropoff = visits[ride.pickup], visits[ride.dropoff]
    skilled = [
        w for w in problem.workers
        if all(v.required_skills <= w.skills and (not v.worker_kinds or w.kind in v.worker_kinds)
               for v in (pickup, dropoff))
    ]
    load = ", ".join(f"{k} {q}" for k, q in sorted(ride.load.items())) or "-"
    if not skilled:
        skills = ", ".join(sorted(pickup.required_skills) + sorted(k.value for k in pickup.worker_kinds)) or "-"
        return Unassigned(
            visit.id, ReasonCode.NO_SKILLED_WORKER,
            f"No driver on duty has the required skills ({skills}).",
            f"Żaden kierowca w grafiku nie ma wymaganych uprawnień ({skills}).",
            {"required_skills": sorted(pickup.required_skills), "ride": [ride.pickup, ride.dropoff]},
        )
    roomy = [w for w in skilled if car_fits(w, ride.load)]
    if not roomy:
        return Unassigned(
            visit.id, ReasonCode.NO_CAR_ROOM,
            f"No car on duty has room for the passengers ({load}).",
            f"Żaden samochód w grafiku nie ma miejsca dla pasażerów ({load}).",
            {"load": dict(ride.load), "drivers_with_skills": [w.id for w in skilled]},
        )
    eligible = sorted(set(eligible_workers(problem, pickup)) & set(eligible_workers(problem, dropoff)))
    if not eligible:
        return Unassigned(
            visit.id, ReasonCode.FORBIDDEN_ONLY,
            "Every driver whose car has room is excluded for this senior.",
            "Wszyscy kierowcy z miejscem w samochodzie są wykluczeni u tego seniora.",
            {"drivers_with_room": [w.id for w in roomy]},
        )
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
        return Unassigned(
            visit.id, ReasonCode.APPOINTMENT_UNREACHABLE,
            f"The direct trip takes {trip} min, longer than the {ride.max_ride_time} min the senior "
            "may spend in the car.",
            f"Bezpośredni przejazd trwa {trip} min, dłużej niż dopuszczalne {ride.max_ride_time} min "
            "w samochodzie.",
            {"direct_minutes": trip, "max_ride_time": ride.max_ride_time},
        )
    if earliest + direct > latest_drop:
        return Unassigned(
            visit.id, ReasonCode.APPOINTMENT_UNREACHABLE,
            f"Even leaving at {_hhmm(earliest)} the senior would reach the destination at "
            f"{_hhmm(earliest + direct)}, after {_hhmm(latest_drop)}.",
            f"Nawet przy odbiorze o {_hhmm(earliest)} senior dotarłby na miejsce o "
            f"{_hhmm(earliest + direct)}, po {_hhmm(latest_drop)}.",
            {"earliest_pickup": earliest, "direct_minutes": direct, "latest_dropoff": latest_drop},
        )
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
            return Unassigned(
                visit.id, ReasonCode.DEPENDENCY,
                f"It must follow visit {dep.before}, which is not placed.",
                f"Musi nastąpić po wizycie {dep.before}, która nie została zaplanowana.",
                {"depends_on": dep.before},
            )
    partner = next((d for d in problem.dependencies if d.both_or_neither and d.after not in starts
                    and d.before in (ride.pickup, ride.dropoff)), None)
    fit = probe.try_insert(ride, first=first)
    if fit is not None and partner is not None and rides.get(partner.after) is not None:
        if probe.try_insert(rides[partner.after], first=ride) is None:
            return Unassigned(
                visit.id, ReasonCode.DEPENDENCY,
                f"It would fit ({fit[0]}, pickup {_hhmm(fit[1])}), but it is planned only together with "
                f"{partner.after} (the ride back), for which there is no room after it.",
                f"Zmieściłby się ({fit[0]}, odbiór {_hhmm(fit[1])}), ale planuje się go tylko razem z "
                f"{partner.after} (powrotem), na który nie ma miejsca.",
                {"depends_on": partner.after, "both_or_neither": True, "worker": fit[0], "pickup_start": fit[1]},
            )
    if fit is not None:
        worker, at = fit
        penalty = drop_penalty(problem, pickup) + drop_penalty(problem, dropoff)
        detail = {"worker": worker, "pickup_start": at, "drop_penalty": penalty}
        if not (pickup.mandatory or dropoff.mandatory):
            return Unassigned(
                visit.id, ReasonCode.NOT_WORTH_IT,
                f"Optional and it would cost more to fit in than to leave out (best: {worker} at {_hhmm(at)}).",
                f"Przejazd opcjonalny: jego wstawienie kosztuje więcej niż pominięcie "
                f"(najlepiej: {worker} o {_hhmm(at)}).",
                detail,
            )
        return Unassigned(
            visit.id, ReasonCode.NOT_FOUND,
            f"A free car exists ({worker}, pickup {_hhmm(at)}) but the search did not reach it: "
            "re-plan with more time or place it by hand.",
            f"Jest wolny samochód ({worker}, odbiór {_hhmm(at)}), ale wyszukiwanie do niego nie dotarło: "
            "zaplanuj ponownie z dłuższym czasem lub wstaw ręcznie.",
            detail,
        )
    if probe.try_insert(ride, empty=True, first=first) is None:
        return Unassigned(
            visit.id, ReasonCode.NO_WORKER_FREE,
            f"No driver whose car has room is on shift to pick up at {_hhmm(earliest)} or later and "
            f"arrive by {_hhmm(latest_drop)}.",
            f"Żaden kierowca z miejscem w samochodzie nie ma dyżuru, by odebrać o {_hhmm(earliest)} "
            f"lub później i dojechać do {_hhmm(latest_drop)}.",
            {"eligible_workers": [problem.workers[wi].id for wi in eligible]},
        )
    eligible_ids = {problem.workers[wi].id for wi in eligible}
    # Only stops in the ride's time span can be in its way (pickup window to latest drop-off).
    candidates = sorted(
        {s.visit_id for r in routes if r.worker_id in eligible_ids for s in r.stops
         if s.end >= earliest and s.start <= latest_drop},
        key=lambda vid: (visits[vid].mandatory, visits[vid].priority, vid),
    )
    for other in candidates[:DISPLACE_TRIES]:
        if visits[other].pinned_worker or visits[other].pinned_start is not None:
            continue
        fit = probe.try_insert(ride, without=other, first=first)
        if fit is not None:
            o = visits[other]
            kind_en = "mandatory" if o.mandatory else f"priority {o.priority}"
            kind_pl = "obowiązkowa" if o.mandatory else f"priorytet {o.priority}"
            return Unassigned(
                visit.id, ReasonCode.DISPLACED,
                f"Placeable, but the cars are booked: it would fit with {fit[0]} at {_hhmm(fit[1])} "
                f"if {other} ({kind_en}) gave way.",
                f"Możliwy do zaplanowania, ale samochody są zajęte: zmieściłby się u {fit[0]} o "
                f"{_hhmm(fit[1])}, gdyby ustąpiła wizyta {other} ({kind_pl}).",
                {"best_insertion": {"worker": fit[0], "pickup_start": fit[1]}, "would_displace": other,
                 "displaced_priority": o.priority, "displaced_mandatory": o.mandatory,
                 "own_priority": pickup.priority},
            )
    return Unassigned(
        visit.id, ReasonCode.DISPLACED,
        "Placeable in an empty shift, but the cars are booked and no single stop giving way frees enough room.",
        "Możliwy do zaplanowania w pustym grafiku, ale samochody są zajęte i ustąpienie jednej wizyty "
        "nie zwolni miejsca.",
        {"blocking_visits": candidates[:20], "own_priority": pickup.priority},
    )
