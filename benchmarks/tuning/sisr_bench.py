"""Scratch (LOG3): load-independent SISR comparison.  Start plans = OR-Tools GLS plans
(6 s, cached in /tmp/starts), then ``improve_plan`` with an ITERATION limit (deterministic),
so variants compare without timing noise; CPU seconds are reported for speed.
usage: sisr_bench.py ITERS SEEDS key=val,... INSTANCES...   (key=val go to improve_plan / Sisr)"""
import sys, os, json, time, ast, statistics, importlib
from pathlib import Path
from benchmarks import solomon as S
from optimizer import SolveParams

V = importlib.import_module(os.environ.get("SISR_MOD", "optimizer.vrptw_search"))


def start_plan(name):
    f = Path(f"/tmp/starts/{name}.json")
    if f.exists():
        return json.loads(f.read_text())
    p = SolveParams(time_limit_s=6.0, seed=0, arc_cost="distance", explain=False, lns_share=0.0,
                    rr_method="ortools", rr_first_share=0.99)
    r = S.solve_instance(S.SHARED / f"{name}.txt", 6.0, 0, p)
    f.write_text(json.dumps(r["routes"]))
    return r["routes"]


def main():
    iters = int(sys.argv[1]); seeds = int(sys.argv[2]); ov = {}
    for kv in sys.argv[3].split(','):
        if kv:
            k, v = kv.split('=')
            ov[k] = ast.literal_eval(v)
    bks = S.load_bks(S.SHARED / 'bks.csv')
    out, gaps, cpu = [], [], 0.0
    for name in sys.argv[4:]:
        inst = S.read_instance(S.SHARED / f"{name}.txt")
        v = V.plain_vrptw(S.to_problem(inst), "distance")
        start = start_plan(name)
        gs = []
        for seed in range(seeds):
            t = time.process_time()
            best, st = V.improve_plan(v, start, seed=seed, max_iterations=iters, **{"t0": 1.0, "tf": 0.02, **ov})
            cpu += time.process_time() - t
            d = sum(S.route_distance(inst, r) for r in best)
            gs.append(100 * (d - bks[name]) / bks[name])
        gaps.extend(gs)
        out.append(f"{name} " + "/".join(f"{g:.2f}" for g in gs))
        print(out[-1], flush=True)
    row = (f"| {os.environ.get('TAG', '')} {sys.argv[3] or 'default'} | {iters} it x{seeds} | {' '.join(out)} | "
           f"**{statistics.mean(gaps):.2f}** | max {max(gaps):.2f} | cpu {cpu:.0f}s |")
    print(row, flush=True)
    if not os.environ.get("NOLOG"):
        with open('benchmarks/tuning/LOG3.md', 'a') as fh:
            fh.write(row + "\n")


if __name__ == "__main__":
    main()
