"""Travel-time providers: offline geodesic estimates and OSRM against a local fake server."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from geopy.distance import geodesic

from dispatch.settings import Settings
from dispatch.providers.travel import (
    GeodesicProvider,
    OsrmProvider,
    TravelTimeError,
    provider_from_settings,
    straight_line_metres,
)

# From shared fixtures-data/kielce_places.csv
RYNEK = (50.8703, 20.6280)  # Centrum (Rynek), +-200 m
WSZ = (50.8737, 20.6012)  # Wojewódzki Szpital Zespolony, ul. Grunwaldzka 45, +-150 m
MASLOW = (50.8980, 20.7100)  # gmina Masłów, +-2 km


@pytest.fixture
def provider() -> GeodesicProvider:
    return GeodesicProvider.from_settings(Settings(_env_file=None))


def test_rynek_to_hospital_distance_and_times_are_plausible(provider: GeodesicProvider) -> None:
    """Rynek -> WSZ is ~1.9 km straight (CSV coordinates), ~2.6 km by road: ~6 min by car, ~35 min walking."""
    straight = geodesic(RYNEK, WSZ).m
    assert 1850 < straight < 2000
    minutes, metres = provider.matrix([RYNEK, WSZ], "car")
    assert metres[0][1] == pytest.approx(straight * 1.35, rel=0.003)
    assert minutes[0][1] == math.ceil(metres[0][1] / (30_000 / 60) - 1e-9) == 6
    walk, _ = provider.matrix([RYNEK, WSZ], "walk")
    pt, _ = provider.matrix([RYNEK, WSZ], "public_transport")
    assert 30 <= walk[0][1] <= 40 and pt[0][1] == 11
    assert walk[0][1] > pt[0][1] > minutes[0][1]


def test_matrix_shape_diagonal_and_symmetry(provider: GeodesicProvider) -> None:
    """An n-point matrix is n x n of ints, zero on the diagonal, symmetric, duplicates at 0 minutes."""
    points = [RYNEK, WSZ, MASLOW, RYNEK]
    minutes, metres = provider.matrix(points, "car")
    assert len(minutes) == len(metres) == 4 and all(len(row) == 4 for row in minutes + metres)
    assert all(isinstance(v, int) for row in minutes + metres for v in row)
    assert [minutes[i][i] for i in range(4)] == [0, 0, 0, 0]
    assert minutes[0][3] == metres[0][3] == 0
    assert all(minutes[i][j] == minutes[j][i] for i in range(4) for j in range(4))
    assert provider.matrix([], "car") == ([], [])


def test_minutes_round_up() -> None:
    """A trip of 1 min 1 s counts as 2 minutes; exactly 2 minutes stays 2."""
    p = GeodesicProvider({"car": 60.0}, road_factor=1.0)  # 1 km per minute
    one_km = straight_line_metres([RYNEK, (RYNEK[0] + 0.009, RYNEK[1])])[0][1]
    scale = 1016.0 / one_km  # ~1.016 km -> 61 s
    minutes, _ = p.matrix([RYNEK, (RYNEK[0] + 0.009 * scale, RYNEK[1])], "car")
    assert minutes[0][1] == 2


def test_haversine_stays_within_a_fifth_of_a_percent_of_geodesic() -> None:
    """The vectorised sphere is within 0.2 % of WGS-84 geodesic across powiat kielecki."""
    pts = [RYNEK, WSZ, MASLOW, (50.70, 20.40), (51.05, 20.85), (50.80, 20.95)]
    fast = straight_line_metres(pts)
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            if i != j:
                assert fast[i][j] == pytest.approx(geodesic(a, b).m, rel=0.002)


def test_a_four_hundred_point_matrix_is_whole_and_agrees_with_its_pairs(provider: GeodesicProvider) -> None:
    """The planner asks for ~400-point matrices per mode: every row is there, the diagonal is zero and a
    sample of cells equals the pair computed alone (how fast it is, is measured in benchmarks/, not here)."""
    pts = [(50.80 + (i % 20) * 0.01, 20.55 + (i // 20) * 0.01) for i in range(400)]
    minutes, _ = provider.matrix(pts, "walk")
    assert len(minutes) == 400 and all(len(row) == 400 for row in minutes)
    assert all(minutes[i][i] == 0 for i in range(400))
    for i, j in [(0, 399), (17, 203), (398, 1)]:
        alone, _ = provider.matrix([pts[i], pts[j]], "walk")
        assert minutes[i][j] == alone[0][1] > 0


def test_unknown_mode_and_bad_points_are_errors(provider: GeodesicProvider) -> None:
    """A mode without a speed and coordinates out of range fail loudly."""
    with pytest.raises(ValueError, match="travel mode"):
        provider.matrix([RYNEK], "bicycle")
    with pytest.raises(ValueError, match="latitude"):
        provider.matrix([(95.0, 20.0)], "car")


# --------------------------------------------------------------------------- OSRM

CANNED_TABLE = {
    "code": "Ok",
    "durations": [[0.0, 421.3, 1260.0], [433.9, 0.0, 1201.2], [1250.5, 1199.9, 0.0]],
    "distances": [[0.0, 2731.4, 11870.2], [2790.1, 0.0, 11002.0], [11880.0, 10990.6, 0.0]],
    "sources": [], "destinations": [],
}


class _FakeOsrm(BaseHTTPRequestHandler):
    requests: list[str] = []
    mode = "canned"

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        type(self).requests.append(self.path)
        parts = urlsplit(self.path)
        if type(self).mode == "canned":
            body = CANNED_TABLE
        elif type(self).mode == "no-route":
            body = {**CANNED_TABLE, "durations": [[0.0, None, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]}
        else:  # "computed": duration = 60 * (|i - j| + 0.5) s between original point numbers
            coords = parts.path.rsplit("/", 1)[1].split(";")
            q = parse_qs(parts.query)
            ids = [round(float(c.split(",")[1]) * 1000) for c in coords]  # lat encodes the point number
            src = [ids[int(k)] for k in q["sources"][0].split(";")]
            dst = [ids[int(k)] for k in q["destinations"][0].split(";")]
            body = {
                "code": "Ok",
                "durations": [[60.0 * (abs(a - b) + 0.5) if a != b else 0.0 for b in dst] for a in src],
                "distances": [[1000.0 * abs(a - b) for b in dst] for a in src],
            }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def osrm_url() -> Iterator[str]:
    """A tiny OSRM look-alike on 127.0.0.1 (random port), stopped after the test."""
    _FakeOsrm.requests = []
    _FakeOsrm.mode = "canned"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_osrm_table_is_converted_to_whole_minutes_and_metres(osrm_url: str) -> None:
    """OSRM seconds become minutes rounded up, metres are rounded, the URL is lon,lat with annotations."""
    provider = OsrmProvider(osrm_url + "/")
    try:
        minutes, metres = provider.matrix([RYNEK, WSZ, MASLOW], "car")
    finally:
        provider.close()
    assert minutes == [[0, 8, 21], [8, 0, 21], [21, 20, 0]]
    assert metres == [[0, 2731, 11870], [2790, 0, 11002], [11880, 10991, 0]]
    (path,) = _FakeOsrm.requests
    parts = urlsplit(path)
    assert parts.path == "/table/v1/driving/20.628000,50.870300;20.601200,50.873700;20.710000,50.898000"
    assert parse_qs(parts.query) == {
        "annotations": ["duration,distance"], "sources": ["0;1;2"], "destinations": ["0;1;2"],
    }


def test_osrm_large_matrices_are_fetched_in_blocks(osrm_url: str) -> None:
    """With a table limit of 4, a 5-point matrix is assembled from 2x2-point blocks correctly."""
    _FakeOsrm.mode = "computed"
    points = [(i / 1000, 20.0) for i in range(5)]
    provider = OsrmProvider(osrm_url, max_table_size=4)
    try:
        minutes, metres = provider.matrix(points, "walk")
    finally:
        provider.close()
    assert minutes == [[0 if i == j else abs(i - j) + 1 for j in range(5)] for i in range(5)]
    assert metres == [[1000 * abs(i - j) for j in range(5)] for i in range(5)]
    assert len(_FakeOsrm.requests) == 9 and all("/table/v1/foot/" in p for p in _FakeOsrm.requests)


def test_osrm_unroutable_pair_and_dead_server_are_errors(osrm_url: str) -> None:
    """A null duration names the pair; a server that does not answer gives a TravelTimeError."""
    _FakeOsrm.mode = "no-route"
    provider = OsrmProvider(osrm_url)
    try:
        with pytest.raises(TravelTimeError, match="from point 0 to point 1"):
            provider.matrix([RYNEK, WSZ, MASLOW], "car")
    finally:
        provider.close()
    dead = OsrmProvider("http://127.0.0.1:9", timeout_s=1)
    try:
        with pytest.raises(TravelTimeError, match="did not answer"):
            dead.matrix([RYNEK, WSZ], "car")
    finally:
        dead.close()


def test_public_transport_falls_back_and_settings_pick_the_provider(osrm_url: str) -> None:
    """OSRM has no public-transport profile: that mode uses the geodesic fallback, with no request."""
    offline = provider_from_settings(Settings(_env_file=None))
    assert isinstance(offline, GeodesicProvider)
    osrm = provider_from_settings(Settings(_env_file=None, travel_provider="osrm", osrm_url=osrm_url))
    assert isinstance(osrm, OsrmProvider)
    try:
        minutes, _ = osrm.matrix([RYNEK, WSZ], "public_transport")
    finally:
        osrm.close()
    assert minutes == offline.matrix([RYNEK, WSZ], "public_transport")[0]
    assert _FakeOsrm.requests == []


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.floats(50.6, 51.1), st.floats(20.2, 21.0)), min_size=1, max_size=40),
       st.sampled_from(["walk", "public_transport", "car"]))
def test_lazy_rows_are_the_square_cell_for_cell(points: list[tuple[float, float]], mode: str) -> None:
    """``lazy`` gives, row by row and block by block, exactly the minutes and metres of the square
    (a plan must not depend on how its matrix was held); the metres are one matrix for every mode."""
    provider = GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35)
    minutes, metres = provider.arrays(points, mode)
    lazy_minutes, lazy_metres = provider.lazy(points, mode)
    for i in reversed(range(len(points))):
        assert list(lazy_minutes[i]) == minutes[i].tolist() and list(lazy_metres[i]) == metres[i].tolist()
    idx = list(range(0, len(points), 2))
    assert np.array_equal(lazy_minutes.block(idx, idx), minutes[np.ix_(idx, idx)])
    assert provider.lazy(points, "walk")[1] is lazy_metres


def test_a_day_built_with_the_offline_model_has_lazy_matrices() -> None:
    """The problem builder asks the offline provider for lazy matrices: nothing is computed until
    read, and what is read equals the dense build (a provider without ``lazy``)."""
    from fixtures.generator import BENCHMARK_PROFILE, generate
    from fixtures.problem import problem_for_day
    from optimizer.matrix import is_lazy

    class Dense(GeodesicProvider):
        lazy = None  # type: ignore[assignment]

    scenario = generate(2026, profile=BENCHMARK_PROFILE, seniors=30, workers=6)
    speeds = {"walk": 4.5, "public_transport": 15.0, "car": 30.0}
    lazy_p = problem_for_day(scenario, scenario.demo_date, GeodesicProvider(speeds, 1.35)).problem
    dense_p = problem_for_day(scenario, scenario.demo_date, Dense(speeds, 1.35)).problem
    assert lazy_p.travel_times and all(map(is_lazy, lazy_p.travel_times.values()))
    assert len({id(m) for m in lazy_p.distances.values()}) == 1
    for mode, matrix in dense_p.travel_times.items():
        assert lazy_p.travel_times[mode] == matrix and lazy_p.distances[mode] == dense_p.distances[mode]
