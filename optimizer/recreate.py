"""Ruin-and-recreate rounds around OR-Tools' guided local search.

Kept out of ``routing`` (which builds the model) because it is a search strategy over a
built model: it uses the model through ``routing``'s helpers and imports no OR-Tools itself.
"""

from __future__ import annotations

import logging
import random
import time

from optimizer.params import SolveParams
from optimizer.routing import Ctx, RawResult, _extract, _search_parameters

log = logging.getLogger(__name__)


def ruin_and_recreate(ctx: Ctx, best: RawResult, params: SolveParams, deadline: float) -> RawResult:
    """Rounds of: drop ``rr_remove`` visits near a random one, re-insert them with a short
    guided local search from the rest of the best plan; keep the result if it is cheaper.

    Measured on Solomon at 10 s (see benchmarks/README.md): the mean gap to the best known
    fell from 5.7 % (one long guided local search) to about 2.5 %: one long search spends
    its time deep in one basin, short searches from perturbed plans explore more of them.
    """
    routing = ctx.routing
    rng = random.Random(params.seed)
    problem = ctx.problem
    matrix = next(iter(problem.travel_times.values()))
    n = len(problem.visits)
    if n < 2:
        return best
    k = min(params.rr_remove, n - 1)
    near = []
    for vi, v in enumerate(problem.visits):
        order = sorted(range(n), key=lambda x: matrix[v.location][problem.visits[x].location])
        near.append(order[: k + 1])
    rounds = 0
    while True:
        left = deadline - time.monotonic()
        if left < 0.15:
            break
        rounds += 1
        drop = set(near[rng.randrange(n)])
        partial = []
        for rr in sorted(best.routes, key=lambda r: r.vehicle):
            partial.append([ctx.index(node) for node in rr.nodes if ctx.nodes[node].visit_index not in drop])
        by_vehicle = {rr.vehicle: route for rr, route in zip(sorted(best.routes, key=lambda r: r.vehicle), partial)}
        routes = [by_vehicle.get(v, []) for v in range(len(ctx.vehicles))]
        # A visit's copies go together: drop the partner copy of any dropped two-person visit.
        routes = [[i for i in r if ctx.nodes[ctx.manager.IndexToNode(i)].visit_index not in drop] for r in routes]
        start = routing.solver().Assignment()
        if not routing.RoutesToAssignment(routes, True, True, start):
            continue
        sp = _search_parameters(params)
        sp.time_limit.FromMilliseconds(int(min(params.rr_round_s, left) * 1000))
        assignment = routing.SolveFromAssignmentWithParameters(start, sp)
        if assignment is None:
            continue
        if assignment.ObjectiveValue() < best.objective:
            found = best.solutions_found + 1
            best = _extract(ctx, assignment, best.status, found, best.elapsed_s)
    log.info("ruin and recreate: %d rounds, objective %d", rounds, best.objective)
    return best


