"""The steps of a split solve (``plan_areas``, ``solve_one_area``, ``finish``) run apart give the
plan ``solve`` gives, also when each area's problem and result travel as JSON (as they do to a
queue worker and back); an area nobody solved leaves its visits to the repair and the reasons."""

from __future__ import annotations

from dataclasses import replace

import optimizer
from optimizer import (
    NoLimit,
    area_result_from_dict,
    area_result_to_dict,
    check,
    finish,
    is_feasible,
    plan_areas,
    problem_from_dict,
    problem_to_dict,
    solve,
    solve_one_area,
    unsolved,
)
from tests.optimizer.test_decompose import PARAMS, day

SPLIT = replace(PARAMS, max_visits_per_area=8)


def _plan(solution: optimizer.Solution) -> tuple:
    return (solution.routes, tuple((u.visit_id, u.code) for u in solution.unassigned), solution.kpis)


def test_the_steps_run_apart_through_json_give_solves_plan() -> None:
    p = day()
    whole = solve(p, SPLIT)
    areas = plan_areas(p, SPLIT)
    assert len(areas) > 1
    results = []
    for area in areas:
        travelled = problem_from_dict(problem_to_dict(area.problem))  # to a worker ...
        result = solve_one_area(travelled, SPLIT, NoLimit())
        results.append(area_result_from_dict(area_result_to_dict(result)))  # ... and back
        assert results[-1] == result
    apart = finish(p, areas, results, SPLIT, NoLimit(), None)
    assert is_feasible(check(p, apart))
    assert _plan(apart) == _plan(whole)
    assert apart.stats is not None and apart.stats.parameters["areas"] == len(areas)


def test_an_area_nobody_solved_is_repaired_and_explained() -> None:
    p = day()
    areas = plan_areas(p, SPLIT)
    results = [solve_one_area(a.problem, SPLIT, NoLimit()) for a in areas]
    results[0] = unsolved(areas[0])
    sol = finish(p, areas, results, SPLIT, NoLimit(), None)
    assert is_feasible(check(p, sol))
    left = {u.visit_id for u in sol.unassigned}
    assert left | set(sol.assignments()) == {v.id for v in p.visits}
    assert left <= set(areas[0].visit_ids) | {u for r in results[1:] for u in r.dropped}
    assert set(areas[0].visit_ids) & set(sol.assignments())  # the repair placed them with other areas' workers
    assert sol.stats is not None and sol.stats.parameters["areas_not_solved"] == 1
    assert optimizer.NOT_SOLVED in sol.stats.status


def test_an_area_result_document_is_checked_on_reading() -> None:
    import pytest

    doc = area_result_to_dict(solve_one_area(plan_areas(day(), SPLIT)[0].problem, SPLIT, NoLimit()))
    with pytest.raises(optimizer.FormatError):
        area_result_from_dict({**doc, "format": "carepath-solution/2"})
    with pytest.raises(optimizer.FormatError):
        area_result_from_dict({**doc, "dropped": [1]})
    with pytest.raises(optimizer.FormatError):
        area_result_from_dict({**doc, "routes": [{"worker_id": "x"}]})
