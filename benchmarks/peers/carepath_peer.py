"""carepath itself as a peer: ``optimizer.solve`` with its defaults (or Solomon's settings).

Kept in the same shape as the other peers so the runner treats all four alike.  Time to
the first feasible plan comes from the optimizer's ``on_progress`` callback (the first
improving plan it reports, which for carepath is its own construction or the first
OR-Tools plan started from it).
"""

from __future__ import annotations

import time
from dataclasses import replace

from benchmarks.peers.base import Objective, PeerRun
from optimizer import Problem
from optimizer import Progress, SolveParams
from optimizer import solve


def params_for(objective: Objective, time_limit: float, seed: int = 0) -> SolveParams:
    """carepath's best documented settings: defaults for home care, the Solomon runner's for VRPTW."""
    if objective == "distance":
        # benchmarks/solomon.py's settings, from there: this copy had kept the schedule and the
        # GLS share from before their tuning (t0 1.0 / tf 0.02, 20 % GLS; tuning/LOG3.md).
        from benchmarks.solomon import vrptw_params

        return vrptw_params(time_limit, seed)
    return SolveParams(time_limit_s=time_limit, seed=seed)


class CarepathPeer:
    name = "carepath"

    def missing(self) -> str | None:
        return None

    def settings(self, time_limit: float) -> str:
        return (f"optimizer.solve, {time_limit:g} s limit, 1 thread; home care: SolveParams defaults "
                "(construction and own LNS; on linked days OR-Tools GLS for half the time; areas above 600 "
                "visits, reasons for unplaced visits); Solomon: benchmarks/solomon.py settings (GLS, SISR, polish)")

    def solve(self, problem: Problem, time_limit: float, objective: Objective, seed: int = 0) -> PeerRun:
        began = time.monotonic()
        first: list[float] = []

        def progress(p: Progress) -> None:
            if not first:
                first.append(time.monotonic() - began)

        params = params_for(objective, time_limit, seed)
        solution = solve(problem, replace(params, on_progress=progress))
        wall = time.monotonic() - began
        status = solution.stats.status if solution.stats else "ok"
        return PeerRun(solution, wall, wall, status=status, first_feasible_s=first[0] if first else None)


PEER = CarepathPeer()
