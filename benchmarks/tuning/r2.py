"""Scratch: run Solomon instances with SolveParams overrides. usage: r2.py TL key=val,... FILES..."""
import sys, statistics, ast
from pathlib import Path
from benchmarks import solomon as S
from optimizer import SolveParams
tl=float(sys.argv[1]); ov={}
for kv in sys.argv[2].split(','):
    if kv:
        k,v=kv.split('='); 
        try: v=ast.literal_eval(v)
        except Exception: pass
        ov[k]=v
bks=S.load_bks(S.SHARED/'bks.csv'); gaps=[]
out=[]
for f in sys.argv[3:]:
    p=Path(f) if '/' in f else S.SHARED/(f+'.txt')
    params=SolveParams(time_limit_s=tl, seed=0, arc_cost="distance", explain=False, lns_share=0.0, **ov)
    r=S.solve_instance(p, tl, 0, params)
    g=100*(r['distance']-bks[r['instance']])/bks[r['instance']]
    gaps.append(g); ok=r['feasible'] and not r['unserved']
    print(f"{r['instance']} {g:.2f} {r['time_s']} {'ok' if ok else 'BAD'}", flush=True)
    out.append(f"{r['instance']} {g:.2f}{'' if ok else '!'}")
print(f"| {sys.argv[2]} | {tl}s | {' '.join(out)} | **{statistics.mean(gaps):.2f}** | max {max(gaps):.2f} |", flush=True)
with open('benchmarks/tuning/LOG2.md','a') as fh:
    fh.write(f"| {sys.argv[2]} | {tl}s | {' '.join(out)} | **{statistics.mean(gaps):.2f}** | max {max(gaps):.2f} |\n")
