"""One area's search: our construction, OR-Tools, ruin and recreate, our LNS; the cheaper plan.

Time is shared: OR-Tools gets ``1 - lns_share`` of the limit, our LNS what is left.  By
default that is all of it on general days (``lns_share`` 1: OR-Tools' model is then not even
built) and half on linked days (``lns_share_linked``).  OR-Tools starts from our construction
(its own first-solution heuristics cannot place two-person visits); its result is handed to
the LNS, which sees cross-route rules.  Plans from both are priced by ``optimizer.objective``.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from optimizer.construct import Builder, Construction, construct, insertion_order
from optimizer.linked_search import LinkedDay, improve_linked, plain_linked_day
from optimizer.linked_search import available as linked_available
from optimizer.lns import improve, plan_cost
from optimizer.model import Problem
from optimizer.nodes import RawResult, build_nodes, raw_plan, timed_routes
from optimizer.objective import Objective
from optimizer.params import Progress, SolveParams
from optimizer.recreate import ruin_and_recreate
from optimizer.rules import allowed_workers
from optimizer.routing import Ctx, build_model, search_ortools, search_parameters
from optimizer.stop import FirstOf, MaxIterations, StoppingCriterion
from optimizer.timing import FixedStarts

log = logging.getLogger(__name__)


def solve_area(problem: Problem, params: SolveParams, stop: StoppingCriterion) -> RawResult:
    """Construct, search with OR-Tools, then with our LNS, until ``stop`` says so; return the
    cheaper plan.

    With a deadline, OR-Tools' share of the time (``1 - lns_share``) is counted from the
    call, model building and construction included, and the LNS has what is left.  Without
    one, OR-Tools stops on its solution limit and the LNS after ``lns_iterations`` rounds
    (100 unless set).  A cancel ends whichever phase is running; the best plan so far is
    returned.
    """
    began = stop.clock()
    budget = stop.remaining()
    if not problem.visits:
        # Nothing to place: the empty plan is optimal, and a search would only spend the whole
        # time limit proving it (an empty day used to keep its planning job busy that long).
        return RawResult("NO_VISITS", 0, [], [], 0, 0.0)
    if not problem.workers:
        return RawResult("NO_WORKERS", 0, [], list(range(len(problem.visits))), 0, 0.0)
    params = _linked_profile(problem, params)
    if budget is not None and stop():
        return _first_plan_only(problem, stop, began)
    if params.linked_search and linked_available():
        day = plain_linked_day(problem, params.linked_threshold)
        if day is not None:
            found = _linked_day_search(problem, day, params, stop, began)
            if found is not None:
                return found
    or_share = 1.0 - params.lns_share
    ctx: Ctx | None = None
    if budget is None or or_share > 0:
        ctx = build_model(problem, params)
        search = search_parameters(params, stop)
        ctx.routing.CloseModelWithParameters(search)
        seed = construct(problem, [(v.worker_index, v.shift_index) for v in ctx.vehicles], ctx.eligible, stop)
    else:
        # The LNS alone (general days by default): OR-Tools' model is not built at all.
        seed = _construct_without_model(problem, stop)
    first_plan_s = stop.clock() - began
    builder = seed.builder
    assert builder is not None
    search_ctx = ctx
    if ctx is not None and strict_model_applies(problem, params, len(builder.placed)):
        search_ctx = build_model(problem, params, strict=True)
        search_ctx.routing.CloseModelWithParameters(search)
        params = replace(params, ortools_start="construction", rr_first_share=1.0)
        log.info("OR-Tools searches the strict model (every visit served)")
    or_result: RawResult | None = None
    if ctx is not None and search_ctx is not None and not stop():
        or_stop = stop if budget is None else stop.within(budget * or_share - (stop.clock() - began))
        if budget is not None:
            first = (or_stop.remaining() or 0.0) * params.rr_first_share
            search.time_limit.FromMilliseconds(int(max(0.1, first) * 1000))
        or_result = search_ortools(search_ctx, seed, search, params, or_stop)
        if or_result is not None and budget is not None and not search_ctx.strict:
            # (Its rounds take visits out, which the strict model cannot express.)
            or_result = ruin_and_recreate(search_ctx, or_result, params, or_stop)
        if or_result is not None:
            take_over(ctx, builder, or_result, own_start=params.ortools_start == "own")
    rounds = params.lns_iterations if params.lns_iterations is not None else (100 if budget is None else None)
    left = stop.remaining()
    lns_ran = params.lns_share > 0 and (left is None or left > 0.05) and not stop()
    if lns_ran:
        offset = stop.clock() - began

        def report(rounds: int, cost: int, placed: int, seconds: float) -> None:
            if params.on_progress is not None:
                params.on_progress(Progress(rounds, cost, placed, len(problem.visits), offset + seconds))

        if or_result is None:
            # The first plan, as OR-Tools' search reports its own: with the LNS alone (general
            # days) a planning job's progress otherwise stayed empty until its first improvement.
            report(1, plan_cost(builder), len(builder.placed), 0.0)
        lns_stop = stop if rounds is None else FirstOf(stop, MaxIterations(rounds))
        stats = improve(builder, seed=params.seed, stop=lns_stop, on_improvement=report)
        log.info("LNS: %d rounds, %d improvements, cost %d -> %d", stats.iterations, stats.improvements,
                 stats.start_cost, stats.best_cost)
    builder.delay_pickups()
    elapsed = stop.clock() - began
    own = raw_plan(builder, "LNS", plan_cost(builder), 1, elapsed)
    own.solutions_found = 1 + (stats.improvements if lns_ran else 0)
    own.first_plan_s = first_plan_s
    if or_result is not None:
        or_cost = raw_cost(problem, or_result)
        if or_cost < own.objective:
            or_result.objective, or_result.elapsed_s, or_result.first_plan_s = or_cost, elapsed, first_plan_s
            return or_result
    if or_result is not None:
        own.status = f"{or_result.status}+LNS" if lns_ran else or_result.status
        own.solutions_found += or_result.solutions_found
    return own


LINKED_ROUNDS_PER_LNS_ROUND = 50
"""Without a deadline, the compiled linked search runs this many rounds per LNS round the
general search would have run (``lns_iterations``, 100 by default): its rounds cost about a
fiftieth of one, so deterministic runs take about as long either way."""


def _linked_day_search(problem: Problem, day: LinkedDay, params: SolveParams, stop: StoppingCriterion,
                       began: float) -> RawResult | None:
    """A plain linked day (``optimizer.linked_search``): our construction, then the compiled
    ruin and recreate until ``stop``; None (the general search runs instead) if that search
    found no plan with every visit."""
    vehicles, *_ = build_nodes(problem)
    seed = construct(problem, [(v.worker_index, v.shift_index) for v in vehicles], allowed_workers(problem), stop)
    builder = seed.builder
    assert builder is not None
    first_plan_s = stop.clock() - began
    deadline = stop.remaining() is not None
    rounds = None if deadline else LINKED_ROUNDS_PER_LNS_ROUND * (params.lns_iterations or 100)
    stats = improve_linked(builder, day, seed=params.seed, stop=stop if deadline else None, max_iterations=rounds)
    if stats is None:
        return None
    log.info("linked search: %d rounds, %d improvements, cost %d", stats.iterations, stats.improvements, stats.cost)
    builder.delay_pickups()
    elapsed = stop.clock() - began
    cost = plan_cost(builder)
    if params.on_progress is not None:
        params.on_progress(Progress(stats.improvements, cost, len(builder.placed), len(problem.visits), elapsed))
    out = raw_plan(builder, "LINKED_SEARCH", cost, 1 + stats.improvements, elapsed)
    out.first_plan_s = first_plan_s
    return out


def _construct_without_model(problem: Problem, stop: StoppingCriterion) -> Construction:
    """Our construction on the vehicles and eligibility OR-Tools' model would have, without
    building the model (measured at 30x: 1.2 s an area, a fifth of a day's first plan): for
    when OR-Tools does not search."""
    vehicles, *_ = build_nodes(problem)
    return construct(problem, [(v.worker_index, v.shift_index) for v in vehicles], allowed_workers(problem), stop)


def _first_plan_only(problem: Problem, stop: StoppingCriterion, began: float) -> RawResult:
    """Our construction alone, when the area's time is already out: the plan ``solve_area``
    would return then (no search runs)."""
    seed = _construct_without_model(problem, stop)
    builder = seed.builder
    assert builder is not None
    builder.delay_pickups()
    elapsed = stop.clock() - began
    out = raw_plan(builder, "LNS", plan_cost(builder), 1, elapsed)
    out.first_plan_s = elapsed
    return out


def strict_model_applies(problem: Problem, params: SolveParams, placed: int) -> bool:
    """Whether OR-Tools searches the strict model (``SolveParams.ortools_model``).

    The full model's drop disjunctions and big-M links make OR-Tools' moves on linked days
    expensive to check; when nothing may be left out anyway and our construction has
    placed every visit, the strict model forbids nothing a valid plan needs and starts
    from a plan that satisfies it.
    """
    return (params.ortools_model == "strict" and bool(problem.visits) and placed == len(problem.visits)
            and all(v.mandatory for v in problem.visits))


def _linked_profile(problem: Problem, params: SolveParams) -> SolveParams:
    """The search settings for days where many visits are linked (see ``lns_share_linked``).

    OR-Tools' local search does not see cross-route links, so there most of its moves are
    rejected late; measured on HHCRSP days (LOG_HHCRSP.md) the best split was half the
    time for our LNS, OR-Tools in one guided local search rather than short rounds, and
    starting OR-Tools from its own PATH_CHEAPEST_ARC plan, which our LNS then takes over.
    An ``lns_share`` of 0 (OR-Tools alone) is kept as given; the default 1 is for general days.
    """
    if not problem.visits or params.lns_share == 0.0:
        return params
    linked = {d.before for d in problem.dependencies} | {d.after for d in problem.dependencies}
    linked |= {v.id for v in problem.visits if v.workers_needed > 1}
    if len(linked) < params.linked_threshold * len(problem.visits):
        return replace(params, ortools_start="construction" if params.ortools_start == "auto" else params.ortools_start)
    start = params.ortools_start
    if start == "auto":
        simple = (not any(s.breaks for w in problem.workers for s in w.shifts)
                  and not any(v.workers_needed > 1 for v in problem.visits) and not problem.rides)
        start = "own" if simple else "construction"
    return replace(params, lns_share=params.lns_share_linked, rr_first_share=1.0, ortools_start=start,
                   first_solution="PATH_CHEAPEST_ARC" if start == "own" else params.first_solution)


def raw_cost(problem: Problem, raw: RawResult) -> int:
    """The objective (``optimizer.objective``) of a raw plan, at the plan's own times."""
    return Objective(problem).cost(timed_routes(problem, raw))


def take_over(ctx: Ctx, builder: Builder, raw: RawResult, own_start: bool) -> None:
    """Let the LNS start from OR-Tools' plan where that is the better start.

    From our construction, OR-Tools only improves on it: its plan is taken if cheaper.  From
    its own first plan it may have left out visits ours placed (even all of them, when its
    first-solution heuristic fails on the links): its routes are taken, the visits it left
    out are put back by our insertion, and if the result is still dearer than our
    construction, the construction stays.
    """
    if not own_start:
        if raw_cost(ctx.problem, raw) > plan_cost(builder):
            log.info("the OR-Tools plan is dearer than our construction; the LNS starts from ours")
        elif not _adopt(ctx, builder, raw):
            log.info("the OR-Tools plan could not be re-timed for the LNS; keeping it aside")
        return
    before = ([r.clone() for r in builder.routes], FixedStarts(builder.fixed), set(builder.placed))
    kept = plan_cost(builder)
    if not _adopt(ctx, builder, raw):
        log.info("the OR-Tools plan could not be re-timed for the LNS; keeping it aside")
        return
    for vi in insertion_order(ctx.problem, builder.pins, builder.eligible):
        if vi not in builder.placed:
            builder.insert(vi)
    builder.drop_orphans()
    if plan_cost(builder) > kept:
        builder.routes, builder.fixed, builder.placed = before
        log.info("OR-Tools' own plan, completed, is dearer than our construction; the LNS starts from ours")


def _adopt(ctx: Ctx, builder: Builder, raw: RawResult) -> bool:
    """Load an OR-Tools plan into the builder (same order; linked visits' starts kept)."""
    linked = {vi for vi, v in enumerate(ctx.problem.visits) if v.workers_needed > 1}
    for d in ctx.problem.dependencies:
        linked |= {builder.index[d.before], builder.index[d.after]}
    fixed = dict(builder.fixed)
    fixed = {vi: s for vi, s in fixed.items() if ctx.problem.visits[vi].id in builder.pins}
    for rr in raw.routes:
        for node, start in zip(rr.nodes, rr.starts):
            vi = ctx.nodes[node].visit_index
            if vi in linked:
                fixed[vi] = start
    changes = [(builder.routes[rr.vehicle], [(ctx.nodes[n].visit_index, ctx.nodes[n].copy) for n in rr.nodes])
               for rr in raw.routes]
    if not builder.time_routes(changes, fixed, work_caps=True):  # type: ignore[arg-type]
        return False
    builder.fixed = FixedStarts(fixed)
    builder.placed = {ctx.nodes[n].visit_index for rr in raw.routes for n in rr.nodes}  # type: ignore[misc]
    return True
