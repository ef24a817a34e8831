"""After a split day: visits left out of one area, placed where another area's plan has room.

``decompose`` solves areas one after another with their own workers; a visit near an
area's edge may be unplaced in its area while a worker of the next area has a free slot on
the way (the explanation then says "a free slot exists but the search did not reach it").
This pass loads the merged plan into one ``construct.Builder`` with every start fixed and
inserts the unplaced visits, hardest first, wherever they fit without moving anything (all
rules apply: windows, breaks, shift ends, working time, links, rides).
"""

from __future__ import annotations

from optimizer.construct import Builder, insertion_order
from optimizer.model import Problem, Route
from optimizer.nodes import build_nodes, raw_plan, to_routes
from optimizer.rules import effective_pins, eligible_workers
from optimizer.stop import StoppingCriterion


def fill_gaps(problem: Problem, routes: list[Route], unplaced: list[str],
              stop: StoppingCriterion | None = None) -> tuple[list[Route], list[str]]:
    """(routes, still unplaced): ``routes`` with as many of ``unplaced`` added as fit (tried
    until ``stop`` says so)."""
    if not unplaced or (stop is not None and stop()):
        # Out of time: loading a region's plan into a builder alone took seconds at 30x.
        return routes, unplaced
    vehicles, *_ = build_nodes(problem)
    builder = Builder(problem, [(v.worker_index, v.shift_index) for v in vehicles],
                      [eligible_workers(problem, v) for v in problem.visits])
    if not builder.load_plan(routes):
        return routes, unplaced
    todo = {builder.index[vid] for vid in unplaced}
    added = 0
    for vi in insertion_order(problem, effective_pins(problem), builder.eligible):
        if stop is not None and vi in todo and stop():
            break
        if vi in todo and vi not in builder.placed and builder.insert(vi):
            added += 1
    added -= builder.drop_orphans()
    if not added:
        return routes, unplaced
    still = [vid for vid in unplaced if builder.index[vid] not in builder.placed]
    return to_routes(problem, raw_plan(builder, "REPAIR")), still
