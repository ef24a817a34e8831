"""Kept travel matrices: a new place grows them by a row and a column, cell for cell what a whole
computation gives; modes share equal metre matrices; the straight line is computed once per point list."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.providers import travel as travel_module
from dispatch.providers.travel import GeodesicProvider, straight_line_metres
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
    cached = CachedTravel(inner)
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
    cached = CachedTravel(GeodesicProvider(SPEEDS))
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
    cached = CachedTravel(GeodesicProvider(SPEEDS))
    day = places(50)
    car_min, car_m = cached.matrix(day, "car")
    walk_min, walk_m = cached.matrix(day, "walk")
    assert walk_m is car_m and as_lists(walk_min) != as_lists(car_min)
    assert cached.matrix(day, "car")[0] is car_min and cached.hits == 1


def test_the_shared_metres_cannot_be_changed_by_a_caller() -> None:
    _, metres = GeodesicProvider(SPEEDS).arrays(places(5), "car")
    with pytest.raises(ValueError):
        metres[0, 1] = 0
