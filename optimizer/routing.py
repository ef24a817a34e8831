"""The OR-Tools routing model: the only module of the project that imports ``ortools``.

Vehicles and nodes as ``optimizer.nodes`` numbers them (a two-person visit's two nodes must
be served at the same minute by different workers; start and end nodes are shared by the
vehicles that begin or finish at the same place).  Each rule of
the problem is added by its own ``add_*`` function, so each can be read (and tested) alone.

Cross-route rules (synchronised starts, dependencies, max working time over split shifts)
are plain CP constraints: OR-Tools' local-search filters do not see them, so moves that
break them are rejected late.  That is correct but slow on problems dense with them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.construct import Construction
from optimizer.model import Problem, TravelMode, Worker
from optimizer.nodes import Node, RawResult, RawRoute, Vehicle, build_nodes
from optimizer.params import Progress, SolveParams
from optimizer.objective import Objective, fair_shares
from optimizer.rules import allowed_workers, effective_pins, frozen_visits, shift_end_limit
from optimizer.stop import StoppingCriterion

log = logging.getLogger(__name__)


@dataclass
class Ctx:
    """Everything the ``add_*`` builders share."""

    problem: Problem
    params: SolveParams
    vehicles: list[Vehicle]
    nodes: list[Node]
    visit_nodes: list[list[int]]
    horizon: int
    manager: pywrapcp.RoutingIndexManager = None  # type: ignore[assignment]
    routing: pywrapcp.RoutingModel = None  # type: ignore[assignment]
    time: pywrapcp.RoutingDimension = None  # type: ignore[assignment]
    service: np.ndarray = None  # type: ignore[assignment]
    """service[v_kind_profile][node] minutes, via ``service_of(vehicle)``."""
    eligible: list[list[int]] = field(default_factory=list)
    """Per visit, the indices of workers allowed to do it (hard rules, pins, frozen work)."""
    break_intervals: dict[int, list[object]] = field(default_factory=dict)
    strict: bool = False
    """Every visit must be served (no drop disjunctions) and links are plain constraints
    without big-M terms: see ``search.strict_model_applies``."""
    cost: Objective = None  # type: ignore[assignment]
    """The objective's terms (``optimizer.objective``), which the model states as drop
    penalties, soft bounds and cost dimensions."""

    def worker(self, v: int) -> Worker:
        return self.problem.workers[self.vehicles[v].worker_index]

    def index(self, node: int) -> int:
        return self.manager.NodeToIndex(node)


def _horizon(problem: Problem) -> int:
    ends = [s.end + s.max_overtime for w in problem.workers for s in w.shifts]
    ends += [tw.end + v.max_lateness for v in problem.visits for tw in v.windows]
    return max(ends + [0]) + 1




# ----------------------------------------------------------------------------- builders


def _service_vector(ctx: Ctx, worker: Worker) -> list[int]:
    visits = ctx.problem.visits
    return [
        visits[n.visit_index].duration_for(worker.kind) if n.visit_index is not None else 0
        for n in ctx.nodes
    ]


def add_time_dimension(ctx: Ctx) -> None:
    """Travel + service transits, one registered matrix per (travel mode, service profile).

    Also sets the arc cost (travel minutes, or distance, times the travel weight) and, when
    waiting costs, the price of slack.
    """
    problem, routing = ctx.problem, ctx.routing
    n = len(ctx.nodes)
    loc_in = np.array([nd.location for nd in ctx.nodes])
    loc_out = np.array([nd.exit_location for nd in ctx.nodes])
    travel_cache: dict[TravelMode, np.ndarray] = {}
    transit_cache: dict[tuple[TravelMode, tuple[int, ...]], int] = {}
    cost_cache: dict[TravelMode, int] = {}
    evaluators: list[int] = []
    weight = problem.weights.travel_minute
    for v in range(len(ctx.vehicles)):
        worker = ctx.worker(v)
        mode = worker.travel_mode
        if mode not in travel_cache:
            matrix = np.asarray(problem.travel_times[mode], dtype=np.int64)
            travel_cache[mode] = matrix[np.ix_(loc_out, loc_in)]
        service = tuple(_service_vector(ctx, worker))
        key = (mode, service)
        if key not in transit_cache:
            transit = travel_cache[mode] + np.asarray(service, dtype=np.int64)[:, None]
            np.fill_diagonal(transit, 0)
            # A visit's own duration still counts when leaving it for a node at the same
            # place: restore service on the diagonal of visit nodes only.
            diag = np.asarray(service, dtype=np.int64)
            transit[np.arange(n), np.arange(n)] = diag
            transit_cache[key] = routing.RegisterTransitMatrix(transit.tolist())
        evaluators.append(transit_cache[key])
        if mode not in cost_cache:
            if ctx.params.arc_cost == "distance":
                base = np.asarray(problem.distances[mode], dtype=np.int64)[np.ix_(loc_out, loc_in)]
                cost = base
            else:
                cost = travel_cache[mode] * max(weight, 0)
            cost_cache[mode] = routing.RegisterTransitMatrix(cost.tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_cache[mode], v)
    routing.AddDimensionWithVehicleTransits(evaluators, ctx.horizon, ctx.horizon, False, "Time")
    ctx.time = routing.GetDimensionOrDie("Time")
    if problem.weights.wait_minute > 0:
        # Slack is waiting plus breaks (a fixed amount per used route): waiting's price.
        ctx.time.SetSlackCostCoefficientForAllVehicles(problem.weights.wait_minute)


def _empty_route_minutes(problem: Problem, worker: Worker) -> int:
    """How long the model's empty route of ``worker`` takes: start place to end place.

    A worker who starts and ends at one place has one node for both, and a node's transit to
    itself is 0 (``add_time_dimension``), whatever the matrix's diagonal says.
    """
    if worker.start_location == worker.end_location:
        return 0
    return problem.travel_times[worker.travel_mode][worker.start_location][worker.end_location]


def add_shifts(ctx: Ctx) -> None:
    """Each route lies inside its shift; minutes past the shift end are soft overtime."""
    ow = ctx.problem.weights.overtime_minute
    for v, veh in enumerate(ctx.vehicles):
        shift = ctx.worker(v).shifts[veh.shift_index]
        start = ctx.time.CumulVar(ctx.routing.Start(v))
        end = ctx.time.CumulVar(ctx.routing.End(v))
        limit = shift_end_limit(ctx.worker(v), veh.shift_index)
        start.SetRange(shift.start, shift.end)
        direct = _empty_route_minutes(ctx.problem, ctx.worker(v))
        if shift.start + direct > limit:
            # Even the empty route (start place straight to end place) does not fit in this
            # shift: let an unused vehicle end late, or OR-Tools would find the whole model
            # infeasible; a used one still ends by the limit.
            end.SetRange(shift.start, shift.start + direct)
            used = ctx.routing.ActiveVehicleVar(v)
            ctx.routing.solver().Add(end <= limit + (shift.start + direct - limit) * (1 - used))
        else:
            end.SetRange(shift.start, limit)
        if shift.max_overtime > 0 and ow > 0:
            ctx.time.SetCumulVarSoftUpperBound(ctx.routing.End(v), shift.end, ow)
        # Leave as late and come back as early as the plan allows: no idle minutes on the
        # clock before the first visit or after the last.
        ctx.routing.AddVariableMaximizedByFinalizer(start)
        ctx.routing.AddVariableMinimizedByFinalizer(end)


def add_max_work(ctx: Ctx) -> None:
    """Cap a worker's working time (leaving the start place to arriving at the end) per day."""
    by_worker: dict[int, list[int]] = {}
    for v, veh in enumerate(ctx.vehicles):
        by_worker.setdefault(veh.worker_index, []).append(v)
    solver = ctx.routing.solver()
    for wi, vs in by_worker.items():
        cap = ctx.problem.workers[wi].max_work_minutes
        if cap is None:
            continue
        direct = _empty_route_minutes(ctx.problem, ctx.problem.workers[wi])
        if len(vs) == 1 and direct <= cap:
            ctx.time.SetSpanUpperBoundForVehicle(cap, vs[0])
            continue
        # An unused shift is no work, but its empty route still spans the direct trip from
        # the start place to the end place: take that off, as the checker counts it.
        spans = [
            ctx.time.CumulVar(ctx.routing.End(v)) - ctx.time.CumulVar(ctx.routing.Start(v))
            - direct * (1 - ctx.routing.ActiveVehicleVar(v))
            for v in vs
        ]
        solver.Add(solver.Sum(spans) <= cap)


def add_time_windows(ctx: Ctx) -> None:
    """Start of service inside a window; gaps between windows are forbidden.

    With soft windows the last window may be overrun by ``max_lateness`` at a cost per minute.
    """
    lw = ctx.problem.weights.lateness_minute
    pins = effective_pins(ctx.problem)
    for vi, visit in enumerate(ctx.problem.visits):
        windows = sorted(visit.windows, key=lambda w: w.start)
        lo = windows[0].start
        hi = windows[-1].end + (visit.max_lateness if visit.soft_windows else 0)
        for node in ctx.visit_nodes[vi]:
            idx = ctx.index(node)
            var = ctx.time.CumulVar(idx)
            var.SetRange(lo, min(hi, ctx.horizon))
            for a, b in zip(windows, windows[1:]):
                if b.start > a.end + 1:
                    var.RemoveInterval(a.end + 1, b.start - 1)
            if visit.soft_windows and visit.max_lateness > 0 and lw > 0 and node == ctx.visit_nodes[vi][0]:
                # Once per visit (its copies start together): a two-person visit is late once.
                ctx.time.SetCumulVarSoftUpperBound(idx, windows[-1].end, lw)
            pinned = pins.get(visit.id, (None, None))[1]
            if pinned is not None:
                if var.Contains(pinned):
                    var.SetValue(pinned)
                else:  # pinned outside every window: it cannot be planned as pinned
                    ctx.routing.ActiveVar(idx).SetValue(0)


PREVIOUS_START_SPREAD = 60
"""OR-Tools' stand-in for the step cost of a moved start: the ``changed_from_previous``
weight spread over this many minutes past the tolerance (see ``add_previous_starts``)."""


def add_previous_starts(ctx: Ctx) -> None:
    """The start part of ``changed_from_previous`` as OR-Tools can state it: soft bounds on each
    previous-plan visit's start, ``previous_start_tolerance`` minutes either side of its previous
    start, each minute beyond costing ``changed_from_previous / PREVIOUS_START_SPREAD``.

    The objective charges a step (kept or not); a cumul variable takes only linear soft
    bounds, so OR-Tools sees this slope instead, which points its search the same way.  Its
    plans are priced by ``optimizer.objective`` afterwards, like every plan.  A visit whose
    late minutes already cost (a soft window) keeps that upper bound: OR-Tools takes one
    soft upper bound per variable.
    """
    w = ctx.problem.weights
    if not ctx.problem.previous_plan or w.changed_from_previous <= 0:
        return
    coefficient = max(1, w.changed_from_previous // PREVIOUS_START_SPREAD)
    tolerance = w.previous_start_tolerance
    frozen = frozen_visits(ctx.problem)
    first: dict[str, int] = {}
    for pv in ctx.problem.previous_plan:
        first[pv.visit_id] = min(pv.start, first.get(pv.visit_id, pv.start))
    for vi, visit in enumerate(ctx.problem.visits):
        start = first.get(visit.id)
        if start is None or visit.id in frozen:
            continue
        late_costs = visit.soft_windows and visit.max_lateness > 0 and w.lateness_minute > 0
        for node in ctx.visit_nodes[vi]:
            idx = ctx.index(node)
            if start > tolerance:
                ctx.time.SetCumulVarSoftLowerBound(idx, start - tolerance, coefficient)
            if not (late_costs and node == ctx.visit_nodes[vi][0]):
                ctx.time.SetCumulVarSoftUpperBound(idx, start + tolerance, coefficient)


def add_allowed_workers(ctx: Ctx) -> None:
    """Restrict each visit node to eligible workers' vehicles (``-1``: the node may be dropped).

    ``SetAllowedVehiclesForIndex`` rejects Python lists in OR-Tools 9.15, so the vehicle
    variable's domain is restricted directly.
    """
    by_worker: dict[int, list[int]] = {}
    for v, veh in enumerate(ctx.vehicles):
        by_worker.setdefault(veh.worker_index, []).append(v)
    ctx.eligible = allowed_workers(ctx.problem)
    for vi, workers in enumerate(ctx.eligible):
        allowed = [v for wi in workers for v in by_worker.get(wi, [])]
        if len(allowed) == len(ctx.vehicles):
            continue
        for node in ctx.visit_nodes[vi]:
            ctx.routing.VehicleVar(ctx.index(node)).SetValues(allowed if ctx.strict else [-1] + allowed)


def add_drop_penalties(ctx: Ctx) -> None:
    """Every visit may be dropped at the objective's price (``Objective.drop``): mandatory
    ones at a price nothing else reaches.

    Allowing drops keeps the search feasible on tight days (plain OR-Tools finds no first
    solution on Solomon R101 otherwise); dropped visits are reported with a reason.
    """
    if ctx.strict:
        return
    solver = ctx.routing.solver()
    for vi in range(len(ctx.problem.visits)):
        nodes = ctx.visit_nodes[vi]
        penalty = ctx.cost.drop(vi)
        share = max(1, penalty // len(nodes))
        for node in nodes:
            ctx.routing.AddDisjunction([ctx.index(node)], share)
        first = ctx.routing.ActiveVar(ctx.index(nodes[0]))
        for other in nodes[1:]:
            solver.Add(first == ctx.routing.ActiveVar(ctx.index(other)))


def add_synchronised_visits(ctx: Ctx) -> None:
    """Two-person visits: both nodes start at the same minute with two different workers.

    Ordering the two workers (worker of copy 0 < worker of copy 1) both forbids the same
    worker twice (also across split shifts) and removes the symmetric duplicate plans.
    """
    solver = ctx.routing.solver()
    worker_of = [-1] + [veh.worker_index for veh in ctx.vehicles]
    for vi, visit in enumerate(ctx.problem.visits):
        nodes = ctx.visit_nodes[vi]
        if len(nodes) < 2:
            continue
        idx = [ctx.index(n) for n in nodes]
        for a, b in zip(idx, idx[1:]):
            solver.Add(ctx.time.CumulVar(a) == ctx.time.CumulVar(b))
            wa = solver.Element(worker_of, ctx.routing.VehicleVar(a) + 1)
            wb = solver.Element(worker_of, ctx.routing.VehicleVar(b) + 1)
            solver.Add(solver.IsLessVar(wa, wb) >= ctx.routing.ActiveVar(a))


def add_dependencies(ctx: Ctx) -> None:
    """``after`` starts within [min, max] minutes of ``before``; ``after`` needs ``before`` placed;
    pairs marked ``different_workers`` go to two workers (also across split shifts)."""
    solver = ctx.routing.solver()
    index_of = {v.id: i for i, v in enumerate(ctx.problem.visits)}
    big = 2 * ctx.horizon
    worker_of = [-1] + [veh.worker_index for veh in ctx.vehicles]
    one_vehicle_each = len({veh.worker_index for veh in ctx.vehicles}) == len(ctx.vehicles)
    for dep in ctx.problem.dependencies:
        a = ctx.index(ctx.visit_nodes[index_of[dep.before]][0])
        b = ctx.index(ctx.visit_nodes[index_of[dep.after]][0])
        ca, cb = ctx.time.CumulVar(a), ctx.time.CumulVar(b)
        if ctx.strict:  # both always served: the plain constraints, which propagate at once
            solver.Add(cb - ca >= dep.min_delay)
            if dep.max_delay is not None:
                solver.Add(cb - ca <= dep.max_delay)
        else:
            active_b = ctx.routing.ActiveVar(b)
            if dep.both_or_neither:
                solver.Add(active_b == ctx.routing.ActiveVar(a))
            else:
                solver.Add(active_b <= ctx.routing.ActiveVar(a))
            solver.Add(cb - ca >= dep.min_delay - big * (1 - active_b))
            if dep.max_delay is not None:
                solver.Add(cb - ca <= dep.max_delay + big * (1 - active_b))
        if dep.different_workers:
            for node_a in ctx.visit_nodes[index_of[dep.before]]:
                for node_b in ctx.visit_nodes[index_of[dep.after]]:
                    ia, ib = ctx.index(node_a), ctx.index(node_b)
                    if ctx.strict and one_vehicle_each:
                        solver.Add(ctx.routing.VehicleVar(ia) != ctx.routing.VehicleVar(ib))
                        continue
                    wa = solver.Element(worker_of, ctx.routing.VehicleVar(ia) + 1)
                    wb = solver.Element(worker_of, ctx.routing.VehicleVar(ib) + 1)
                    solver.Add(solver.IsDifferentVar(wa, wb) >= ctx.routing.ActiveVar(ib))


def add_breaks(ctx: Ctx) -> None:
    """Breaks between visits (never inside one), inside the route's span and their window.

    A break is taken only by a worker who works: the interval is optional and performed
    exactly when the vehicle is used.  (A mandatory break on an unused vehicle makes the
    OR-Tools break constraint fail whole searches: google/or-tools#1243.)
    """
    solver = ctx.routing.solver()
    for v, veh in enumerate(ctx.vehicles):
        worker = ctx.worker(v)
        shift = worker.shifts[veh.shift_index]
        if not shift.breaks:
            continue
        used = ctx.routing.ActiveVehicleVar(v)
        start = ctx.time.CumulVar(ctx.routing.Start(v))
        end = ctx.time.CumulVar(ctx.routing.End(v))
        intervals = []
        for k, rule in enumerate(shift.breaks):
            interval = solver.FixedDurationIntervalVar(
                rule.earliest, rule.latest, rule.duration, True, f"break_{v}_{k}"
            )
            solver.Add(interval.PerformedExpr() == used)
            solver.Add(start <= interval.SafeStartExpr(ctx.horizon))
            solver.Add(end >= interval.SafeEndExpr(0))
            intervals.append(interval)
        for a, b in zip(intervals, intervals[1:]):
            solver.Add(b.SafeStartExpr(ctx.horizon) >= a.SafeEndExpr(0))
        service = _service_vector(ctx, worker)
        visit_transits = [0] * ctx.routing.Size()
        for index in range(ctx.routing.Size()):
            node = ctx.manager.IndexToNode(index)
            visit_transits[index] = service[node]
        ctx.time.SetBreakIntervalsOfVehicle(intervals, v, visit_transits)
        ctx.break_intervals[v] = intervals


def add_capacities(ctx: Ctx) -> None:
    """Named capacities (Solomon demand, seats): the sum over a route fits the worker's."""
    keys = sorted({k for v in ctx.problem.visits for k in v.demand})
    for key in keys:
        demand = [
            ctx.problem.visits[n.visit_index].demand.get(key, 0) if n.visit_index is not None else 0
            for n in ctx.nodes
        ]
        # Indexed by routing index, not node: unary vectors take node-indexed values.
        cb = ctx.routing.RegisterUnaryTransitVector(demand)
        caps = [ctx.worker(v).capacity.get(key, 0) for v in range(len(ctx.vehicles))]
        ctx.routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, f"cap:{key}")


def add_rides(ctx: Ctx) -> None:
    """Rides: pickup and drop-off on one route, pickup first; at every stop the passengers on
    board fit the car (one dimension per kind of room); the ride time is capped."""
    rides = ctx.problem.rides
    if not rides:
        return
    routing, solver = ctx.routing, ctx.routing.solver()
    index_of = {v.id: i for i, v in enumerate(ctx.problem.visits)}
    kinds = {w.kind for w in ctx.problem.workers}
    for key in sorted({k for r in rides for k in r.load}):
        delta = [0] * len(ctx.nodes)
        for r in rides:
            delta[ctx.visit_nodes[index_of[r.pickup]][0]] += r.load.get(key, 0)
            delta[ctx.visit_nodes[index_of[r.dropoff]][0]] -= r.load.get(key, 0)
        cb = routing.RegisterUnaryTransitVector(delta)
        caps = [ctx.worker(v).capacity.get(key, 0) for v in range(len(ctx.vehicles))]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, f"ride:{key}")
    for r in rides:
        pickup = ctx.problem.visits[index_of[r.pickup]]
        ip = ctx.index(ctx.visit_nodes[index_of[r.pickup]][0])
        idrop = ctx.index(ctx.visit_nodes[index_of[r.dropoff]][0])
        routing.AddPickupAndDelivery(ip, idrop)
        solver.Add(routing.VehicleVar(ip) == routing.VehicleVar(idrop))
        solver.Add(routing.ActiveVar(ip) == routing.ActiveVar(idrop))
        solver.Add(ctx.time.CumulVar(ip) <= ctx.time.CumulVar(idrop))
        if r.max_ride_time is not None:
            # The shortest pickup service of any kind of worker: never looser than the truth.
            service = min(pickup.duration_for(k) for k in kinds) if kinds else pickup.duration
            solver.Add(ctx.time.CumulVar(idrop) - ctx.time.CumulVar(ip) <= service + r.max_ride_time)


MATRIX_BUDGET = 30_000_000
"""Entries of per-vehicle node matrices we accept before falling back to Python callbacks."""


def _per_vehicle_dimension(ctx: Ctx, vectors: list[list[int]], name: str, capacity: int) -> pywrapcp.RoutingDimension:
    """A dimension whose transit leaving node i on vehicle v is ``vectors[v][i]``.

    Unary evaluators are wrong in ``AddDimensionWithVehicleTransits`` (OR-Tools 9.15 rejects
    valid routes), so each distinct vector becomes a binary transit matrix (row i constant),
    or a Python callback when the matrices would not fit in memory.
    """
    cache: dict[tuple[int, ...], int] = {}
    n = len(ctx.nodes)
    distinct = {tuple(v) for v in vectors}
    use_matrix = n * n * len(distinct) <= MATRIX_BUDGET
    evaluators = []
    for vec in vectors:
        key = tuple(vec)
        if key not in cache:
            if len(distinct) == 1:
                cache[key] = ctx.routing.RegisterUnaryTransitVector(list(vec))
            elif use_matrix:
                row = np.asarray(vec, dtype=np.int64)
                cache[key] = ctx.routing.RegisterTransitMatrix(np.repeat(row[:, None], n, axis=1).tolist())
            else:
                manager = ctx.manager
                cache[key] = ctx.routing.RegisterTransitCallback(
                    lambda i, j, vec=key: vec[manager.IndexToNode(i)]
                )
        evaluators.append(cache[key])
    if len(distinct) == 1:
        ctx.routing.AddDimension(evaluators[0], 0, capacity, True, name)
    else:
        ctx.routing.AddDimensionWithVehicleTransits(evaluators, 0, capacity, True, name)
    return ctx.routing.GetDimensionOrDie(name)


def add_preferences(ctx: Ctx) -> None:
    """Soft per-(visit, worker) costs (continuity, gender, stability) as a cost dimension."""
    by_worker: dict[int, list[int]] = {}
    for wi, worker in enumerate(ctx.problem.workers):
        by_worker[wi] = [
            ctx.cost.assignment(ctx.problem.visits[n.visit_index], worker)
            if n.visit_index is not None
            else 0
            for n in ctx.nodes
        ]
    vectors = [by_worker[veh.worker_index] for veh in ctx.vehicles]
    if not any(any(vec) for vec in vectors):
        return
    big = sum(max(vec) for vec in vectors) * len(ctx.nodes) + 1
    dim = _per_vehicle_dimension(ctx, vectors, "Preference", min(big, 2**62))
    dim.SetSpanCostCoefficientForAllVehicles(1)


def add_balance(ctx: Ctx) -> None:
    """Quadratic cost on service minutes above each shift's fair share (workload balance)."""
    weight = ctx.problem.weights.imbalance
    if weight <= 0 or not ctx.problem.visits:
        return
    vectors = [_service_vector(ctx, ctx.worker(v)) for v in range(len(ctx.vehicles))]
    load = _per_vehicle_dimension(ctx, vectors, "Load", ctx.horizon * 4)
    share = fair_shares(ctx.problem)
    for v, veh in enumerate(ctx.vehicles):
        bound_cost = pywrapcp.BoundCost(share[(veh.worker_index, veh.shift_index)], weight)
        load.SetQuadraticCostSoftSpanUpperBoundForVehicle(bound_cost, v)


BUILDERS = (
    add_time_dimension,
    add_shifts,
    add_max_work,
    add_time_windows,
    add_previous_starts,
    add_allowed_workers,
    add_drop_penalties,
    add_synchronised_visits,
    add_dependencies,
    add_breaks,
    add_capacities,
    add_rides,
    add_preferences,
    add_balance,
)


# ----------------------------------------------------------------------------- search


def search_parameters(params: SolveParams, stop: StoppingCriterion) -> pywrapcp.DefaultRoutingSearchParameters:
    """OR-Tools' search parameters for ``params``, time-limited by ``stop``'s deadline (or, without
    one, by ``params.safety_time_limit_s``)."""
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution
    )
    # Without a time limit, guided local search never stops on its own (it keeps
    # penalising and re-searching): such runs use greedy descent, which ends at a local
    # optimum and keeps solution-limited runs deterministic.
    left = stop.remaining()
    metaheuristic = params.metaheuristic if left is not None else "GREEDY_DESCENT"
    sp.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    limit = left if left is not None else params.safety_time_limit_s
    sp.time_limit.FromMilliseconds(int(limit * 1000))
    if params.solution_limit is not None:
        sp.solution_limit = params.solution_limit
    sp.guided_local_search_lambda_coefficient = params.guided_local_search_lambda
    sp.use_full_propagation = params.use_full_propagation
    return sp


def build_model(problem: Problem, params: SolveParams, strict: bool = False) -> Ctx:
    vehicles, nodes, visit_nodes, starts, ends = build_nodes(problem)
    ctx = Ctx(problem, params, vehicles, nodes, visit_nodes, _horizon(problem), strict=strict,
              cost=Objective(problem))
    ctx.manager = pywrapcp.RoutingIndexManager(len(nodes), len(vehicles), starts, ends)
    ctx.routing = pywrapcp.RoutingModel(ctx.manager)
    for builder in BUILDERS:
        builder(ctx)
    return ctx
















def search_ortools(ctx: Ctx, seed: Construction, search, params: SolveParams, stop: StoppingCriterion) -> RawResult | None:
    """OR-Tools guided local search from our construction (or its own first solution), ended
    early when ``stop`` says so (checked at each solution: a cancel, a deadline)."""
    routing = ctx.routing
    found = [0]
    initial = None
    if seed.placed and params.ortools_start != "own":  # "own": our construction seeds only the LNS
        # Only the Next variables: ReadAssignmentFromRoutes also stores propagated values of
        # break intervals, which the search then restores and fails on.
        initial = routing.solver().Assignment()
        if not routing.RoutesToAssignment(
            [[ctx.index(ctx.visit_nodes[vi][c]) for vi, c in r.stops] for r in seed.routes], True, True, initial
        ):
            initial = None
            log.warning("the constructed first plan could not be loaded; using OR-Tools' own")
    if initial is None and ctx.strict:
        # OR-Tools' own first-solution heuristics may search the whole time limit in vain
        # when nothing can be left out (the plain model of issue #8 does, on some days).
        log.warning("the strict model has no first plan to start from; OR-Tools skipped")
        return None
    best = [None]

    def on_solution() -> None:
        found[0] += 1
        cost = int(routing.CostVar().Value())
        improved = best[0] is None or cost < best[0]
        if improved:
            best[0] = cost
        if params.on_progress is not None and improved:
            placed = sum(
                1 for nodes in ctx.visit_nodes if routing.NextVar(ctx.index(nodes[0])).Value() != ctx.index(nodes[0])
            )
            params.on_progress(
                Progress(found[0], cost, placed, len(ctx.problem.visits), routing.solver().WallTime() / 1000.0)
            )
        if stop():
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(on_solution)
    solver_start = routing.solver().WallTime()
    if initial is not None:
        assignment = routing.SolveFromAssignmentWithParameters(initial, search)
    else:
        assignment = routing.SolveWithParameters(search)
    elapsed = (routing.solver().WallTime() - solver_start) / 1000.0
    status = _STATUS.get(routing.status(), str(routing.status()))
    log.info("OR-Tools: %s, %d solutions in %.1f s", status, found[0], elapsed)
    if assignment is None:
        return None
    return extract(ctx, assignment, status, found[0], elapsed)


_STATUS = {
    0: "NOT_SOLVED",
    1: "SUCCESS",
    2: "PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED",
    3: "FAIL",
    4: "FAIL_TIMEOUT",
    5: "INVALID",
    6: "INFEASIBLE",
    7: "OPTIMAL",
}


@dataclass(frozen=True)
class PlainRun:
    """``search_alone``: the plan (None if OR-Tools found none), OR-Tools' status, seconds to
    its first solution (None without one) and seconds searched."""

    raw: RawResult | None
    status: str
    first_solution_s: float | None
    search_s: float


def search_alone(problem: Problem, params: SolveParams, time_limit_s: float,
                 first_solution: str = "PATH_CHEAPEST_ARC", metaheuristic: str = "GUIDED_LOCAL_SEARCH") -> PlainRun:
    """Our OR-Tools model searched by OR-Tools alone: OR-Tools' default search parameters
    with ``first_solution`` and ``metaheuristic``, no construction to start from, no ruin
    and recreate, no LNS (the "plain OR-Tools" peer of the benchmarks).  ``time_limit_s``
    covers building the model and searching (at least 0.1 s of search); the seconds to the
    first solution count from the call."""
    began = time.monotonic()
    ctx = build_model(problem, params)
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first_solution)
    search.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    search.time_limit.FromMilliseconds(int(max(0.1, time_limit_s - (time.monotonic() - began)) * 1000))
    routing = ctx.routing
    found: list[float] = []
    routing.AddAtSolutionCallback(lambda: found.append(time.monotonic() - began) if not found else None)
    solved_at = time.monotonic()
    assignment = routing.SolveWithParameters(search)
    searched = time.monotonic() - solved_at
    status = _STATUS.get(routing.status(), str(routing.status()))
    if assignment is None:
        return PlainRun(None, status, None, searched)
    return PlainRun(extract(ctx, assignment, status, len(found), searched), status,
                    found[0] if found else None, searched)




def extract(ctx: Ctx, assignment, status: str, found: int, elapsed: float) -> RawResult:
    routing, time = ctx.routing, ctx.time
    routes: list[RawRoute] = []
    served: set[int] = set()
    for v in range(len(ctx.vehicles)):
        index = routing.Start(v)
        route_start = assignment.Value(time.CumulVar(index))
        nodes, starts = [], []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = ctx.manager.IndexToNode(index)
            nodes.append(node)
            starts.append(assignment.Value(time.CumulVar(index)))
            served.add(ctx.nodes[node].visit_index)  # type: ignore[arg-type]
            index = assignment.Value(routing.NextVar(index))
        route_end = assignment.Value(time.CumulVar(index))
        breaks = []
        for interval in ctx.break_intervals.get(v, []):
            if assignment.PerformedValue(interval):
                s = assignment.StartValue(interval)
                breaks.append((s, s + assignment.DurationValue(interval)))
        routes.append(RawRoute(v, nodes, starts, route_start, route_end, breaks))
    dropped = [vi for vi in range(len(ctx.problem.visits)) if vi not in served]
    return RawResult(status, int(assignment.ObjectiveValue()), routes, dropped, found, elapsed)


