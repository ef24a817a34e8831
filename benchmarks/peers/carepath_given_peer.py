"""carepath on the visits the peers are given: the same day with only what VROOM and PyVRP can express.

Why: the peers are given fewer, easier visits (no two-person visits, no visits linked by a
dependency, no ride legs, one window each: ``plans.split_expressible``), so their travel per
placed visit is not comparable with carepath's on the whole day (rides and linked visits
travel further).  This row solves exactly the peers' visits with carepath's defaults, so
"placed" and "travel per placed visit" compare like with like (issue #19 item 5: "keep the
Kielce days ahead of every peer on visits placed and on travel per placed visit").  The
left-out visits are reported unplaced, as for the peers, and the plan is checked against the
whole day.
"""

from __future__ import annotations

import time
from dataclasses import replace

from benchmarks.peers.base import Objective, PeerRun
from benchmarks.peers.carepath_peer import params_for
from benchmarks.peers.plans import assemble, split_expressible
from optimizer import Problem, SolveParams, solve


PEERS_OBJECTIVE = dict(imbalance=0, non_preferred_worker=0, gender_mismatch=0, wait_minute=0, max_lateness_minute=0)
"""The terms of carepath's objective the peers are not given (workload balance, preferred workers,
gender preferences, waiting, the largest lateness), set to 0 by ``carepath_travel``: what is left
is what VROOM and PyVRP minimise (visits by priority, then travel), plus lateness and overtime,
which the peers' hard windows and shift ends rule out and carepath's prices keep rare."""


class CarepathGivenPeer:
    def __init__(self, name: str = "carepath_given", peers_objective: bool = False) -> None:
        self.name = name
        self.peers_objective = peers_objective

    def missing(self) -> str | None:
        return None

    def settings(self, time_limit: float) -> str:
        objective = ("the peers' objective (balance, preferences and waiting weighted 0)" if self.peers_objective
                     else "its own objective")
        return (f"carepath (optimizer.solve, SolveParams defaults, {time_limit:g} s limit, {objective}) on the visits "
                "VROOM and PyVRP are given (one window, no two-person visits, dependencies or ride legs); home-care days only")

    def solve(self, problem: Problem, time_limit: float, objective: Objective, seed: int = 0) -> PeerRun:
        began = time.monotonic()
        keep, left_out = split_expressible(problem, two_person=False, dependencies=False, rides=False,
                                           several_windows=False)
        given = replace(problem, visits=tuple(problem.visits[vi] for vi in keep), dependencies=(), rides=())
        if self.peers_objective:
            given = replace(given, weights=replace(given.weights, **PEERS_OBJECTIVE))
        params: SolveParams = params_for(objective, time_limit, seed)
        solution = solve(given, params)
        wall = time.monotonic() - began
        status = solution.stats.status if solution.stats else "ok"
        label = "carepath (peers' visits and objective)" if self.peers_objective else "carepath (peers' visits)"
        full = assemble(problem, list(solution.routes), left_out, label, status, wall,
                        time_limit, seed)
        return PeerRun(full, wall, wall, status=status, left_out={k: len(v) for k, v in left_out.items()})


PEER = CarepathGivenPeer()
