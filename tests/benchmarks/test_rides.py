"""benchmarks/rides.py: the rides-only day and the one-car-per-ride baseline are what they claim."""

from __future__ import annotations

from benchmarks.rides import one_car_per_ride, rides_only_day
from dispatch.planning.ride_stats import ride_stats
from optimizer.checker import check, is_feasible
from optimizer.model import WorkerKind
from optimizer.params import SolveParams
from optimizer import solve


def test_rides_only_day_has_drivers_and_car_stops_only() -> None:
    built = rides_only_day(1)
    p = built.problem
    assert p.rides and {w.kind for w in p.workers} == {WorkerKind.DRIVER}
    assert {built.sources[v.id].leg for v in p.visits} == {"pickup", "dropoff", "return_pickup", "return_dropoff"}
    ride_visits = {vid for r in p.rides for vid in (r.pickup, r.dropoff)}
    assert ride_visits == {v.id for v in p.visits}
    assert all(d.before in ride_visits and d.after in ride_visits for d in p.dependencies)


def test_baseline_gives_every_trip_its_own_car_and_is_checked() -> None:
    built = rides_only_day(1)
    baseline = one_car_per_ride(built.problem)
    assert len(baseline.workers) == len(baseline.rides)
    visits = baseline.visit_by_id()
    for ride, worker in zip(baseline.rides, baseline.workers):
        assert visits[ride.pickup].pinned_worker == visits[ride.dropoff].pinned_worker == worker.id
        assert all(worker.capacity.get(k, 0) >= q for k, q in ride.load.items())
    solution = solve(baseline, SolveParams(time_limit_s=2, seed=1))
    assert is_feasible(check(baseline, solution))
    st = ride_stats(baseline, solution, built.rides)
    assert st.shared_rides == 0 and st.cars_used == st.rides_planned > 0
