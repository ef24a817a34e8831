"""What the checker (and the plan's soft costs) say about an edited plan, as a dispatcher reads it.

The independent checker names a broken rule, the worker and the visit, and counts time in
minutes from the day's origin; a hand edit is answered with the rule, the *requests* (the
dispatcher's ids, not the optimizer's visit ids), the minutes by which the rule is broken,
and sentences with the day's local clock times (``dispatch.planning.explanations.finding_words``).

The facts come from the plan itself (the stop's start, the visit's windows, the route's end,
the shift), so the checker's own output stays as it is: its rule codes and where.  Soft
findings are not violations: a visit starting late within its allowed lateness, a route
running into overtime within its limit.  They come back as warnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatch.planning.explanations import day_clock, finding_words
from dispatch.planning.ride_legs import VisitSource
from optimizer import Rule, Violation
from optimizer import Problem, Route
from optimizer import due_minute
from optimizer import RouteKey

LATENESS = "lateness"
OVERTIME = "overtime"
NOT_REACHABLE = "start_before_arrival"
"""The engine's refusal of a start the worker cannot reach (the checker's rule of the same name)."""


@dataclass(frozen=True)
class Finding:
    """One broken rule (``error``) or soft cost (``warning``) of a plan, as shown."""

    rule: str
    severity: str
    visit_request_ids: list[str]
    worker_id: str | None
    minutes: int | None
    """By how many minutes the rule is broken (late, over, outside), when it is a matter of time."""
    message_en: str
    message_pl: str
    details: dict[str, Any] = field(default_factory=dict)
    """The facts, times as minutes of the day."""
    pre_existing: bool = False
    """Already so before the edit (shown, not refused)."""


def _stop_start(routes: Mapping[RouteKey, Route], visit_id: str | None) -> int | None:
    for r in routes.values():
        for s in r.stops:
            if s.visit_id == visit_id:
                return s.start
    return None


def _facts(v: Violation, problem: Problem, routes: Mapping[RouteKey, Route]) -> tuple[dict[str, Any], int | None]:
    """The facts of a violation's rule and the minutes it is broken by (empty, None: not a matter of time)."""
    visits = problem.visit_by_id()
    workers = problem.worker_by_id()
    visit = visits.get(v.visit_id or "")
    start = _stop_start(routes, v.visit_id)
    if v.rule == Rule.TIME_WINDOW and visit is not None and start is not None:
        windows = sorted((w.start, w.end) for w in visit.windows)
        outside = min(a - start if start < a else start - b for a, b in windows)
        return {"start": start, "windows": [list(w) for w in windows]}, outside
    if v.rule == Rule.LATENESS_EXCEEDED and visit is not None and start is not None:
        due = due_minute(visit)
        return {"start": start, "due": due, "late": start - due, "max_lateness": visit.max_lateness}, \
            start - due - visit.max_lateness
    worker = workers.get(v.worker_id or "")
    if v.rule == Rule.SHIFT_END_EXCEEDED and worker is not None and v.shift_index is not None:
        route = routes.get((worker.id, v.shift_index))
        shift = worker.shifts[v.shift_index]
        if route is not None:
            limit = shift.end + shift.max_overtime
            return {"end": route.end, "shift_end": shift.end, "max_overtime": shift.max_overtime}, route.end - limit
    if v.rule == Rule.MAX_WORK_EXCEEDED and worker is not None and worker.max_work_minutes is not None:
        total = sum(r.work_minutes for r in routes.values() if r.worker_id == worker.id)
        return {"work": total, "limit": worker.max_work_minutes}, total - worker.max_work_minutes
    if v.rule == Rule.PINNED_START and visit is not None and start is not None and visit.pinned_start is not None:
        return {"start": start, "pinned_start": visit.pinned_start}, abs(start - visit.pinned_start)
    return {}, None


def from_violation(v: Violation, problem: Problem, routes: Mapping[RouteKey, Route],
                   sources: Mapping[str, VisitSource], day: dt.date, tz: str,
                   worker_names: Mapping[str, str], pre_existing: bool = False) -> Finding:
    """A checker violation of the plan ``routes`` as a finding."""
    facts, minutes = _facts(v, problem, routes)
    request = sources[v.visit_id].request_id if v.visit_id in sources else v.visit_id
    facts = {**facts, "visit": request, "worker": worker_names.get(v.worker_id or "", v.worker_id)}
    words = finding_words(v.rule, facts, day_clock(day, tz), v.message)
    return Finding(v.rule, v.severity, [request] if request else [], v.worker_id, minutes, words.en, words.pl,
                   facts, pre_existing)


def not_reachable(worker_id: str, visit_id: str, asked: int, earliest: int | None,
                  sources: Mapping[str, VisitSource], day: dt.date, tz: str,
                  worker_names: Mapping[str, str]) -> Finding:
    """The engine's "the worker cannot be there by then" as a finding."""
    request = sources[visit_id].request_id if visit_id in sources else visit_id
    facts = {"visit": request, "worker": worker_names.get(worker_id, worker_id), "start": asked, "earliest": earliest}
    words = finding_words(NOT_REACHABLE, facts, day_clock(day, tz), f"worker {worker_id} cannot reach {request}")
    return Finding(NOT_REACHABLE, "error", [request], worker_id, None if earliest is None else earliest - asked,
                   words.en, words.pl, facts)


def soft_findings(problem: Problem, routes: Iterable[Route], sources: Mapping[str, VisitSource], day: dt.date,
                  tz: str, worker_names: Mapping[str, str]) -> list[Finding]:
    """Lateness (within the allowed) and overtime (within the limit) of ``routes``, as warnings."""
    visits = problem.visit_by_id()
    workers = problem.worker_by_id()
    clock = day_clock(day, tz)
    out = []
    late_seen: set[str] = set()
    for r in routes:
        worker = workers[r.worker_id]
        name = worker_names.get(r.worker_id, r.worker_id)
        for s in r.stops:
            due = due_minute(visits[s.visit_id])
            if s.start > due and s.visit_id not in late_seen:
                late_seen.add(s.visit_id)
                request = sources[s.visit_id].request_id if s.visit_id in sources else s.visit_id
                facts = {"visit": request, "worker": name, "start": s.start, "due": due}
                words = finding_words(LATENESS, facts, clock, "")
                out.append(Finding(LATENESS, "warning", [request], r.worker_id, s.start - due, words.en, words.pl,
                                   facts))
        shift = worker.shifts[r.shift_index]
        if r.stops and r.end > shift.end:
            facts = {"worker": name, "end": r.end, "shift_end": shift.end}
            words = finding_words(OVERTIME, facts, clock, "")
            out.append(Finding(OVERTIME, "warning", [], r.worker_id, r.end - shift.end, words.en, words.pl, facts))
    return out
