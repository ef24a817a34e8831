"""Who can take this visit, and when: insertion options into a plan as it stands.

The dispatcher's question at noon ("an urgent visit came in; who can go?") is answered
without a re-plan: every worker who may do the visit (``rules.eligible_workers``) is
searched for a free slot with the explanations' own insertion test (``explain.free_slots``:
nothing else moves), and, when that gives fewer than asked for, for a slot that one stop of
theirs would free by giving way (the stop is then *displaced*: left out of the plan).  Each
option is timed by the route-timing engine (``plan_edit.Timer``), priced by the objective
(``plan_edit.Costs``: the cost increase is ``evaluate``'s difference between the plan with
the option and the plan without the visit) and checked by the independent checker: an
option that adds a violation the plan did not have is never offered.

For workers who cannot take it, the reason is the explanations' (``explain``), asked about
that worker alone: the same codes, cases and facts an unplaced visit gets, worded at the edge.

Rides (a pickup and a drop-off in one car) are not recommended here: they are placed by
planning.  A two-person visit's option names two workers with one common start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from optimizer.checker import check
from optimizer.explain import Slot, allowed_starts, explain_unassigned, free_slots
from optimizer.model import Problem, ReasonCase, Route, Solution, Unassigned, Visit, Worker
from optimizer.objective import drop_rank
from optimizer.plan_edit import Costs, NotTimed, RouteKey, Timer, kept, solution_of, term_change, time_with_visit
from optimizer.rules import effective_pins, eligible_workers, rides_by_visit

EXACT_PER_OPTION = 3
"""Candidates priced exactly (timed, costed) per option asked for; the rest are ranked by their detour."""


@dataclass(frozen=True)
class Option:
    """One way to place the visit: its workers (two for a two-person visit), their shifts,
    the start, what it costs and what gives way."""

    workers: tuple[str, ...]
    shifts: tuple[int, ...]
    start: int
    cost_increase: int
    """The objective of the plan with this option minus the plan without the visit (negative:
    the plan gets cheaper, placing the visit saves its drop penalty)."""
    terms: dict[str, int]
    """The change of each objective term (terms that do not change left out)."""
    displaces: str | None
    """A visit left out to make room, or None."""
    routes: tuple[Route, ...]
    """The routes the option changes, as they would be."""


@dataclass(frozen=True)
class Refusal:
    """Why one worker cannot take the visit: the explanations' reason for that worker alone."""

    worker_id: str
    reason: Unassigned


@dataclass(frozen=True)
class Recommendation:
    visit_id: str
    options: tuple[Option, ...]
    others: tuple[Refusal, ...]
    """Next best workers who cannot take it, each with why."""
    base: dict[RouteKey, Route]
    """The plan without the visit (what ``cost_increase`` compares against)."""


class NotRecommendable(ValueError):
    """The visit is a ride leg, or unknown."""


def without(timer: Timer, routes: Mapping[RouteKey, Route], visit_id: str) -> dict[RouteKey, Route]:
    """``routes`` with ``visit_id`` taken out, the routes it leaves timed again (the rest where they were)."""
    out = dict(routes)
    for key, route in routes.items():
        if any(s.visit_id == visit_id for s in route.stops):
            new = timer.time(key, kept(route, {visit_id}))
            if new is None:
                del out[key]
            else:
                out[key] = new
    return out


def uncapped(worker: Worker) -> Worker:
    """``worker`` without the working-time cap: the slot test counts a route's time conservatively
    (from its shift start), which hides slots that fit; the checker judges the cap exactly."""
    return replace(worker, max_work_minutes=None) if worker.max_work_minutes is not None else worker


@dataclass
class _Candidate:
    slots: list[Slot]
    rough: int
    displaces: str | None = None


class _Search:
    def __init__(self, problem: Problem, routes: Mapping[RouteKey, Route], visit: Visit, timer: Timer) -> None:
        self.p = problem
        self.visit = visit
        self.timer = timer
        self.costs = Costs(problem)
        self.base = without(timer, routes, visit.id)
        self.base_terms = self.costs.terms(self.base.values())
        self.by_worker: dict[str, dict[RouteKey, Route]] = {}
        for key, r in self.base.items():
            self.by_worker.setdefault(key[0], {})[key] = r
        starts = {s.visit_id: s.start for r in self.base.values() for s in r.stops}
        self.allowed = allowed_starts(problem, visit, starts)
        self.pins = effective_pins(problem)

    def rough(self, worker: Worker, slot: Slot) -> int:
        """The detour, lateness and assignment costs of a slot: for ranking before pricing exactly."""
        w = self.p.weights
        late = max(0, slot.earliest - self.costs.objective.due[self.costs.visit_index[self.visit.id]])
        return (slot.extra_travel * w.travel_minute + late * w.lateness_minute
                + self.costs.objective.assignment(self.visit, worker))

    def free(self, workers: list[Worker]) -> list[_Candidate]:
        if isinstance(self.allowed, str) or not self.allowed:
            return []
        per_worker: dict[str, list[tuple[int, Slot]]] = {}
        for w in workers:
            slots = free_slots(self.p, self.visit, uncapped(w), self.by_worker.get(w.id, {}), self.allowed)
            if slots:
                per_worker[w.id] = sorted((self.rough(w, s), s) for s in slots)
        return self._combine(per_worker)

    def _combine(self, per_worker: dict[str, list[tuple[int, Slot]]], displaces: str | None = None) -> list[_Candidate]:
        needed = max(1, self.visit.workers_needed)
        if needed == 1:
            return [_Candidate([slots[0][1]], slots[0][0], displaces) for slots in per_worker.values()]
        out = []
        ids = sorted(per_worker, key=lambda k: per_worker[k][0][0])[:15]
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                for ra, sa in per_worker[a][:3]:
                    for rb, sb in per_worker[b][:3]:
                        lo, hi = max(sa.earliest, sb.earliest), min(sa.latest, sb.latest)
                        if lo <= hi:
                            out.append(_Candidate([replace(sa, earliest=lo), replace(sb, earliest=lo)], ra + rb))
        return out

    def displacing(self, workers: list[Worker]) -> list[_Candidate]:
        """One stop giving way per candidate (never a pinned, frozen, linked, two-person or ride stop)."""
        if isinstance(self.allowed, str) or not self.allowed or self.visit.workers_needed > 1:
            return []
        linked = {d.before for d in self.p.dependencies} | {d.after for d in self.p.dependencies}
        linked |= set(rides_by_visit(self.p))
        visits = self.p.visit_by_id()
        out = []
        for w in workers:
            own = self.by_worker.get(w.id, {})
            best: tuple[int, Slot, str] | None = None
            for route in own.values():
                for stop in route.stops:
                    other = visits.get(stop.visit_id)
                    if (other is None or other.id in self.pins or other.id in linked or other.workers_needed > 1):
                        continue
                    slots = free_slots(self.p, self.visit, uncapped(w), own, self.allowed, skip=other.id)
                    if not slots:
                        continue
                    rough, slot = min((self.rough(w, s), s) for s in slots)
                    rough += drop_rank(self.p, other)
                    if best is None or rough < best[0]:
                        best = (rough, slot, other.id)
            if best is not None:
                out.append(_Candidate([best[1]], best[0], best[2]))
        return out

    def price(self, cand: _Candidate) -> Option | None:
        """The candidate timed by the engine and priced by the objective; None if it cannot be timed."""
        routes = dict(self.base)
        changed = []
        start = cand.slots[0].earliest
        try:
            for slot in cand.slots:
                key = (slot.worker_id, slot.shift_index)
                skip = [cand.displaces] if cand.displaces else []
                route = time_with_visit(self.timer, key, routes.get(key), self.visit.id, start, skip)
                routes[key] = route
                changed.append(route)
        except NotTimed:
            return None
        after = self.costs.terms(routes.values())
        return Option(tuple(s.worker_id for s in cand.slots), tuple(s.shift_index for s in cand.slots), start,
                      sum(after.values()) - sum(self.base_terms.values()), term_change(self.base_terms, after),
                      cand.displaces, tuple(changed))

    def accepted(self, option: Option) -> bool:
        """The checker finds nothing wrong with the option that was not wrong without it.

        Checked on the part of the day the option touches (:func:`around`): its workers' routes
        and whatever shares a visit or a link with them; every rule of the checker that the option
        can break lies there, and a 10x day's whole plan takes the checker half a second."""
        routes = dict(self.base)
        for r in option.routes:
            routes[(r.worker_id, r.shift_index)] = r
        extra = {self.visit.id} | ({option.displaces} if option.displaces else set())
        sub, before, after = around(self.p, self.base, routes, set(option.workers), extra)
        old = {(v.rule, v.worker_id, v.visit_id) for v in check(sub, before) if v.severity == "error"}
        return all((v.rule, v.worker_id, v.visit_id) in old for v in check(sub, after) if v.severity == "error")


def around(problem: Problem, base: Mapping[RouteKey, Route], changed: Mapping[RouteKey, Route], workers: set[str],
           visits: set[str]) -> tuple[Problem, Solution, Solution]:
    """The problem cut down to ``workers`` and ``visits`` and what they are linked to (a two-person
    visit's other worker, a dependency's other visit and its worker), with the plans ``base`` and
    ``changed`` cut the same way."""
    links: dict[str, set[str]] = {}
    for d in problem.dependencies:
        links.setdefault(d.before, set()).add(d.after)
        links.setdefault(d.after, set()).add(d.before)
    carriers: dict[str, set[str]] = {}
    for plan in (base, changed):
        for (wid, _), r in plan.items():
            for s in r.stops:
                carriers.setdefault(s.visit_id, set()).add(wid)
    by_worker: dict[str, list[Route]] = {}
    for plan in (base, changed):
        for (wid, _), r in plan.items():
            by_worker.setdefault(wid, []).append(r)
    def on(ws_: set[str]) -> set[str]:
        return {s.visit_id for w in ws_ for r in by_worker.get(w, []) for s in r.stops}

    # The changed workers and their visits; then whoever else carries those visits or the visits
    # they are linked to (with their routes): every rule that involves a changed stop is inside.
    near = on(workers) | visits
    linked = near | {o for v in near for o in links.get(v, ())}
    ws = set(workers) | {w for v in linked for w in carriers.get(v, ())}
    vs = on(ws) | linked
    rides = tuple(r for r in problem.rides if r.pickup in vs and r.dropoff in vs)
    sub = replace(problem, workers=tuple(w for w in problem.workers if w.id in ws),
                  visits=tuple(v for v in problem.visits if v.id in vs),
                  dependencies=tuple(d for d in problem.dependencies if d.before in vs and d.after in vs),
                  rides=rides, previous_plan=tuple(pv for pv in problem.previous_plan if pv.visit_id in vs))

    def cut(plan: Mapping[RouteKey, Route]) -> Solution:
        return solution_of(sub, {k: r for k, r in plan.items() if k[0] in ws})

    return sub, cut(base), cut(changed)


def recommend(problem: Problem, routes: Mapping[RouteKey, Route], visit_id: str, top: int = 5,
              others: int = 5, timer: Timer | None = None) -> Recommendation:
    """The ``top`` cheapest feasible options for ``visit_id`` in the plan of ``routes`` (by
    (worker, shift)), at most one per worker (or pair), and why up to ``others`` of the next
    best workers cannot take it.  A visit already in the plan is taken out first (its
    options are where else it could go)."""
    visit = problem.visit_by_id().get(visit_id)
    if visit is None:
        raise NotRecommendable(f"no visit {visit_id!r} in the problem")
    if visit_id in rides_by_visit(problem):
        raise NotRecommendable(f"visit {visit_id!r} is a ride leg: rides are placed by planning")
    search = _Search(problem, routes, visit, timer or Timer(problem))
    eligible = [problem.workers[i] for i in eligible_workers(problem, visit)]
    options = _best(search, search.free(eligible), top)
    if len(options) < top:
        taken = {w for o in options for w in o.workers}
        rest = [w for w in eligible if w.id not in taken]
        options += _best(search, search.displacing(rest), top - len(options))
    options.sort(key=lambda o: (o.cost_increase, o.workers))
    return Recommendation(visit_id, tuple(options), tuple(_refusals(search, options, others)), search.base)


def _best(search: _Search, candidates: list[_Candidate], top: int) -> list[Option]:
    """The ``top`` cheapest candidates that the engine can time and the checker accepts."""
    if top <= 0:
        return []
    candidates.sort(key=lambda c: (c.rough, [s.worker_id for s in c.slots]))
    priced = [o for o in (search.price(c) for c in candidates[:max(top * EXACT_PER_OPTION, 10)]) if o is not None]
    priced.sort(key=lambda o: (o.cost_increase, o.workers))
    out: list[Option] = []
    used: set[str] = set()
    for option in priced:
        if used & set(option.workers):
            continue
        if search.accepted(option):
            out.append(option)
            used |= set(option.workers)
            if len(out) == top:
                break
    return out


def _refusals(search: _Search, options: list[Option], limit: int) -> list[Refusal]:
    """Why the next best workers cannot take the visit: the workers of the visit's kinds (its
    preferred ones first, then the nearest) who are in no option, each explained alone."""
    if limit <= 0:
        return []
    p, visit = search.p, search.visit
    offered = {w for o in options for w in o.workers}
    matrix_of = p.travel_times
    candidates = [w for w in p.workers if w.id not in offered
                  and (not visit.worker_kinds or w.kind in visit.worker_kinds)]
    candidates.sort(key=lambda w: (w.id not in visit.preferred_workers,
                                   matrix_of[w.travel_mode][w.start_location][visit.location], w.id))
    alone = replace(visit, workers_needed=1)
    visits = tuple(alone if v.id == visit.id else v for v in p.visits)
    out = []
    for w in candidates[:limit * 4]:
        single = replace(p, workers=(w,), visits=visits)
        (reason,) = explain_unassigned(single, list(search.base.values()), [visit.id])
        if reason.details.get("case") in (ReasonCase.FREE_SLOT.value, ReasonCase.DEARER_THAN_DROPPING.value):
            continue  # they could take it; just not among the cheapest
        out.append(Refusal(w.id, reason))
        if len(out) == limit:
            break
    return out


__all__ = ["NotRecommendable", "Option", "Recommendation", "Refusal", "best_start", "recommend", "without"]


def best_start(problem: Problem, routes: Mapping[RouteKey, Route], visit_id: str, worker_ids: list[str],
               timer: Timer | None = None) -> Option | Refusal:
    """The cheapest free slot of ``visit_id`` with exactly ``worker_ids`` (a hand assignment
    without a time), or why the first of them cannot take it."""
    visit = problem.visit_by_id()[visit_id]
    search = _Search(problem, routes, visit, timer or Timer(problem))
    workers = problem.worker_by_id()
    chosen = [workers[w] for w in worker_ids]
    found = [o for o in _best(search, search.free(chosen), 1) if set(o.workers) == set(worker_ids)]
    if found:
        return found[0]
    alone = replace(visit, workers_needed=1)
    single = replace(problem, workers=(chosen[0],), visits=tuple(alone if v.id == visit_id else v for v in problem.visits))
    (reason,) = explain_unassigned(single, list(search.base.values()), [visit_id])
    return Refusal(chosen[0].id, reason)
