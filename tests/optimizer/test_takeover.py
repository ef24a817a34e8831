"""Handing OR-Tools' plan to our LNS: an own-start plan that left visits out is completed."""

from __future__ import annotations

from optimizer.construct import construct
from optimizer.lns import plan_cost
from optimizer.model import Dependency, Problem
from optimizer.nodes import RawResult, RawRoute
from optimizer.params import SolveParams
from optimizer.routing import build_model
from optimizer.search import take_over
from tests.optimizer.builders import A, B, problem, visit, worker


def _problem() -> Problem:
    visits = [visit(v, loc, 30, [(0, 300)], mandatory=True) for v, loc in (("A", A), ("B", B), ("C", B))]
    return problem([worker("W0"), worker("W1")], visits,
                   dependencies=(Dependency("A", "B", 0, 0, different_workers=True),))


def test_own_start_plan_with_everything_left_out_is_completed() -> None:
    """OR-Tools' own first plan placed nothing (its heuristic can fail on links): the LNS
    must not start from an empty plan, but from it completed by our insertion."""
    p = _problem()
    ctx = build_model(p, SolveParams(time_limit_s=1))
    built = construct(p, [(v.worker_index, v.shift_index) for v in ctx.vehicles], ctx.eligible)
    builder = built.builder
    assert builder is not None and builder.placed == {0, 1, 2}
    cost = plan_cost(builder)
    empty = RawResult("FAIL", 0, [RawRoute(v, [], [], 0, 0, []) for v in range(len(ctx.vehicles))],
                      [0, 1, 2], 0, 0.0)
    take_over(ctx, builder, empty, own_start=True)
    assert builder.placed == {0, 1, 2}
    assert plan_cost(builder) <= cost
