"""Kept travel matrices: rows computed when read (the offline estimate), cell for cell what a whole
computation gives; whole matrices (OSRM) grow by a row and a column for a new place; modes share
equal metre matrices; the straight line is computed once per point list."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dispatch.providers import travel as travel_module
from dispatch.providers.travel import GeodesicProvider, straight_line_metres
from dispatch.providers.rows_on_demand import RowsOnDemand
from dispatch.providers.travel_cache import CachedTravel

SPEEDS = {"car": 30.0, "walk": 4.5, "public_transport": 18.0}


def places(n: int, seed: int = 7) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return [(50.80 + 0.15 * a, 20.55 + 0.2 * b) for a, b in rng.random((n, 2))]


def as_lists(rows) -> list[list[int]]:
    return [list(row) for row in rows]


def test_the_banded_square_is_the_plain_haversine_cell_for_cell() -> None:
    pts = places(700)  # more than two bands
    arr = np.asarray(pts)
    radius = travel_module._gaussian_radius(travel_module.frame_latitude(pts))
    assert np.array_equal(straight_line_metres(pts), travel_module._haversine(arr, arr, radius))
    block = straight_line_metres(pts, [3, 650], None)
    assert np.array_equal(block, straight_line_metres(pts)[[3, 650]])


@pytest.mark.parametrize("where", ["end", "middle"])
def test_a_new_place_grows_the_kept_matrices_instead_of_computing_them_again(where: str) -> None:
    inner = GeodesicProvider(SPEEDS)
    cached = CachedTravel(inner, on_demand=False)  # whole matrices, as OSRM's are kept
    day = places(300)
    for mode in SPEEDS:
        cached.matrix(day, mode)
    assert inner.line_computations == 1  # one straight line for the three modes
    asked = cached.cells_asked
    new_place = (50.8701, 20.6302)
    grown = day + [new_place] if where == "end" else day[:120] + [new_place] + day[120:]
    for mode in SPEEDS:
        minutes, metres = cached.matrix(grown, mode)
        whole_min, whole_m = GeodesicProvider(SPEEDS).matrix(grown, mode)
        assert as_lists(minutes) == whole_min and as_lists(metres) == whole_m
    assert cached.grown == 3
    assert cached.cells_asked - asked == 3 * 2 * len(grown)  # a row and a column per mode, not 301 x 301


def test_a_place_left_out_and_one_added_still_grow_and_many_new_places_compute_whole() -> None:
    cached = CachedTravel(GeodesicProvider(SPEEDS), on_demand=False)
    day = places(200)
    cached.matrix(day, "car")
    shuffled = day[50:] + [(50.91, 20.71)] + day[1:50]  # the first place gone, a new one, another order
    minutes, metres = cached.matrix(shuffled, "car")
    assert cached.grown == 1
    assert (as_lists(minutes), as_lists(metres)) == GeodesicProvider(SPEEDS).matrix(shuffled, "car")
    many = day + places(100, seed=8)  # a third new: computed whole
    cached.matrix(many, "car")
    assert cached.grown == 1 and cached.cells_asked >= 200 * 200 + 300 * 300


def test_modes_share_equal_metre_rows_and_a_repeat_is_a_hit() -> None:
    cached = CachedTravel(GeodesicProvider(SPEEDS), on_demand=False)
    day = places(50)
    car_min, car_m = cached.matrix(day, "car")
    walk_min, walk_m = cached.matrix(day, "walk")
    assert walk_m is car_m and as_lists(walk_min) != as_lists(car_min)
    assert cached.matrix(day, "car")[0] is car_min and cached.hits == 1


def test_the_shared_metres_cannot_be_changed_by_a_caller() -> None:
    _, metres = GeodesicProvider(SPEEDS).arrays(places(5), "car")
    with pytest.raises(ValueError):
        metres[0, 1] = 0


def test_rows_on_demand_are_the_whole_matrices_cell_for_cell_in_any_order_of_reading() -> None:
    """Rows read in a random order (each reusing the columns earlier rows mirrored) equal the whole
    square; only the rows read are computed, and the modes share the metre rows."""
    day = places(600)  # more than two bands of the square
    cached = CachedTravel(GeodesicProvider(SPEEDS))
    rng = np.random.default_rng(3)
    for mode in SPEEDS:
        minutes, metres = cached.matrix(day, mode)
        assert isinstance(minutes, RowsOnDemand) and len(minutes) == len(day)
        whole_min, whole_m = GeodesicProvider(SPEEDS).arrays(day, mode)
        read = rng.permutation(len(day))[:200]
        for i in read:
            assert np.array_equal(np.frombuffer(minutes[int(i)], dtype=np.int64), whole_min[i])
            assert minutes[int(i)][int(i)] == 0 and metres[int(i)][int(i)] == 0
        assert minutes.computed == 200
        assert np.array_equal(np.asarray(minutes), whole_min) and np.array_equal(np.asarray(metres), whole_m)
    assert cached.matrix(day, "car")[1] is cached.matrix(day, "walk")[1]
    assert cached.hits == 2


def test_rows_on_demand_read_as_a_sequence_a_numpy_matrix_and_pickle_as_plain_rows() -> None:
    cached = CachedTravel(GeodesicProvider(SPEEDS))
    minutes, _ = cached.matrix(places(30), "walk")
    whole = GeodesicProvider(SPEEDS).arrays(places(30), "walk")[0]
    assert minutes[2, 7] == whole[2, 7] and minutes[-1][0] == whole[-1, 0]
    assert [list(r) for r in minutes[3:5]] == whole[3:5].tolist()
    assert minutes.computed == 4  # rows 2, 29, 3 and 4
    plain = pickle.loads(pickle.dumps(minutes))
    assert isinstance(plain, tuple) and [list(r) for r in plain] == whole.tolist()
    assert [list(r) for r in minutes] == whole.tolist()


def test_rows_on_demand_of_a_list_with_a_new_place_after_it_grow_the_kept_road_metres() -> None:
    day = places(300)
    cached = CachedTravel(GeodesicProvider(SPEEDS))
    assert cached.matrix(day, "car")[0][5] is not None  # the day's road metres computed
    for more in ([(50.8701, 20.6302)], [(50.8701, 20.6302), (50.91, 20.71)]):
        grown = day + more
        for mode in SPEEDS:
            minutes, metres = cached.matrix(grown, mode)
            whole_min, whole_m = GeodesicProvider(SPEEDS).arrays(grown, mode)
            assert np.array_equal(np.asarray(minutes), whole_min) and np.array_equal(np.asarray(metres), whole_m)
    assert cached.grown == 2  # once per point list, its modes share it
    assert cached.matrix(day[1:] + day[:1], "car")[0][0] is not None and cached.grown == 2  # another order: afresh
