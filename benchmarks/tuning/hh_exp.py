"""Scratch: carepath variants on HHCRSP instances (issue #8 tuning); see LOG_HHCRSP.md."""
import logging, sys, json
from benchmarks.hhcrsp.instance import read_instance
from benchmarks.hhcrsp.run import run_carepath
from optimizer import SolveParams

logging.basicConfig(level=logging.INFO, format="%(message)s")
for h in logging.getLogger().handlers: h.addFilter(lambda r: "LNS" in r.getMessage() or "OR-Tools" in r.getMessage())
limit = float(sys.argv[1]); variant = json.loads(sys.argv[2]); files = sys.argv[3:]
for f in files:
    from pathlib import Path; inst = read_instance(Path(f))
    params = SolveParams(time_limit_s=limit, seed=0, explain=False, **variant)
    e = run_carepath(inst, limit, params=params)
    print(f"{inst.name:16s} {variant} cost={e['cost']:.2f} dist={e['distance']:.1f} tard={e['total_tardiness']:.1f} max={e['max_tardiness']:.1f} ok={e['checker_ok'] and e['feasible']}", flush=True)
