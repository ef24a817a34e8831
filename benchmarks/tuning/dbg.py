import time, datetime
from benchmarks.tuning import run as R, configs as C
from benchmarks import solomon as S
inst = S.read_instance(S.SHARED / "R101.txt")
m, r = R.build(inst)
sp = R.pywrapcp.DefaultRoutingSearchParameters(); C.get("base").apply(sp); sp.time_limit.FromSeconds(3)
n = [0]; c0, w0 = time.process_time(), time.time(); log=[]
def cb():
    n[0] += 1
    cpu, wall = time.process_time() - c0, time.time() - w0
    if n[0] % 200 == 0: log.append((round(wall,2), round(cpu,2)))
    r.UpdateTimeLimit(datetime.timedelta(seconds=wall + 3 - cpu))
r.AddAtSolutionCallback(cb)
a = r.SolveWithParameters(sp)
print(n, time.time()-w0, time.process_time()-c0, log[-5:])
