"""Ruin-and-recreate rounds around OR-Tools' guided local search.

Kept out of ``routing`` (which builds the model) because it is a search strategy over a
built model: it uses the model through ``routing``'s public helpers and imports no OR-Tools
itself; ``routing`` does not import it (``search`` runs both).
"""

from __future__ import annotations

import logging
import random

from optimizer.params import SolveParams
from optimizer.stop import StoppingCriterion
from optimizer.nodes import RawResult
from optimizer.routing import Ctx, extract, search_parameters
from optimizer.vrptw_search import Vrptw, improve_plan, plain_vrptw

log = logging.getLogger(__name__)


def ruin_and_recreate(ctx: Ctx, best: RawResult, params: SolveParams, stop: StoppingCriterion) -> RawResult:
    """Rounds of: drop ``rr_remove`` visits near a random one, re-insert them with a short
    guided local search from the rest of the best plan; keep the result if it is cheaper.
    Until ``stop`` (a deadline, or a cancel) says so.

    Measured on Solomon at 10 s (see benchmarks/README.md): the mean gap to the best known
    fell from 5.7 % (one long guided local search) to about 2.5 %: one long search spends
    its time deep in one basin, short searches from perturbed plans explore more of them.

    With ``rr_method="sisr"`` and a plain VRPTW (``vrptw_search.plain_vrptw``: windows,
    one capacity, identical vehicles, nothing else), the rounds are SISR string removals
    with simulated annealing instead (Solomon 30 s: the five worst instances of the OR-Tools
    rounds went from 7.7 % to 1.7 % mean gap; benchmarks/tuning/LOG2.md).
    """
    if params.rr_method == "sisr":
        inst = plain_vrptw(ctx.problem, params.arc_cost)
        if inst is not None and not best.dropped_visits and len(ctx.vehicles) == inst.vehicles:
            return _sisr(ctx, inst, best, params, stop)
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
        left = stop.remaining()
        if left is None or left < 0.15 or stop():
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
        sp = search_parameters(params, stop)
        sp.time_limit.FromMilliseconds(int(min(params.rr_round_s, left) * 1000))
        assignment = routing.SolveFromAssignmentWithParameters(start, sp)
        if assignment is None:
            continue
        if assignment.ObjectiveValue() < best.objective:
            found = best.solutions_found + 1
            best = extract(ctx, assignment, best.status, found, best.elapsed_s)
    log.info("ruin and recreate: %d rounds, objective %d", rounds, best.objective)
    return best




def _sisr(ctx: Ctx, inst: Vrptw, best: RawResult, params: SolveParams, stop: StoppingCriterion) -> RawResult:
    """Plain VRPTW: SISR (``optimizer.vrptw_search``) from the best plan, then a short guided
    local search from the SISR plan (``sisr_polish_s``) that also yields OR-Tools' times."""
    routing = ctx.routing
    start_routes = [[ctx.nodes[n].visit_index + 1 for n in rr.nodes]  # type: ignore[operator]
                    for rr in sorted(best.routes, key=lambda r: r.vehicle) if rr.nodes]
    polish = min(params.sisr_polish_s, 0.5 * (stop.remaining() or 0.0))
    routes, stats = improve_plan(inst, start_routes, seed=params.seed, stop=stop.within((stop.remaining() or 0.0) - polish),
                                 t0=params.sisr_t0, tf=params.sisr_tf, avg_removed=params.sisr_avg_removed)
    log.info("SISR: %d iterations, %d accepted, %d improvements, cost %d -> %d", stats.iterations,
             stats.accepted, stats.improvements, stats.start_cost, stats.best_cost)
    vehicles = [[ctx.index(ctx.visit_nodes[c - 1][0]) for c in r] for r in routes]
    vehicles += [[] for _ in range(len(ctx.vehicles) - len(vehicles))]
    start = routing.solver().Assignment()
    if not routing.RoutesToAssignment(vehicles, True, True, start):
        log.warning("SISR plan could not be loaded into OR-Tools; keeping the OR-Tools plan")
        return best
    sp = search_parameters(params, stop)
    sp.time_limit.FromMilliseconds(int(max(0.05, stop.remaining() or 0.0) * 1000))
    assignment = routing.SolveFromAssignmentWithParameters(start, sp)
    if assignment is None or assignment.ObjectiveValue() >= best.objective:
        return best
    return extract(ctx, assignment, best.status, best.solutions_found + stats.improvements + 1, best.elapsed_s)
