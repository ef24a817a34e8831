"""A stored plan changed one visit at a time: read back exactly, timed by the engine, priced as evaluate does."""

from __future__ import annotations

import pytest

from optimizer.checker import check, is_feasible
from optimizer.evaluate import evaluate
from optimizer.model import BreakRule, Shift
from optimizer.plan_edit import NotTimed, Timer, solution_of, stored_route, time_with_visit
from optimizer.recommend import recommend
from tests.optimizer.builders import problem, solve_ok, visit, worker


def day():
    shift = Shift(0, 600, 60, (BreakRule(15, 200, 400),))
    workers = [worker("W1", shift), worker("W2", shift)]
    visits = [visit("A", 1, 60, [(0, 100)]), visit("B", 2, 60, [(100, 300)]), visit("C", 3, 30, [(300, 500)]),
              visit("D", 1, 30, [(50, 250)]), visit("E", 2, 45, [(350, 450)], priority=3)]
    return problem(workers, visits)


def test_a_route_read_back_from_its_stops_and_breaks_is_the_route_the_solver_made() -> None:
    p = day()
    sol = solve_ok(p)
    for r in sol.routes:
        again = stored_route(p, r.worker_id, r.shift_index, r.stops, [(b.start, b.end) for b in r.breaks])
        assert again == r


def test_moving_a_visit_keeps_every_other_stop_and_a_start_that_cannot_be_reached_is_refused() -> None:
    p = day()
    sol = solve_ok(p)
    routes = {(r.worker_id, r.shift_index): r for r in sol.routes}
    timer = Timer(p)
    (key,) = [k for k, r in routes.items() if any(s.visit_id == "C" for s in r.stops)]
    other = ("W2", 0) if key[0] == "W1" else ("W1", 0)
    moved = time_with_visit(timer, other, routes.get(other), "C", 480)
    kept_before = {s.visit_id: s.start for s in routes[other].stops} if other in routes else {}
    assert {s.visit_id: s.start for s in moved.stops} == {**kept_before, "C": 480}
    first = routes[key].stops[0]
    with pytest.raises(NotTimed) as refused:  # during the first stop of the route: cannot be there
        time_with_visit(timer, key, routes[key], "E", first.start + 1)
    assert refused.value.earliest is not None and refused.value.earliest > first.start + 1


def test_every_recommended_option_is_feasible_and_priced_as_evaluate_prices_it() -> None:
    p = day()
    sol = solve_ok(p)
    routes = {(r.worker_id, r.shift_index): r for r in sol.routes}
    for vid in ("B", "E"):
        rec = recommend(p, routes, vid, top=3)
        assert rec.options
        base = evaluate(p, solution_of(p, rec.base)).total
        for option in rec.options:
            after = dict(rec.base)
            for r in option.routes:
                after[(r.worker_id, r.shift_index)] = r
            plan = solution_of(p, after)
            assert is_feasible(check(p, plan))
            assert evaluate(p, plan).total - base == option.cost_increase
            assert sum(option.terms.values()) == option.cost_increase
