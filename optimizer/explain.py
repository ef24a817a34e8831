"""Why a visit was not placed: real checks against the final plan, never guesses.

For every unplaced visit, in this order:

1. nobody has the required skills                        -> ``NO_SKILLED_WORKER``
2. the skilled ones are all excluded (forbidden, not the required worker, gender, pin)
                                                         -> ``FORBIDDEN_ONLY``
3. a visit it depends on is unplaced, or the delay cannot meet its windows
                                                         -> ``DEPENDENCY``
4. it fits into the final plan as it stands (insertion test with every other stop fixed):
   optional and dearer to insert than to drop -> ``NOT_WORTH_IT``; otherwise the search
   simply did not get there -> ``NOT_FOUND`` (with the slot found)
5. it would not fit even into an eligible worker's empty shift -> ``NO_WORKER_FREE``
6. otherwise other visits hold the time it needs: the cheapest single removal that frees a
   slot is reported (who would have to give way)  -> ``DISPLACED``

Rides (pickup and drop-off in one car) are explained by ``explain_rides``.

The insertion test keeps the other stops and breaks where the plan put them, so a "no"
here is exact for the plan as published; moving neighbours might open more room, which is
what a re-plan does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from optimizer.model import (
    Problem,
    ReasonCode,
    Route,
    Unassigned,
    Visit,
    Worker,
)
from optimizer.explain_rides import PlanProbe, explain_ride
from optimizer.rules import drop_penalty, eligible_workers, rides_by_visit


@dataclass(frozen=True)
class Slot:
    worker_id: str
    shift_index: int
    position: int
    earliest: int
    latest: int
    extra_travel: int


def _hhmm(minute: int) -> str:
    """Minutes from the origin as a clock time (day-relative; +1d beyond midnight)."""
    day, rest = divmod(minute, 1440)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text} (+{day}d)"


def _windows_text(visit: Visit) -> str:
    return ", ".join(f"{_hhmm(w.start)}-{_hhmm(w.end)}" for w in visit.windows)


def _dependency_range(problem: Problem, visit: Visit, starts: dict[str, int]) -> tuple[int, int] | None | str:
    """Start range imposed by placed visits it depends on; a visit id if that one is unplaced."""
    lo, hi = -(10**9), 10**9
    for dep in problem.dependencies:
        if dep.after == visit.id:
            if dep.before not in starts:
                return dep.before
            lo = max(lo, starts[dep.before] + dep.min_delay)
            if dep.max_delay is not None:
                hi = min(hi, starts[dep.before] + dep.max_delay)
        elif dep.before == visit.id and dep.after in starts:
            hi = min(hi, starts[dep.after] - dep.min_delay)
            if dep.max_delay is not None:
                lo = max(lo, starts[dep.after] - dep.max_delay)
    return lo, hi


def _allowed_starts(visit: Visit, lo: int, hi: int) -> list[tuple[int, int]]:
    out = []
    windows = sorted(visit.windows, key=lambda w: w.start)
    for i, w in enumerate(windows):
        end = w.end + (visit.max_lateness if visit.soft_windows and i == len(windows) - 1 else 0)
        a, b = max(w.start, lo), min(end, hi)
        if visit.pinned_start is not None:
            a, b = max(a, visit.pinned_start), min(b, visit.pinned_start)
        if a <= b:
            out.append((a, b))
    return out


def _slots_in_route(
    problem: Problem,
    visit: Visit,
    worker: Worker,
    shift_index: int,
    stops: list[tuple[int, int, int, int]],
    allowed: list[tuple[int, int]],
    other_work: int,
) -> list[Slot]:
    """Feasible insertion slots. ``stops``: (entry location, exit location, start, end) fixed."""
    shift = worker.shifts[shift_index]
    matrix = problem.travel_times[worker.travel_mode]
    duration = visit.duration_for(worker.kind)
    cap = worker.max_work_minutes
    out = []
    seq = [(worker.start_location, worker.start_location, shift.start, shift.start)] + stops
    tail = (worker.end_location, worker.end_location, shift.end + shift.max_overtime, 0)
    for pos in range(len(seq)):
        _, prev_exit, _, prev_end = seq[pos]
        nxt = seq[pos + 1] if pos + 1 < len(seq) else tail
        next_loc, _, next_start, _ = nxt
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
                last_end = stops[-1][3] if stops else lo + duration
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
            out.append(Slot(worker.id, shift_index, pos, lo, hi, detour))
    return out


_CACHE: dict[int, tuple[dict, dict, Problem]] = {}


def _lookups(problem: Problem) -> tuple[dict, dict]:
    """visit and worker dicts of ``problem``, built once per problem (explain is called in loops)."""
    key = id(problem)
    hit = _CACHE.get(key)
    if hit is None or hit[2] is not problem:
        hit = (problem.visit_by_id(), problem.worker_by_id(), problem)
        _CACHE.clear()
        _CACHE[key] = hit
    return hit[0], hit[1]


_STOPS_MEMO: dict[int, tuple[Route, Problem, list[tuple[int, int, int, int]]]] = {}
"""``_route_stops(route)`` without a skip, per route object, for one ``explain_unassigned`` call
(every unplaced visit asks for the same routes' blocks)."""

def _route_stops(problem: Problem, route: Route, skip: str | None = None) -> list[tuple[int, int, int, int]]:
    """The route's stops (minus ``skip``) and breaks as fixed blocks, in time order.

    A break is a block spent where the worker last was: conservative (the solver may take
    it while travelling), so an insertion found around it is always really feasible.
    """
    if skip is None:
        hit = _STOPS_MEMO.get(id(route))
        if hit is not None and hit[0] is route and hit[1] is problem:
            return hit[2]
    visits, workers = _lookups(problem)
    worker = workers[route.worker_id]
    kept = [s for s in route.stops if s.visit_id != skip]
    out = [(s.location, visits[s.visit_id].exit_location, s.start, s.end) for s in kept]
    for b in route.breaks:
        prev = [s for s in kept if s.end <= b.start]
        loc = visits[prev[-1].visit_id].exit_location if prev else worker.start_location
        out.append((loc, loc, b.start, b.end))
    blocks = sorted(out, key=lambda t: t[2])
    if skip is None:
        _STOPS_MEMO[id(route)] = (route, problem, blocks)
    return blocks


def _slots_for_worker(
    problem: Problem, visit: Visit, worker: Worker, routes: dict[tuple[str, int], Route],
    allowed: list[tuple[int, int]], skip: str | None = None, empty: bool = False,
) -> list[Slot]:
    # Working time per shift; a route left empty by ``skip`` counts nothing (a route that
    # keeps other stops keeps its span: conservative, so a slot found is really free).
    work = {
        key: (0 if skip is not None and all(s.visit_id == skip for s in r.stops) else r.end - r.start)
        for key, r in routes.items() if key[0] == worker.id
    }
    out: list[Slot] = []
    for si, _ in enumerate(worker.shifts):
        route = routes.get((worker.id, si))
        stops = [] if (route is None or empty) else _route_stops(problem, route, skip)
        other = 0 if empty else sum(m for (w, s), m in work.items() if s != si)
        if not empty and route is not None:
            visits = _lookups(problem)[0]
            load = {k: sum(visits[s.visit_id].demand.get(k, 0) for s in route.stops) for k in visit.demand}
            if any(load[k] + visit.demand[k] > worker.capacity.get(k, 0) for k in visit.demand):
                continue
        out.extend(_slots_in_route(problem, visit, worker, si, stops, allowed, other))
    return out


def _pair_slot(slots_by_worker: dict[str, list[Slot]], needed: int) -> list[Slot] | None:
    """``needed`` distinct workers with a common start minute, if any."""
    if needed <= 1:
        for slots in slots_by_worker.values():
            if slots:
                return [min(slots, key=lambda s: s.extra_travel)]
        return None
    ids = [w for w, s in slots_by_worker.items() if s]
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            for sa in slots_by_worker[a]:
                for sb in slots_by_worker[b]:
                    lo, hi = max(sa.earliest, sb.earliest), min(sa.latest, sb.latest)
                    if lo <= hi:
                        return [
                            Slot(sa.worker_id, sa.shift_index, sa.position, lo, hi, sa.extra_travel),
                            Slot(sb.worker_id, sb.shift_index, sb.position, lo, hi, sb.extra_travel),
                        ]
    return None


def explain_unassigned(problem: Problem, routes: list[Route], unplaced: list[str]) -> list[Unassigned]:
    """A reason, in English and Polish, for every visit id in ``unplaced``."""
    visits = _lookups(problem)[0]
    starts: dict[str, int] = {}
    for r in routes:
        for s in r.stops:
            starts[s.visit_id] = s.start
    by_worker: dict[str, dict[tuple[str, int], Route]] = {}
    for r in routes:
        by_worker.setdefault(r.worker_id, {})[(r.worker_id, r.shift_index)] = r
    _STOPS_MEMO.clear()
    rides = rides_by_visit(problem)
    probe = PlanProbe(problem, routes) if any(vid in rides for vid in unplaced) else None
    by_ride: dict[str, Unassigned] = {}
    out = []
    for vid in unplaced:
        if vid not in rides:
            out.append(_explain_one(problem, visits[vid], by_worker, starts))
            continue
        ride = rides[vid]
        if ride.pickup not in by_ride:  # both legs share the analysis
            by_ride[ride.pickup] = explain_ride(problem, visits[vid], ride, routes, starts, probe)
        out.append(replace(by_ride[ride.pickup], visit_id=vid))
    return out


def _explain_one(
    problem: Problem, visit: Visit, by_worker: dict[str, dict[tuple[str, int], Route]], starts: dict[str, int],
) -> Unassigned:
    """``by_worker``: worker id -> that worker's routes by (worker, shift)."""
    needed = max(1, visit.workers_needed)
    skilled = [
        w for w in problem.workers
        if visit.required_skills <= w.skills and (not visit.worker_kinds or w.kind in visit.worker_kinds)
    ]
    if len(skilled) < needed:
        missing = sorted(visit.required_skills - set().union(*[w.skills for w in problem.workers] or [set()]))
        skills = ", ".join(sorted(visit.required_skills) + sorted(k.value for k in visit.worker_kinds)) or "-"
        if skilled:  # a two-person visit with fewer skilled workers on duty than it needs
            en = (f"It needs {needed} workers with the required skills ({skills}); only "
                  f"{len(skilled)} on duty has them.")
            pl = (f"Wymaga {needed} pracowników z kwalifikacjami ({skills}); w grafiku jest "
                  f"tylko {len(skilled)}.")
        else:
            en = f"No worker on duty has the required skills ({skills})."
            pl = f"Żaden pracownik w grafiku nie ma wymaganych kwalifikacji ({skills})."
        return Unassigned(
            visit.id, ReasonCode.NO_SKILLED_WORKER, en, pl,
            {"required_skills": sorted(visit.required_skills), "missing_everywhere": missing,
             "skilled_workers": len(skilled), "workers_needed": needed},
        )
    eligible = [problem.workers[i] for i in eligible_workers(problem, visit)]
    if len(eligible) < needed:
        return Unassigned(
            visit.id, ReasonCode.FORBIDDEN_ONLY,
            "Every worker with the skills is excluded for this senior (forbidden, not the required "
            "worker, gender requirement or a pin).",
            "Wszyscy pracownicy z kwalifikacjami są wykluczeni u tego seniora (zakaz, wymagany inny "
            "pracownik, wymóg płci lub przypięcie).",
            {"skilled_workers": [w.id for w in skilled], "eligible_workers": [w.id for w in eligible]},
        )
    partner = next((d.after for d in problem.dependencies
                    if d.both_or_neither and d.before == visit.id and d.after not in starts), None)
    if partner is not None:
        return Unassigned(
            visit.id, ReasonCode.DEPENDENCY,
            f"It is planned only together with visit {partner}, which is not placed.",
            f"Planuje się ją tylko razem z wizytą {partner}, która nie została zaplanowana.",
            {"depends_on": partner, "both_or_neither": True},
        )
    dep = _dependency_range(problem, visit, starts)
    if isinstance(dep, str):
        return Unassigned(
            visit.id, ReasonCode.DEPENDENCY,
            f"It must follow visit {dep}, which is not placed.",
            f"Musi nastąpić po wizycie {dep}, która nie została zaplanowana.",
            {"depends_on": dep},
        )
    allowed = _allowed_starts(visit, *dep)
    if not allowed:
        return Unassigned(
            visit.id, ReasonCode.DEPENDENCY,
            f"The required delay after the linked visit falls outside its windows ({_windows_text(visit)}).",
            f"Wymagany odstęp od powiązanej wizyty wypada poza oknami czasowymi ({_windows_text(visit)}).",
            {"start_range": list(dep), "windows": _windows_text(visit)},
        )
    free = {w.id: _slots_for_worker(problem, visit, w, by_worker.get(w.id, {}), allowed) for w in eligible}
    hit = _pair_slot(free, needed)
    if hit is not None:
        cost = sum(s.extra_travel for s in hit) * problem.weights.travel_minute
        detail = {"slots": [_slot_detail(s) for s in hit], "insertion_cost": cost,
                  "drop_penalty": drop_penalty(problem, visit)}
        where = ", ".join(f"{s.worker_id} {_hhmm(s.earliest)}" for s in hit)
        if not visit.mandatory and cost > drop_penalty(problem, visit):
            return Unassigned(
                visit.id, ReasonCode.NOT_WORTH_IT,
                f"Optional and it would cost more to fit in than to leave out (best slot: {where}).",
                f"Wizyta opcjonalna: jej wstawienie kosztuje więcej niż pominięcie (najlepsze miejsce: {where}).",
                detail,
            )
        return Unassigned(
            visit.id, ReasonCode.NOT_FOUND,
            f"A free slot exists ({where}) but the search did not reach it: re-plan with more time or place it by hand.",
            f"Istnieje wolne miejsce ({where}), ale wyszukiwanie do niego nie dotarło: zaplanuj ponownie z dłuższym czasem lub wstaw ręcznie.",
            detail,
        )
    empty = {w.id: _slots_for_worker(problem, visit, w, by_worker.get(w.id, {}), allowed, empty=True)
             for w in eligible}
    if _pair_slot(empty, needed) is None:
        return Unassigned(
            visit.id, ReasonCode.NO_WORKER_FREE,
            f"No eligible worker is on shift inside any of its windows ({_windows_text(visit)}).",
            f"Żaden uprawniony pracownik nie ma dyżuru w oknach czasowych wizyty ({_windows_text(visit)}).",
            {"windows": _windows_text(visit), "eligible_workers": [w.id for w in eligible],
             "workers_needed": needed},
        )
    return _displaced(problem, visit, eligible, by_worker, allowed, needed)


def _slot_detail(s: Slot) -> dict[str, object]:
    return {"worker": s.worker_id, "shift": s.shift_index, "position": s.position,
            "earliest_start": s.earliest, "latest_start": s.latest, "extra_travel": s.extra_travel}


def _displaced(
    problem: Problem, visit: Visit, eligible: list[Worker], by_worker: dict[str, dict[tuple[str, int], Route]],
    allowed: list[tuple[int, int]], needed: int,
) -> Unassigned:
    """Find the cheapest single stop whose removal frees a slot (for one-person visits)."""
    visits = _lookups(problem)[0]
    best: tuple[tuple[int, int, int], Slot, Visit] | None = None
    if needed == 1:
        for w in eligible:
            own = by_worker.get(w.id, {})
            for (wid, si), route in own.items():
                for stop in route.stops:
                    other = visits[stop.visit_id]
                    if other.pinned_worker or other.pinned_start is not None:
                        continue
                    # Any of the worker's shifts may gain: a visit in the afternoon shift can
                    # hold the day's working time a morning visit needs.
                    slots = _slots_for_worker(problem, visit, w, own, allowed, skip=other.id)
                    if not slots:
                        continue
                    key = (int(other.mandatory), other.priority, min(s.extra_travel for s in slots))
                    if best is None or key < best[0]:
                        best = (key, min(slots, key=lambda s: s.extra_travel), other)
    blockers = sorted(
        {s.visit_id for w in eligible for r in by_worker.get(w.id, {}).values() for s in r.stops
         if any(s.start <= b and s.end >= a for a, b in allowed)}
    )
    if best is not None:
        _, slot, other = best
        kind_en = "mandatory" if other.mandatory else f"priority {other.priority}"
        kind_pl = "obowiązkowa" if other.mandatory else f"priorytet {other.priority}"
        return Unassigned(
            visit.id, ReasonCode.DISPLACED,
            f"Placeable, but the time is taken by other visits: it would fit at {slot.worker_id} "
            f"{_hhmm(slot.earliest)} if visit {other.id} ({kind_en}) gave way.",
            f"Możliwa do zaplanowania, ale czas zajmują inne wizyty: zmieściłaby się u {slot.worker_id} "
            f"o {_hhmm(slot.earliest)}, gdyby ustąpiła wizyta {other.id} ({kind_pl}).",
            {"best_insertion": _slot_detail(slot), "would_displace": other.id,
             "displaced_priority": other.priority, "displaced_mandatory": other.mandatory,
             "own_priority": visit.priority, "blocking_visits": blockers[:20]},
        )
    return Unassigned(
        visit.id, ReasonCode.DISPLACED,
        f"Placeable, but the eligible workers' time in its windows is booked by {len(blockers)} other "
        "visits; no single one giving way would free enough room.",
        f"Możliwa do zaplanowania, ale czas uprawnionych pracowników w jej oknach zajmuje {len(blockers)} "
        "innych wizyt; ustąpienie jednej nie zwolni miejsca.",
        {"blocking_visits": blockers[:20], "own_priority": visit.priority, "workers_needed": needed},
    )
