# Named configs. get("a+b+c") applies modifiers a, b, c in order (each a function of sp).
from ortools.constraint_solver import routing_enums_pb2 as E
FS = E.FirstSolutionStrategy
LSM = E.LocalSearchMetaheuristic
T, F = 3, 2  # OptionalBoolean BOOL_TRUE / BOOL_FALSE

MODS = {}
def mod(name):
    def deco(f):
        MODS[name] = f; return f
    return deco

@mod("pci")
def _(sp): sp.first_solution_strategy = FS.PARALLEL_CHEAPEST_INSERTION
@mod("lci")
def _(sp): sp.first_solution_strategy = FS.LOCAL_CHEAPEST_INSERTION
@mod("sav")
def _(sp): sp.first_solution_strategy = FS.SAVINGS
@mod("pca")
def _(sp): sp.first_solution_strategy = FS.PATH_CHEAPEST_ARC
@mod("sweep")
def _(sp): sp.first_solution_strategy = FS.SWEEP
@mod("chr")
def _(sp): sp.first_solution_strategy = FS.CHRISTOFIDES
@mod("gci")
def _(sp): sp.first_solution_strategy = FS.GLOBAL_CHEAPEST_INSERTION
@mod("gls")
def _(sp): sp.local_search_metaheuristic = LSM.GUIDED_LOCAL_SEARCH
@mod("gd")
def _(sp): sp.local_search_metaheuristic = LSM.GREEDY_DESCENT
@mod("sa")
def _(sp): sp.local_search_metaheuristic = LSM.SIMULATED_ANNEALING
@mod("tabu")
def _(sp): sp.local_search_metaheuristic = LSM.TABU_SEARCH
for lam in (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0):
    MODS[f"lam{lam:g}"] = (lambda l: lambda sp: setattr(sp, "guided_local_search_lambda_coefficient", l))(lam)
@mod("reset")
def _(sp): sp.guided_local_search_reset_penalties_on_new_best_solution = True
@mod("penls")
def _(sp): sp.use_guided_local_search_penalties_in_local_search_operators = T
@mod("ncross")
def _(sp):
    o = sp.local_search_operators; o.use_cross_exchange = T; o.use_relocate_neighbors = T
@mod("lns")
def _(sp):
    o = sp.local_search_operators
    o.use_global_cheapest_insertion_close_nodes_lns = T
    o.use_local_cheapest_insertion_close_nodes_lns = T
    o.use_global_cheapest_insertion_expensive_chain_lns = T
    o.use_local_cheapest_insertion_expensive_chain_lns = T
@mod("pathlns")
def _(sp):
    o = sp.local_search_operators; o.use_path_lns = T; o.use_inactive_lns = T
@mod("nopd")  # drop pickup-delivery / visit-type / unperformed operators that are no-ops here
def _(sp):
    o = sp.local_search_operators
    for f in ("use_relocate_pair", "use_light_relocate_pair", "use_exchange_pair", "use_global_cheapest_insertion_visit_types_lns",
              "use_local_cheapest_insertion_visit_types_lns", "use_make_active", "use_make_inactive", "use_make_chain_inactive",
              "use_swap_active", "use_shortest_path_swap_active", "use_swap_active_chain",
              "use_relocate_path_global_cheapest_insertion_insert_unperformed"):
        setattr(o, f, F)
@mod("mab")
def _(sp): sp.use_multi_armed_bandit_concatenate_operators = True
@mod("nodisj")  # handled in run.build: customers mandatory (no disjunction)
def _(sp): pass
@mod("fullprop")
def _(sp): sp.use_full_propagation = True
for r_ in (0.05, 0.1, 0.2, 0.3, 0.5):
    for mn in (5, 10, 20):
        MODS[f"nb{r_:g}_{mn}"] = (lambda a, b: lambda sp: (setattr(sp, "ls_operator_neighbors_ratio", a), setattr(sp, "ls_operator_min_neighbors", b)))(r_, mn)

# ---- ILS
def _ils(sp):
    sp.use_iterated_local_search = True
    return sp.iterated_local_search_parameters
def _sisr(rr, size, avg, bypass=0.01):
    rs = rr.ruin_strategies.add(); rs.sisr.max_removed_sequence_size = size
    rs.sisr.avg_num_removed_visits = avg; rs.sisr.bypass_factor = bypass
for size, avg in ((10, 10), (5, 5), (10, 5), (10, 15), (15, 20), (8, 8)):
    def f(sp, size=size, avg=avg):
        rr = _ils(sp).ruin_recreate_parameters; del rr.ruin_strategies[:]; _sisr(rr, size, avg)
    MODS[f"ils{size}_{avg}"] = f
@mod("ilsrw")  # random walk
def _(sp):
    rr = _ils(sp).ruin_recreate_parameters; del rr.ruin_strategies[:]
    rr.ruin_strategies.add().random_walk.num_removed_visits = 10
@mod("ilsmix")  # sisr + random walk + spatially close routes, run one randomly
def _(sp):
    rr = _ils(sp).ruin_recreate_parameters; del rr.ruin_strategies[:]
    _sisr(rr, 10, 10)
    rr.ruin_strategies.add().random_walk.num_removed_visits = 10
    rr.ruin_strategies.add().spatially_close_routes.num_ruined_routes = 2
    rr.ruin_composition_strategy = 3  # RUN_ONE_RANDOMLY
@mod("recpci")
def _(sp): _ils(sp).ruin_recreate_parameters.recreate_strategy.heuristic = FS.PARALLEL_CHEAPEST_INSERTION
@mod("recsav")
def _(sp): _ils(sp).ruin_recreate_parameters.recreate_strategy.heuristic = FS.SAVINGS
@mod("recgci")
def _(sp): _ils(sp).ruin_recreate_parameters.recreate_strategy.heuristic = FS.GLOBAL_CHEAPEST_INSERTION
@mod("noimp")
def _(sp): _ils(sp).improve_perturbed_solution = False
@mod("saauto")
def _(sp): _ils(sp).reference_solution_acceptance_strategy.simulated_annealing.automatic_temperatures = True
def _satemp(t0, t1):
    def f(sp):
        s = _ils(sp).reference_solution_acceptance_strategy.simulated_annealing
        s.initial_temperature = t0; s.final_temperature = t1
    return f
for t0, t1 in ((1000, 10), (5000, 50), (10000, 100), (20000, 200), (50000, 500), (3000, 1)):
    MODS[f"sat{t0}_{t1}"] = _satemp(t0, t1)
@mod("accgd")
def _(sp): _ils(sp).reference_solution_acceptance_strategy.greedy_descent.SetInParent()
@mod("multi")
def _(sp):
    del sp.local_search_metaheuristics[:]
    sp.local_search_metaheuristics.extend([LSM.GUIDED_LOCAL_SEARCH, LSM.SIMULATED_ANNEALING, LSM.TABU_SEARCH])
@mod("multi2")
def _(sp):
    del sp.local_search_metaheuristics[:]
    sp.local_search_metaheuristics.extend([LSM.GUIDED_LOCAL_SEARCH, LSM.TABU_SEARCH])
for k in (10, 50, 100, 1000):
    MODS[f"sw{k}"] = (lambda k: lambda sp: setattr(sp, "num_max_local_optima_before_metaheuristic_switch", k))(k)


class Cfg:
    def __init__(self, mods): self.mods = mods
    def apply(self, sp):
        for mname in self.mods: MODS[mname](sp)


class MultiStart(Cfg):
    """outer loop: k runs of tl/k seconds with different first-solution strategies, keep best."""
    def __init__(self, mods, firsts):
        super().__init__(mods); self.firsts = firsts
    def outer(self, inst, tl, solve_once):
        from benchmarks.tuning.run import evaluate
        best = None
        for fs in self.firsts:
            c = Cfg([*self.mods, *fs.split("/")])
            routes = solve_once(inst, tl / len(self.firsts), c)
            d, ok = evaluate(inst, routes)
            if ok and (best is None or d < best[0]): best = (d, routes)
        return best[1]


def get(name):
    if name.startswith("rr:"):  # rr:K:SUB:FRAC:mods
        _, k, sub, frac, rest = name.split(":", 4)
        return RuinRecreate(["pci", "gls"] + [x for x in rest.split("+") if x and x != "base"], int(k), float(sub), float(frac))
    if name.startswith("ms:"):  # ms:pci,sav,lci:base+mods
        _, firsts, rest = name.split(":", 2)
        return MultiStart(["gls"] + [x for x in rest.split("+") if x and x != "base"], firsts.split(","))
    return Cfg(["pci", "gls"] + [x for x in name.split("+") if x and x != "base"])


class RuinRecreate(Cfg):
    """outer ILS in Python: GLS for frac*tl, then repeat {remove k customers close to a random seed from
    the best solution, warm-start GLS for sub seconds from the partial solution}, keep best."""
    def __init__(self, mods, k, sub, frac, seed=0):
        super().__init__(mods); self.k, self.sub, self.frac, self.seed = k, sub, frac, seed
    def outer(self, inst, tl, solve_once):
        import random, time
        from benchmarks.tuning.run import evaluate
        from benchmarks import solomon as S
        rng = random.Random(self.seed)
        c0 = time.process_time()
        best = solve_once(inst, tl * self.frac, self); bd = evaluate(inst, best)[0]
        n = len(inst.xy); self.trace = [(round(time.process_time() - c0, 1), round(bd, 2))]
        while True:
            left = tl - (time.process_time() - c0)
            if left < 0.3: break
            seed = rng.randrange(1, n)
            near = sorted(range(1, n), key=lambda c: S.euclid(inst.xy[seed], inst.xy[c]))[: self.k]
            drop = set(near)
            partial = [[c for c in rt if c not in drop] for rt in best]
            partial = [rt for rt in partial if rt]
            routes = solve_once(inst, min(self.sub, left), self, hint_routes=partial)
            if routes is None: continue
            d, ok = evaluate(inst, routes)
            if ok and d < bd - 1e-6:
                best, bd = routes, d
            self.trace.append((round(time.process_time() - c0, 1), round(d, 2)))
        return best
