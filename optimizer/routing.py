"""The OR-Tools routing model: the only module of the project that imports ``ortools``.

One vehicle per (worker, shift); one node per visit and worker it needs (a two-person
visit has two nodes that must be served at the same minute by different workers); start
and end nodes shared by the vehicles that begin or finish at the same place.  Each rule of
the problem is added by its own ``add_*`` function, so each can be read (and tested) alone.

Cross-route rules (synchronised starts, dependencies, max working time over split shifts)
are plain CP constraints: OR-Tools' local-search filters do not see them, so moves that
break them are rejected late.  That is correct but slow on problems dense with them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.model import (
    BreakTaken,
    Problem,
    Route,
    Stop,
    TravelMode,
    Visit,
    Worker,
)
from optimizer.construct import Builder, Construction, construct, effective_pins, insertion_order
from optimizer.rules import drop_penalty, eligible_workers, fair_shares, preference_costs, shift_end_limit
from optimizer.lns import improve, plan_cost
from optimizer.params import Progress, SolveParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vehicle:
    worker_index: int
    shift_index: int


@dataclass(frozen=True)
class Node:
    """A routing node: a visit slot, or a start/end place."""

    location: int
    exit_location: int
    visit_index: int | None = None
    copy: int = 0


@dataclass
class RawRoute:
    vehicle: int
    nodes: list[int]
    starts: list[int]
    route_start: int
    route_end: int
    breaks: list[tuple[int, int]]


@dataclass
class RawResult:
    status: str
    objective: int
    routes: list[RawRoute]
    dropped_visits: list[int]
    solutions_found: int
    elapsed_s: float


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
    without big-M terms: see ``strict_model_applies``."""

    def worker(self, v: int) -> Worker:
        return self.problem.workers[self.vehicles[v].worker_index]

    def index(self, node: int) -> int:
        return self.manager.NodeToIndex(node)


def _horizon(problem: Problem) -> int:
    ends = [s.end + s.max_overtime for w in problem.workers for s in w.shifts]
    ends += [tw.end + v.max_lateness for v in problem.visits for tw in v.windows]
    return max(ends + [0]) + 1


def build_nodes(problem: Problem) -> tuple[list[Vehicle], list[Node], list[list[int]], list[int], list[int]]:
    """Vehicles, nodes, node ids per visit, and per vehicle its start and end node."""
    vehicles = [
        Vehicle(wi, si) for wi, w in enumerate(problem.workers) for si, _ in enumerate(w.shifts)
    ]
    nodes: list[Node] = []
    visit_nodes: list[list[int]] = []
    for vi, visit in enumerate(problem.visits):
        ids = []
        for c in range(max(1, visit.workers_needed)):
            ids.append(len(nodes))
            nodes.append(Node(visit.location, visit.exit_location, vi, c))
        visit_nodes.append(ids)
    place_node: dict[int, int] = {}

    def place(loc: int) -> int:
        if loc not in place_node:
            place_node[loc] = len(nodes)
            nodes.append(Node(loc, loc))
        return place_node[loc]

    starts = [place(problem.workers[v.worker_index].start_location) for v in vehicles]
    ends = [place(problem.workers[v.worker_index].end_location) for v in vehicles]
    return vehicles, nodes, visit_nodes, starts, ends


# ----------------------------------------------------------------------------- builders


def _service_vector(ctx: Ctx, worker: Worker) -> list[int]:
    visits = ctx.problem.visits
    return [
        visits[n.visit_index].duration_for(worker.kind) if n.visit_index is not None else 0
        for n in ctx.nodes
    ]


def add_time_dimension(ctx: Ctx) -> None:
    """Travel + service transits, one registered matrix per (travel mode, service profile).

    Also sets the arc cost: travel minutes (or distance) times the travel weight.
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
            if visit.soft_windows and visit.max_lateness > 0 and lw > 0:
                ctx.time.SetCumulVarSoftUpperBound(idx, windows[-1].end, lw)
            pinned = pins.get(visit.id, (None, None))[1]
            if pinned is not None:
                if var.Contains(pinned):
                    var.SetValue(pinned)
                else:  # pinned outside every window: it cannot be planned as pinned
                    ctx.routing.ActiveVar(idx).SetValue(0)


def add_allowed_workers(ctx: Ctx) -> None:
    """Restrict each visit node to eligible workers' vehicles (``-1``: the node may be dropped).

    ``SetAllowedVehiclesForIndex`` rejects Python lists in OR-Tools 9.15, so the vehicle
    variable's domain is restricted directly.
    """
    by_worker: dict[int, list[int]] = {}
    for v, veh in enumerate(ctx.vehicles):
        by_worker.setdefault(veh.worker_index, []).append(v)
    pins = effective_pins(ctx.problem)
    ctx.eligible = []
    for vi, visit in enumerate(ctx.problem.visits):
        workers = eligible_workers(ctx.problem, visit)
        pinned = pins.get(visit.id, (frozenset(), None))[0]
        if pinned:
            workers = [wi for wi in workers if ctx.problem.workers[wi].id in pinned]
        ctx.eligible.append(workers)
        allowed = [v for wi in workers for v in by_worker.get(wi, [])]
        if len(allowed) == len(ctx.vehicles):
            continue
        for node in ctx.visit_nodes[vi]:
            ctx.routing.VehicleVar(ctx.index(node)).SetValues(allowed if ctx.strict else [-1] + allowed)


def add_drop_penalties(ctx: Ctx) -> None:
    """Every visit may be dropped at a price: mandatory ones at a price nothing else reaches.

    Allowing drops keeps the search feasible on tight days (plain OR-Tools finds no first
    solution on Solomon R101 otherwise); dropped visits are reported with a reason.
    """
    if ctx.strict:
        return
    solver = ctx.routing.solver()
    pins = effective_pins(ctx.problem)
    for vi, visit in enumerate(ctx.problem.visits):
        nodes = ctx.visit_nodes[vi]
        penalty = drop_penalty(ctx.problem, visit, visit.id in pins)
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
    previous = {pv.visit_id: pv.worker_id for pv in ctx.problem.previous_plan}
    by_worker: dict[int, list[int]] = {}
    for wi, worker in enumerate(ctx.problem.workers):
        by_worker[wi] = [
            preference_costs(ctx.problem, ctx.problem.visits[n.visit_index], worker, previous)
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
    share = {(wi, si): m for wi, si, m in fair_shares(ctx.problem)}
    for v, veh in enumerate(ctx.vehicles):
        bound_cost = pywrapcp.BoundCost(share[(veh.worker_index, veh.shift_index)], weight)
        load.SetQuadraticCostSoftSpanUpperBoundForVehicle(bound_cost, v)


BUILDERS = (
    add_time_dimension,
    add_shifts,
    add_max_work,
    add_time_windows,
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


def _search_parameters(params: SolveParams) -> pywrapcp.DefaultRoutingSearchParameters:
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution
    )
    # Without a time limit, guided local search never stops on its own (it keeps
    # penalising and re-searching): such runs use greedy descent, which ends at a local
    # optimum and keeps solution-limited runs deterministic.
    metaheuristic = params.metaheuristic if params.time_limit_s is not None else "GREEDY_DESCENT"
    sp.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    limit = params.time_limit_s if params.time_limit_s is not None else params.safety_time_limit_s
    sp.time_limit.FromMilliseconds(int(limit * 1000))
    if params.solution_limit is not None:
        sp.solution_limit = params.solution_limit
    sp.guided_local_search_lambda_coefficient = params.guided_local_search_lambda
    sp.use_full_propagation = params.use_full_propagation
    return sp


def build_model(problem: Problem, params: SolveParams, strict: bool = False) -> Ctx:
    vehicles, nodes, visit_nodes, starts, ends = build_nodes(problem)
    ctx = Ctx(problem, params, vehicles, nodes, visit_nodes, _horizon(problem), strict=strict)
    ctx.manager = pywrapcp.RoutingIndexManager(len(nodes), len(vehicles), starts, ends)
    ctx.routing = pywrapcp.RoutingModel(ctx.manager)
    for builder in BUILDERS:
        builder(ctx)
    return ctx


def solve_routing(problem: Problem, params: SolveParams) -> RawResult:
    """Construct, search with OR-Tools, then with our LNS; return the cheaper plan.

    Time is shared: OR-Tools gets ``1 - lns_share`` of the limit, our LNS what is left.
    OR-Tools starts from our construction (its own first-solution heuristics cannot place
    two-person visits); its result is handed to the LNS, which sees cross-route rules.
    """
    began = time.monotonic()
    if not problem.workers:
        return RawResult("NO_WORKERS", 0, [], list(range(len(problem.visits))), 0, 0.0)
    params = _linked_profile(problem, params)
    ctx = build_model(problem, params)
    search = _search_parameters(params)
    ctx.routing.CloseModelWithParameters(search)
    seed = construct(problem, [(v.worker_index, v.shift_index) for v in ctx.vehicles], ctx.eligible)
    builder = seed.builder
    assert builder is not None
    search_ctx = ctx
    if strict_model_applies(problem, params, len(builder.placed)):
        search_ctx = build_model(problem, params, strict=True)
        search_ctx.routing.CloseModelWithParameters(search)
        params = replace(params, ortools_start="construction", rr_first_share=1.0)
        log.info("OR-Tools searches the strict model (every visit served)")
    or_result: RawResult | None = None
    or_share = 1.0 - params.lns_share
    if params.time_limit_s is None or or_share > 0:
        or_deadline = None if params.time_limit_s is None else began + params.time_limit_s * or_share
        if or_deadline is not None:
            first = (or_deadline - time.monotonic()) * params.rr_first_share
            search.time_limit.FromMilliseconds(int(max(0.1, first) * 1000))
        or_result = _search_ortools(search_ctx, seed, search, params)
        if or_result is not None and or_deadline is not None and not search_ctx.strict:
            # (Its rounds take visits out, which the strict model cannot express.)
            from optimizer.recreate import ruin_and_recreate

            or_result = ruin_and_recreate(search_ctx, or_result, params, or_deadline)
        if or_result is not None:
            _take_over(ctx, builder, or_result, own_start=params.ortools_start == "own")
    lns_budget = None if params.time_limit_s is None else params.time_limit_s - (time.monotonic() - began)
    lns_rounds = params.lns_iterations if params.lns_iterations is not None else (
        100 if params.time_limit_s is None else None)
    lns_ran = params.lns_share > 0 and (lns_budget is None or lns_budget > 0.05)
    if lns_ran:
        offset = time.monotonic() - began

        def report(rounds: int, cost: int, placed: int, seconds: float) -> None:
            if params.on_progress is not None:
                params.on_progress(Progress(rounds, cost, placed, len(problem.visits), offset + seconds))

        stats = improve(builder, seed=params.seed, iterations=lns_rounds, time_budget_s=lns_budget,
                        on_improvement=report, should_stop=params.should_stop)
        log.info("LNS: %d rounds, %d improvements, cost %d -> %d", stats.iterations, stats.improvements,
                 stats.start_cost, stats.best_cost)
    builder.delay_pickups()
    elapsed = time.monotonic() - began
    own = _from_construction(ctx, builder, "LNS", elapsed)
    own.solutions_found = 1 + (stats.improvements if lns_ran else 0)
    if or_result is not None and raw_cost(problem, ctx, or_result) < plan_cost(builder):
        or_result.elapsed_s = elapsed
        return or_result
    if or_result is not None:
        own.status = f"{or_result.status}+LNS" if lns_ran else or_result.status
        own.solutions_found += or_result.solutions_found
    return own


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
    An explicit all-or-nothing ``lns_share`` (0 or 1) is kept as given.
    """
    if not problem.visits or params.lns_share in (0.0, 1.0):
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


def raw_cost(problem: Problem, ctx: Ctx, raw: RawResult) -> int:
    """``lns.plan_cost`` of a raw OR-Tools plan: drops, travel, lost continuity, balance,
    lateness and overtime at the plan's own times, and the largest lateness."""
    pins = effective_pins(problem)
    previous = {pv.visit_id: pv.worker_id for pv in problem.previous_plan}
    shares = {(wi, si): m for wi, si, m in fair_shares(problem)}
    w = problem.weights
    cost = sum(drop_penalty(problem, problem.visits[vi], problem.visits[vi].id in pins) for vi in raw.dropped_visits)
    worst_late = 0
    for rr in raw.routes:
        if not rr.nodes:
            continue
        worker = ctx.worker(rr.vehicle)
        matrix = problem.travel_times[worker.travel_mode]
        loc = worker.start_location
        for node in rr.nodes:
            nd = ctx.nodes[node]
            cost += matrix[loc][nd.location] * w.travel_minute
            loc = nd.exit_location
            visit = problem.visits[nd.visit_index]  # type: ignore[index]
            cost += preference_costs(problem, visit, worker, previous)
        cost += matrix[loc][worker.end_location] * w.travel_minute
        for node, start in zip(rr.nodes, rr.starts):
            late = _late(problem.visits[ctx.nodes[node].visit_index], start)  # type: ignore[index]
            cost += late * w.lateness_minute
            worst_late = max(worst_late, late)
        shift = worker.shifts[ctx.vehicles[rr.vehicle].shift_index]
        cost += max(0, rr.route_end - shift.end) * w.overtime_minute
        if w.imbalance > 0:
            service = sum(problem.visits[ctx.nodes[n].visit_index].duration_for(worker.kind) for n in rr.nodes)  # type: ignore[index]
            excess = service - shares[(ctx.vehicles[rr.vehicle].worker_index, ctx.vehicles[rr.vehicle].shift_index)]
            cost += w.imbalance * excess * excess if excess > 0 else 0
    return cost + worst_late * w.max_lateness_minute


def _late(visit, start: int) -> int:
    """Minutes a soft-window visit starts after its last window's end."""
    return max(0, start - max(tw.end for tw in visit.windows)) if visit.soft_windows else 0


def _take_over(ctx: Ctx, builder: Builder, raw: RawResult, own_start: bool) -> None:
    """Let the LNS start from OR-Tools' plan where that is the better start.

    From our construction, OR-Tools only improves on it: its plan is taken if cheaper.  From
    its own first plan it may have left out visits ours placed (even all of them, when its
    first-solution heuristic fails on the links): its routes are taken, the visits it left
    out are put back by our insertion, and if the result is still dearer than our
    construction, the construction stays.
    """
    if not own_start:
        if raw_cost(ctx.problem, ctx, raw) > plan_cost(builder):
            log.info("the OR-Tools plan is dearer than our construction; the LNS starts from ours")
        elif not _adopt(ctx, builder, raw):
            log.info("the OR-Tools plan could not be re-timed for the LNS; keeping it aside")
        return
    before = ([r.clone() for r in builder.routes], dict(builder.fixed), set(builder.placed))
    kept = plan_cost(builder)
    if not _adopt(ctx, builder, raw):
        log.info("the OR-Tools plan could not be re-timed for the LNS; keeping it aside")
        return
    for vi in insertion_order(ctx.problem, builder.pins):
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
    sims = []
    for rr in raw.routes:
        route = builder.routes[rr.vehicle]
        stops = [(ctx.nodes[n].visit_index, ctx.nodes[n].copy) for n in rr.nodes]
        sim = builder.simulate(route, stops, fixed)  # type: ignore[arg-type]
        if sim is None:
            return False
        sims.append((route, stops, sim, list(builder.last_breaks)))
    worked: dict[int, int] = {}
    for route, stops, (_, departure, end, _), _ in sims:
        if stops:
            worked[route.worker_index] = worked.get(route.worker_index, 0) + (end - departure)
    for wi, minutes in worked.items():
        cap = ctx.problem.workers[wi].max_work_minutes
        if cap is not None and minutes > cap:
            return False
    for route, stops, (starts, departure, end, travel), breaks in sims:
        route.stops, route.starts, route.departure, route.end, route.travel = stops, starts, departure, end, travel
        route.span = end - departure if stops else 0
        route.breaks = breaks
    builder.fixed = fixed
    builder.placed = {ctx.nodes[n].visit_index for rr in raw.routes for n in rr.nodes}  # type: ignore[misc]
    return True


def _search_ortools(ctx: Ctx, seed: Construction, search, params: SolveParams) -> RawResult | None:
    """OR-Tools guided local search from our construction (or its own first solution)."""
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
        if params.should_stop is not None and params.should_stop():
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
    return _extract(ctx, assignment, status, found[0], elapsed)


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


def _from_construction(ctx: Ctx, builder: Builder, status: str, elapsed: float) -> RawResult:
    """The builder's plan (construction improved by the LNS) as a raw result."""
    routes = [
        RawRoute(r.vehicle, [ctx.visit_nodes[vi][c] for vi, c in r.stops], list(r.starts),
                 r.departure, r.end, list(r.breaks))
        for r in builder.routes
    ]
    dropped = [vi for vi in range(len(ctx.problem.visits)) if vi not in builder.placed]
    return RawResult(status, plan_cost(builder), routes, dropped, 1, elapsed)


def _extract(ctx: Ctx, assignment, status: str, found: int, elapsed: float) -> RawResult:
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


def to_routes(problem: Problem, raw: RawResult) -> list[Route]:
    """Turn raw node sequences into timed routes with arrival, waiting and travel per stop."""
    vehicles, nodes, *_ = build_nodes(problem)
    visits = problem.visit_by_id()
    out = []
    for rr in raw.routes:
        veh = vehicles[rr.vehicle]
        worker = problem.workers[veh.worker_index]
        shift = worker.shifts[veh.shift_index]
        matrix = problem.travel_times[worker.travel_mode]
        stops: list[Stop] = []
        prev_loc, prev_end = worker.start_location, rr.route_start
        breaks = sorted(rr.breaks)
        travel_total = service_total = wait_total = 0
        for node, start in zip(rr.nodes, rr.starts):
            nd = nodes[node]
            visit = problem.visits[nd.visit_index]  # type: ignore[index]
            travel = matrix[prev_loc][nd.location]
            pause = sum(e - s for s, e in breaks if s >= prev_end and e <= start)
            arrival = prev_end + travel + pause
            end = start + visit.duration_for(worker.kind)
            stops.append(Stop(visit.id, nd.location, arrival, start, end, travel, start - arrival))
            travel_total += travel
            service_total += end - start
            wait_total += start - arrival
            prev_loc, prev_end = nd.exit_location, end
        if stops:
            travel_total += matrix[prev_loc][worker.end_location]
        distance = None
        if worker.travel_mode in problem.distances and stops:
            dm = problem.distances[worker.travel_mode]
            distance = 0
            prev = worker.start_location
            for s in stops:
                distance += dm[prev][s.location]
                prev = visits[s.visit_id].exit_location
            distance += dm[prev][worker.end_location]
        if not stops:
            continue
        out.append(
            Route(
                worker_id=worker.id,
                shift_index=veh.shift_index,
                start=rr.route_start,
                end=rr.route_end,
                stops=tuple(stops),
                breaks=tuple(BreakTaken(s, e) for s, e in breaks),
                travel_minutes=travel_total,
                service_minutes=service_total,
                waiting_minutes=wait_total,
                overtime_minutes=max(0, rr.route_end - shift.end),
                distance_m=distance,
            )
        )
    return out
