"""Travel-time matrices between points, per travel mode, for the optimizer.

Every provider answers ``matrix(points, mode) -> (minutes, metres)``: square integer matrices in
the order of ``points`` (``(lat, lon)`` pairs), minutes rounded *up* (a plan that assumes a
4.2-minute walk takes 4 would be late every time), 0 on the diagonal.

* ``GeodesicProvider`` works offline: straight-line distance times a road factor, divided by an
  average speed per mode.  It needs no server and is the default.
* ``OsrmProvider`` asks an OSRM server's ``table`` service for road durations and distances.
  OSRM has no public-transport profile, so modes it is not configured for go to a fallback
  provider (the geodesic one by default).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

import httpx
import numpy as np

from dispatch.settings import Settings, get_settings
from optimizer import LazyMatrix

log = logging.getLogger(__name__)

Point = tuple[float, float]  # (lat, lon) in degrees, WGS-84
Matrix = list[list[int]]

# WGS-84 ellipsoid, for the local Gaussian radius of curvature.
_WGS84_A = 6378137.0
_WGS84_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)


class TravelTimeError(RuntimeError):
    """A travel-time source failed or could not route between some points."""


class TravelTimeProvider(Protocol):
    """Anything that turns points into square minute and metre matrices for a travel mode."""

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[Matrix, Matrix]: ...


def _ceil_minutes(seconds: np.ndarray) -> np.ndarray:
    # The small epsilon keeps float noise (e.g. 120.0000000001 s) from adding a whole minute.
    return np.ceil(seconds / 60.0 - 1e-9).astype(np.int64)


def _gaussian_radius(lat_deg: float) -> float:
    """Earth's Gaussian radius of curvature at a latitude: the best sphere around there."""
    s = math.sin(math.radians(lat_deg))
    w = 1 - _WGS84_E2 * s * s
    meridional = _WGS84_A * (1 - _WGS84_E2) / w**1.5
    normal = _WGS84_A / math.sqrt(w)
    return math.sqrt(meridional * normal)


def frame_latitude(points: Sequence[Point]) -> float:
    """The latitude whose Gaussian radius is the sphere for ``points``: their mean, to 0.1 degree.

    Rounded so that one more place (an inline request at a new address) keeps the sphere, and
    with it every other distance, exactly: the kept matrices then grow by a row and a column
    (``dispatch.providers.travel_cache``) instead of being computed again.  Within 0.05 degree the
    radius changes by about 12 m in 6,370 km, far below the 0.2 % this estimate promises."""
    arr = _as_points(points)
    return round(float(arr[:, 0].mean()), 1) if len(arr) else 0.0


def _as_points(points: Sequence[Point]) -> np.ndarray:
    arr = np.asarray(points, dtype=float).reshape(-1, 2) if len(points) else np.zeros((0, 2))
    if np.any(np.abs(arr[:, 0]) > 90) or np.any(np.abs(arr[:, 1]) > 180):
        raise ValueError("latitude must be within +-90 and longitude within +-180 degrees")
    return arr


Prepared = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Points' latitudes and longitudes in radians and the cosines of the latitudes (``_prepared``)."""


def _prepared(points: np.ndarray) -> Prepared:
    lat = np.radians(points[:, 0])
    return lat, np.radians(points[:, 1]), np.cos(lat)


def _haversine(a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """Great-circle metres from each of ``a`` to each of ``b`` (float ``len(a) x len(b)``); a cell
    depends only on its two points and the radius, so a block equals those cells of the square."""
    return _haversine_prepared(_prepared(a), _prepared(b), radius)


def _haversine_prepared(a: Prepared, b: Prepared, radius: float) -> np.ndarray:
    """:func:`_haversine` of prepared points: every element is the same arithmetic, so points prepared
    once (``GeodesicRows``) and then taken by index give the same cells as prepared per call."""
    lat_a, lon_a, cos_a = a
    lat_b, lon_b, cos_b = b
    dlat = lat_a[:, None] - lat_b[None, :]
    dlon = lon_a[:, None] - lon_b[None, :]
    h = np.sin(dlat / 2) ** 2 + cos_a[:, None] * cos_b[None, :] * np.sin(dlon / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


_BAND = 256
"""Rows per band of the square: each band's temporaries stay small (a 10x day's whole square of
float temporaries was most of the time, in memory traffic)."""


def _haversine_square(arr: np.ndarray, radius: float) -> np.ndarray:
    """The square of :func:`_haversine` from its upper triangle, band by band, mirrored: every cell
    is the same arithmetic on the same two points either way round (``sin`` is odd, the product of
    cosines commutes), so half the work gives the same matrix."""
    n = len(arr)
    out = np.empty((n, n))
    for r0 in range(0, n, _BAND):
        r1 = min(n, r0 + _BAND)
        band = _haversine(arr[r0:r1], arr[r0:], radius)
        out[r0:r1, r0:] = band
        out[r0:, r0:r1] = band.T
    return out


def straight_line_metres(points: Sequence[Point], sources: Sequence[int] | None = None,
                         destinations: Sequence[int] | None = None) -> np.ndarray:
    """Pairwise great-circle distances in metres (float n x n), vectorised haversine; with
    ``sources``/``destinations`` (indices into ``points``) only that block, cell for cell the same.

    The sphere's radius is the Gaussian radius at the points' mean latitude (:func:`frame_latitude`),
    which keeps the result within about 0.2 % of the WGS-84 geodesic (``geopy.distance.geodesic``)
    for points up to ~50 km apart in a region like powiat kielecki; 400 points take milliseconds
    where geodesic would take seconds.  The road factor's own uncertainty (tens of percent) dwarfs it.
    """
    if not len(points):
        return np.zeros((0, 0))
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("points must be a sequence of (lat, lon) pairs")
    arr = _as_points(points)
    radius = _gaussian_radius(frame_latitude(points))
    if sources is None and destinations is None:
        return _haversine_square(arr, radius)
    a = arr if sources is None else arr[np.asarray(sources, dtype=np.int64)]
    b = arr if destinations is None else arr[np.asarray(destinations, dtype=np.int64)]
    return _haversine(a, b, radius)


def _zero_same(matrix: np.ndarray, sources: Sequence[int] | None, destinations: Sequence[int] | None) -> None:
    """0 where a source is its destination (the diagonal of the square)."""
    if sources is None and destinations is None:
        np.fill_diagonal(matrix, 0)
        return
    n_src, n_dst = matrix.shape
    src = np.arange(n_src) if sources is None else np.asarray(sources)
    dst = np.arange(n_dst) if destinations is None else np.asarray(destinations)
    matrix[src[:, None] == dst[None, :]] = 0


class GeodesicProvider:
    """Offline estimate: straight line x ``road_factor`` at the mode's average speed.

    ``arrays`` answers in numpy (what the optimizer's rows are made from without a Python object
    per cell); the straight-line distances of the last point list are kept, since every travel
    mode of a day asks for the same points and they are most of the work (seconds at 10x)."""

    def __init__(self, speeds_kmh: Mapping[str, float], road_factor: float = 1.35) -> None:
        if road_factor < 1:
            raise ValueError("road_factor must be at least 1 (roads are never shorter than a straight line)")
        self.speeds_kmh = dict(speeds_kmh)
        self.road_factor = road_factor
        self._line: tuple[tuple[bytes, object, object], tuple[np.ndarray, np.ndarray]] | None = None
        self._lazy_metres: tuple[bytes, LazyMatrix] | None = None
        self.line_computations = 0
        """How many straight-line blocks were computed (tests: a new place is one row, not a day)."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> GeodesicProvider:
        s = settings or get_settings()
        return cls(
            {"walk": s.walk_speed_kmh, "public_transport": s.public_transport_speed_kmh, "car": s.car_speed_kmh},
            road_factor=s.road_factor,
        )

    def frame(self, points: Sequence[Point], mode: str) -> object:
        """What every cell depends on besides its two points (blocks of equal frames fit together)."""
        return ("geodesic", frame_latitude(points))

    def speed(self, mode: str) -> float:
        """The mode's average speed in km/h."""
        try:
            return self.speeds_kmh[mode]
        except KeyError:
            raise ValueError(f"no speed configured for travel mode {mode!r}") from None

    def rows(self, points: Sequence[Point]) -> GeodesicRows:
        """Single rows of ``points``' matrices, each cell what :meth:`arrays` gives (rows on demand,
        ``dispatch.providers.rows_on_demand``): a row costs one point against the others."""
        return GeodesicRows(self, points)

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[Matrix, Matrix]:
        minutes, metres = self.arrays(points, mode)
        return minutes.tolist(), metres.tolist()

    def arrays(self, points: Sequence[Point], mode: str, sources: Sequence[int] | None = None,
               destinations: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Minutes and metres as int64 arrays: the square, or the ``sources`` x ``destinations`` block
        (the metres are read-only: the same array answers every mode)."""
        speed = self.speed(mode)
        metres, whole_metres = self._straight(points, sources, destinations)
        return _minutes_block(metres, speed, sources, destinations), whole_metres  # metres read-only: every mode shares it

    def lazy(self, points: Sequence[Point], mode: str) -> tuple[LazyMatrix, LazyMatrix]:
        """Minutes and metres of ``points`` for ``mode`` as matrices that compute a row (or an
        area's block) when it is first read (``optimizer.matrix``), cell for cell what
        :meth:`arrays` gives for the square.  A region's day needs no N x N square: its areas
        read their own blocks and the passes across areas read rows along routes.  The metres
        matrix is the same object for every mode of one point list (the estimate's metres do
        not depend on the mode), so a day keeps them once."""
        if mode not in self.speeds_kmh:
            raise ValueError(f"no speed configured for travel mode {mode!r}")
        arr = _as_points(points).copy()
        arr.flags.writeable = False
        key = arr.tobytes()
        kept = self._lazy_metres
        if kept is None or kept[0] != key:
            metres = LazyMatrix(len(arr), _LazyCells(self, arr, None))
            self._lazy_metres = kept = (key, metres)
        return LazyMatrix(len(arr), _LazyCells(self, arr, mode, kept[1])), kept[1]

    def _straight(self, points: Sequence[Point], sources: Sequence[int] | None,
                  destinations: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
        """Road metres (float, and whole with 0 for a place to itself) of the block, kept for the last one."""
        key = (np.asarray(points, dtype=np.float64).tobytes(),
               None if sources is None else tuple(sources), None if destinations is None else tuple(destinations))
        kept = self._line
        if kept is not None and kept[0] == key:
            return kept[1]
        metres = straight_line_metres(points, sources, destinations) * self.road_factor
        whole = _whole_metres_block(metres, sources, destinations)
        whole.flags.writeable = False
        self.line_computations += 1
        self._line = (key, (metres, whole))
        return metres, whole


def _minutes_at(road_metres: np.ndarray, speed_kmh: float) -> np.ndarray:
    """Whole minutes (rounded up) to drive, walk or ride ``road_metres`` at ``speed_kmh``."""
    return _ceil_minutes(road_metres / (speed_kmh * 1000.0 / 3600.0))


def _whole_metres(road_metres: np.ndarray) -> np.ndarray:
    return np.rint(road_metres)


class GeodesicRows:
    """Rows of one point list's geodesic matrices: each row is cell for cell that row of
    :meth:`GeodesicProvider.arrays` (the same road metres, :func:`_minutes_at`, :func:`_whole_metres`,
    0 for a place to itself).

    The road metres are the whole square's, computed once on the first row asked (the banded
    triangle, :func:`straight_line_metres`): a live day's first answer reads most places' rows in
    some mode, and the triangle costs half of computing them one by one.  What is saved is the
    rest: each mode's minutes, the whole metres and the optimizer's row format are made only for
    the rows read."""

    def __init__(self, provider: GeodesicProvider, points: Sequence[Point]) -> None:
        self.provider = provider
        self.points = points
        self._road: np.ndarray | None = None
        self._lock = threading.Lock()

    def road(self, sources: Sequence[int]) -> np.ndarray:
        """Float road metres from each of ``sources`` to every point."""
        if self._road is None:
            with self._lock:
                if self._road is None:
                    self._road = straight_line_metres(self.points) * self.provider.road_factor
        return self._road[np.asarray(sources, dtype=np.int64)]

    def grown(self, points: Sequence[Point]) -> GeodesicRows | None:
        """Rows for ``points``, which are this list with places after it, the kept road metres copied and
        only the new places' cells computed, as the square computes them (each earlier place against
        the new one, mirrored); None if nothing is kept yet or the sphere changes (:func:`frame_latitude`)."""
        n = len(self.points)
        if self._road is None or len(points) <= n or tuple(points[:n]) != tuple(self.points) \
                or frame_latitude(points) != frame_latitude(self.points):
            return None
        arr = _as_points(points)
        radius = _gaussian_radius(frame_latitude(points))
        road = np.empty((len(points), len(points)))
        road[:n, :n] = self._road
        for j in range(n, len(points)):
            column = _haversine(arr[:j + 1], arr[j:j + 1], radius)[:, 0] * self.provider.road_factor
            road[:j + 1, j] = column
            road[j, :j + 1] = column
        out = GeodesicRows(self.provider, points)
        out._road = road
        return out

    def metres(self, sources: Sequence[int]) -> np.ndarray:
        whole = _whole_metres(self.road(sources)).astype(np.int64)
        _zero_same(whole, sources, None)
        return whole

    def minutes(self, sources: Sequence[int], mode: str) -> np.ndarray:
        minutes = _minutes_at(self.road(sources), self.provider.speed(mode))
        _zero_same(minutes, sources, None)
        return minutes


def _minutes_block(metres: np.ndarray, speed_kmh: float, sources: Sequence[int] | None,
                   destinations: Sequence[int] | None) -> np.ndarray:
    """Whole minutes (rounded up, 0 from a place to itself) of road ``metres`` at ``speed_kmh``."""
    minutes = np.empty(metres.shape, dtype=np.int64)
    for r0 in range(0, len(metres), _BAND):  # band by band: the temporaries stay in cache
        minutes[r0:r0 + _BAND] = _minutes_at(metres[r0:r0 + _BAND], speed_kmh)
    _zero_same(minutes, sources, destinations)
    return minutes


def _whole_metres_block(metres: np.ndarray, sources: Sequence[int] | None,
                        destinations: Sequence[int] | None) -> np.ndarray:
    """Road ``metres`` rounded to whole metres, 0 from a place to itself."""
    whole = np.empty(metres.shape, dtype=np.int64)
    for r0 in range(0, len(metres), _BAND):
        whole[r0:r0 + _BAND] = _whole_metres(metres[r0:r0 + _BAND])
    _zero_same(whole, sources, destinations)
    return whole


class _LazyCells:
    """The cells of a lazy matrix of ``GeodesicProvider`` (``mode`` None: metres) over a fixed
    point array: a block is :meth:`GeodesicProvider.arrays`'s block, through the same functions
    (``_haversine_prepared``, ``_minutes_block``, ``_whole_metres_block``) without its per-call checks of the point
    list, which were most of a row's cost (a module-level class, so a problem holding one can be
    pickled to a queue worker or a forked child)."""

    def __init__(self, provider: GeodesicProvider, points: np.ndarray, mode: str | None,
                 metres: LazyMatrix | None = None) -> None:
        self.provider = provider
        self.points = points
        self.mode = mode
        self.metres = metres
        """The day's metres matrix, given the whole rows of metres a minutes row was made from
        (the straight line is most of a row's cost; the KPIs read metres along every route)."""
        self.radius = _gaussian_radius(frame_latitude(points))
        self._angles: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_angles": None}

    def __call__(self, sources: np.ndarray | None, destinations: np.ndarray | None) -> np.ndarray:
        if sources is None and destinations is None:  # the square: as the provider makes it
            minutes, metres = self.provider.arrays(self.points, self.mode or next(iter(self.provider.speeds_kmh)))
            return metres if self.mode is None else minutes
        if self._angles is None:
            self._angles = _prepared(self.points)
        a = self._angles if sources is None else tuple(x[sources] for x in self._angles)
        b = self._angles if destinations is None else tuple(x[destinations] for x in self._angles)
        line = _haversine_prepared(a, b, self.radius) * self.provider.road_factor  # type: ignore[arg-type]
        if self.mode is None:
            return _whole_metres_block(line, sources, destinations)
        if self.metres is not None and sources is not None and destinations is None:
            whole = None
            for k, i in enumerate(sources.tolist()):
                if not self.metres.has_row(i):
                    whole = _whole_metres_block(line, sources, None) if whole is None else whole
                    self.metres.keep(i, whole[k])
        return _minutes_block(line, self.provider.speeds_kmh[self.mode], sources, destinations)


class OsrmProvider:
    """Road travel times from an OSRM server's ``/table/v1/{profile}`` service.

    Large matrices are split into blocks of ``max_table_size`` sources x destinations (OSRM's
    default server limit is 100).  An unroutable pair (``null`` in OSRM's answer) is an error
    naming the points, not a silent guess.
    """

    DEFAULT_PROFILES: Mapping[str, str] = {"car": "driving", "walk": "foot"}

    def __init__(
        self,
        base_url: str,
        *,
        profiles: Mapping[str, str] | None = None,
        fallback: TravelTimeProvider | None = None,
        timeout_s: float = 30.0,
        max_table_size: int = 100,
        client: httpx.Client | None = None,
    ) -> None:
        if max_table_size < 2:
            raise ValueError("max_table_size must be at least 2")
        self.base_url = base_url.rstrip("/")
        self.profiles = dict(self.DEFAULT_PROFILES if profiles is None else profiles)
        self.fallback = fallback
        self.max_table_size = max_table_size
        self._client = client or httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def frame(self, points: Sequence[Point], mode: str) -> object:
        """What every cell depends on besides its two points (blocks of equal frames fit together)."""
        if mode not in self.profiles and self.fallback is not None and hasattr(self.fallback, "frame"):
            return self.fallback.frame(points, mode)
        return ("osrm", self.base_url, self.profiles.get(mode))

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[Matrix, Matrix]:
        if self.profiles.get(mode) is None and self.fallback is not None and not hasattr(self.fallback, "arrays"):
            return self.fallback.matrix(points, mode)
        minutes, metres = self.arrays(points, mode)
        return minutes.tolist(), metres.tolist()

    def arrays(self, points: Sequence[Point], mode: str, sources: Sequence[int] | None = None,
               destinations: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Minutes and metres as int64 arrays: the square, or the ``sources`` x ``destinations`` block."""
        name = mode
        profile = self.profiles.get(name)
        if profile is None:
            if self.fallback is None:
                raise ValueError(f"OSRM has no profile for travel mode {name!r} and no fallback is set")
            log.debug("travel mode %s not served by OSRM: using %s", name, type(self.fallback).__name__)
            arrays = getattr(self.fallback, "arrays", None)
            if arrays is not None:
                return arrays(points, name, sources, destinations)
            minutes, metres = (np.asarray(x, dtype=np.int64).reshape(len(points), len(points))
                               for x in self.fallback.matrix(points, name))
            rows = slice(None) if sources is None else np.asarray(sources, dtype=np.int64)
            cols = slice(None) if destinations is None else np.asarray(destinations, dtype=np.int64)
            return minutes[rows][:, cols], metres[rows][:, cols]
        all_src = list(range(len(points))) if sources is None else list(sources)
        all_dst = list(range(len(points))) if destinations is None else list(destinations)
        seconds = np.zeros((len(all_src), len(all_dst)))
        metres = np.zeros((len(all_src), len(all_dst)))
        block = max(1, self.max_table_size // 2)  # sources + destinations share the coordinate list
        for s0 in range(0, len(all_src), block):
            for d0 in range(0, len(all_dst), block):
                src_at = list(range(s0, min(len(all_src), s0 + block)))
                dst_at = list(range(d0, min(len(all_dst), d0 + block)))
                dur, dist = self._table(profile, points, [all_src[i] for i in src_at], [all_dst[j] for j in dst_at])
                seconds[np.ix_(src_at, dst_at)] = dur
                metres[np.ix_(src_at, dst_at)] = dist
        minutes = _ceil_minutes(seconds)
        _zero_same(minutes, sources, destinations)
        whole_metres = np.rint(metres).astype(np.int64)
        _zero_same(whole_metres, sources, destinations)
        return minutes, whole_metres

    def _table(
        self, profile: str, points: Sequence[Point], src: list[int], dst: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """One OSRM table request for the sources x destinations block."""
        index = sorted(set(src) | set(dst))
        local = {p: i for i, p in enumerate(index)}
        coords = ";".join(f"{points[p][1]:.6f},{points[p][0]:.6f}" for p in index)  # OSRM wants lon,lat
        params = {
            "annotations": "duration,distance",
            "sources": ";".join(str(local[p]) for p in src),
            "destinations": ";".join(str(local[p]) for p in dst),
        }
        url = f"{self.base_url}/table/v1/{profile}/{coords}"
        try:
            response = self._client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise TravelTimeError(f"OSRM at {self.base_url} did not answer: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or body.get("code") != "Ok":
            raise TravelTimeError(
                f"OSRM table request failed (HTTP {response.status_code}, "
                f"code {body.get('code')!r}: {body.get('message', response.text[:200])})"
            )
        dur = body.get("durations")
        dist = body.get("distances")
        if dur is None or dist is None:
            raise TravelTimeError("OSRM answered without durations or distances; is it older than 5.19?")
        for i, row in enumerate(dur):
            for j, value in enumerate(row):
                if value is None or dist[i][j] is None:
                    raise TravelTimeError(f"OSRM finds no route from point {src[i]} to point {dst[j]}")
        return np.asarray(dur, dtype=float), np.asarray(dist, dtype=float)


def provider_from_settings(settings: Settings | None = None) -> TravelTimeProvider:
    """The provider the settings ask for (``offline`` geodesic or ``osrm`` with geodesic fallback)."""
    s = settings or get_settings()
    geodesic = GeodesicProvider.from_settings(s)
    if s.travel_provider == "osrm":
        assert s.osrm_url is not None  # enforced by Settings
        return OsrmProvider(s.osrm_url, fallback=geodesic)
    return geodesic
