import sys
from benchmarks.tuning import run as R, configs as C
from benchmarks import solomon as S
cfg = C.get(sys.argv[1]); tl = float(sys.argv[2]); inst = S.read_instance(S.SHARED / f"{sys.argv[3]}.txt")
class L(C.Cfg):
    def apply(self, sp): cfg.apply(sp); sp.log_search = True
routes = R.solve_once(inst, tl, L(cfg.mods))
print(R.evaluate(inst, routes), len(routes))
