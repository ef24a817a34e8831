# Tuning harness (adapted from /tmp/scratch/plain.py).
# usage: python -m benchmarks.tuning.run CFG TL INST... ; CFG is a name in configs.py (may be "a+b" to chain modifiers)
import sys
_m = type(sys)("x"); _m.check = lambda p, s: []; _m.is_feasible = lambda v: True
sys.modules.setdefault("optimizer.checker", _m)
import json, math, os, statistics, time
from pathlib import Path
from ortools.constraint_solver import pywrapcp
from benchmarks import solomon as S
from benchmarks.tuning import configs as C

HERE = Path(__file__).resolve().parent
bks = S.load_bks(S.SHARED / "bks.csv")
CPU_BUDGET = os.environ.get("WALL", "") == ""  # default: time limit = CPU seconds of this process


def build(inst, slack=10**6, disj=True):
    n = len(inst.xy)
    D = [[round(S.euclid(inst.xy[i], inst.xy[j]) * 1000) for j in range(n)] for i in range(n)]
    T = [[math.ceil(S.euclid(inst.xy[i], inst.xy[j]) * 100 - 1e-9) + inst.service[i] * 100 for j in range(n)] for i in range(n)]
    m = pywrapcp.RoutingIndexManager(n, inst.vehicles, 0)
    r = pywrapcp.RoutingModel(m)
    dc = r.RegisterTransitMatrix(D); r.SetArcCostEvaluatorOfAllVehicles(dc)
    tc = r.RegisterTransitMatrix(T)
    r.AddDimension(tc, slack, inst.due[0] * 100, False, "Time")
    td = r.GetDimensionOrDie("Time")
    for c in range(1, n):
        td.CumulVar(m.NodeToIndex(c)).SetRange(inst.ready[c] * 100, inst.due[c] * 100)
        if disj: r.AddDisjunction([m.NodeToIndex(c)], 10**9)
    dem = r.RegisterUnaryTransitVector(inst.demand)
    r.AddDimensionWithVehicleCapacity(dem, 0, [inst.capacity] * inst.vehicles, True, "Cap")
    return m, r


def extract(inst, m, r, a):
    routes = []
    for v in range(inst.vehicles):
        i = a.Value(r.NextVar(r.Start(v))); rt = []
        while not r.IsEnd(i):
            rt.append(m.IndexToNode(i)); i = a.Value(r.NextVar(i))
        if rt: routes.append(rt)
    return routes


def evaluate(inst, routes):
    served = sorted(c for rt in routes for c in rt)
    ok = served == list(range(1, len(inst.xy))) and all(S.simulate(inst, rt) for rt in routes)
    return sum(S.route_distance(inst, rt) for rt in routes), ok


def solve_once(inst, tl, cfg, hint_routes=None):
    m, r = build(inst, slack=getattr(cfg, "slack", 10**6), disj="nodisj" not in cfg.mods)
    sp = pywrapcp.DefaultRoutingSearchParameters()
    cfg.apply(sp)
    sp.time_limit.FromMilliseconds(int(tl * 1000))
    if CPU_BUDGET:  # stop on process CPU seconds, not wall time (machine is shared/overloaded)
        sp.time_limit.FromMilliseconds(int(tl * 4000))  # wall-clock safety net
        c0 = time.process_time()
        def cb():
            if time.process_time() - c0 >= tl:
                r.solver().FinishCurrentSearch()
        r.AddAtSolutionCallback(cb)
    if hint_routes is not None:
        r.CloseModelWithParameters(sp)
        a0 = r.ReadAssignmentFromRoutes([list(x) for x in hint_routes] + [[]] * (inst.vehicles - len(hint_routes)), True)
        a = r.SolveFromAssignmentWithParameters(a0, sp)
    else:
        a = r.SolveWithParameters(sp)
    if a is None:
        return None
    return extract(inst, m, r, a)


def main():
    cfgname, tl, names = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    cfg = C.get(cfgname)
    gaps = {}
    for name in names:
        inst = S.read_instance(S.SHARED / f"{name}.txt")
        t0, c0 = time.time(), time.process_time()
        routes = cfg.outer(inst, tl, solve_once) if hasattr(cfg, "outer") else solve_once(inst, tl, cfg)
        el = time.time() - t0
        d, ok = evaluate(inst, routes)
        g = 100 * (d - bks[name]) / bks[name]
        gaps[name] = g
        print(f"{name:6} veh={len(routes):2d} d={d:9.2f} gap={g:6.2f}% ok={ok} t={el:.1f} cpu={time.process_time()-c0:.1f}", flush=True)
        with open(HERE / "results.jsonl", "a") as fh:
            fh.write(json.dumps(dict(cfg=cfgname, tl=tl, inst=name, veh=len(routes), dist=round(d, 3), gap=round(g, 3), ok=ok, t=round(el, 1), routes=routes)) + "\n")
    mean = statistics.mean(gaps.values())
    line = f"| {cfgname} | {tl:g}s{'cpu' if CPU_BUDGET else 'wall'} | " + " ".join(f"{k} {v:.2f}" for k, v in gaps.items()) + f" | **{mean:.2f}** | max {max(gaps.values()):.2f} |"
    print(line)
    with open(HERE / "LOG.md", "a") as fh:
        fh.write(line + "\n")


if __name__ == "__main__":
    main()
