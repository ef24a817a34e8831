"""Build a day's optimizer problem straight from an in-memory fixtures ``Scenario``.

The database path (``dispatch.rosters.build_day``) is what the product uses; this one
serves benchmarks and scale tests, where loading 100x the demo into a database first would
measure the database, not the planner.  Both go through the same ``build_problem``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dispatch.problem_builder import BuiltProblem, build_problem
from dispatch.ride_builder import RideSettings
from dispatch.travel import TravelTimeProvider
from fixtures.occurrences import occurrences_on
from fixtures.scenario import Scenario, ShiftPattern, Worker


@dataclass(frozen=True)
class _WorkerDay:
    worker: Worker
    shifts: tuple[ShiftPattern, ...]


def problem_for_day(
    scenario: Scenario, day: dt.date, travel: TravelTimeProvider, tz: str = "Europe/Warsaw",
    ride_settings: RideSettings | None = None,
) -> BuiltProblem:
    weekday = day.weekday()
    worker_days = [
        _WorkerDay(w, tuple(sorted((s for s in w.shifts if s.weekday == weekday), key=lambda s: s.start)))
        for w in scenario.workers
    ]
    worker_days = [wd for wd in worker_days if wd.shifts]
    requests = [o.request for o in occurrences_on(scenario, day)]
    return build_problem(
        day,
        worker_days,
        requests,
        {s.id: s for s in scenario.seniors},
        {p.id: p for p in scenario.places},
        {c.id: c for c in scenario.cars},
        {s.code.value: s for s in scenario.services},
        travel,
        tz,
        ride_settings=ride_settings,
    )
