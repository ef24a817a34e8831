"""One request added to a built day (``problem_builder.with_request``, a recommendation for a request
given inline) is the problem that building the day with it as its last request gives: same
locations (hers appended when new), visits in the same order (hers before the ride legs), sources,
skipped requests and travel matrices cell for cell.  (The equality of the answers themselves, on
the 10x day, is compared in ``benchmarks/README.md``.)"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from dispatch.planning.problem_builder import build_problem, with_request
from dispatch.providers.travel import GeodesicProvider
from dispatch.providers.travel_cache import CachedTravel
from fixtures import scenario as sc
from fixtures.generator import generate
from fixtures.problem import _WorkerDay
from fixtures.occurrences import occurrences_on

TZ = "Europe/Warsaw"
SPEEDS = {"walk": 4.5, "public_transport": 15.0, "car": 30.0}


def day_inputs(scenario: sc.Scenario, day: dt.date) -> dict:
    weekday = day.weekday()
    worker_days = [_WorkerDay(w, tuple(sorted((s for s in w.shifts if s.weekday == weekday), key=lambda s: s.start)))
                   for w in scenario.workers]
    return dict(worker_days=[wd for wd in worker_days if wd.shifts],
                seniors={s.id: s for s in scenario.seniors}, places={p.id: p for p in scenario.places},
                cars={c.id: c for c in scenario.cars}, services={s.code.value: s for s in scenario.services})


@pytest.mark.parametrize("where", ["a new place", "a senior of the day"])
def test_a_request_added_to_a_built_day_is_the_day_built_with_it(where: str) -> None:
    scenario = generate(2026, scale=0.15)
    day = scenario.demo_date
    inputs = day_inputs(scenario, day)
    requests = [o.request for o in occurrences_on(scenario, day)]
    assert any(r.ride is not None for r in requests)  # ride legs come after every request's visit
    seniors_of_day = {r.senior_id for r in requests}
    if where == "a senior of the day":
        senior = inputs["seniors"][requests[0].senior_id]
    else:
        senior = dataclasses.replace(next(s for s in scenario.seniors if s.id not in seniors_of_day),
                                     id="S-new", lat=50.9012, lon=20.6543)
        inputs["seniors"][senior.id] = senior
    new = sc.VisitRequest("R-inline", senior.id, sc.ServiceCode.HOME_CARE, day, dt.time(12), dt.time(14), 60,
                          mandatory=True)
    travel = CachedTravel(GeodesicProvider(SPEEDS))
    args = (inputs["worker_days"],)
    whole = build_problem(day, *args, [*requests, new], inputs["seniors"], inputs["places"], inputs["cars"],
                          inputs["services"], GeodesicProvider(SPEEDS), TZ)
    base = build_problem(day, *args, requests, inputs["seniors"], inputs["places"], inputs["cars"],
                         inputs["services"], travel, TZ)
    added = with_request(base, day, new, senior, inputs["services"]["home_care"], travel)
    a, b = whole.problem, added.problem
    for name in ("locations", "workers", "visits", "dependencies", "rides", "weights", "name"):
        assert getattr(a, name) == getattr(b, name), name
    assert list(whole.sources.items()) == list(added.sources.items())
    assert (whole.location_names, whole.skipped, whole.rides) == (added.location_names, added.skipped, added.rides)
    for mode in a.travel_times:
        assert np.array_equal(np.asarray(a.travel_times[mode]), np.asarray(b.travel_times[mode]))
        assert np.array_equal(np.asarray(a.distances[mode]), np.asarray(b.distances[mode]))
    grew = len(b.locations) > len(base.problem.locations)
    assert grew == (where != "a senior of the day")
