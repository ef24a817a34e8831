"""Scratch (LOG4): SISR alone from a 1.5 s plan, a fixed number of rounds, several (t0, tf).
usage: python -m benchmarks.tuning.sisr_iters ROUNDS t0/tf,t0/tf,... INSTANCE,INSTANCE,..."""
import sys, statistics
from benchmarks import solomon as S
from optimizer.vrptw_search import plain_vrptw, improve_plan
N = int(sys.argv[1]); configs = [tuple(map(float, c.split('/'))) for c in sys.argv[2].split(',')]
names = sys.argv[3].split(',')
bks = S.load_bks(S.SHARED / 'bks.csv')
res = {c: [] for c in configs}
for name in names:
    path = S.SHARED / (name + '.txt')
    inst_s = S.read_instance(path); problem = S.to_problem(inst_s)
    start = S.solve_instance(path, 1.5)['routes']
    inst = plain_vrptw(problem, 'distance')
    for c in configs:
        for seed in (0, 1):
            best, st = improve_plan(inst, start, seed=seed, max_iterations=N, t0=c[0], tf=c[1])
            d = sum(S.route_distance(inst_s, r) for r in best)
            res[c].append(100 * (d - bks[name]) / bks[name])
    print(name, {c: [round(x, 2) for x in res[c][-2:]] for c in configs}, flush=True)
for c in configs: print(c, 'mean %.3f max %.2f' % (statistics.mean(res[c]), max(res[c])))
