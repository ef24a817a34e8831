"""Planning a day from stored data and saving the result as a draft roster version.

:func:`plan_day` is the one way a day gets planned (CLI, demo, planning jobs).  A roster is
immutable once written: re-planning makes a new version, numbered per (day, area) by
:func:`save_roster`.  Publishing and superseding (the lifecycle seen by workers) are
``dispatch.planning.publish``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.storage.db import serialize_on, session_scope
from dispatch.storage.plain_rows import records
from dispatch.planning.explanations import explain_unassigned
from dispatch.catalog.labour import LabourRules
from dispatch.planning import work_spans
from dispatch.planning.pins import pins_on
from dispatch.planning.problem_builder import SKIPPED_REASON, BuiltProblem, build_problem
from dispatch.planning.ride_builder import RideSettings
from dispatch.planning.day_inputs import requests_active_on, workers_on
from dispatch.timeutil import from_minutes
from dispatch.providers.travel import TravelTimeProvider
import optimizer
from optimizer import Problem, SolveParams, Solution, StoppingCriterion, Weights, check, is_feasible, solution_to_dict


@dataclass
class PlannedDay:
    roster: m.Roster
    built: BuiltProblem
    solution: Solution


@dataclass(frozen=True)
class UnplacedVisit:
    """A visit (or a whole request) the plan leaves out, as the roster stores and shows it: the
    reason code, its facts (``details``: times in minutes of the day) and the sentences made from
    them by ``dispatch.planning.explanations`` with the day's local clock times."""

    request_id: str
    leg: str
    reason: str
    message_en: str
    message_pl: str
    details: dict[str, Any]
    mandatory: bool


def unplaced_visits(day: dt.date, built: BuiltProblem, solution: Solution) -> list[UnplacedVisit]:
    """What the plan leaves out, **mandatory visits first** (then in the solver's order, then the
    requests that never became visits): what :func:`save_roster` stores and the CLI prints.

    The optimizer's reasons are worded here, in the zone the problem was built in (``built.tz``).
    """
    visits = built.problem.visit_by_id() if solution.unassigned else {}
    out = []
    for u in solution.unassigned:
        src = built.sources[u.visit_id]
        words = explain_unassigned(u, day, built.tz)
        out.append(UnplacedVisit(src.request_id, src.leg, u.reason.value, words.en, words.pl,
                                 {**dict(u.details), "leg": src.leg}, visits[u.visit_id].mandatory))
    for skipped in built.skipped:  # requests that never became visits: named, so nobody wonders where they went
        out.append(UnplacedVisit(skipped.request_id, "visit", SKIPPED_REASON, skipped.message_en,
                                 skipped.message_pl, {"date": day.isoformat(), "leg": "visit", "cause": skipped.cause},
                                 skipped.mandatory))
    return sorted(out, key=lambda u: not u.mandatory)


class InfeasiblePlan(RuntimeError):
    """The solver returned a plan the independent checker rejects: a bug, never stored."""


def build_day(
    session: Session, day: dt.date, travel: TravelTimeProvider, tz: str, weights: Weights | None = None,
    ride_settings: RideSettings | None = None, area: str | None = None,
    extra_requests: Sequence[m.VisitRequest] = (),
    served_before: Mapping[str, Iterable[str]] | None = None,
) -> BuiltProblem:
    """The optimizer problem for ``day`` from what is stored: the whole city (``area`` None), or
    one area's plan, which takes the requests of seniors living in ``area`` and the workers
    whose home area it is (cross-area help is the city-wide plan's job).

    ``ride_settings``: the senior-taxi knobs; default from the ``CAREPATH_RIDE_*`` settings.
    ``extra_requests``: requests not stored, planned as if they were (a recommendation for a
    request given inline, ``dispatch.planning.recommend``).
    ``served_before``: the workers who served each senior earlier in the week being planned
    (``dispatch.planning.week_plan``), preferred where none of her regular workers can come.
    """
    if ride_settings is None:
        from dispatch.settings import get_settings

        ride_settings = RideSettings.from_settings(get_settings())
    # Plain records, not ORM objects (``dispatch.storage.plain_rows``): the rows are only read here,
    # and a 10x centre's 40,000 ORM objects were most of the build.
    seniors = {s.id: s for s in records(session, m.Senior)}
    services = {s.code: s for s in records(session, m.Service)}
    worker_days = workers_on(session, day, plain=True)
    requests = [*requests_active_on(session, day, plain=True, services=services), *extra_requests]
    if area is not None:
        worker_days = [wd for wd in worker_days if wd.worker.home_area == area]
        requests = [r for r in requests if seniors[r.senior_id].area == area]
    places = {p.id: p for p in records(session, m.Place)}
    cars = {c.id: c for c in records(session, m.Car)}
    rules = LabourRules.from_settings()
    spans = work_spans.neighbours(session, day, [wd.worker.id for wd in worker_days], rules)
    return build_problem(day, worker_days, requests, seniors, places, cars, services, travel, tz, weights,
                         ride_settings, pins_on(session, day), served_before=served_before,
                         labour_spans=spans, labour_rules=rules)


class PlanWithdrawn(Exception):
    """The plan was solved but not stored: its caller withdrew it (a planning job cancelled or
    taken from this runner meanwhile).  ``before_store``: withdrawn before the write began."""

    def __init__(self, before_store: bool) -> None:
        super().__init__("the plan was withdrawn before it was stored" if before_store
                         else "the plan was withdrawn while it was stored; nothing was kept")
        self.before_store = before_store


def plan_day(
    engine: Engine,
    day: dt.date,
    travel: TravelTimeProvider,
    params: SolveParams,
    tz: str = "Europe/Warsaw",
    weights: Weights | None = None,
    ride_settings: RideSettings | None = None,
    *,
    area: str | None = None,
    build: Callable[[Session], BuiltProblem] | None = None,
    stop: StoppingCriterion | None = None,
    on_built: Callable[[BuiltProblem], None] | None = None,
    store_if: Callable[[], bool] | None = None,
    record: Callable[[Session, PlannedDay], bool] | None = None,
    solver: Solver | None = None,
) -> PlannedDay:
    """Plan ``day`` (city-wide, or ``area``'s plan) and store it as the next draft version: the
    one way a day is planned, by the CLI (``carepath rosters plan``), the demo and planning jobs.

    Three steps: read and build the problem, solve with no transaction open, check the plan
    with the independent checker and store it in one short write.  No transaction is held
    while solving: on SQLite a write transaction holds the database's only write lock, and one
    held across a solve would make every other write wait for the whole time limit.

    The hooks are what a planning job adds (``dispatch.jobs.child``): ``build`` builds the problem
    instead of :func:`build_day` (a re-plan, ``dispatch.planning.replan``); ``stop`` ends the solve
    (a cancel, a run-time limit); ``on_built`` sees the problem before solving (progress
    totals); ``store_if`` is asked after solving (False: nothing is stored); ``record`` writes
    its own rows in the roster's transaction and says whether to keep them (False: rolled back);
    ``solver`` solves instead of ``optimizer.solve`` (a job on the queue hands a split day's areas
    to the workers: ``dispatch.jobs.areas``).  Either refusal raises :class:`PlanWithdrawn`.  A plan the checker rejects raises
    :class:`InfeasiblePlan` and is never stored.
    """
    with Session(engine) as session:  # read, then close
        built = build(session) if build is not None else build_day(session, day, travel, tz, weights,
                                                                    ride_settings, area)
    if on_built is not None:
        on_built(built)
    solution = solve_checked(built, params, stop, solver)
    if store_if is not None and not store_if():
        raise PlanWithdrawn(before_store=True)
    with session_scope(engine) as session:
        planned = PlannedDay(save_roster(session, day, area, built, solution), built, solution)
        if record is not None and not record(session, planned):
            session.rollback()
            raise PlanWithdrawn(before_store=False)
    return planned


Solver = Callable[[Problem, SolveParams, StoppingCriterion | None], Solution]
"""``optimizer.solve``'s signature: what ``plan_day`` may be given to solve with instead."""


def solve_checked(built: BuiltProblem, params: SolveParams, stop: StoppingCriterion | None = None,
                  solver: Solver | None = None) -> Solution:
    """Solve (``solver``, by default ``optimizer.solve``) and check independently; a plan the checker
    rejects is a bug and raises :class:`InfeasiblePlan`."""
    solve = solver if solver is not None else optimizer.solve  # looked up at call time: tests stand in for it
    solution = solve(built.problem, params, stop)
    violations = check(built.problem, solution)
    if not is_feasible(violations):
        raise InfeasiblePlan("the plan breaks rules: " + "; ".join(v.message for v in violations[:5]))
    return solution


def save_roster(session: Session, day: dt.date, area: str | None, built: BuiltProblem, solution: Solution) -> m.Roster:
    """Store the plan as the next draft version of ``(day, area)`` (``area`` None: the city-wide roster):
    its visits in route order, each worker's breaks, and the visits it could not place (with
    whether each was mandatory, which publishing asks to be acknowledged), each worker's working
    day and the labour limits the day was planned under (``dispatch.planning.work_spans``).

    The version is the highest stored + 1, read under :func:`dispatch.storage.db.serialize_on` for
    ``(day, area)``: two plans stored at the same moment get consecutive versions instead of one
    failing on the unique ``(date, area, version)``.
    """
    serialize_on(session, f"carepath.roster_version:{day.isoformat()}:{area or ''}")
    area_match = col(m.Roster.area).is_(None) if area is None else col(m.Roster.area) == area
    latest = session.scalar(select(func.max(m.Roster.version)).where(col(m.Roster.date) == day, area_match))
    doc = solution_to_dict(replace(solution, routes=(), unassigned=()))  # its KPIs and stats: the stops are rows
    roster = m.Roster(
        date=day,
        area=area,
        version=(latest or 0) + 1,
        status=m.RosterStatus.DRAFT,
        objective=float(solution.stats.objective) if solution.stats else None,
        kpis=doc.get("kpis", {}),
        solver_stats=doc.get("stats", {}),
    )
    session.add(roster)
    session.flush()
    # One multi-row INSERT per table for the whole day, not an ORM object per row: a region's day
    # has 10,000 stops, and the store is in the planning job's tail, which more workers do not
    # shorten (benchmarks/README, "Areas of a split day solved in parallel").  Every column is given.
    assignments: list[dict[str, Any]] = []
    breaks: list[dict[str, Any]] = []
    for route in solution.routes:
        for seq, stop in enumerate(route.stops):
            src = built.sources[stop.visit_id]
            assignments.append(dict(
                roster_id=roster.id, worker_id=route.worker_id, shift_index=route.shift_index,
                visit_request_id=src.request_id, occurrence_date=src.date, sequence=seq,
                arrival=from_minutes(stop.arrival, day, built.tz),
                start=from_minutes(stop.start, day, built.tz),
                end=from_minutes(stop.end, day, built.tz),
                travel_minutes=stop.travel, waiting_minutes=stop.waiting,
                leg=src.leg,
            ))
        for b in route.breaks if route.stops else ():  # no visits, no working day, no break
            if b.end > b.start:
                breaks.append(dict(roster_id=roster.id, worker_id=route.worker_id, shift_index=route.shift_index,
                                   start=from_minutes(b.start, day, built.tz), end=from_minutes(b.end, day, built.tz)))
    unplaced = [
        dict(roster_id=roster.id, visit_request_id=u.request_id, reason=u.reason, message_en=u.message_en,
             message_pl=u.message_pl, details=u.details, mandatory=u.mandatory)
        for u in unplaced_visits(day, built, solution)
    ]
    for model, rows in ((m.RosterAssignment, assignments), (m.RosterBreak, breaks), (m.RosterUnassigned, unplaced)):
        if rows:
            session.execute(insert(model), rows)
    work_spans.record(session, roster, day, built.tz, solution, built.labour_limits)
    session.flush()
    return roster
