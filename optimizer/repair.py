"""After a split day: visits left out of one area, placed where another area's plan has room.

``decompose`` solves areas one after another with their own workers; a visit near an
area's edge may be unplaced in its area while a worker of the next area has a free slot on
the way (the explanation then says "a free slot exists but the search did not reach it").
This pass loads the merged plan into one ``construct.Builder`` with every start fixed and
inserts the unplaced visits, hardest first, wherever they fit without moving anything (all
rules apply: windows, breaks, shift ends, working time, links, rides).
"""

from __future__ import annotations

from optimizer.construct import Builder, effective_pins, insertion_order
from optimizer.model import Problem, Route
from optimizer.routing import RawResult, RawRoute, build_nodes, to_routes
from optimizer.rules import eligible_workers


def fill_gaps(problem: Problem, routes: list[Route], unplaced: list[str]) -> tuple[list[Route], list[str]]:
    """(routes, still unplaced): ``routes`` with as many of ``unplaced`` added as fit."""
    if not unplaced:
        return routes, unplaced
    vehicles, _, visit_nodes, _, _ = build_nodes(problem)
    builder = Builder(problem, [(v.worker_index, v.shift_index) for v in vehicles],
                      [eligible_workers(problem, v) for v in problem.visits])
    if not builder.load_plan(routes):
        return routes, unplaced
    todo = {builder.index[vid] for vid in unplaced}
    added = 0
    for vi in insertion_order(problem, effective_pins(problem)):
        if vi in todo and vi not in builder.placed and builder.insert(vi):
            added += 1
    added -= builder.drop_orphans()
    if not added:
        return routes, unplaced
    raw_routes = [
        RawRoute(r.vehicle, [visit_nodes[vi][c] for vi, c in r.stops], list(r.starts), r.departure, r.end,
                 list(r.breaks))
        for r in builder.routes if r.stops
    ]
    dropped = [vi for vi in range(len(problem.visits)) if vi not in builder.placed]
    raw = RawResult("REPAIR", 0, raw_routes, dropped, 0, 0.0)
    still = [vid for vid in unplaced if builder.index[vid] not in builder.placed]
    return to_routes(problem, raw), still
