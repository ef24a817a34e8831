"""Fast checks of the side-by-side benchmark's adapters (issue 7).

Each peer's plan on a tiny home-care problem must pass carepath's independent checker and
account for every visit.  VROOM and PyVRP are optional (``.[bench]``): their tests skip
cleanly where the packages are missing, as in CI's ``.[test]`` environment.
"""

from __future__ import annotations

import pytest

from benchmarks.peers import get_peer, peer_names
from benchmarks.peers.isolate import run_isolated
from benchmarks.peers.plans import DEPENDENCY, TWO_PERSON, Vehicle, retimed_route, split_expressible
from benchmarks.peers.report import write_csv, write_markdown
from optimizer.checker import check, is_feasible
from optimizer.model import (
    BreakRule,
    Dependency,
    Location,
    Problem,
    Shift,
    TimeWindow,
    TravelMode,
    Visit,
    Worker,
    WorkerKind,
)


def tiny_problem() -> Problem:
    """Two workers of different kinds, a break, skills, a two-person visit and a dependency."""
    n = 7
    times = tuple(tuple(abs(i - j) * 5 for j in range(n)) for i in range(n))
    workers = (
        Worker("anna", WorkerKind.CARER, (Shift(480, 960, 0, (BreakRule(15, 600, 780),)),), 0, 0,
               TravelMode.CAR, skills=frozenset({"insulin"})),
        Worker("bob", WorkerKind.HANDYMAN, (Shift(480, 960),), 0, 0, TravelMode.CAR),
    )
    care = frozenset({WorkerKind.CARER})
    visits = (
        Visit("v1", 1, 30, (TimeWindow(480, 600),), worker_kinds=care, mandatory=True),
        Visit("v2", 2, 45, (TimeWindow(540, 720),), worker_kinds=care, required_skills=frozenset({"insulin"})),
        Visit("v3", 3, 60, (TimeWindow(600, 900),), worker_kinds=frozenset({WorkerKind.HANDYMAN})),
        Visit("v4", 4, 30, (TimeWindow(700, 900),), worker_kinds=care, forbidden_workers=frozenset({"anna"})),
        Visit("v5", 5, 30, (TimeWindow(500, 900),), workers_needed=2),
        Visit("v6", 6, 20, (TimeWindow(480, 900),)),
        Visit("v7", 6, 20, (TimeWindow(480, 900),)),
    )
    return Problem(
        locations=tuple(Location(str(i)) for i in range(n)),
        travel_times={TravelMode.CAR: times},
        workers=workers,
        visits=visits,
        dependencies=(Dependency("v6", "v7", min_delay=60),),
        name="tiny",
    )


def _assert_valid(problem: Problem, name: str) -> None:
    run = get_peer(name).solve(problem, 1.0, "travel")
    assert run.solution is not None, run.status
    violations = check(problem, run.solution)
    assert is_feasible(violations), [v.message for v in violations]
    placed = {s.visit_id for r in run.solution.routes for s in r.stops}
    unplaced = {u.visit_id for u in run.solution.unassigned}
    assert placed | unplaced == {v.id for v in problem.visits} and not placed & unplaced
    assert "v4" not in {s.visit_id for r in run.solution.routes if r.worker_id == "anna" for s in r.stops}
    assert placed >= {"v1", "v2", "v3"}


def test_split_expressible_names_each_left_out_visit() -> None:
    keep, left = split_expressible(tiny_problem(), two_person=False, dependencies=False, rides=False)
    assert left == {TWO_PERSON: ["v5"], DEPENDENCY: ["v6", "v7"]}
    assert keep == [0, 1, 2, 3]


def test_retimed_route_fits_the_break() -> None:
    problem = tiny_problem()
    route, fitted = retimed_route(problem, Vehicle(0, 0), [0, 1])
    assert fitted and len(route.breaks) == 1
    assert 600 <= route.breaks[0].start <= 780


def test_carepath_on_the_peers_visits_passes_the_checker_and_leaves_out_what_they_cannot_express() -> None:
    """The like-for-like row: carepath given only what VROOM and PyVRP can express; the plan is
    checked against the whole day, and the two-person and linked visits are reported left out."""
    _assert_valid(tiny_problem(), "carepath_given")
    run = get_peer("carepath_given").solve(tiny_problem(), 1.0, "travel")
    assert run.left_out == {TWO_PERSON: 1, DEPENDENCY: 2}
    placed = {s.visit_id for r in run.solution.routes for s in r.stops}
    assert not placed & {"v5", "v6", "v7"}


def test_carepath_on_the_peers_objective_weights_balance_and_preferences_zero() -> None:
    """Two carers at the office, four hour-long visits at C (15 min away): carepath's own
    objective splits them between the two (one carer doing all four is far above the fair
    share, and balance is priced by its square), for a second trip; on the peers' objective one
    carer does all four in one trip.  Both plans pass the checker on the whole day."""
    from optimizer import evaluate
    from optimizer.model import Weights
    from tests.optimizer.builders import C, problem, visit, worker

    day = problem([worker("W1"), worker("W2")], [visit(f"c{i}", C, 60, mandatory=True) for i in range(4)],
                  weights=Weights())
    runs = {name: get_peer(name).solve(day, 1.0, "travel") for name in ("carepath_given", "carepath_travel")}
    for run in runs.values():
        assert run.solution is not None and is_feasible(check(day, run.solution))
        assert not run.solution.unassigned
    used = {name: sum(1 for r in run.solution.routes if r.stops) for name, run in runs.items()}
    travel = {name: evaluate(day, run.solution).kpis.travel_minutes for name, run in runs.items()}
    assert used == {"carepath_given": 2, "carepath_travel": 1}
    assert travel == {"carepath_given": 60, "carepath_travel": 30}


def test_plain_ortools_plan_passes_the_checker() -> None:
    _assert_valid(tiny_problem(), "ortools")


def test_vroom_plan_passes_the_checker() -> None:
    pytest.importorskip("vroom")
    _assert_valid(tiny_problem(), "vroom")


def test_pyvrp_plan_passes_the_checker() -> None:
    pytest.importorskip("pyvrp")
    _assert_valid(tiny_problem(), "pyvrp")


def test_every_peer_is_registered_and_reports_missing_packages_as_text() -> None:
    assert peer_names() == ["carepath", "carepath_given", "carepath_travel", "ortools", "vroom", "pyvrp"]
    for name in peer_names():
        why = get_peer(name).missing()
        assert why is None or why.startswith("not installed")


def _boom() -> None:
    raise RuntimeError("peer crashed")


def test_isolated_run_reports_errors_instead_of_raising() -> None:
    outcome, message = run_isolated(_boom, (), 30)
    assert outcome == "error" and "peer crashed" in message
    assert run_isolated(sum, ([1, 2],), 30) == ("ok", 3)


def test_isolated_run_that_overruns_is_killed_and_says_how_long_it_was_given() -> None:
    import time

    assert run_isolated(time.sleep, (30,), 0.5) == ("timeout", "no answer within 0.5 s")


def test_report_writes_csv_and_markdown(tmp_path) -> None:
    rows = [
        {"set": "solomon", "instance": "R101", "visits": 100, "solver": "vroom", "time_limit_s": 5.0,
         "placed": 100, "feasible": True, "distance": 1650.0, "gap_pct": 0.43},
        {"set": "kielce", "instance": "1x", "visits": 286, "solver": "pyvrp", "status": "not installed (pip install pyvrp)"},
    ]
    write_csv(rows, tmp_path / "c.csv")
    write_markdown(rows, tmp_path / "c.md", command="python -m benchmarks.compare --quick", set_name="quick",
                   settings={"vroom": "x"}, wall_s=60, plots=[], notes=[])
    text = (tmp_path / "c.md").read_text()
    assert "| R101 |" in text and "not installed" in text and "Machine:" in text
    solomon_header = next(line for line in text.splitlines() if line.startswith("| instance |"))
    assert solomon_header == "| instance | VROOM |"  # PyVRP ran on the home-care day only: no Solomon column


def test_plots_take_every_registered_solver(tmp_path) -> None:
    """The scaling plot marks each solver's Kielce rows; ``carepath_given`` (added later than the
    plot's markers) once crashed the whole compare run after 35 minutes of solving."""
    pytest.importorskip("matplotlib")
    from benchmarks.peers.report import plot

    rows = [{"set": "scaling", "instance": "~100", "visits": 100, "solver": "carepath", "solve_s": 1.8,
             "construct_s": 0.2, "build_s": 0.1, "peak_rss_mb": 160.0, "rss_after_build_mb": 120.0, "areas": 1}]
    rows += [{"set": "kielce", "instance": "1x", "visits": 324, "solver": s, "solve_s": 4.5, "placed": 220,
              "travel_min": 1500, "feasible": True} for s in peer_names()]
    made = plot(rows, tmp_path, 600)
    assert "compare_scaling.png" in made and (tmp_path / "compare_scaling.png").stat().st_size > 0


def test_compare_refuses_a_kielce_scale_the_set_does_not_have(capsys) -> None:
    """``--kielce-scales`` only narrows the set's days; a scale it lacks is an error (exit 2,
    naming the scale and the ones there are), before anything is solved or written."""
    from benchmarks.compare import main

    with pytest.raises(SystemExit) as stop:
        main(["--only", "kielce", "--kielce-scales", "1", "5", "--out", "/nonexistent/never-written"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "no Kielce day at 5x" in err and "1x, 10x, 30x" in err
