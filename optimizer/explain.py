"""Why a visit was not placed: real checks against the final plan, never guesses.

Each reason is a code, a case under it (``ReasonCase``) and the facts in ``details``, times
as minutes from the origin; the sentences are made at the edge (``dispatch.planning.explanations``),
where the day's time zone turns minutes into clock times.

For every unplaced visit, in this order:

1. nobody has the required skills                        -> ``NO_SKILLED_WORKER``
2. a visit for two workers at once with only one who has the skills, or only one whom the
   senior's rules allow                                  -> ``NOT_ENOUGH_ELIGIBLE``
3. the skilled ones are all excluded (forbidden, not the required worker, gender, pin)
                                                         -> ``FORBIDDEN_ONLY``
4. a visit it depends on is unplaced, or the delay cannot meet its windows
                                                         -> ``DEPENDENCY``
5. it fits into the final plan as it stands (insertion test with every other stop fixed):
   optional and dearer to insert than to drop -> ``NOT_WORTH_IT``; otherwise the search
   simply did not get there -> ``NOT_FOUND`` (with the slot found)
6. it would not fit even into an eligible worker's empty shift -> ``NO_WORKER_FREE``
7. otherwise other visits hold the time it needs: the cheapest single removal that frees a
   slot is reported (who would have to give way).  ``DISPLACED`` ("by a higher priority")
   only when that visit outranks this one (``objective.outranks``: mandatory over optional, then
   priority); a visit of the same rank or lower is ``NO_WORKER_FREE``, naming it and the
   other visits in the way in ``details``: the workers' time in the window was taken by
   visits that matter as much (one of them had to stay out) or less (a re-plan may swap them).

Rides (pickup and drop-off in one car) are explained by ``explain_rides``.

The insertion test (``timing.free_gaps``) keeps the other stops and breaks where the plan
put them, so a "no" here is exact for the plan as published; moving neighbours might open more room, which is
what a re-plan does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from optimizer.model import (
    Problem,
    ReasonCase,
    ReasonCode,
    Route,
    Unassigned,
    Visit,
    Worker,
)
from optimizer.explain_rides import PlanProbe, explain_ride
from optimizer.objective import drop_penalty, drop_rank, outranks
from optimizer.rules import eligible_workers, qualified, rides_by_visit, shift_end_limit
from optimizer.stop import StoppingCriterion
from optimizer.timing import allowed_span, fixed_blocks, free_gaps, gap_may_hold, start_windows


@dataclass(frozen=True)
class Slot:
    worker_id: str
    shift_index: int
    position: int
    earliest: int
    latest: int
    extra_travel: int


def _windows(visit: Visit) -> list[list[int]]:
    """The visit's windows as ``[start, end]`` minute pairs, as ``details`` carry them."""
    return [[w.start, w.end] for w in visit.windows]


def _why(visit: Visit, code: ReasonCode, case: ReasonCase, facts: dict[str, object]) -> Unassigned:
    """The reason for ``visit``: a code, the case under it and the facts a sentence needs (no words:
    ``dispatch.planning.explanations`` words them, with clock times through the day's time zone)."""
    return Unassigned(visit.id, code, {"case": case.value, **facts})


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
    for start, end in start_windows(visit):
        a, b = max(start, lo), min(end, hi)
        if visit.pinned_start is not None:
            a, b = max(a, visit.pinned_start), min(b, visit.pinned_start)
        if a <= b:
            out.append((a, b))
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


_RANK_MEMO: dict[str, int] = {}
"""``objective.drop_rank`` per visit id, for one ``explain_unassigned`` call (it orders the visits
by it, and ``_displaced`` ranks every stop of every eligible worker for every visit it explains)."""

def _rank(problem: Problem, visit: Visit) -> int:
    """``objective.drop_rank`` of ``visit``, memoised for the call (``_RANK_MEMO``)."""
    rank = _RANK_MEMO.get(visit.id)
    if rank is None:
        rank = _RANK_MEMO[visit.id] = drop_rank(problem, visit)
    return rank


_STOPS_MEMO: dict[tuple[int, str | None], tuple[Route, Problem, list[tuple[int, int, int, int]]]] = {}
"""``_route_stops(route, skip)`` per route object and skipped stop, for one ``explain_unassigned``
call (every unplaced visit asks for the same routes' blocks, and ``_displaced`` for the same
routes less each of their stops)."""

def _route_stops(problem: Problem, route: Route, skip: str | None = None) -> list[tuple[int, int, int, int]]:
    """The route's stops (minus ``skip``) and breaks as fixed blocks (``timing.fixed_blocks``)."""
    key = (id(route), skip)
    hit = _STOPS_MEMO.get(key)
    if hit is not None and hit[0] is route and hit[1] is problem:
        return hit[2]
    visits, workers = _lookups(problem)
    blocks = fixed_blocks(problem, route, visits, workers[route.worker_id], skip)
    _STOPS_MEMO[key] = (route, problem, blocks)
    return blocks


def _slots_for_worker(
    problem: Problem, visit: Visit, worker: Worker, routes: dict[tuple[str, int], Route],
    allowed: list[tuple[int, int]], skip: str | None = None, empty: bool = False,
    only: tuple[int, range] | None = None,
) -> list[Slot]:
    """``only``: (shift, gap positions): look at those gaps of that shift alone (``_displaced``
    knows that a removal changed nothing else; ``_removal_effect``)."""
    # Working time per shift; a route left empty by ``skip`` counts nothing (a route that
    # keeps other stops keeps its span: conservative, so a slot found is really free).
    work = {
        key: (0 if skip is not None and all(s.visit_id == skip for s in r.stops) else r.end - r.start)
        for key, r in routes.items() if key[0] == worker.id
    }
    out: list[Slot] = []
    for si, _ in enumerate(worker.shifts):
        if only is not None and si != only[0]:
            continue
        route = routes.get((worker.id, si))
        stops = [] if (route is None or empty) else _route_stops(problem, route, skip)
        other = 0 if empty else sum(m for (w, s), m in work.items() if s != si)
        if not empty and route is not None:
            visits = _lookups(problem)[0]
            load = {k: sum(visits[s.visit_id].demand.get(k, 0) for s in route.stops) for k in visit.demand}
            if any(load[k] + visit.demand[k] > worker.capacity.get(k, 0) for k in visit.demand):
                continue
        out.extend(Slot(worker.id, si, g.position, g.earliest, g.latest, g.detour)
                   for g in free_gaps(problem, visit, worker, si, stops, allowed, other,
                                      None if only is None else only[1]))
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


def explain_unassigned(problem: Problem, routes: list[Route], unplaced: list[str],
                       stop: StoppingCriterion | None = None) -> list[Unassigned]:
    """A reason (code, case and facts) for every visit id in ``unplaced`` (in its order), worked out
    most important first (mandatory, then by priority: ``objective.drop_rank``) until ``stop`` says
    so: after that only the reasons that need no look at the routes, such as nobody having the
    skills, which cost a pass over the workers; the rest are left out.

    Why the cheap reasons survive the deadline: a loaded machine can spend a short run's whole
    reserve before the first visit, and "not found by the search" for a visit nobody can do
    misleads the dispatcher (a CI run under load showed exactly that).  Why most important first:
    on a region's day the reserve does not explain every visit (benchmarks/README, "A region's
    day"), and a dispatcher needs the reasons for the mandatory visits left out before the rest."""
    visits = _lookups(problem)[0]
    starts: dict[str, int] = {}
    for r in routes:
        for s in r.stops:
            starts[s.visit_id] = s.start
    by_worker: dict[str, dict[tuple[str, int], Route]] = {}
    for r in routes:
        by_worker.setdefault(r.worker_id, {})[(r.worker_id, r.shift_index)] = r
    _STOPS_MEMO.clear()
    _RANK_MEMO.clear()
    _REMOVALS_MEMO.clear()
    rides = rides_by_visit(problem)
    probe: PlanProbe | None = None  # made for the first ride explained (seconds on a region's day)
    by_ride: dict[str, Unassigned] = {}
    found: dict[str, Unassigned] = {}
    late = False
    position = {vid: k for k, vid in enumerate(unplaced)}
    for vid in sorted(unplaced, key=lambda v: (-_rank(problem, visits[v]), position[v])):
        late = late or (stop is not None and stop())
        if late:
            static = None if vid in rides else _static_reason(problem, visits[vid])
            if static is not None:
                found[vid] = static
            continue
        if vid not in rides:
            found[vid] = _explain_one(problem, visits[vid], by_worker, starts)
            continue
        ride = rides[vid]
        if ride.pickup not in by_ride:  # both legs share the analysis
            probe = probe or PlanProbe(problem, routes)
            by_ride[ride.pickup] = explain_ride(problem, visits[vid], ride, routes, starts, probe, visits)
        found[vid] = replace(by_ride[ride.pickup], visit_id=vid)
    return [found[vid] for vid in unplaced if vid in found]


def _static_reason(problem: Problem, visit: Visit) -> Unassigned | None:
    """The reason that follows from the workers alone (skills, kinds, exclusions, how many are
    needed), or None when the visit could be done by enough of them and the routes decide."""
    needed = max(1, visit.workers_needed)
    skilled = [w for w in problem.workers if qualified(w.skills, w.kind, visit)]
    kinds = sorted(k.value for k in visit.worker_kinds)
    if not skilled:
        missing = sorted(visit.required_skills - set().union(*[w.skills for w in problem.workers] or [set()]))
        return _why(visit, ReasonCode.NO_SKILLED_WORKER, ReasonCase.NOBODY_HAS_SKILLS,
                    {"required_skills": sorted(visit.required_skills), "worker_kinds": kinds,
                     "missing_everywhere": missing, "skilled_workers": 0, "workers_needed": needed})
    eligible = [problem.workers[i] for i in eligible_workers(problem, visit)]
    if len(skilled) < needed or 0 < len(eligible) < needed:
        return _not_enough_workers(visit, needed, skilled, eligible, kinds)
    if len(eligible) < needed:
        return _why(visit, ReasonCode.FORBIDDEN_ONLY, ReasonCase.ALL_EXCLUDED,
                    {"skilled_workers": [w.id for w in skilled], "eligible_workers": [w.id for w in eligible]})
    return None


def _explain_one(
    problem: Problem, visit: Visit, by_worker: dict[str, dict[tuple[str, int], Route]], starts: dict[str, int],
) -> Unassigned:
    """``by_worker``: worker id -> that worker's routes by (worker, shift)."""
    static = _static_reason(problem, visit)
    if static is not None:
        return static
    needed = max(1, visit.workers_needed)
    eligible = [problem.workers[i] for i in eligible_workers(problem, visit)]
    partner = next((d.after for d in problem.dependencies
                    if d.both_or_neither and d.before == visit.id and d.after not in starts), None)
    if partner is not None:
        return _why(visit, ReasonCode.DEPENDENCY, ReasonCase.PARTNER_UNPLACED,
                    {"depends_on": partner, "both_or_neither": True})
    dep = _dependency_range(problem, visit, starts)
    if isinstance(dep, str):
        return _why(visit, ReasonCode.DEPENDENCY, ReasonCase.BEFORE_UNPLACED, {"depends_on": dep})
    allowed = _allowed_starts(visit, *dep)
    if not allowed:
        return _why(visit, ReasonCode.DEPENDENCY, ReasonCase.DELAY_OUTSIDE_WINDOWS,
                    {"start_range": list(dep), "windows": _windows(visit)})
    if needed == 1:
        # The first eligible worker with a free slot is the answer (``_pair_slot``'s): the
        # rest are not searched.
        hit = next(([min(slots, key=lambda s: s.extra_travel)] for w in eligible
                    if (slots := _slots_for_worker(problem, visit, w, by_worker.get(w.id, {}), allowed))), None)
    else:
        free = {w.id: _slots_for_worker(problem, visit, w, by_worker.get(w.id, {}), allowed) for w in eligible}
        hit = _pair_slot(free, needed)
    if hit is not None:
        cost = sum(s.extra_travel for s in hit) * problem.weights.travel_minute
        detail = {"slots": [_slot_detail(s) for s in hit], "insertion_cost": cost,
                  "drop_penalty": drop_penalty(problem, visit)}
        if not visit.mandatory and cost > drop_penalty(problem, visit):
            return _why(visit, ReasonCode.NOT_WORTH_IT, ReasonCase.DEARER_THAN_DROPPING, detail)
        return _why(visit, ReasonCode.NOT_FOUND, ReasonCase.FREE_SLOT, detail)
    if needed == 1:
        # One worker who could come in an empty shift is enough to go on; if none could,
        # nobody is on shift in the window.
        off_shift = not any(_slots_for_worker(problem, visit, w, by_worker.get(w.id, {}), allowed, empty=True)
                            for w in eligible)
        on_shift: list[str] = []
    else:
        empty = {w.id: _slots_for_worker(problem, visit, w, by_worker.get(w.id, {}), allowed, empty=True)
                 for w in eligible}
        off_shift = _pair_slot(empty, needed) is None
        on_shift = sorted(w for w, slots in empty.items() if slots)
    if off_shift:
        detail = {"windows": _windows(visit), "eligible_workers": [w.id for w in eligible],
                  "workers_needed": needed, "on_shift_in_window": on_shift}
        if needed > 1 and on_shift:  # one of them could come, but it needs them together
            return _why(visit, ReasonCode.NO_WORKER_FREE, ReasonCase.NEEDS_TOGETHER, detail)
        return _why(visit, ReasonCode.NO_WORKER_FREE, ReasonCase.OFF_SHIFT, detail)
    return _displaced(problem, visit, eligible, by_worker, allowed, needed)


_REMOVALS_MEMO: dict[int, tuple[Route, Problem, list[tuple[int, int, range] | None]]] = {}
"""``_removal_effect`` of every stop of a route, per route object, for one ``explain_unassigned``
call (every unplaced visit's "who could give way" looks at the same stops)."""


def _removal_effect(problem: Problem, worker: Worker, shift_index: int, route: Route, k: int,
                    ) -> tuple[int, int, range] | None:
    """What taking stop ``k`` out of ``route`` changes, for the slot search of a visit that has
    no slot in the plan as it stands: the end of the block before the stop, the start of the
    worker's next stop (or the shift's end limit), and the positions (``Gap.position`` in the
    blocks without the stop) of the gaps between them, the only gaps that differ.  None when
    the removal may change more: the route's first or last block (they set the span the
    working-time cap counts) or its only stop (its removal frees the day's working time for
    the other shifts); then every gap of the worker's shifts is searched.

    Why exact: the blocks are the stops and breaks (``timing.fixed_blocks``, a break counted
    where the worker last was); without stop ``k`` the blocks before it stay, the breaks up to
    the next stop may move to the stop before, and the rest stay, as do the route's span (its
    first and last blocks) and the worker's other shifts.  So every other gap is one the
    search saw without the removal, where it found no slot."""
    memo = _REMOVALS_MEMO.get(id(route))
    if memo is None or memo[0] is not route or memo[1] is not problem:
        memo = (route, problem, _removal_effects(problem, worker, shift_index, route))
        _REMOVALS_MEMO[id(route)] = memo
    return memo[2][k]


def _removal_effects(problem: Problem, worker: Worker, shift_index: int, route: Route,
                     ) -> list[tuple[int, int, range] | None]:
    """``_removal_effect`` of each stop of ``route``, in order."""
    stops = route.stops
    if len(stops) == 1:
        return [None]
    blocks = _route_stops(problem, route)
    visits = _lookups(problem)[0]
    at = [blocks.index((s.location, visits[s.visit_id].exit_location, s.start, s.end)) for s in stops]
    out: list[tuple[int, int, range] | None] = []
    for k, j in enumerate(at):
        if j == 0 or j == len(blocks) - 1:
            out.append(None)
            continue
        if k + 1 < len(stops):
            next_start, m = stops[k + 1].start, at[k + 1]
        else:
            next_start, m = shift_end_limit(worker, shift_index), len(blocks)
        out.append((blocks[j - 1][3], next_start, range(j, m)))
    return out


def _removal_may_free(problem: Problem, worker: Worker, shift_index: int, route: Route, k: int, duration: int,
                      span: tuple[int, int]) -> bool:
    """Whether taking stop ``k`` out of ``route`` can give a visit of ``duration`` starting in
    ``span`` (``timing.allowed_span``) a slot, for a visit that has none in the plan as it stands.

    Why: on a region's day an unplaced visit has thousands of candidate stops (every stop of
    every eligible worker), and testing each is a slot search of the worker's routes; most lie
    hours away from the visit's window.  Exact, not a heuristic: unless the span from the block
    before the stop to the worker's next stop passes ``timing.gap_may_hold`` (the first test
    ``timing.free_gaps`` puts every gap to), every gap the slot search sees is one it saw
    without the removal (``_removal_effect``), where it found none.  Kept always: the stops
    whose removal may change more (``_removal_effect`` None)."""
    effect = _removal_effect(problem, worker, shift_index, route, k)
    return effect is None or gap_may_hold(effect[0], effect[1], duration, span)


def _slot_detail(s: Slot) -> dict[str, object]:
    return {"worker": s.worker_id, "shift": s.shift_index, "position": s.position,
            "earliest_start": s.earliest, "latest_start": s.latest, "extra_travel": s.extra_travel}


def _not_enough_workers(
    visit: Visit, needed: int, skilled: list[Worker], eligible: list[Worker], kinds: list[str],
) -> Unassigned:
    """A visit for ``needed`` workers at once with fewer than that who may do it: say it needs them."""
    detail = {"workers_needed": needed, "skilled_workers": [w.id for w in skilled],
              "eligible_workers": [w.id for w in eligible], "required_skills": sorted(visit.required_skills),
              "worker_kinds": kinds}
    case = ReasonCase.TOO_FEW_SKILLED if len(skilled) < needed else ReasonCase.TOO_FEW_ALLOWED
    return _why(visit, ReasonCode.NOT_ENOUGH_ELIGIBLE, case, detail)


def _displaced(
    problem: Problem, visit: Visit, eligible: list[Worker], by_worker: dict[str, dict[tuple[str, int], Route]],
    allowed: list[tuple[int, int]], needed: int,
) -> Unassigned:
    """Find the cheapest single stop whose removal frees a slot (for one-person visits).

    ``DISPLACED`` only if that stop outranks the visit; otherwise the time was taken by visits
    that matter as much or less, which is ``NO_WORKER_FREE`` with them named.
    """
    visits = _lookups(problem)[0]
    best: tuple[tuple[int, int], Slot, Visit] | None = None
    if needed == 1:
        # Least important first (in plan order within a rank): once a stop that makes room is
        # found, stops that matter more cannot be the answer and are not tested (each test is a
        # slot search on the worker's routes; on a region's day there are thousands).  The
        # answer is the one the plan-order search gives: ties keep the first in plan order.
        candidates = []
        span = allowed_span(allowed)
        for w in eligible:
            own = by_worker.get(w.id, {})
            duration = visit.duration_for(w.kind)
            for (wid, si), route in own.items():
                for k, stop in enumerate(route.stops):
                    other = visits[stop.visit_id]
                    if other.pinned_worker or other.pinned_start is not None:
                        continue
                    if not _removal_may_free(problem, w, si, route, k, duration, span):
                        continue
                    effect = _removal_effect(problem, w, si, route, k)
                    only = None if effect is None else (si, effect[2])
                    candidates.append((_rank(problem, other), len(candidates), w, own, other, only))
        candidates.sort(key=lambda c: (c[0], c[1]))
        for rank, _, w, own, other, only in candidates:
            if best is not None and rank > best[0][0]:
                break
            # Only the gaps the removal changed can hold the visit (``_removal_effect``); when
            # it may change more, any of the worker's shifts may gain: a visit in the afternoon
            # shift can hold the day's working time a morning visit needs.
            slots = _slots_for_worker(problem, visit, w, own, allowed, skip=other.id, only=only)
            if not slots:
                continue
            key = (rank, min(s.extra_travel for s in slots))
            if best is None or key < best[0]:
                best = (key, min(slots, key=lambda s: s.extra_travel), other)
    blockers = sorted(
        {s.visit_id for w in eligible for r in by_worker.get(w.id, {}).values() for s in r.stops
         if any(s.start <= b and s.end >= a for a, b in allowed)}
    )
    windows = _windows(visit)
    if best is not None:
        _, slot, other = best
        detail = {"best_insertion": _slot_detail(slot), "would_displace": other.id,
                  "displaced_priority": other.priority, "displaced_mandatory": other.mandatory,
                  "own_priority": visit.priority, "own_mandatory": visit.mandatory,
                  "blocking_visits": blockers[:20], "blocking_count": len(blockers), "windows": windows}
        if outranks(problem, other, visit):
            return _why(visit, ReasonCode.DISPLACED, ReasonCase.WOULD_DISPLACE, detail)
        # The search kept the less important one, or one that matters as much.
        case = ReasonCase.KEPT_LESS_IMPORTANT if outranks(problem, visit, other) else ReasonCase.SAME_RANK
        return _why(visit, ReasonCode.NO_WORKER_FREE, case, detail)
    detail = {"blocking_visits": blockers[:20], "blocking_count": len(blockers), "own_priority": visit.priority,
              "own_mandatory": visit.mandatory, "workers_needed": needed, "windows": windows}
    if blockers and all(outranks(problem, visits[b], visit) for b in blockers):
        return _why(visit, ReasonCode.DISPLACED, ReasonCase.BOOKED_BY_MORE_IMPORTANT, detail)
    if not blockers:  # nothing in the window: the day's other work (working-time cap, breaks) leaves no room
        return _why(visit, ReasonCode.NO_WORKER_FREE, ReasonCase.WORKING_TIME, detail)
    return _why(visit, ReasonCode.NO_WORKER_FREE, ReasonCase.BOOKED_MIXED, detail)


# --------------------------------------------------------------------------- for recommendations


def allowed_starts(problem: Problem, visit: Visit, starts: dict[str, int]) -> list[tuple[int, int]] | str:
    """The start ranges ``visit`` may take next to the placed visits (``starts``: visit id -> start):
    its windows cut by its links and its pinned start; a visit id when a visit it must follow is
    not placed (``optimizer.recommend`` asks the same question as the explanations)."""
    dep = _dependency_range(problem, visit, starts)
    if isinstance(dep, str):
        return dep
    return _allowed_starts(visit, *dep)


def free_slots(problem: Problem, visit: Visit, worker: Worker, routes: dict[tuple[str, int], Route],
               allowed: list[tuple[int, int]], skip: str | None = None) -> list[Slot]:
    """Where ``visit`` fits into ``worker``'s ``routes`` (by (worker, shift)) without moving
    anything, ``skip`` left out: the insertion test of the explanations, exact for the plan as it is."""
    return _slots_for_worker(problem, visit, worker, routes, allowed, skip)
