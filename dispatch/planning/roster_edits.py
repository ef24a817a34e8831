"""Hand edits of a day's roster: assign, move, unassign or pin one visit, checked by the checker.

What an edit is
---------------
One request's visit on the day (not a taxi ride: its legs and the car are planned together)
is assigned to a worker, moved to another worker and/or another start ("HH:MM" local),
taken out of the plan, or pinned where it ends up.  The edit applies to the **latest**
version of the day (draft or published), named by its ETag in ``If-Match`` (428 without,
412 when another version is newer: two dispatchers never overwrite each other), and makes a
**new draft version**: versions stay immutable (a published one is what workers were told;
a draft may have been reviewed and its ETag sent to someone), the diff between any two is
exact, and an edit is undone by editing again or by publishing an older draft's successor.
A morning of edits is a chain of drafts; publishing the last sends the changes.

How it is checked
-----------------
The version is read back into today's problem (``dispatch.planning.roster_plan``); the routes the
edit touches are timed again by the route-timing engine, every other stop kept where it
was (``optimizer.plan_edit``): the visit goes in at its start, and only if a later stop
cannot then keep its start do the stops after it move later.  The whole plan is checked by
the independent checker.  A hard violation the plan did not already have refuses the edit
(:class:`EditRefused`: the rule, the requests, the minutes); soft ones (lateness, overtime)
and what was already wrong before come back as warnings with the new version.

Pins
----
``pin: true`` pins the visit where the edit puts it (its worker, for a one-person visit, and
its start) through ``dispatch.planning.pins``, so every later re-plan keeps it; ``pin: false``
removes the pin.  A pinned visit moved by hand takes its pin along (what was pinned, worker
or start, now says the new value); unassigning a visit removes its pin (a pin says "this
one, then", which the dispatcher has just taken back).

Who and when
------------
Dispatchers and admins; a day whose end has passed only by an admin (``dispatch.planning.day_lock``,
audited).  Every edit is audited (``roster.edit``: who, the request, the old and new worker
and start, the base and new version, and the reason given).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.planning import day_lock
from dispatch.planning import pins
from dispatch.planning import publish
from dispatch.storage import models as m
from dispatch.catalog.records import InvalidInput, NotFound, err
from dispatch.storage.db import serialize_on
from dispatch.errors import UserError
from dispatch.planning.explanations import worker_refusal
from dispatch.jobs import begin_write
from dispatch.planning.plan_findings import Finding, from_violation, not_reachable, soft_findings
from dispatch.planning.roster_diff import RosterDiff, compare_versions
from dispatch.planning.roster_plan import LoadedRoster, SetAside, build, load_roster, timer_of
from dispatch.planning.rosters import save_roster
from dispatch.settings import Settings
from dispatch.timeutil import LocalTimeKind, from_minutes, local_time_to_minutes, read_local, utc_to_local
from dispatch.providers.travel_cache import shared_travel
from dispatch.gc_pause import paused_gc
from optimizer import check
from optimizer import evaluate
from optimizer import explain_unassigned
from optimizer import Problem, Route, Solution, SolveStats, Visit
from optimizer import load_weights
from optimizer import NotTimed, RouteKey, kept, solution_of, time_with_visit
from optimizer import Refusal, best_start
from optimizer import shift_end_limit

BY_HAND = "unassigned_by_hand"
"""The reason code an unplaced visit is stored under when a dispatcher took it out."""


@dataclass(frozen=True)
class Edit:
    """What to do with the visit (see the module docstring); nothing given: nothing to do."""

    worker_ids: tuple[str, ...] = ()
    """Its workers after the edit (one, or two for a two-person visit); empty: as they are."""
    start: dt.time | None = None
    """Its local start after the edit; None: as it is (an unplaced visit: its best free slot)."""
    unassign: bool = False
    pin: bool | None = None
    reason: str | None = None


class EditRefused(UserError):
    """The edited plan breaks a hard rule it did not break before (``findings``: each with the rule,
    the requests and the minutes)."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message_en for f in findings))
        self.findings = findings


@dataclass
class EditResult:
    """The new version (``roster``) made from ``base``, what the checker warns about, what changed.

    A dry run (``edit_visit(dry_run=True)``) stores nothing: ``roster`` and ``diff`` are None, the
    warnings are those saving would give (a refusal is raised just the same)."""

    roster: m.Roster | None
    base: m.Roster
    warnings: list[Finding]
    diff: RosterDiff | None
    set_aside: list[SetAside] = field(default_factory=list)

    @property
    def dry_run(self) -> bool:
        return self.roster is None


@dataclass
class _Planned:
    """The edit worked out on the read side, before anything is written."""

    problem: Problem
    routes: dict[RouteKey, Route]
    warnings: list[Finding]
    before: list[tuple[str, int]]
    after: list[tuple[str, int]]
    pin: tuple[str | None, dt.time | None] | None
    """The visit's pin after the edit: (worker, start), or None for none."""


def _local(day: dt.date, minute: int, tz: str) -> str:
    return f"{utc_to_local(from_minutes(minute, day, tz), tz):%H:%M}"


def _start_minute(day: dt.date, start: dt.time, tz: str) -> int:
    reading = read_local(day, start, tz)
    if reading.kind is LocalTimeKind.NONEXISTENT:
        raise InvalidInput([err("start", f"{reading.explain()}: choose a time outside "
                                         f"{reading.clock_from:%H:%M}-{reading.clock_to:%H:%M}")])
    return local_time_to_minutes(day, start, tz)


def _shift_for(problem: Problem, worker_id: str, start: int) -> int:
    """The shift of the worker whose working time holds ``start`` (else the nearest one)."""
    worker = problem.worker_by_id()[worker_id]
    spans = [(s.start, shift_end_limit(worker, i)) for i, s in enumerate(worker.shifts)]
    for i, (a, b) in enumerate(spans):
        if a <= start <= b:
            return i
    return min(range(len(spans)), key=lambda i: min(abs(start - spans[i][0]), abs(start - spans[i][1])))


def _with_pin(problem: Problem, visit: Visit, pin: tuple[str | None, dt.time | None] | None, day: dt.date,
              tz: str) -> Problem:
    """``problem`` with the visit's pin as it will be after the edit."""
    worker = pin[0] if pin else None
    start = _start_minute(day, pin[1], tz) if pin and pin[1] is not None else None
    if (worker, start) == (visit.pinned_worker, visit.pinned_start):
        return problem
    changed = replace(visit, pinned_worker=worker, pinned_start=start)
    return replace(problem, visits=tuple(changed if v.id == visit.id else v for v in problem.visits))


def _names(session: Session) -> dict[str, str]:
    return {w.id: f"{w.first_name} {w.last_name}" for w in session.scalars(select(m.Worker)).all()}


def _validate(edit: Edit) -> None:
    if edit.unassign and (edit.worker_ids or edit.start is not None):
        raise InvalidInput([err("unassign", "unassign takes the visit out; do not name a worker or start with it")])
    if edit.unassign and edit.pin:
        raise InvalidInput([err("pin", "an unassigned visit cannot be pinned")])
    if not edit.unassign and not edit.worker_ids and edit.start is None and edit.pin is None:
        raise InvalidInput([err("worker_id", "say what to change: worker_id, start, unassign or pin")])
    if len(set(edit.worker_ids)) != len(edit.worker_ids):
        raise InvalidInput([err("worker_ids", "a worker is named twice")])


def _plan(session: Session, day: dt.date, request: m.VisitRequest, edit: Edit, loaded: LoadedRoster,
          settings: Settings, names: dict[str, str]) -> _Planned:
    """The edit applied to the loaded version and checked; raises :class:`EditRefused` or ``InvalidInput``."""
    tz = loaded.built.tz or settings.timezone
    problem = loaded.problem
    vids = loaded.visit_ids(request.id)
    if not vids:
        skipped = next((s for s in loaded.built.skipped if s.request_id == request.id), None)
        why = skipped.message_en if skipped else f"it does not happen on {day.isoformat()}"
        raise InvalidInput([err("visit_request_id", f"request {request.id!r} is not planned on {day.isoformat()}: "
                                                    f"{why}")])
    vid = vids[0]
    visit = problem.visit_by_id()[vid]
    current = sorted((key, s.start) for key, r in loaded.routes.items() for s in r.stops if s.visit_id == vid)
    before = [(key[0], start) for key, start in current]
    timer = timer_of(loaded)
    pin_row = pins.pins_on(session, day).get(request.id)
    if edit.unassign:
        if not current:
            raise InvalidInput([err("unassign", f"request {request.id!r} is not placed in version "
                                                f"{loaded.roster.version}: nothing to take out")])
        targets: list[str] = []
        start = None
    else:
        targets = list(edit.worker_ids) or [key[0] for key, _ in current]
        if not targets:
            raise InvalidInput([err("worker_id", "the visit is not placed: name the worker to assign it to")])
        if len(targets) != max(1, visit.workers_needed):
            raise InvalidInput([err("worker_ids", f"this visit needs {visit.workers_needed} worker(s) at once: name "
                                                  f"all of them ({len(targets)} named)")])
        on_duty = problem.worker_by_id()
        for w in targets:
            if w not in on_duty:
                raise InvalidInput([err("worker_id", f"worker {w!r} is not on duty on {day.isoformat()}")])
        start = _start_minute(day, edit.start, tz) if edit.start is not None else (current[0][1] if current else None)
    # The pin after the edit: kept, moved along, set or removed.
    pin: tuple[str | None, dt.time | None] | None = None
    if pin_row is not None:
        pin = (pin_row.worker_id, pin_row.start)
    if edit.unassign or edit.pin is False:
        pin = None
    # Where it is already (a pin alone, or a "move" to where it is): the routes stay exactly as stored.
    same_place = bool(current) and sorted(targets) == sorted(before_workers(current)) and start == current[0][1]
    routes = dict(loaded.routes)
    for key, _ in [] if same_place else current:
        new = timer.time(key, kept(routes[key], {vid}))
        if new is None:
            del routes[key]
        else:
            routes[key] = new
    if targets and start is None:  # an unplaced visit given a worker only: their best free slot
        found = best_start(problem, routes, vid, targets, timer)
        if isinstance(found, Refusal):
            raise EditRefused([_refusal_finding(found, request.id, day, tz, names)])
        start = found.start
    if targets:
        assert start is not None
        clock = dt.time.fromisoformat(_local(day, start, tz))
        if edit.pin:
            pin = (targets[0] if len(targets) == 1 else None, clock)
        elif pin is not None:
            pin = (targets[0] if pin[0] is not None and len(targets) == 1 else None, clock if pin[1] else None)
            if pin == (None, None):
                pin = None
    problem = _with_pin(problem, visit, pin, day, tz)
    pinned = [v.id for v in problem.visits if v.pinned_worker is not None or v.pinned_start is not None]
    for w in [] if same_place else targets:
        key = (w, _shift_for(problem, w, start))  # type: ignore[arg-type]
        try:
            routes[key] = time_with_visit(timer, key, routes.get(key), vid, start, pinned=pinned)  # type: ignore[arg-type]
        except NotTimed as exc:
            raise EditRefused([not_reachable(exc.worker_id, exc.visit_id, exc.asked or 0, exc.earliest,
                                             loaded.built.sources, day, tz, names)]) from None
    after = sorted((w, start) for w in targets)  # type: ignore[misc]
    return _checked(loaded, problem, routes, before, after, pin, day, tz, names)


def before_workers(current: list[tuple[RouteKey, int]]) -> list[str]:
    return [key[0] for key, _ in current]


def _refusal_finding(refusal: Refusal, request_id: str, day: dt.date, tz: str, names: dict[str, str]) -> Finding:
    words = worker_refusal(names.get(refusal.worker_id, refusal.worker_id), refusal.reason, day, tz)
    return Finding("no_free_slot", "error", [request_id], refusal.worker_id, None, words.en, words.pl,
                   {"reason": refusal.reason.reason.value, **dict(refusal.reason.details)})


def _checked(loaded: LoadedRoster, problem: Problem, routes: dict[RouteKey, Route], before: list, after: list,
             pin: Any, day: dt.date, tz: str, names: dict[str, str]) -> _Planned:
    """Check the edited plan; refuse what it newly breaks, warn about the rest."""
    sources = loaded.built.sources
    old = {(v.rule, v.worker_id, v.visit_id) for v in check(loaded.problem, solution_of(loaded.problem, loaded.routes))}
    violations = check(problem, solution_of(problem, routes))
    refused, warnings = [], []
    for v in violations:
        new = (v.rule, v.worker_id, v.visit_id) not in old
        if v.severity == "error" and new:
            refused.append(from_violation(v, problem, routes, sources, day, tz, names))
        elif v.severity == "error" or new:
            warnings.append(from_violation(v, problem, routes, sources, day, tz, names, pre_existing=not new))
    if refused:
        raise EditRefused(refused)
    changed = [r for key, r in routes.items() if loaded.routes.get(key) is not r]
    warnings += soft_findings(problem, changed, sources, day, tz, names)
    for s in loaded.set_aside:
        words_en = (f"{s.visit_request_id} ({s.leg}) of {names.get(s.worker_id, s.worker_id)} is left out of the new "
                    f"version: " + ("the request is no longer planned that day" if s.cause == "request_not_planned"
                                    else "the worker is no longer on duty that day"))
        words_pl = (f"{s.visit_request_id} ({s.leg}) pracownika {names.get(s.worker_id, s.worker_id)} wypada z nowej "
                    "wersji: " + ("zlecenie nie jest już planowane tego dnia" if s.cause == "request_not_planned"
                                  else "pracownik nie ma już tego dnia dyżuru"))
        warnings.append(Finding(s.cause, "warning", [s.visit_request_id], s.worker_id, None, words_en, words_pl,
                                {"leg": s.leg}))
    return _Planned(problem, routes, warnings, before, after, pin)


def _solution(problem: Problem, routes: dict[RouteKey, Route], base: m.Roster, explain: set[str]) -> Solution:
    """The edited plan as the roster stores it: KPIs, the objective, and the unplaced visits in
    ``explain`` explained against it (the others keep the base version's reasons, :func:`_carry_reasons`)."""
    plan = solution_of(problem, routes)
    fresh = [u.visit_id for u in plan.unassigned if u.visit_id in explain]
    reasons = {u.visit_id: u for u in explain_unassigned(problem, list(plan.routes), fresh)}
    unassigned = tuple(reasons.get(u.visit_id, u) for u in plan.unassigned)
    evaluation = evaluate(problem, Solution(plan.routes, unassigned))
    stats = SolveStats("HAND_EDIT", evaluation.total, 0.0, 0, None, 0, {"edited_from_version": base.version,
                                                                        "objective_terms": evaluation.terms})
    return Solution(plan.routes, unassigned, evaluation.kpis, stats)


def _to_explain(session: Session, loaded: LoadedRoster, routes: dict[RouteKey, Route]) -> set[str]:
    """Unplaced visits of the edited plan with no stored reason in the base version (newly unplaced, or
    new requests): only these are explained again; at 10x explaining every unplaced visit takes seconds."""
    placed = {s.visit_id for r in routes.values() for s in r.stops}
    stored = {(u.visit_request_id, str((u.details or {}).get("leg", "visit"))) for u in session.scalars(
        select(m.RosterUnassigned).where(col(m.RosterUnassigned.roster_id) == loaded.roster.id)).all()}
    return {vid for vid, src in loaded.built.sources.items()
            if vid not in placed and (src.request_id, src.leg) not in stored}


def _carry_reasons(session: Session, base: m.Roster, new: m.Roster, explained: set[tuple[str, str]]) -> None:
    """Unplaced visits of ``new`` that were unplaced in ``base`` and not explained again keep the base's
    reason, sentences and facts (true of the base version; the next plan explains them afresh)."""
    old = {(u.visit_request_id, str((u.details or {}).get("leg", "visit"))): u for u in session.scalars(
        select(m.RosterUnassigned).where(col(m.RosterUnassigned.roster_id) == base.id)).all()}
    for row in session.scalars(select(m.RosterUnassigned).where(col(m.RosterUnassigned.roster_id) == new.id)).all():
        key = (row.visit_request_id, str((row.details or {}).get("leg", "visit")))
        was = old.get(key)
        if was is None or key in explained or row.reason == "request_not_plannable":
            continue
        row.reason, row.message_en, row.message_pl, row.details = was.reason, was.message_en, was.message_pl, \
            dict(was.details or {})


def edit_visit(session: Session, day: dt.date, request_id: str, edit: Edit, *, actor: str, role: m.UserRole,
               if_match: str | None, settings: Settings, now: dt.datetime, area: str | None = None,
               dry_run: bool = False) -> EditResult:
    """Apply ``edit`` to the visit of ``request_id`` in the latest version of ``day`` (module docstring).

    Raises ``publish.PreconditionRequired`` / ``PreconditionFailed`` / ``RosterNotFound``,
    ``day_lock.DayClosed``, ``NotFound``, ``InvalidInput`` or :class:`EditRefused`; commits nothing
    (the caller commits).  ``dry_run``: the same checks and the checker's verdict, nothing written
    (the console's "check" before "save"; ``PATCH ...?dry_run=true``): it stops before the write
    because everything the verdict needs is worked out on the read side, and a dry run that wrote
    and rolled back would take the day's write lock and leave audit-shaped noise on PostgreSQL's
    sequences for nothing.
    """
    _validate(edit)
    tags = publish.parse_if_match(if_match)
    latest = publish.latest_roster(session, day, area)
    if latest is None:
        raise publish.RosterNotFound(f"no roster for {day.isoformat()}: plan the day first")
    if publish.etag(latest) not in tags:
        raise publish.PreconditionFailed(latest)
    tz = settings.timezone
    if role is not m.UserRole.ADMIN and day_lock.is_closed(day, now, tz):
        raise day_lock.DayClosed(day, day_lock.day_end(day, tz), "edit")
    request = session.get(m.VisitRequest, request_id)
    if request is None:
        raise NotFound("visit request", request_id)
    if request.is_ride:
        raise InvalidInput([err("visit_request_id", "taxi rides are not edited by hand: their legs and the car are "
                                                    "planned together; pin the driver in required_workers and "
                                                    "re-plan")])
    names = _names(session)
    with paused_gc():  # the day's problem and plan are built in bulk (dispatch.gc_pause)
        built = build(session, day, area, shared_travel(settings), tz, load_weights(settings.weights_file))
        loaded = load_roster(session, latest, built, tz)
    planned = _plan(session, day, request, edit, loaded, settings, names)
    if dry_run:
        return EditResult(None, latest, planned.warnings, None, loaded.set_aside)
    explain = _to_explain(session, loaded, planned.routes)
    solution = _solution(planned.problem, planned.routes, latest, explain)
    base_id, base_version = latest.id, latest.version
    # Write: the version must still be the latest when the new one is stored.
    begin_write(session)
    serialize_on(session, f"carepath.roster_version:{day.isoformat()}:{area or ''}")
    now_latest = publish.latest_roster(session, day, area)
    if now_latest is None or now_latest.id != base_id:
        raise publish.PreconditionFailed(now_latest or latest)
    day_lock.require_open_day(session, day, actor=actor, role=role, action="edit", now=now, tz=tz, reason=edit.reason)
    _store_pin(session, actor, request_id, day, planned.pin)
    new = save_roster(session, day, area, replace(built, problem=planned.problem), solution)
    base_row = session.get(m.Roster, base_id)
    assert base_row is not None
    _carry_reasons(session, base_row, new, {(built.sources[v].request_id, built.sources[v].leg) for v in explain})
    if edit.unassign:
        _mark_by_hand(session, new, request_id, actor, edit.reason)
    audit.record(session, actor, "roster.edit", "roster", str(new.id), {
        "visit_request_id": {"old": None, "new": request_id},
        "date": {"old": None, "new": day.isoformat()},
        "version": {"old": base_version, "new": new.version},
        "workers": {"old": [w for w, _ in planned.before], "new": [w for w, _ in planned.after]},
        "start": {"old": _local(day, planned.before[0][1], tz) if planned.before else None,
                  "new": _local(day, planned.after[0][1], tz) if planned.after else None},
        "pin": {"old": None, "new": None if planned.pin is None else
                {"worker_id": planned.pin[0], "start": planned.pin[1].isoformat() if planned.pin[1] else None}},
        "reason": {"old": None, "new": edit.reason},
    })
    session.flush()
    base = session.get(m.Roster, base_id)
    assert base is not None
    return EditResult(new, base, planned.warnings, compare_versions(session, base, new, tz), loaded.set_aside)


def _store_pin(session: Session, actor: str, request_id: str, day: dt.date,
               pin: tuple[str | None, dt.time | None] | None) -> None:
    row = pins.pins_on(session, day).get(request_id)
    if pin is None:
        if row is not None:
            pins.delete_pin(session, actor, request_id, day)
        return
    if row is not None and (row.worker_id, row.start) == pin:
        return
    pins.set_pin(session, actor, request_id, day, {"worker_id": pin[0], "start": pin[1]})


def _mark_by_hand(session: Session, roster: m.Roster, request_id: str, actor: str, reason: str | None) -> None:
    """The unplaced row of a visit the dispatcher took out says so (not the optimizer's reason)."""
    why_en = f" ({reason})" if reason else ""
    session.execute(
        update(m.RosterUnassigned)
        .where(col(m.RosterUnassigned.roster_id) == roster.id, col(m.RosterUnassigned.visit_request_id) == request_id)
        .values(reason=BY_HAND, message_en=f"Taken out of the plan by hand by {actor}{why_en}.",
                message_pl=f"Usunięta z planu ręcznie przez {actor}{why_en}.",
                details={"case": "by_hand", "leg": "visit", "by": actor, "why": reason})
    )
