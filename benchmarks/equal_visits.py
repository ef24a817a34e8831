"""carepath on exactly the visits a peer placed: ``python -m benchmarks.equal_visits [--scale 1] [--peer vroom] [--limits 10 30 60]``.

Why: on the 1x Kielce day carepath travels more per placed visit than VROOM and PyVRP while it
places visits of higher priority (benchmarks/README, "Final run for issue #19"), so travel per
placed visit mixes two things: which visits a solver keeps and how well it routes them.  This
takes the choice away: the peer solves the day (its own limit, ``--peer-limit``), then carepath
is given exactly the visits the peer placed, all made mandatory, with the objective the peers
are given (``carepath_given_peer.PEERS_OBJECTIVE``), at each of ``--limits``.  Both plans are
priced by ``optimizer.evaluate`` on that set and checked by the independent checker.

It found the gap was carepath's search (13 % more travel than VROOM on VROOM's visits), and then
that the search's temperature was set by the drop penalties of the first plan; since that was
fixed carepath travels 6-16 % less than either peer on their own visit sets (benchmarks/README,
"The annealing's temperature").
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from benchmarks.peers.base import get_peer, peer_names
from benchmarks.peers.carepath_given_peer import PEERS_OBJECTIVE
from benchmarks.peers.carepath_peer import params_for
from benchmarks.peers.instances import kielce_problem
from optimizer import Solution, check, evaluate, is_feasible, solve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.equal_visits", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--peer", default="vroom", choices=[n for n in peer_names() if not n.startswith("carepath")])
    ap.add_argument("--peer-limit", type=float, default=10.0)
    ap.add_argument("--limits", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    missing = get_peer(args.peer).missing()
    if missing:
        print(f"{args.peer} cannot run here: {missing}")
        return 2
    problem = kielce_problem(args.scale)
    run = get_peer(args.peer).solve(problem, args.peer_limit, "travel", args.seed)
    if run.solution is None:
        print(f"{args.peer} gave no plan ({run.status})")
        return 1
    placed = {s.visit_id for r in run.solution.routes for s in r.stops}
    given = replace(problem, visits=tuple(replace(v, mandatory=True) for v in problem.visits if v.id in placed),
                    dependencies=(), rides=())
    given = replace(given, weights=replace(given.weights, **PEERS_OBJECTIVE))
    theirs = Solution(run.solution.routes, ())
    rows = [{"solver": args.peer, "limit_s": args.peer_limit, "placed": len(placed),
             "travel_min": evaluate(given, theirs).kpis.travel_minutes, "objective": evaluate(given, theirs).total,
             "feasible": is_feasible(check(given, theirs))}]
    for limit in args.limits:
        sol = solve(given, params_for("travel", limit, args.seed))
        ev = evaluate(given, sol)
        rows.append({"solver": "carepath", "limit_s": limit, "placed": len(sol.assignments()),
                     "travel_min": ev.kpis.travel_minutes, "objective": ev.total, "feasible": is_feasible(check(given, sol))})
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
