"""A split day's solve as steps that can run apart: plan the areas, solve each, finish.

``solve`` runs them one after another in one process; a planning job on PostgreSQL
(``dispatch.jobs.areas``) hands the areas to queue workers (on this or other machines) and
finishes with what comes back.  Both go through these functions, so there is one way a day is
split, an area searched, and the areas merged, repaired and explained:

* :func:`plan_areas`: the day's areas (``decompose.split``);
* :func:`search_stop` / :func:`area_weights` / :func:`area_budgets` / :func:`area_stop`: how the time is shared (the
  search ends before a reserve kept for the repair and the explanations; each area gets a share
  of what is left of the search's time when it starts, in proportion to its visits);
* :func:`solve_one_area`: one area's search, as an :class:`~optimizer.model.AreaResult` (plain
  data, written and read by ``jsonio.area_result_to_dict`` / ``area_result_from_dict``);
* :func:`unsolved`: the result of an area nobody solved in time (all its visits left out; the
  repair may still place some in other areas' routes, and the explanations give each a reason);
* :func:`finish`: merge the areas' routes, repair across areas (``repair.fill_gaps``), explain
  what is left out (``explain``), and evaluate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from optimizer.decompose import Area, split
from optimizer.evaluate import evaluate
from optimizer.explain import explain_unassigned
from optimizer.model import AreaResult, Problem, ReasonCase, ReasonCode, Route, SolveStats, Solution, Unassigned
from optimizer.nodes import to_routes
from optimizer.params import SolveParams
from optimizer.repair import fill_gaps
from optimizer.search import solve_area
from optimizer.stop import StoppingCriterion

EXPLAIN_RESERVE = 0.10
"""Share of the time kept after the search for explaining unplaced visits (one area).
Measured: the benchmark's demo day (517 visits, no rides, 10 s) explains in 0.07 s, but the
demo centre's day with senior-taxi rides (532 visits, 92 unplaced, 2026-12-07) takes 0.46 s on
an idle machine; at 3 % (0.3 s) 32 ride legs ended "reasons not computed".  A tenth leaves
room for a busy machine."""
SPLIT_EXPLAIN_RESERVE = 0.15
"""The same on a day split into areas, where the repair pass runs too.  Measured on the 10x
Kielce day (3,352 visits, 7 areas, 60 s, the machine shared): explanations take 8.5 s."""
NOT_SOLVED = "NOT_SOLVED"
"""Status of an area nobody solved in time (:func:`unsolved`)."""


def plan_areas(problem: Problem, params: SolveParams) -> list[Area]:
    """The areas ``problem`` is solved in: one (the whole day) up to ``params.max_visits_per_area``."""
    return split(problem, params.max_visits_per_area, params.seed)


def search_stop(stop: StoppingCriterion, areas: int, limit: float | None, started: float,
                explain: bool = True) -> StoppingCriterion:
    """The stop of the search phase of a solve of ``areas`` areas: ``stop`` less the reserve for the
    repair and the explanations.  ``limit`` is the solve's time (``stop.remaining()`` when it began
    at ``started`` on ``stop.clock``); None: no deadline, and the search ends as ``stop`` does."""
    if limit is None:
        return stop
    # One area and no explanations (``explain``: whether the solve explains): nothing that needs the
    # time runs after the search (Solomon at 10 s returned at 9 s with that second unused).
    reserve = SPLIT_EXPLAIN_RESERVE if areas > 1 else EXPLAIN_RESERVE if explain else 0.0
    return stop.within(limit * (1 - reserve) - (stop.clock() - started))


def area_weights(areas: Sequence[Area]) -> list[int]:
    """Each area's weight in the search's time: its visits.

    Why not equal shares: a split day's areas differ in size (the 10x Kielce day: 192 to 701
    visits), and an area's search needs time in proportion to its visits.  With equal shares
    the areas also took equal times, so 7 areas on 2 queue workers took 4 rounds of the 7 (a
    speed-up of 1.75 at most); in proportion to size, with everyone claiming the largest area
    left first, the workers and the job finish close together (benchmarks/README, "Areas of a
    split day solved in parallel")."""
    return [max(1, len(a.problem.visits)) for a in areas]


def area_budgets(seconds: float, weights: Sequence[int]) -> list[float]:
    """``seconds`` of search shared among areas of these weights (:func:`area_weights`), in
    proportion: the one rule both :func:`area_stop` and the queue's per-area budgets follow."""
    total = sum(weights)
    return [seconds * w / total for w in weights]


def area_stop(search: StoppingCriterion, weights_left: Sequence[int], kept: float = 0.0) -> StoppingCriterion:
    """The stop of the next area's search when the areas of ``weights_left`` (:func:`area_weights`,
    the next one first) are still to be solved by this solver: its share of the search's time
    left (:func:`area_budgets`), so whatever the earlier areas took is taken off the later ones
    (and what they left over is given to them).  ``kept``: seconds held back for the later areas'
    first plans, which run whatever the clock says (at 30x they were most of the overrun:
    benchmarks/README "A region's day on a modest machine")."""
    if len(weights_left) <= 1 or search.remaining() is None:
        return search
    return search.within(area_budgets(max(0.0, (search.remaining() or 0.0) - kept), weights_left)[0])


def solve_one_area(problem: Problem, params: SolveParams, stop: StoppingCriterion) -> AreaResult:
    """One area's search (``search.solve_area``) until ``stop``; routes in the area's own indices."""
    raw = solve_area(problem, params, stop)
    return AreaResult(
        routes=tuple(to_routes(problem, raw)),
        dropped=tuple(problem.visits[i].id for i in raw.dropped_visits),
        status=raw.status,
        objective=raw.objective,
        solutions_found=raw.solutions_found,
        elapsed_s=raw.elapsed_s,
        first_plan_s=raw.first_plan_s,
    )


def unsolved(area: Area) -> AreaResult:
    """The result of an area nobody solved in time: every visit of it left out."""
    return AreaResult(routes=(), dropped=tuple(v.id for v in area.problem.visits), status=NOT_SOLVED)


def finish(problem: Problem, areas: Sequence[Area], results: Sequence[AreaResult], params: SolveParams,
           stop: StoppingCriterion, limit: float | None) -> Solution:
    """The day's solution from its areas' results (one per area, in order): the routes merged, the
    visits left out placed across areas where they fit (a split day only), every one still left
    out explained (until ``stop``; those not reached say so), KPIs and stats.  ``limit``: the
    solve's time limit, recorded in the stats."""
    if len(results) != len(areas):
        raise ValueError(f"{len(results)} area results for {len(areas)} areas")
    routes: list[Route] = []
    dropped: list[str] = []
    for area, result in zip(areas, results):
        routes.extend(_to_global(area, list(result.routes)))
        dropped.extend(result.dropped)
    order = {v.id: i for i, v in enumerate(problem.visits)}
    dropped.sort(key=order.__getitem__)
    if len(areas) > 1 and dropped:
        routes, dropped = fill_gaps(problem, routes, dropped, stop)
    routes.sort(key=lambda r: (r.worker_id, r.shift_index))
    unassigned = explain_unassigned(problem, routes, dropped, stop) if params.explain else []
    explained = {u.visit_id for u in unassigned}
    unassigned += [
        Unassigned(vid, ReasonCode.NOT_FOUND, {"case": ReasonCase.NOT_EXPLAINED.value})
        for vid in dropped if vid not in explained
    ]
    solution = Solution(tuple(routes), tuple(unassigned))
    evaluation = evaluate(problem, solution)
    status = [r.status for r in results]
    recorded = {**params.recorded(), "routing_objective": sum(r.objective for r in results), "areas": len(areas),
                "objective_terms": dict(evaluation.terms)}
    if NOT_SOLVED in status:
        recorded["areas_not_solved"] = status.count(NOT_SOLVED)
    stats = SolveStats(
        status="CANCELLED" if stop.cancelled else status[0] if len(set(status)) == 1 else ",".join(status),
        objective=evaluation.total,
        elapsed_s=sum(r.elapsed_s for r in results),
        solutions_found=sum(r.solutions_found for r in results),
        time_limit_s=None if limit is None else round(limit, 3),
        seed=params.seed,
        parameters=recorded,
    )
    return Solution(solution.routes, solution.unassigned, evaluation.kpis, stats)


def _to_global(area: Area, routes: list[Route]) -> list[Route]:
    """Area routes with location indices mapped back to the whole problem's."""
    if len(area.locations) == len(area.problem.locations) and area.locations == tuple(range(len(area.locations))):
        return routes
    loc = area.locations
    return [replace(r, stops=tuple(replace(s, location=loc[s.location]) for s in r.stops)) for r in routes]


__all__ = ["EXPLAIN_RESERVE", "NOT_SOLVED", "SPLIT_EXPLAIN_RESERVE", "area_budgets", "area_stop", "area_weights", "finish", "plan_areas",
           "search_stop", "solve_one_area", "unsolved"]
