"""One benchmark step each: solve, check, measure; every function returns plain result rows.

These run inside forked children (``isolate.run_isolated``), so they build what they need
and return only dicts.  Every plan with routes goes through ``optimizer.checker.check``;
distance for Solomon is recomputed in double precision from the routes for every solver.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from benchmarks.peers.base import PeerRun, get_peer
from benchmarks.peers.instances import DEMO_VISITS, kielce_problem, solomon_problem
from benchmarks.peers.isolate import rss_mb, run_isolated
from optimizer import check, is_feasible
from optimizer import Problem

Row = dict[str, Any]


def _skip_row(solver: str, base: Row, status: str) -> Row:
    return {**base, "solver": solver, "status": status}


def judge(problem: Problem, run: PeerRun) -> Row:
    """Checker verdict and KPIs of a peer's plan, in the columns every table shares."""
    row: Row = {
        "status": run.status, "solve_s": round(run.solve_s, 2), "total_s": round(run.total_s, 2),
        "first_feasible_s": None if run.first_feasible_s is None else round(run.first_feasible_s, 2),
        "given": len(problem.visits) - sum(run.left_out.values()),
        "left_out": "; ".join(f"{n} {why}" for why, n in run.left_out.items()),
        "not_modelled": "; ".join(run.not_modelled),
    }
    s = run.solution
    if s is None:
        return row
    violations = check(problem, s)
    errors = Counter(v.rule for v in violations if v.severity == "error")
    k = s.kpis
    assert k is not None
    row.update({
        "feasible": is_feasible(violations),
        "violations": "; ".join(f"{n} {rule}" for rule, n in errors.most_common(4)),
        "placed": k.visits_placed, "mandatory_placed": k.mandatory_placed, "mandatory_total": k.mandatory_total,
        "travel_min": k.travel_minutes, "routes": len([r for r in s.routes if r.stops]),
        "areas": (s.stats.parameters.get("areas") if s.stats else None),
    })
    return row


def _solve(problem: Problem, solver: str, limit: float, objective: str, seed: int) -> tuple[PeerRun | None, str | None]:
    peer = get_peer(solver)
    why = peer.missing()
    if why is not None:
        return None, why
    return peer.solve(problem, limit, objective, seed), None  # type: ignore[arg-type]


def solomon_run(name: str, solver: str, limit: float, seed: int) -> Row:
    from benchmarks.solomon import route_distance, simulate

    inst, problem = solomon_problem(name)
    base: Row = {"set": "solomon", "instance": name, "visits": len(problem.visits), "solver": solver,
                 "time_limit_s": limit}
    run, why = _solve(problem, solver, limit, "distance", seed)
    if run is None:
        return {**base, "status": why}
    row = {**base, **judge(problem, run)}
    if run.solution is not None:
        routes = [[int(st.visit_id) for st in r.stops] for r in run.solution.routes if r.stops]
        row["distance"] = round(sum(route_distance(inst, r) for r in routes), 2)
        row["feasible"] = bool(row.get("feasible")) and all(simulate(inst, r) for r in routes)
    row["peak_rss_mb"] = rss_mb()
    return row


def _kielce_solver(problem: Problem, base: Row, solver: str, limit: float, seed: int) -> Row:
    run, why = _solve(problem, solver, limit, "travel", seed)
    if run is None:
        return {**base, "solver": solver, "status": why}
    return {**base, "solver": solver, **judge(problem, run), "peak_rss_mb": rss_mb()}


def peer_timeout(limit: float) -> float:
    """Hard timeout of a peer's home-care solve: twice its limit plus a minute.

    A peer that has not answered by then is reported as such.  Why not carepath's longer
    allowance: carepath's overrun (explanations of unplaced visits, the cross-area repair) is
    its own documented work; VROOM's construction on the 30x day (8,000+ jobs) never answered
    within 510 s, and waiting longer for it would push the default run past 30 minutes.
    """
    return 2 * limit + 60


def kielce_instance(scale: float, limit: float, solvers: tuple[str, ...], seed: int, per_run_timeout: float) -> list[Row]:
    """Build the day once, then solve it with each solver in its own forked child.

    ``per_run_timeout`` bounds carepath's solve; peers get ``min(per_run_timeout, peer_timeout(limit))``.
    """
    began = time.monotonic()
    problem = kielce_problem(scale)
    base: Row = {"set": "kielce", "instance": f"{scale:g}x", "visits": len(problem.visits),
                 "workers": len(problem.workers), "time_limit_s": limit,
                 "build_s": round(time.monotonic() - began, 1), "rss_after_build_mb": rss_mb("VmRSS")}
    rows = []
    for solver in solvers:
        timeout = per_run_timeout if solver.startswith("carepath") else min(per_run_timeout, peer_timeout(limit))
        outcome, value = run_isolated(_kielce_solver, (problem, base, solver, limit, seed), timeout)
        rows.append(value if outcome == "ok" else _skip_row(solver, base, f"{outcome}: {value}"[:300]))
    return rows


def scaling_run(target: int, limit: float, seed: int) -> Row:
    """carepath on a generated day of about ``target`` visits: first feasible, final, memory.

    Time to first feasible = carepath's construction over all areas (the plan it can hand
    out first, measured as ``benchmarks.kielce`` does); the first ``on_progress`` report of
    the real solve is recorded too.  Time to final = the whole ``solve`` call.
    """
    from benchmarks.kielce import first_feasible_seconds
    from benchmarks.peers.carepath_peer import PEER as carepath
    from optimizer import SolveParams

    began = time.monotonic()
    problem = kielce_problem(target / DEMO_VISITS)
    build_s = time.monotonic() - began
    after_build = rss_mb("VmRSS")
    first_s, first_placed = first_feasible_seconds(problem, SolveParams().max_visits_per_area)
    run = carepath.solve(problem, limit, "travel", seed)
    row = {"set": "scaling", "instance": f"~{target}", "visits": len(problem.visits), "workers": len(problem.workers),
           "solver": "carepath", "time_limit_s": limit, "build_s": round(build_s, 1),
           **judge(problem, run),
           "construct_s": round(first_s, 2), "construct_placed": first_placed,
           "first_progress_s": run.first_feasible_s,
           "rss_after_build_mb": after_build, "peak_rss_mb": rss_mb()}
    row["first_feasible_s"] = round(first_s, 2)
    return row
