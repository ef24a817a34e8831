"""Re-planning a published day with as few changes as possible (issue 16 item 1).

A dispatcher's morning: a carer calls in sick at 7:10, a car breaks down, an urgent visit comes
in, a visit runs over.  The published roster is what workers were told; a re-plan keeps as much
of it as it can and changes what it must.  This module turns "what changed" into the optimizer's
terms and counts what the new plan changed:

* ``from`` (a local time of the day; default: now, from the caller's clock): work of the published
  version that starts before it has happened and is **frozen** (``Problem.freeze_until``: same
  worker, same start; the independent checker refuses a plan that changes it).  A ride picked up
  before ``from`` is under way, so its drop-off is held too (a pin); work that happened needs no
  partner (a frozen outbound ride stays even if its return no longer fits).  Work that is
  checked in (started or finished, ``dispatch.planning.checkin``) is frozen too, whatever its start
  (:func:`checked_in`).  Nothing new starts before ``from``: every other
  visit's windows are cut to start at ``from`` (a visit whose every window closed before it is
  left out with why: nobody can go back in time).
* the published version's other stops are the **previous plan**: the optimizer's stability term
  (``changed_from_previous``, ``previous_start_tolerance`` in ``optimizer/params.toml``) charges
  each one not kept (another worker, left out, or a start moved more than the tolerance).
* ``unavailable``: a worker (sick, called away) or a car (breakdown) from a local time, and
  optionally until one.  A worker's shifts are cut: the route ends at ``from`` (or after the work
  under way then, and the way back) and may resume at ``until``.  A car: the shifts of the
  workers who drive it are cut the same way (a driver drives the car assigned to them for the
  day, ``dispatch.planning.problem_builder``), so its rides go to other cars.
* requests added, changed (e.g. lengthened) or cancelled since the published version come from
  storage, as for every plan (``build_day``).

The result is a new draft version, checked by the independent checker like every plan
(``dispatch.jobs`` runs it as a planning job).  :func:`count_changes` says what changed in
numbers (kept, moved in time, moved to another worker, added, removed); it compares any two
sets of stops, so a version diff can reuse it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.planning import explanations
from dispatch.storage import models as m
from dispatch.errors import UserError
from dispatch.planning.problem_builder import BuiltProblem, SkippedRequest, break_rules
from dispatch.planning.ride_legs import VISIT
from dispatch.timeutil import day_length_minutes, local_time_to_minutes, to_minutes, utc_to_local
from optimizer import PlannedVisit, Problem, Shift, TimeWindow, Visit, Worker

STABILITY_TOLERANCE_MIN = 15
"""A published stop is "kept" when its worker is the same and its start within this many minutes
(the default of the optimizer's ``previous_start_tolerance``, which prices the same rule)."""
REPLAN_TIME_LIMIT_S = 5.0
"""Search seconds of a re-plan unless the request says otherwise: the issue asks for an answer
within 10 s on the demo day, and a re-plan starts from the published plan, not from nothing
(measured: ``benchmarks/README.md``, "Re-planning")."""
WINDOW_PASSED = "window_passed_before_replan"
"""The ``cause`` of a request left out because every window closed before the re-plan's ``from``."""


class ReplanInputError(UserError):
    """A re-plan request names something wrong: ``field`` says where (for a 422)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NoPublishedRoster(UserError):
    """The day has no published version to re-plan (plan and publish it first)."""


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class Unavailability:
    """A worker or a car out of service on the day from ``start`` (local), until ``end`` if given."""

    start: dt.time
    worker_id: str | None = None
    car_id: str | None = None
    end: dt.time | None = None


@dataclass(frozen=True)
class ReplanSpec:
    """What changed, as the dispatcher says it: from when, who or what is unavailable, and why."""

    from_time: dt.time | None = None
    """Local time to re-plan from; None: now (the caller's clock, resolved when the job runs)."""
    unavailable: tuple[Unavailability, ...] = ()
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data for the job row (``PlanJob.replan``)."""
        return {
            "from": None if self.from_time is None else self.from_time.strftime("%H:%M"),
            "unavailable": [
                {"worker_id": u.worker_id, "car_id": u.car_id, "from": u.start.strftime("%H:%M"),
                 "until": None if u.end is None else u.end.strftime("%H:%M")}
                for u in self.unavailable
            ],
            "reason": self.reason,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ReplanSpec:
        def t(value: str | None) -> dt.time | None:
            return None if value is None else dt.time.fromisoformat(value)

        return ReplanSpec(
            from_time=t(data.get("from")),
            unavailable=tuple(Unavailability(t(u["from"]), u.get("worker_id"), u.get("car_id"),  # type: ignore[arg-type]
                                             t(u.get("until"))) for u in data.get("unavailable", ())),
            reason=data.get("reason"),
        )


def parse_clock(value: str, field: str) -> dt.time:
    """``"HH:MM"`` as a local time, or :class:`ReplanInputError` naming ``field``."""
    try:
        parsed = dt.datetime.strptime(value.strip(), "%H:%M").time()
    except (ValueError, AttributeError):
        raise ReplanInputError(field, f"'{value}' is not a local time HH:MM (e.g. 08:00)") from None
    return parsed


def parse_unavailable(text: str, index: int) -> Unavailability:
    """The CLI's ``worker:ID@HH:MM[-HH:MM]`` or ``car:ID@HH:MM[-HH:MM]``."""
    field = f"unavailable.{index}"
    kind, sep, rest = text.partition(":")
    ident, at, times = rest.partition("@")
    if not sep or not at or kind not in ("worker", "car") or not ident:
        raise ReplanInputError(field, f"'{text}' is not worker:ID@HH:MM[-HH:MM] or car:ID@HH:MM[-HH:MM]")
    start_text, dash, end_text = times.partition("-")
    start = parse_clock(start_text, f"{field}.from")
    end = parse_clock(end_text, f"{field}.until") if dash else None
    return Unavailability(start, ident if kind == "worker" else None, ident if kind == "car" else None, end)


def validate(session: Session, spec: ReplanSpec) -> None:
    """Every worker and car named exists, and every ``until`` is after its ``from``; otherwise a
    :class:`ReplanInputError` naming the field (``unavailable.1.worker_id``, as the API names body fields)."""
    for i, u in enumerate(spec.unavailable):
        field = f"unavailable.{i}"
        if (u.worker_id is None) == (u.car_id is None):
            raise ReplanInputError(field, "name exactly one of worker_id and car_id")
        if u.worker_id is not None and session.get(m.Worker, u.worker_id) is None:
            raise ReplanInputError(f"{field}.worker_id", f"no worker with id '{u.worker_id}'")
        if u.car_id is not None and session.get(m.Car, u.car_id) is None:
            raise ReplanInputError(f"{field}.car_id", f"no car with id '{u.car_id}'")
        if u.end is not None and u.end <= u.start:
            raise ReplanInputError(f"{field}.until", f"{u.end:%H:%M} is not after from {u.start:%H:%M}")


def checked_in(session: Session, day: dt.date) -> set[tuple[str, dt.date, str]]:
    """Stops (request id, date, leg) a worker has checked in to (started, or finished): frozen whatever
    their start, because they happened or are happening (``dispatch.planning.checkin``)."""
    from dispatch.planning.checkin import started_stops

    return started_stops(session, day)


# --------------------------------------------------------------------------- the problem


@dataclass(frozen=True)
class PublishedStop:
    """One stop of the published version, in the problem's minutes."""

    key: tuple[str, dt.date, str]
    """(request id, occurrence date, leg): what it stands for, across versions."""
    worker_id: str
    start: int
    end: int


@dataclass
class Replan:
    """A re-plan ready to solve: the problem (previous plan, freeze, cuts), the published stops it
    is measured against, and the minute it starts from."""

    built: BuiltProblem
    published: m.Roster
    stops: list[PublishedStop]
    from_minute: int
    skipped_now: list[str] = field(default_factory=list)
    """Requests left out because their windows closed before ``from``."""


def published_stops(session: Session, roster: m.Roster, day: dt.date, tz: str) -> list[PublishedStop]:
    rows = session.scalars(select(m.RosterAssignment).where(col(m.RosterAssignment.roster_id) == roster.id)).all()
    return [PublishedStop((r.visit_request_id, r.occurrence_date, r.leg or VISIT), r.worker_id,
                          to_minutes(r.start, day, tz), to_minutes(r.end, day, tz)) for r in rows]


def default_from_time(now: dt.datetime, day: dt.date, tz: str) -> dt.time:
    """``from`` when none is given: the local time now on ``day``; 00:00 before it, 23:59 after it."""
    local_now = utc_to_local(now, tz)
    if local_now.date() == day:
        return local_now.time().replace(second=0, microsecond=0)
    return dt.time(0, 0) if local_now.date() < day else dt.time(23, 59)


def resolve_from(spec: ReplanSpec, day: dt.date, tz: str, now: dt.datetime) -> int:
    """The minute of ``day`` to re-plan from: ``spec.from_time``, or ``now`` (clamped to the day)."""
    if spec.from_time is not None:
        minute = local_time_to_minutes(day, spec.from_time, tz)
    else:
        minute = to_minutes(now, day, tz)
    return max(0, min(minute, day_length_minutes(day, tz)))


def build_replan(session: Session, day: dt.date, area: str | None, spec: ReplanSpec, travel: Any, tz: str,
                 weights: Any, now: dt.datetime) -> Replan:
    """The re-plan's problem for ``day`` from what is stored now and the published version.

    Raises :class:`NoPublishedRoster` when nothing is published, :class:`ReplanInputError` for
    unknown workers or cars.
    """
    from dispatch.planning.rosters import build_day  # the same problem a plan of the day gets
    from dispatch.planning.publish import published_roster

    published = published_roster(session, day, area)
    if published is None:
        raise NoPublishedRoster(
            f"{day.isoformat()} has no published roster to re-plan; plan it (POST /api/v1/rosters/{day}/plan) "
            "and publish it first")
    validate(session, spec)
    built = build_day(session, day, travel, tz, weights, area=area)
    stops = published_stops(session, published, day, tz)
    from_minute = resolve_from(spec, day, tz, now)
    cars = {u.car_id for u in spec.unavailable if u.car_id}
    drivers: dict[str, list[str]] = {}
    if cars:
        for w in session.scalars(select(m.Worker).where(col(m.Worker.car_id).in_(cars))).all():
            drivers.setdefault(w.car_id or "", []).append(w.id)
    cuts = unavailable_minutes(spec.unavailable, drivers, day, tz)
    problem, skipped = replan_problem(built, stops, from_minute, cuts, day, checked_in(session, day))
    out = replace(built, problem=problem, skipped=[*built.skipped, *skipped])
    return Replan(out, published, stops, from_minute, [s.request_id for s in skipped])


def unavailable_minutes(unavailable: Sequence[Unavailability], drivers: Mapping[str, list[str]], day: dt.date,
                        tz: str) -> dict[str, list[tuple[int, int | None]]]:
    """Worker id -> the spans (minutes from, until or None) they cannot work; a car's are its drivers'."""
    out: dict[str, list[tuple[int, int | None]]] = {}
    for u in unavailable:
        span = (local_time_to_minutes(day, u.start, tz), None if u.end is None else local_time_to_minutes(day, u.end, tz))
        for wid in ([u.worker_id] if u.worker_id else drivers.get(u.car_id or "", [])):
            out.setdefault(wid, []).append(span)
    return out


def _unavailable_at(spans: Sequence[tuple[int, int | None]], minute: int) -> bool:
    return any(a <= minute and (b is None or minute < b) for a, b in spans)


def replan_problem(
    built: BuiltProblem, stops: Sequence[PublishedStop], from_minute: int,
    cuts: Mapping[str, Sequence[tuple[int, int | None]]], day: dt.date,
    started: Iterable[tuple[str, dt.date, str]] = (),
) -> tuple[Problem, list[SkippedRequest]]:
    """The day's problem as a re-plan: the published stops as the previous plan, those before
    ``from_minute`` (or ``started``) frozen, unavailable workers' shifts cut, nothing else
    starting before ``from_minute``.  Pure (no storage): the rules in one place, testable alone.
    """
    p = built.problem
    by_key = {(src.request_id, src.date, src.leg): vid for vid, src in built.sources.items()}
    workers = {w.id: w for w in p.workers}
    visit_at = p.visit_by_id()
    started = set(started)
    # A ride picked up before ``from`` is under way: the senior is in the car, so its drop-off is
    # held where it was too (a pin), whatever happens to the car or the driver afterwards.
    published_start = {by_key[s.key]: s.start for s in stops if s.key in by_key}
    in_car = {r.dropoff for r in p.rides if published_start.get(r.pickup, from_minute) < from_minute
              <= published_start.get(r.dropoff, -1)}
    previous: list[PlannedVisit] = []
    frozen_ids: set[str] = set()
    pinned: dict[str, tuple[str, int]] = {}
    frozen_work: dict[str, list[tuple[int, int, int]]] = {}
    for s in sorted(stops, key=lambda s: (s.start, s.worker_id)):
        vid = by_key.get(s.key)
        if vid is None or s.worker_id not in workers:
            continue  # cancelled since, or its worker is off the day now: nothing to keep
        if _unavailable_at(cuts.get(s.worker_id, ()), s.start) and vid not in in_car:
            continue  # the worker (or their car) is out then: this stop did not, and will not, happen
        previous.append(PlannedVisit(vid, s.worker_id, s.start))
        if s.start < from_minute:
            frozen_ids.add(vid)
        elif (s.key in started or vid in in_car) and visit_at[vid].workers_needed == 1:
            pinned[vid] = (s.worker_id, s.start)  # checked in after ``from``: held where it is, as a pin
            frozen_ids.add(vid)
        else:
            continue
        frozen_work.setdefault(s.worker_id, []).append((s.start, s.end, visit_at[vid].exit_location))
    new_workers = tuple(_cut_worker(p, w, cuts.get(w.id, ()), frozen_work.get(w.id, [])) for w in p.workers)
    clock = explanations.day_clock(day, built.tz)
    gone: set[str] = set()
    visits: list[Visit] = []
    for v in p.visits:
        if v.id in pinned:
            worker_id, start = pinned[v.id]
            visits.append(replace(v, pinned_worker=worker_id, pinned_start=start))
            continue
        if v.id in frozen_ids:
            visits.append(v)
            continue
        windows = _windows_from(v, from_minute)
        if windows is None:
            gone.add(v.id)
        visits.append(v if windows is None else replace(v, windows=windows))
    gone = _with_linked(p, gone - frozen_ids) - frozen_ids
    skipped: dict[str, SkippedRequest] = {}
    for v in p.visits:
        if v.id in gone:
            src = built.sources[v.id]
            text = ", ".join(f"{clock(w.start)}-{clock(w.end)}" for w in v.windows)
            words = explanations.window_passed_before_replan(src.request_id, day, text, clock(from_minute))
            skipped.setdefault(src.request_id, SkippedRequest(src.request_id, words.en, words.pl, WINDOW_PASSED,
                                                              v.mandatory))
    problem = replace(
        p,
        workers=new_workers,
        visits=tuple(v for v in visits if v.id not in gone),
        # Work that happened needs no partner to have happened: a frozen outbound ride stays even if
        # its return can no longer be placed (it then goes unplaced with its reason).
        dependencies=tuple(replace(d, both_or_neither=False) if d.both_or_neither and d.before in frozen_ids else d
                           for d in p.dependencies if d.before not in gone and d.after not in gone),
        rides=tuple(r for r in p.rides if r.pickup not in gone and r.dropoff not in gone),
        previous_plan=tuple(pv for pv in previous if pv.visit_id not in gone),
        freeze_until=from_minute,
        name=f"{p.name} re-plan from minute {from_minute}",
    )
    return problem, list(skipped.values())


def _windows_from(v: Visit, minute: int) -> tuple[TimeWindow, ...] | None:
    """``v``'s windows cut to start at ``minute`` or later; None if every one closed before it.

    A soft window that closed before ``minute`` is not kept for a late start either: the
    optimizer may start a visit anywhere from its window's start, which is in the past.
    """
    out = [TimeWindow(max(w.start, minute), w.end) for w in v.windows if w.end >= minute]
    return tuple(out) or None


def _with_linked(p: Problem, gone: set[str]) -> set[str]:
    """``gone`` and what cannot be planned without it: a ride's other leg, what follows it."""
    out = set(gone)
    changed = True
    while changed:
        changed = False
        for r in p.rides:
            if (r.pickup in out) != (r.dropoff in out):
                out |= {r.pickup, r.dropoff}
                changed = True
        for d in p.dependencies:
            if d.before in out and d.after not in out:
                out.add(d.after)
                changed = True
            if d.both_or_neither and d.after in out and d.before not in out:
                out.add(d.before)
                changed = True
    return out


def _cut_worker(p: Problem, w: Worker, spans: Sequence[tuple[int, int | None]],
                frozen: Sequence[tuple[int, int, int]]) -> Worker:
    """``w`` with the unavailable ``spans`` taken out of their shifts (possibly no shift left).

    A span starting during or before work that is held (``frozen``: start, end, exit place; frozen,
    or a ride's drop-off under way) starts after it and the way back to the end place: the visit
    happens and the worker still goes home.
    The part before a span gets no overtime (they are leaving); breaks follow the new shifts
    (art. 134 KP, by the working time left).
    """
    if not spans:
        return w
    matrix = p.travel_times[w.travel_mode]
    pieces = [(s.start, s.end, s.max_overtime) for s in w.shifts]
    for a, b in spans:
        done = [(e + matrix[place][w.end_location]) for s, e, place in frozen if b is None or s < b]
        a = max([a, *done])
        cut = []
        for s, e, ot in pieces:
            if a < e and (b is None or b > s):
                if a > s:
                    cut.append((s, a, 0))
                if b is not None and b < e:
                    cut.append((max(b, s), e, ot))
            else:
                cut.append((s, e, ot))
        pieces = cut
    parts = [Shift(s, e, ot) for s, e, ot in pieces if e > s]
    rules = break_rules(parts)
    return replace(w, shifts=tuple(replace(s, breaks=rules[i]) for i, s in enumerate(parts)))


# --------------------------------------------------------------------------- what changed


@dataclass(frozen=True)
class ChangeCounts:
    """What a new version changed against an earlier one, stop by stop (a two-person visit is two
    stops).  ``kept + moved_in_time + moved_worker + removed`` is the earlier version's stops."""

    before: int
    """Stops of the earlier version."""
    kept: int
    """Same worker, start within the tolerance."""
    moved_in_time: int
    """Same worker, start moved by more than the tolerance."""
    moved_worker: int
    """Done by another worker now."""
    added: int
    """Stops of visits the earlier version did not place."""
    removed: int
    """Visits the earlier version placed that the new one leaves out."""

    @property
    def changed(self) -> int:
        return self.moved_in_time + self.moved_worker + self.removed

    @property
    def kept_share(self) -> float:
        return self.kept / self.before if self.before else 1.0

    def as_dict(self) -> dict[str, int | float]:
        return {"before": self.before, "kept": self.kept, "moved_in_time": self.moved_in_time,
                "moved_worker": self.moved_worker, "added": self.added, "removed": self.removed,
                "kept_share": round(self.kept_share, 4)}


Stop = tuple[Any, str, Any]
"""(what the stop stands for, worker id, start): a key comparable across versions, and a start
as minutes or an aware datetime (the same kind on both sides)."""


def count_changes(before: Iterable[Stop], after: Iterable[Stop], tolerance_min: int = STABILITY_TOLERANCE_MIN,
                  ) -> ChangeCounts:
    """Count what ``after`` changed against ``before`` (see :class:`ChangeCounts`).

    Pure and independent of storage: the stops of two roster versions (request id, date and leg
    as the key, starts as datetimes) or of two solutions (visit ids, minutes) both fit.
    """
    def minutes(delta: Any) -> float:
        return abs(delta.total_seconds() / 60) if isinstance(delta, dt.timedelta) else abs(delta)

    now: dict[Any, dict[str, Any]] = {}
    for key, worker, start in after:
        now.setdefault(key, {})[worker] = start
    earlier_keys = set()
    kept = moved_time = moved_worker = removed = total = 0
    for key, worker, start in before:
        total += 1
        earlier_keys.add(key)
        doers = now.get(key)
        if not doers:
            removed += 1
        elif worker in doers:
            if minutes(doers[worker] - start) <= tolerance_min:
                kept += 1
            else:
                moved_time += 1
        else:
            moved_worker += 1
    added = sum(len(doers) for key, doers in now.items() if key not in earlier_keys)
    return ChangeCounts(total, kept, moved_time, moved_worker, added, removed)


def solution_stops(built: BuiltProblem, solution: Any) -> list[Stop]:
    """A solution's stops keyed as :class:`PublishedStop` keys (request id, date, leg), in minutes."""
    out: list[Stop] = []
    for route in solution.routes:
        for stop in route.stops:
            src = built.sources[stop.visit_id]
            out.append(((src.request_id, src.date, src.leg), route.worker_id, stop.start))
    return out


def changes_of(replan: Replan, solution: Any) -> ChangeCounts:
    """What the re-plan's solution changed against the published version."""
    return count_changes([(s.key, s.worker_id, s.start) for s in replan.stops], solution_stops(replan.built, solution))


# --------------------------------------------------------------------------- audit and the synchronous path


def audit_replan(session: Session, actor: str, day: dt.date, published: m.Roster, spec: ReplanSpec,
                 **more: Any) -> None:
    """The ``roster.replan`` audit row: who (``actor``), what (the day, the published version, from
    when, who or what is unavailable) and why (``spec.reason``); ``more``: e.g. the job id."""
    changes: dict[str, Any] = {
        "date": {"old": None, "new": day.isoformat()},
        "published_version": {"old": None, "new": published.version},
        "replan": {"old": None, "new": spec.to_json()},
        "reason": {"old": None, "new": spec.reason},
    }
    changes.update({k: {"old": None, "new": v} for k, v in more.items()})
    audit.record(session, actor, "roster.replan", "roster", str(published.id), changes)


def replan_and_store(engine: Any, day: dt.date, spec: ReplanSpec, travel: Any, params: Any, tz: str, weights: Any,
                     *, now: dt.datetime, actor: str, role: m.UserRole) -> tuple[m.Roster, ChangeCounts, Any]:
    """Re-plan ``day`` now, in this process (the CLI), through ``rosters.plan_day`` (the one way a day
    is planned) with a re-plan's problem: the draft, the audit row and (for an admin on a closed day)
    the override are written in the roster's one short write.  Returns the new draft, what changed,
    and the solution.

    A closed day is refused before solving unless ``role`` is admin (``dispatch.planning.day_lock``).
    """
    from dispatch.planning.day_lock import DayClosed, day_end, is_closed, require_open_day
    from dispatch.planning.rosters import PlannedDay, plan_day

    if role is not m.UserRole.ADMIN and is_closed(day, now, tz):
        raise DayClosed(day, day_end(day, tz), "re-plan")
    built: list[Replan] = []
    counted: list[ChangeCounts] = []

    def build(session: Session) -> BuiltProblem:
        built.append(build_replan(session, day, None, spec, travel, tz, weights, now))
        return built[0].built

    def record(session: Session, planned: PlannedDay) -> bool:
        plan, roster = built[0], planned.roster
        require_open_day(session, day, actor=actor, role=role, action="re-plan", now=now, tz=tz, reason=spec.reason)
        counted.append(changes_of(plan, planned.solution))
        roster.solver_stats = {**(roster.solver_stats or {}),
                               "replan": {**spec.to_json(), **counted[0].as_dict(),
                                          "published_version": plan.published.version}}
        published = session.get(m.Roster, plan.published.id)
        assert published is not None
        audit_replan(session, actor, day, published, spec, draft_version=roster.version)
        session.flush()
        session.refresh(roster)
        return True

    planned = plan_day(engine, day, travel, params, tz, weights, build=build, record=record)
    return planned.roster, counted[0], planned.solution
