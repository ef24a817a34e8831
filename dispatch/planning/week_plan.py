"""Planning a week in one go: Monday to Sunday in order, each day preferring the workers who
already serve a senior earlier that week.

Why day by day and not one seven-day problem: the optimizer plans one day (routes, shifts and
breaks are a day's), and :func:`dispatch.planning.rosters.plan_day` is the one way a day is
planned, checked and stored.  A week planned in order lets each day see what the days before it
placed: who already visits each senior (fed to the optimizer as preferred workers, its existing
continuity term ``Weights.non_preferred_worker``, where none of her regular workers on record can
come that day, so a senior meets fewer different people in a week) and the work stored for each worker on the previous day (the labour rules of
``dispatch.planning``, which read stored drafts of neighbouring days, see this job's drafts
because each day is stored before the next is built).  Seven independent days can each give a
senior a different carer; that difference is what ``dispatch.planning.week_report`` measures.

Each day is stored as its own draft version, whole, in one transaction (``plan_day``): a week
stopped half-way (cancelled, failed) keeps the whole days it stored, which the job's progress
lists, and nothing of the day it was planning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.planning.problem_builder import BuiltProblem
from dispatch.planning.ride_builder import RideSettings
from dispatch.planning.rosters import PlannedDay, build_day, plan_day
from dispatch.providers.travel import TravelTimeProvider
from optimizer import SolveParams, Solution, StoppingCriterion, Weights

WEEK_DAYS = 7


def monday_problem(day: dt.date) -> str | None:
    """Why ``day`` cannot start a planned week (``None``: it can): a week runs Monday to Sunday."""
    from dispatch.limits import date_problem

    if (problem := date_problem(day)) is not None:
        return problem
    if day.weekday() != 0:
        return f"{day.isoformat()} is a {day.strftime('%A')}, not a Monday; a week is planned from its Monday"
    return date_problem(day + dt.timedelta(days=WEEK_DAYS - 1))


def week_of(monday: dt.date) -> list[dt.date]:
    """Monday .. Sunday of the week starting ``monday``."""
    return [monday + dt.timedelta(days=i) for i in range(WEEK_DAYS)]


def served_by(built: BuiltProblem, solution: Solution) -> dict[str, set[str]]:
    """Senior id -> the workers a planned day sends to her (every stop, rides too)."""
    visits = built.problem.visit_by_id()
    out: dict[str, set[str]] = {}
    for route in solution.routes:
        for stop in route.stops:
            client = visits[stop.visit_id].client_id
            if client:
                out.setdefault(client, set()).add(route.worker_id)
    return out


@dataclass
class WeekProgress:
    """Where a week's planning is: the day index (0 = Monday) and its date."""

    index: int
    day: dt.date


def plan_week(
    engine: Engine,
    monday: dt.date,
    travel: TravelTimeProvider,
    params: SolveParams,
    tz: str = "Europe/Warsaw",
    weights: Weights | None = None,
    ride_settings: RideSettings | None = None,
    *,
    area: str | None = None,
    continuity: bool = True,
    stop: Callable[[dt.date], StoppingCriterion | None] | None = None,
    on_day: Callable[[WeekProgress], None] | None = None,
    on_built: Callable[[BuiltProblem], None] | None = None,
    store_if: Callable[[], bool] | None = None,
    record: Callable[[Session, PlannedDay, int], bool] | None = None,
) -> list[PlannedDay]:
    """Plan the week from ``monday`` day by day, each stored as the next draft of its day; returns the seven.

    ``continuity``: prefer, for each senior, the workers who served her on the earlier days of this
    plan (False: seven independent days, the baseline the benchmark compares with).  ``stop`` gives
    each day's stopping criterion (``params.time_limit_s`` is each day's limit); ``on_day`` is told
    before a day is built; ``on_built``, ``store_if`` and ``record`` are ``plan_day``'s hooks, ``record``
    also told the day's index (0 = Monday).  A refusal raises ``PlanWithdrawn`` as for a day, the days
    before it staying stored.
    """
    problem = monday_problem(monday)
    if problem is not None:
        raise ValueError(problem)
    served: dict[str, set[str]] = {}
    planned_days: list[PlannedDay] = []
    for index, day in enumerate(week_of(monday)):
        if on_day is not None:
            on_day(WeekProgress(index, day))
        before: Mapping[str, Iterable[str]] | None = {k: frozenset(v) for k, v in served.items()} if continuity else None

        def build(session: Session, day: dt.date = day, before: Mapping[str, Iterable[str]] | None = before
                  ) -> BuiltProblem:
            return build_day(session, day, travel, tz, weights, ride_settings, area, served_before=before)

        def record_day(session: Session, planned: PlannedDay, index: int = index) -> bool:
            return record(session, planned, index) if record is not None else True

        planned = plan_day(engine, day, travel, params, tz, weights, ride_settings, area=area, build=build,
                           stop=stop(day) if stop is not None else None, on_built=on_built, store_if=store_if,
                           record=record_day)
        planned_days.append(planned)
        for senior, workers in served_by(planned.built, planned.solution).items():
            served.setdefault(senior, set()).update(workers)
    return planned_days
