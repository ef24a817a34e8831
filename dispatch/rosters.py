"""Planning a day from stored data and saving the result as a draft roster version.

A roster is immutable once written: re-planning makes a new version.  Publishing and
superseding (the lifecycle seen by workers) build on this in the API layer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from dispatch import models as m
from dispatch.problem_builder import BuiltProblem, build_problem
from dispatch.ride_builder import RideSettings
from dispatch.seed import requests_active_on, workers_on
from dispatch.timeutil import from_minutes
from dispatch.travel import TravelTimeProvider
from optimizer.checker import check, is_feasible
from optimizer.jsonio import solution_to_dict
from optimizer.model import Solution, Weights
from optimizer.params import SolveParams
from optimizer.solve import solve


@dataclass
class PlannedDay:
    roster: m.Roster
    built: BuiltProblem
    solution: Solution


class InfeasiblePlan(RuntimeError):
    """The solver returned a plan the independent checker rejects: a bug, never stored."""


def build_day(
    session: Session, day: dt.date, travel: TravelTimeProvider, tz: str, weights: Weights | None = None,
    ride_settings: RideSettings | None = None,
) -> BuiltProblem:
    """The optimizer problem for ``day`` from what is stored.

    ``ride_settings``: the senior-taxi knobs; default from the ``CAREPATH_RIDE_*`` settings.
    """
    if ride_settings is None:
        from dispatch.settings import get_settings

        ride_settings = RideSettings.from_settings(get_settings())
    worker_days = workers_on(session, day)
    requests = requests_active_on(session, day)
    seniors = {s.id: s for s in session.scalars(select(m.Senior)).all()}
    places = {p.id: p for p in session.scalars(select(m.Place)).all()}
    cars = {c.id: c for c in session.scalars(select(m.Car)).all()}
    services = {str(getattr(s.code, "value", s.code)): s for s in session.scalars(select(m.Service)).all()}
    return build_problem(day, worker_days, requests, seniors, places, cars, services, travel, tz, weights,
                         ride_settings)


def plan_day(
    session: Session,
    day: dt.date,
    travel: TravelTimeProvider,
    params: SolveParams,
    tz: str = "Europe/Warsaw",
    weights: Weights | None = None,
    ride_settings: RideSettings | None = None,
) -> PlannedDay:
    """Build, solve, check and store a new draft roster version for ``day``, in one transaction."""
    built = build_day(session, day, travel, tz, weights, ride_settings)
    solution = solve(built.problem, params)
    violations = check(built.problem, solution)
    if not is_feasible(violations):
        raise InfeasiblePlan("; ".join(v.message for v in violations[:5]))
    roster = save_roster(session, day, built, solution)
    return PlannedDay(roster, built, solution)


def save_roster(session: Session, day: dt.date, built: BuiltProblem, solution: Solution) -> m.Roster:
    latest = session.scalar(
        select(func.max(m.Roster.version)).where(m.Roster.date == day, m.Roster.area.is_(None))  # type: ignore[union-attr]
    )
    doc = solution_to_dict(solution)
    roster = m.Roster(
        date=day,
        version=(latest or 0) + 1,
        status=m.RosterStatus.DRAFT,
        objective=float(solution.stats.objective) if solution.stats else None,
        kpis=doc.get("kpis", {}),
        solver_stats=doc.get("stats", {}),
    )
    session.add(roster)
    session.flush()
    for route in solution.routes:
        for seq, stop in enumerate(route.stops):
            src = built.sources[stop.visit_id]
            session.add(
                m.RosterAssignment(
                    roster_id=roster.id, worker_id=route.worker_id, shift_index=route.shift_index,
                    visit_request_id=src.request_id, occurrence_date=src.date, sequence=seq,
                    arrival=from_minutes(stop.arrival, day), start=from_minutes(stop.start, day),
                    end=from_minutes(stop.end, day), travel_minutes=stop.travel, waiting_minutes=stop.waiting,
                    leg=src.leg,
                )
            )
    for u in solution.unassigned:
        src = built.sources[u.visit_id]
        session.add(
            m.RosterUnassigned(
                roster_id=roster.id, visit_request_id=src.request_id, reason=u.reason.value,
                message_en=u.message_en, message_pl=u.message_pl,
                details={**dict(u.details), "leg": src.leg},
            )
        )
    session.flush()
    return roster
