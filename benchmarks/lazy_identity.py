"""Lazy against dense travel matrices on a generated day: ``python -m benchmarks.lazy_identity SCALE MAX_VISITS_PER_AREA [SOLUTIONS]``.

Builds the fixture generator's day (seed 2026, benchmark profile) twice, with the offline model's
lazy matrices and with dense ones (a provider without ``lazy``), and checks that nothing depends
on how the matrices are held: every cell (the square, and every 97th row read lazily), the split
into areas and each area's blocks, and on one plan (a deterministic solve of the lazy day) the
repair, the explanations, the KPIs and the checker's verdicts.  The whole solve is compared only
on a day of one area: a split day's solve is not reproducible run to run (on main too).
Measured for ``benchmarks/README.md`` ("A region's day on a modest machine") at 1x and 10x.
"""
import sys, time
from dataclasses import replace
import numpy as np
from fixtures.generator import BENCHMARK_PROFILE, generate
from fixtures.problem import problem_for_day
from dispatch.providers.travel import GeodesicProvider
from optimizer import solve, check, is_feasible, SolveParams

class Dense(GeodesicProvider):
    lazy = None

scale = float(sys.argv[1]); area = int(sys.argv[2])  # e.g. 10 600
sc = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
speeds = {"walk": 4.5, "public_transport": 15.0, "car": 30.0}
t = time.monotonic(); lazy = problem_for_day(sc, sc.demo_date, GeodesicProvider(speeds, 1.35)).problem; tl = time.monotonic() - t
t = time.monotonic(); dense = problem_for_day(sc, sc.demo_date, Dense(speeds, 1.35)).problem; td = time.monotonic() - t
print("build lazy", round(tl, 2), "dense", round(td, 2), "locs", len(lazy.locations))
for m in dense.travel_times:
    assert np.array_equal(np.asarray(lazy.travel_times[m]), np.asarray(dense.travel_times[m], dtype=np.int64)), m
    assert np.array_equal(np.asarray(lazy.distances[m]), np.asarray(dense.distances[m], dtype=np.int64)), m
    for i in range(0, len(lazy.locations), 97):
        assert list(lazy.travel_times[m][i]) == list(dense.travel_times[m][i])
print("cells equal")
from optimizer.decompose import split
from optimizer.repair import fill_gaps
from optimizer import evaluate, explain_unassigned
t = time.monotonic(); sa = split(lazy, area); t1 = time.monotonic() - t
t = time.monotonic(); sb = split(dense, area); t2 = time.monotonic() - t
print("split lazy", round(t1, 2), "dense", round(t2, 2), "areas", len(sa))
for x, y in zip(sa, sb):
    assert x.visit_ids == y.visit_ids and x.locations == y.locations
    for m in x.problem.travel_times:
        assert np.array_equal(np.asarray(x.problem.travel_times[m]), np.asarray(y.problem.travel_times[m]))
        assert type(x.problem.travel_times[m][0]) is tuple
        assert np.array_equal(np.asarray(x.problem.distances[m]), np.asarray(y.problem.distances[m]))
print("areas equal")
params = SolveParams(time_limit_s=None, solution_limit=int(sys.argv[3]) if len(sys.argv) > 3 else 30, seed=0,
                     lns_iterations=30, max_visits_per_area=area)
a = solve(lazy, params)
dropped = [u.visit_id for u in a.unassigned]
ra = fill_gaps(lazy, list(a.routes), dropped); rb = fill_gaps(dense, list(a.routes), dropped)
assert ra == rb, "repair differs"
ea = explain_unassigned(lazy, ra[0], ra[1]); eb = explain_unassigned(dense, ra[0], ra[1])
assert ea == eb, "explanations differ"
from optimizer import Solution
s2 = Solution(tuple(ra[0]), tuple(ea))
assert evaluate(lazy, s2) == evaluate(dense, s2)
assert check(lazy, s2) == check(dense, s2)
print("repair, explain, evaluate, check equal; repaired", len(dropped) - len(ra[1]))
if len(sa) == 1:
    b = solve(dense, params)
    assert a.routes == b.routes, "routes differ"
    assert a.unassigned == b.unassigned, "unassigned differ"
    assert a.kpis == b.kpis
print("same plan; areas", a.stats.parameters["areas"], "placed", a.kpis.visits_placed, "feasible", is_feasible(check(lazy, a)))
print("rows computed", {m.value: lazy.travel_times[m].rows_computed for m in lazy.travel_times}, "metres", next(iter(lazy.distances.values())).rows_computed)
