"""Lazy travel matrices (``optimizer.matrix``): read as the dense square, plan as with it.

A region's day holds its travel as rows made on demand; every reader (search, repair,
explanations, KPIs, checker) must see the same minutes as in the dense square, and a split
day's plan must be the same plan, checked by the independent checker through the lazy rows.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import solve
from optimizer.checker import check, is_feasible
from optimizer.decompose import split
from optimizer.matrix import LazyMatrix, dense_block, is_lazy
from optimizer.model import Problem
from tests.optimizer.test_decompose import PARAMS, day


class _Cells:
    """Blocks of a dense array, counting what was asked (a picklable module-level source)."""

    def __init__(self, dense: np.ndarray) -> None:
        self.dense = dense
        self.asked = 0

    def __call__(self, src: np.ndarray | None, dst: np.ndarray | None) -> np.ndarray:
        self.asked += 1
        rows = self.dense if src is None else self.dense[src]
        return rows if dst is None else rows[:, dst]


def lazy(matrix) -> LazyMatrix:
    dense = np.asarray(matrix, dtype=np.int64)
    return LazyMatrix(len(dense), _Cells(dense))


def lazy_problem(p: Problem) -> Problem:
    """``p`` with every matrix lazy (distances: one matrix shared by the modes, as the provider does)."""
    shared = {id(m): lazy(m) for m in {id(m): m for m in p.distances.values()}.values()}
    return replace(p, travel_times={m: lazy(t) for m, t in p.travel_times.items()},
                   distances={m: shared[id(t)] for m, t in p.distances.items()})


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 7).flatmap(lambda n: st.lists(st.lists(st.integers(0, 2**40), min_size=n, max_size=n),
                                                    min_size=n, max_size=n)),
       st.data())
def test_a_lazy_matrix_reads_as_the_dense_one(cells: list[list[int]], data: st.DataObject) -> None:
    """Cell by cell, row by row, as numpy, blocks, negative indices; each row made once."""
    n = len(cells)
    m = lazy(cells)
    assert len(m) == n and is_lazy(m) and not is_lazy(cells)
    for _ in range(3 * n):
        a, b = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
        assert m[a][b] == cells[a][b]
    assert [list(row) for row in m] == cells
    assert np.array_equal(np.asarray(m), np.asarray(cells))
    assert m.rows_computed == m.rows_kept() <= n
    idx = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    assert np.array_equal(dense_block(m, idx), np.asarray(cells)[np.ix_(idx, idx)])
    assert np.array_equal(dense_block(tuple(map(tuple, cells)), idx), dense_block(m, idx))
    assert m == tuple(map(tuple, cells)) and m == lazy(cells)
    assert m[np.int64(n - 1)][0] == cells[n - 1][0]


def test_rows_are_made_once_and_bounded_when_asked() -> None:
    """A row read twice is computed once; ``max_rows`` keeps the newest rows only; out of range
    is an IndexError; a pickled matrix carries its source, not its rows."""
    dense = np.arange(36, dtype=np.int64).reshape(6, 6)
    source = _Cells(dense)
    m = LazyMatrix(6, source, max_rows=2)
    assert m[1][2] == 8 and m[1][3] == 9 and source.asked == 1
    m[2], m[3]
    assert m.rows_kept() == 2 and m.rows_computed == 3
    try:
        m[6]
    except IndexError:
        pass
    else:
        raise AssertionError("row 6 of a 6 x 6 matrix")
    again = pickle.loads(pickle.dumps(m))
    assert again.rows_kept() == 0 and again[5][5] == 35 and again == m
    big = LazyMatrix(2, _Cells(np.array([[0, 3_000_000_000], [1, 0]], dtype=np.int64)))
    assert big[0][1] == 3_000_000_000 and big[0].typecode == "q" and big[1].typecode == "i"


def test_a_split_day_plans_the_same_on_lazy_matrices_and_passes_the_checker() -> None:
    """The decompose test day split into areas: the areas get the same blocks (minutes as tuples,
    as the search reads them), the solve gives the same plan, and the checker, reading the lazy
    rows, accepts it; only rows along routes and around unplaced visits were made."""
    dense = day()
    p = lazy_problem(dense)
    params = replace(PARAMS, max_visits_per_area=8)
    areas, dense_areas = split(p, 8, 0), split(dense, 8, 0)
    assert len(areas) >= 2
    for a, b in zip(areas, dense_areas):
        assert a.locations == b.locations and a.visit_ids == b.visit_ids
        for mode, matrix in a.problem.travel_times.items():
            assert matrix == b.problem.travel_times[mode] and type(matrix[0]) is tuple
    sol, dense_sol = solve(p, params), solve(dense, params)
    assert (sol.routes, sol.unassigned, sol.kpis) == (dense_sol.routes, dense_sol.unassigned, dense_sol.kpis)
    assert is_feasible(check(p, sol)), [v.message for v in check(p, sol)]
    matrix = next(iter(p.travel_times.values()))
    assert matrix.rows_computed <= len(matrix)


def test_a_day_of_one_area_is_searched_on_dense_matrices() -> None:
    """Not split, a lazy day's one area holds its matrices in memory (the hot loops read plain
    tuples), with the same values and the same location indices."""
    p = lazy_problem(day())
    (area,) = split(p, 1000, 0)
    assert area.locations == tuple(range(len(p.locations)))
    for mode, matrix in area.problem.travel_times.items():
        assert not is_lazy(matrix) and matrix == p.travel_times[mode]


def _eligible_one_by_one(p: Problem, visit) -> list[int]:
    """The hard rules of who may do a visit, worker by worker (the reference ``eligible_workers``
    must agree with now that it decides per kind of worker)."""
    from optimizer.rules import car_fits, rides_by_visit

    ride = rides_by_visit(p).get(visit.id)
    return [wi for wi, w in enumerate(p.workers)
            if visit.required_skills <= w.skills and (ride is None or car_fits(w, ride.load))
            and (not visit.worker_kinds or w.kind in visit.worker_kinds)
            and (not visit.required_workers or w.id in visit.required_workers)
            and w.id not in visit.forbidden_workers
            and not (visit.gender_strict and visit.gender_preference and w.gender != visit.gender_preference)
            and (visit.pinned_worker is None or w.id == visit.pinned_worker)]


def _random_days():
    from tests.optimizer.test_solver_properties import problems

    return problems()


@settings(max_examples=12, deadline=None)
@given(st.deferred(_random_days))
def test_eligible_workers_by_kind_of_worker_agree_with_worker_by_worker(p: Problem) -> None:
    """Deciding the hard rules once per kind of worker (a region's speed-up) names the same
    workers, in the same order, as asking each worker."""
    from optimizer.rules import eligible_workers

    for problem in (p, _DAY):
        for visit in problem.visits:
            assert eligible_workers(problem, visit) == _eligible_one_by_one(problem, visit)


_DAY = day()


def test_a_lazy_problem_is_written_as_the_dense_one() -> None:
    """The JSON form of a problem does not show how its matrices were held."""
    from optimizer.jsonio import problem_to_dict

    dense = day()
    assert problem_to_dict(lazy_problem(dense)) == problem_to_dict(dense)
