"""Scratch (LOG3): run Solomon instances with SolveParams overrides, log SISR stats.
usage: r3.py TL key=val,... FILES...   (appends one row to benchmarks/tuning/LOG3.md unless NOLOG=1)"""
import sys, os, statistics, ast, logging
from pathlib import Path
from benchmarks import solomon as S
from optimizer import SolveParams
import importlib, optimizer.recreate as REC
if os.environ.get('SISR_MOD'):
    REC.improve_plan = importlib.import_module(os.environ['SISR_MOD']).improve_plan
logging.basicConfig(level=logging.WARNING, format="    %(message)s")
logging.getLogger("optimizer.recreate").setLevel(logging.INFO)
tl = float(sys.argv[1]); ov = {}
for kv in sys.argv[2].split(','):
    if kv:
        k, v = kv.split('=')
        try: v = ast.literal_eval(v)
        except Exception: pass
        ov[k] = v
base = dict(time_limit_s=tl, seed=0, arc_cost="distance", explain=False,
            first_solution="PARALLEL_CHEAPEST_INSERTION", metaheuristic="GUIDED_LOCAL_SEARCH",
            lns_share=0.0, rr_method="sisr", sisr_t0=1.0, sisr_tf=0.02)
base.update(ov)
bks = S.load_bks(S.SHARED / 'bks.csv'); gaps = []; out = []
for f in sys.argv[3:]:
    p = Path(f) if '/' in f else S.SHARED / (f + '.txt')
    r = S.solve_instance(p, tl, base.get("seed", 0), SolveParams(**base))
    g = 100 * (r['distance'] - bks[r['instance']]) / bks[r['instance']]
    gaps.append(g); ok = r['feasible'] and not r['unserved']
    print(f"{r['instance']} veh {r['vehicles']} gap {g:.2f} t {r['time_s']} {'ok' if ok else 'BAD'}", flush=True)
    out.append(f"{r['instance']} {g:.2f}{'' if ok else '!'}")
row = f"| {os.environ.get('TAG', '')} {sys.argv[2] or 'default'} | {tl}s | {' '.join(out)} | **{statistics.mean(gaps):.2f}** | max {max(gaps):.2f} |"
print(row, flush=True)
if not os.environ.get("NOLOG"):
    with open('benchmarks/tuning/LOG3.md', 'a') as fh:
        fh.write(row + "\n")
