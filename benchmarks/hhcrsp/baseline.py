"""The plain OR-Tools routing model issue #8 measured, as the yardstick carepath must beat.

Deliberately naive, exactly as the issue describes it, and independent of ``optimizer/``:

* one node per patient-service, one vehicle per caregiver, all routes at the office;
* a time dimension (travel + service, waiting allowed) with each window start hard and its
  end soft (``SetCumulVarSoftUpperBound``, cost 1 per unit of lateness);
* synchronisation as constraints on start (cumul) variables: equal starts for simultaneous
  pairs, ``dmin <= b - a <= dmax`` for sequential ones, and ``VehicleVar(a) != VehicleVar(b)``;
* abilities by restricting each node's vehicle variable;
* arc cost = distance; default first solution (``PATH_CHEAPEST_ARC``), guided local search,
  a time limit, one thread.  No drops: every node is mandatory, so when the first-solution
  heuristic cannot satisfy the synchronisation constraints it returns nothing at all.

It uses the same scaled, rounded-up integer times as :mod:`benchmarks.hhcrsp.convert`, so
its plans are feasible in real numbers too and both are scored by the same evaluator.  The
family's max-tardiness term has no place in this model (the issue's model has none).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from benchmarks.hhcrsp.convert import SCALE, down, horizon, travel_matrix, up
from benchmarks.hhcrsp.evaluate import PlannedStop, Routes
from benchmarks.hhcrsp.instance import Instance


@dataclass(frozen=True)
class BaselineResult:
    routes: Routes | None
    """None: no solution within the time limit."""
    status: int
    elapsed_s: float


def solve_baseline(inst: Instance, time_limit_s: float, scale: int = SCALE) -> BaselineResult:
    """Solve ``inst`` with the plain model; ``routes`` is None when it finds no plan."""
    began = time.monotonic()
    # nodes: 0 = office, then one per (patient, service) in instance order
    tasks = [(i + 1, p, r) for i, p in enumerate(inst.patients) for r in p.required]
    loc = [0] + [i for i, _, _ in tasks]
    service = [0] + [up(r.duration, scale) for _, _, r in tasks]
    travel = travel_matrix(inst, scale)
    n, m = len(loc), len(inst.caregivers)
    big = up(horizon(inst), scale)
    manager = pywrapcp.RoutingIndexManager(n, m, 0)
    routing = pywrapcp.RoutingModel(manager)
    dist = [[travel[loc[a]][loc[b]] for b in range(n)] for a in range(n)]
    transit = [[(service[a] + dist[a][b]) if a != b else 0 for b in range(n)] for a in range(n)]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(dist))
    routing.AddDimension(routing.RegisterTransitMatrix(transit), big, big, False, "Time")
    tdim = routing.GetDimensionOrDie("Time")
    solver = routing.solver()
    index_of: dict[tuple[str, str], int] = {}
    for node, (_, p, r) in enumerate(tasks, start=1):
        idx = manager.NodeToIndex(node)
        index_of[(p.id, r.service)] = idx
        tdim.CumulVar(idx).SetRange(up(p.window[0], scale), big)
        tdim.SetCumulVarSoftUpperBound(idx, down(p.window[1], scale), 1)
        allowed = [k for k, c in enumerate(inst.caregivers) if r.service in c.abilities]
        routing.VehicleVar(idx).SetValues(allowed)
    for p in inst.patients:
        if p.sync is None:
            continue
        a, b = (index_of[(p.id, r.service)] for r in p.required)
        ca, cb = tdim.CumulVar(a), tdim.CumulVar(b)
        if p.sync.type == "simultaneous":
            solver.Add(ca == cb)
        else:
            solver.Add(cb - ca >= up(p.sync.dmin, scale))
            solver.Add(cb - ca <= down(p.sync.dmax, scale))
        solver.Add(routing.VehicleVar(a) != routing.VehicleVar(b))
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    left = max(0.1, time_limit_s - (time.monotonic() - began))
    search.time_limit.FromMilliseconds(int(left * 1000))
    assignment = routing.SolveWithParameters(search)
    elapsed = time.monotonic() - began
    if assignment is None:
        return BaselineResult(None, routing.status(), elapsed)
    routes: Routes = {}
    for k, c in enumerate(inst.caregivers):
        stops = []
        idx = assignment.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            _, p, r = tasks[manager.IndexToNode(idx) - 1]
            stops.append(PlannedStop(p.id, r.service, assignment.Value(tdim.CumulVar(idx)) / scale))
            idx = assignment.Value(routing.NextVar(idx))
        routes[c.id] = stops
    return BaselineResult(routes, routing.status(), elapsed)
