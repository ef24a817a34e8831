"""The objective: what a plan costs, term by term, defined once.

Every cost the optimizer weighs is defined here and nowhere else.  Our construction prices
insertions with it, the LNS compares plans with it, the OR-Tools plans are checked with it
(``routing`` states the same terms in OR-Tools' vocabulary: disjunction penalties, soft
bounds, a preference dimension), and ``evaluate`` reports it to the dispatcher; a property
test holds the search's cost and ``evaluate``'s equal on random plans.

Terms (``TERM_NAMES``; integers in objective units, the total is their sum)
------------------------------------------------------------------------------
``drop_mandatory``
    per unplaced visit that is mandatory or pinned (``rules.effective_pins``):
    ``drop_mandatory`` x the workers it needs; frozen work (``rules.frozen_visits``: it has
    happened, the checker refuses a plan without it) ``FROZEN_FACTOR`` times that, so no
    search trades it for a mandatory visit
``drop_optional``
    per other unplaced visit: its priority x ``drop_per_priority`` x the workers it needs.
    Why times the workers: a two-person visit takes two workers' time, so at one visit's
    price an over-booked day always gains by dropping it for two single visits of the same
    priority, and two-person visits (the seniors who need lifting, the most dependent) were
    the ones left out (Kielce demo day: 2 of 5 placed against 212 of 231 single visits;
    issue #8).  Priced per worker, a two-person visit weighs the same per worker-hour.
``travel``
    minutes from each used route's start place through its visits (leaving each from its
    exit location) to its end place, x ``travel_minute``
``lateness``
    per placed *visit* (a two-person visit is late once, for its client): minutes its start
    falls after the end of its latest window, x ``lateness_minute``
``max_lateness``
    the largest lateness of one visit x ``max_lateness_minute``
``overtime``
    per used route, minutes past its shift's end x ``overtime_minute``
``waiting``
    per stop, minutes between arriving and starting x ``wait_minute``
``non_preferred_worker``
    per stop of a visit naming preferred workers, made by someone else
``gender_mismatch``
    per stop of a visit with a *soft* gender preference, made by a worker of another (or
    unrecorded) gender
``changed_from_previous``
    per entry of ``previous_plan`` not kept (the stability of a re-plan): its worker no longer
    does that visit (moved to another worker, or dropped), or does it starting more than
    ``previous_start_tolerance`` minutes before or after the entry's start.  One price for any
    change, a step and not per minute: a worker told 9:00 minds whether the visit is still
    theirs at about 9:00, not by how much it moved.  The default weight sits between the two
    things it is weighed against: far above any travel saving (so travel alone never moves a
    published stop) and below placing a visit (half the least important one: an urgent new
    visit may move several, one of priority 1 at most one).  A re-plan starts from the previous
    plan as it was (``optimizer.warm``), so the search pays for every change it makes.
    The search prices it in two parts: the worker part per stop (``Objective.assignment``,
    ``drop``) and the start part per timed route (``route_time_cost``, and
    ``moved_count`` for the incremental timing of one insertion).
``imbalance``
    per used route, (service minutes above its shift's fair share)^2 x ``imbalance``; the
    fair share of a shift is ``floor(11/10 x requested x shift minutes / all shift minutes)``
    in exact integers, ``requested`` being the sum over all visits of duration x workers
    needed and ``all shift minutes`` the length of every shift of the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from optimizer.model import Problem, Visit, Worker
from optimizer.rules import effective_pins, frozen_visits

ROUTE_MEMO_SIZE = 4096
"""Routes whose part of the objective ``Objective`` keeps (``_route_terms``); more and it starts over."""

TERM_NAMES: tuple[str, ...] = (
    "drop_mandatory",
    "drop_optional",
    "travel",
    "lateness",
    "max_lateness",
    "overtime",
    "waiting",
    "non_preferred_worker",
    "gender_mismatch",
    "changed_from_previous",
    "imbalance",
)

FROZEN_FACTOR = 10
"""Frozen work left out costs this many times a mandatory visit."""
FAIR_SHARE_SLACK = (11, 10)
"""A route may carry 10 % more than the day's average load per shift minute before it costs."""


@dataclass(frozen=True)
class TimedRoute:
    """What the objective needs of one route: whose it is, its visits in order with their
    starts, when it ends, and the minutes its worker waits before starts."""

    worker_index: int
    shift_index: int
    visits: Sequence[int]
    """Visit indices in visiting order (a two-person visit appears on each of its routes)."""
    starts: Sequence[int]
    end: int
    waiting: int = 0


def fair_shares(problem: Problem) -> dict[tuple[int, int], int]:
    """(worker index, shift index) -> service minutes the shift may carry before the
    imbalance term charges (see the module docstring), in exact integer arithmetic."""
    requested = sum(v.duration * max(1, v.workers_needed) for v in problem.visits)
    lengths = {(wi, si): s.end - s.start for wi, w in enumerate(problem.workers) for si, s in enumerate(w.shifts)}
    total = sum(lengths.values()) or 1
    num, den = FAIR_SHARE_SLACK
    return {key: (num * requested * minutes) // (den * total) for key, minutes in lengths.items()}


def previous_starts(problem: Problem) -> dict[tuple[int, int], int]:
    """(visit index, worker index) -> the start ``previous_plan`` gave that worker for that
    visit: what ``changed_from_previous`` compares a start with."""
    visits = {v.id: i for i, v in enumerate(problem.visits)}
    workers = {w.id: i for i, w in enumerate(problem.workers)}
    return {(visits[pv.visit_id], workers[pv.worker_id]): pv.start for pv in problem.previous_plan
            if pv.visit_id in visits and pv.worker_id in workers}


def moved_count(previous: dict[tuple[int, int], int], tolerance: int, worker_index: int,
                stops: Iterable[int], starts: Iterable[int]) -> int:
    """How many of ``stops`` (visit indices, done by ``worker_index`` at ``starts``) start more
    than ``tolerance`` minutes from where ``previous`` had this worker start them."""
    n = 0
    for vi, start in zip(stops, starts):
        before = previous.get((vi, worker_index))
        if before is not None and abs(start - before) > tolerance:
            n += 1
    return n


def due_minute(visit: Visit) -> int:
    """The minute after which a start of ``visit`` is late: its latest window's end."""
    return max(tw.end for tw in visit.windows)


def drop_penalty(problem: Problem, visit: Visit, pinned: bool = False, frozen: bool = False) -> int:
    """The ``drop_mandatory`` / ``drop_optional`` price of leaving ``visit`` out: frozen work
    above everything, mandatory (or pinned) at a price no optional visit reaches, otherwise per
    priority; times the workers it needs (see the module docstring for why)."""
    w = problem.weights
    if frozen:
        base = w.drop_mandatory * FROZEN_FACTOR
    elif pinned or visit.mandatory or visit.pinned_worker is not None or visit.pinned_start is not None:
        base = w.drop_mandatory
    else:
        base = w.drop_per_priority * max(1, visit.priority)
    return base * max(1, visit.workers_needed)


def drop_rank(problem: Problem, visit: Visit) -> int:
    """How much the solver minds leaving out one worker's share of ``visit``: its drop penalty
    per worker it needs (mandatory above every priority; among optional visits, the priority)."""
    return drop_penalty(problem, visit) // max(1, visit.workers_needed)


def outranks(problem: Problem, a: Visit, b: Visit) -> bool:
    """Whether ``a`` matters more than ``b`` to the plan, so that ``b`` giving way to ``a`` is
    "displaced by a higher priority".  Two mandatory visits, or two optional ones of the same
    priority, outrank neither the other: when only one fits, neither was displaced by a more
    important one; there was room for one of them."""
    return drop_rank(problem, a) > drop_rank(problem, b)


class Objective:
    """The terms of one problem, with what they need computed once (pins, the previous plan,
    due minutes, fair shares), for the many evaluations a search makes."""

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.w = problem.weights
        pins = effective_pins(problem)
        self.pinned = [v.id in pins for v in problem.visits]
        frozen = frozen_visits(problem)
        self.frozen = [v.id in frozen for v in problem.visits]
        previous: dict[str, set[str]] = {}
        for pv in problem.previous_plan:
            previous.setdefault(pv.visit_id, set()).add(pv.worker_id)
        self.previous: dict[str, frozenset[str]] = {vid: frozenset(ws) for vid, ws in previous.items()}
        """Visit id -> the workers the previous plan gave it."""
        index = {v.id: vi for vi, v in enumerate(problem.visits)}
        self.previous_at = {index[vid]: ws for vid, ws in self.previous.items() if vid in index}
        """The same by visit index (visits of the problem only)."""
        self.previous_start = previous_starts(problem)
        """(visit index, worker index) -> the previous plan's start (``changed_from_previous``)."""
        self.due = [due_minute(v) for v in problem.visits]
        """Per visit, the minute after which a start is late."""
        self.fair = fair_shares(problem)
        self.drops = [self._drop(vi) for vi in range(len(problem.visits))]
        self.left_out = [
            (True, drop_penalty(problem, v, True, self.frozen[vi]))
            if self.pinned[vi] or v.mandatory or v.pinned_worker is not None or v.pinned_start is not None
            else (False, drop_penalty(problem, v))
            for vi, v in enumerate(problem.visits)
        ]
        """Per visit, what leaving it out adds to ``terms``: (to ``drop_mandatory``, else to
        ``drop_optional``; the penalty)."""
        self.left_out_total = (sum(pen for mandatory, pen in self.left_out if mandatory),
                               sum(pen for mandatory, pen in self.left_out if not mandatory))
        """(``drop_mandatory``, ``drop_optional``) of a plan with nothing placed."""
        self.shared = [v.workers_needed > 1 for v in problem.visits]
        """Per visit, whether it has copies on several routes (so its lateness and its place
        in the plan are a matter of all of them, not of one route's)."""
        self._route_memo: dict[tuple, tuple] = {}
        """``_route_terms`` per route, by what it depends on."""

    # ------------------------------------------------------------------ one visit

    def _drop(self, vi: int) -> int:
        visit = self.p.visits[vi]
        lost = len(self.previous.get(visit.id, ()))
        return drop_penalty(self.p, visit, self.pinned[vi], self.frozen[vi]) + lost * self.w.changed_from_previous

    def drop(self, vi: int) -> int:
        """What leaving visit ``vi`` out costs: its drop penalty, and each of its previous-plan
        entries as a change."""
        return self.drops[vi]

    def assignment(self, visit: Visit, worker: Worker) -> int:
        """Per-stop soft costs of ``worker`` doing ``visit``: not a preferred worker, a soft
        gender preference missed, not one of the workers the previous plan gave it.

        The last is the per-stop form of ``changed_from_previous``: with P the visit's
        previous workers and W its workers now, |P - W| = |W - P| + |P| - |W|, and the second
        part does not depend on who does the visit (``terms`` counts |P - W| itself).
        """
        w = self.w
        cost = 0
        if visit.preferred_workers and worker.id not in visit.preferred_workers:
            cost += w.non_preferred_worker
        if visit.gender_preference is not None and not visit.gender_strict and worker.gender != visit.gender_preference:
            cost += w.gender_mismatch
        before = self.previous.get(visit.id)
        if before and worker.id not in before:
            cost += w.changed_from_previous
        return cost

    def late(self, vi: int, start: int) -> int:
        """Minutes visit ``vi`` starting at ``start`` is late (after its latest window's end)."""
        return max(0, start - self.due[vi])

    # ------------------------------------------------------------------ one route

    def route_time_cost(self, worker_index: int, shift_index: int, stops: Sequence[tuple[int, int]],
                        starts: Sequence[int], end: int) -> int:
        """Lateness (of each visit's first copy, so a two-person visit once), overtime and
        previous-plan starts moved past the tolerance (``changed_from_previous``) of a timed
        route, in objective units; 0 for an empty route: ``stop_time_cost`` over its stops
        and ``overtime_cost``."""
        if not stops:
            return 0
        stop_cost = self.stop_time_cost
        cost = self.overtime_cost(worker_index, shift_index, end)
        for (vi, copy), start in zip(stops, starts):
            cost += stop_cost(worker_index, vi, copy, start)
        return cost

    def stop_time_cost(self, worker_index: int, vi: int, copy: int, start: int) -> int:
        """One stop's part of ``route_time_cost``: its lateness (first copy only) and its start
        moved from the previous plan's.  The incremental pricing of an insertion sums it over
        the stops whose start changed (``construct.Builder``)."""
        w = self.w
        cost = self.late(vi, start) * w.lateness_minute if copy == 0 else 0
        if self.previous_start:
            cost += moved_count(self.previous_start, w.previous_start_tolerance, worker_index, (vi,),
                                (start,)) * w.changed_from_previous
        return cost

    def overtime_cost(self, worker_index: int, shift_index: int, end: int) -> int:
        """The ``overtime`` term of a route ending at ``end``."""
        shift = self.p.workers[worker_index].shifts[shift_index]
        return max(0, end - shift.end) * self.w.overtime_minute

    def max_late(self, stops: Sequence[tuple[int, int]], starts: Sequence[int]) -> int:
        """The largest lateness of one visit among ``stops`` (0 if none is late)."""
        due = self.due
        return max(0, max((s - due[vi] for (vi, _), s in zip(stops, starts)), default=0))

    def imbalance(self, worker_index: int, shift_index: int, service: int) -> int:
        """The ``imbalance`` term of a route carrying ``service`` minutes."""
        weight = self.w.imbalance
        if weight <= 0:
            return 0
        excess = service - self.fair[(worker_index, shift_index)]
        return weight * excess * excess if excess > 0 else 0

    # ------------------------------------------------------------------ a plan

    def _route_terms(self, r: TimedRoute) -> tuple:
        """One route's part of ``terms``: (travel, overtime, waiting, non-preferred stops,
        gender mismatches, imbalance, starts moved from the previous plan, the worker's id, the
        visits on it the previous plan had, then for its visits done by one worker alone: the
        minutes late summed and at most, and the drop penalties they spare (mandatory,
        optional); last the (visit, start) of its visits shared with other routes).  Memoised
        by everything it depends on (the route's worker, shift, visits, starts, end and
        waiting): a search prices the whole plan after every move, and a move changes a few
        routes (a tenth of an LNS round on the demo day went to pricing the rest again, and
        then most of what was left to the walk over every visit for lateness and drops)."""
        key = (r.worker_index, r.shift_index, tuple(r.visits), tuple(r.starts), r.end, r.waiting)
        hit = self._route_memo.get(key)
        if hit is not None:
            return hit
        p, w = self.p, self.w
        previous_at = self.previous_at
        worker = p.workers[r.worker_index]
        shift = worker.shifts[r.shift_index]
        matrix = p.travel_times[worker.travel_mode]
        place = worker.start_location
        travel = service = non_preferred = gender = 0
        previous: list[int] = []
        for vi in r.visits:
            visit = p.visits[vi]
            travel += matrix[place][visit.location]
            place = visit.exit_location
            service += visit.duration_for(worker.kind)
            if visit.preferred_workers and worker.id not in visit.preferred_workers:
                non_preferred += 1
            if (visit.gender_preference is not None and not visit.gender_strict
                    and worker.gender != visit.gender_preference):
                gender += 1
            if vi in previous_at:
                previous.append(vi)
        travel += matrix[place][worker.end_location]
        moved = (moved_count(self.previous_start, w.previous_start_tolerance, r.worker_index, r.visits, r.starts)
                 if self.previous_start else 0)
        shared = [(vi, start) for vi, start in zip(r.visits, r.starts) if self.shared[vi]]
        alone = [(vi, start) for vi, start in zip(r.visits, r.starts) if not self.shared[vi]]
        part = (travel, max(0, r.end - shift.end), r.waiting, non_preferred, gender,
                self.imbalance(r.worker_index, r.shift_index, service), moved, worker.id, tuple(previous),
                *self._placed_terms(alone), tuple(shared), frozenset(vi for vi, _ in alone))
        if len(self._route_memo) >= ROUTE_MEMO_SIZE:
            self._route_memo.clear()
        self._route_memo[key] = part
        return part

    def _placed_terms(self, placed: Iterable[tuple[int, int]]) -> tuple[int, int, int, int]:
        """(minutes late summed, and at most; drop penalties spared, mandatory and optional) of
        visits placed at the given (visit, start)s, each once."""
        late_sum = late_max = spared_mandatory = spared_optional = 0
        for vi, start in placed:
            late = self.late(vi, start)
            late_sum += late
            late_max = max(late_max, late)
            mandatory, penalty = self.left_out[vi]
            if mandatory:
                spared_mandatory += penalty
            else:
                spared_optional += penalty
        return late_sum, late_max, spared_mandatory, spared_optional

    @staticmethod
    def _earliest(placed: Iterable[tuple[int, int]]) -> dict[int, int]:
        """Visit -> its earliest start among ``placed`` (its first copy's, for a two-person visit)."""
        first: dict[int, int] = {}
        for vi, start in placed:
            if start < first.get(vi, start + 1):
                first[vi] = start
        return first

    def terms(self, routes: Iterable[TimedRoute]) -> dict[str, int]:
        """Every term of the plan made of ``routes`` (keys: ``TERM_NAMES``); a visit is placed
        when some route has it, and is late by its earliest start.  Each route's own part is
        ``_route_terms``; what is left is the visits shared between routes (and, for a plan
        with a one-worker visit on two routes, every visit)."""
        w = self.w
        previous_at = self.previous_at
        travel = waiting = overtime = non_preferred = gender = imbalance = 0
        late_sum = late_max = 0
        dropped_mandatory, dropped_optional = self.left_out_total
        shared: list[tuple[int, int]] = []  # (visit, start) of the visits shared between routes
        doers: dict[int, set[str]] = {}
        moved = 0
        routes = [r for r in routes if r.visits]
        alone: set[int] = set()
        alone_count = 0
        for r in routes:
            (r_travel, r_overtime, r_waiting, r_non_preferred, r_gender, r_imbalance, r_moved, wid, previous,
             r_late_sum, r_late_max, r_mandatory, r_optional, r_shared, r_alone) = self._route_terms(r)
            alone |= r_alone
            alone_count += len(r_alone)
            travel += r_travel
            overtime += r_overtime
            waiting += r_waiting
            non_preferred += r_non_preferred
            gender += r_gender
            imbalance += r_imbalance
            moved += r_moved
            late_sum += r_late_sum
            if r_late_max > late_max:
                late_max = r_late_max
            dropped_mandatory -= r_mandatory
            dropped_optional -= r_optional
            shared.extend(r_shared)
            for vi in previous:
                doers.setdefault(vi, set()).add(wid)
        if len(alone) != alone_count:
            # A one-worker visit on two routes (a plan from outside the search): every visit is
            # placed once, late by its first start, as a two-person visit's copies are.
            late_sum = late_max = 0
            dropped_mandatory, dropped_optional = self.left_out_total
            shared = [(vi, start) for r in routes for vi, start in zip(r.visits, r.starts)]
        s_late_sum, s_late_max, s_mandatory, s_optional = self._placed_terms(self._earliest(shared).items())
        late_sum += s_late_sum
        late_max = max(late_max, s_late_max)
        dropped_mandatory -= s_mandatory
        dropped_optional -= s_optional
        changes = moved + sum(len(before - doers.get(vi, set())) for vi, before in previous_at.items())
        return {
            "drop_mandatory": dropped_mandatory,
            "drop_optional": dropped_optional,
            "travel": travel * w.travel_minute,
            "lateness": late_sum * w.lateness_minute,
            "max_lateness": late_max * w.max_lateness_minute,
            "overtime": overtime * w.overtime_minute,
            "waiting": waiting * w.wait_minute,
            "non_preferred_worker": non_preferred * w.non_preferred_worker,
            "gender_mismatch": gender * w.gender_mismatch,
            "changed_from_previous": changes * w.changed_from_previous,
            "imbalance": imbalance,
        }

    def cost(self, routes: Iterable[TimedRoute]) -> int:
        """The objective of the plan made of ``routes``: the sum of its terms."""
        return sum(self.terms(routes).values())
