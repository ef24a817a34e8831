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
from collections.abc import Mapping, Sequence
from typing import Protocol

import httpx
import numpy as np

from dispatch.settings import Settings, get_settings

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


def straight_line_metres(points: Sequence[Point]) -> np.ndarray:
    """Pairwise great-circle distances in metres (float n x n), vectorised haversine.

    The sphere's radius is the Gaussian radius at the points' mean latitude, which keeps the
    result within about 0.2 % of the WGS-84 geodesic (``geopy.distance.geodesic``) for points up
    to ~50 km apart in a region like powiat kielecki; 400 points take milliseconds where
    geodesic would take seconds.  The road factor's own uncertainty (tens of percent) dwarfs it.
    """
    if not points:
        return np.zeros((0, 0))
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("points must be a sequence of (lat, lon) pairs")
    if np.any(np.abs(arr[:, 0]) > 90) or np.any(np.abs(arr[:, 1]) > 180):
        raise ValueError("latitude must be within +-90 and longitude within +-180 degrees")
    radius = _gaussian_radius(float(arr[:, 0].mean()))
    lat = np.radians(arr[:, 0])
    lon = np.radians(arr[:, 1])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


class GeodesicProvider:
    """Offline estimate: straight line x ``road_factor`` at the mode's average speed."""

    def __init__(self, speeds_kmh: Mapping[str, float], road_factor: float = 1.35) -> None:
        if road_factor < 1:
            raise ValueError("road_factor must be at least 1 (roads are never shorter than a straight line)")
        self.speeds_kmh = dict(speeds_kmh)
        self.road_factor = road_factor

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> GeodesicProvider:
        s = settings or get_settings()
        return cls(
            {"walk": s.walk_speed_kmh, "public_transport": s.public_transport_speed_kmh, "car": s.car_speed_kmh},
            road_factor=s.road_factor,
        )

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[Matrix, Matrix]:
        name = mode
        try:
            speed = self.speeds_kmh[name]
        except KeyError:
            raise ValueError(f"no speed configured for travel mode {name!r}") from None
        metres = straight_line_metres(points) * self.road_factor
        seconds = metres / (speed * 1000.0 / 3600.0)
        minutes = _ceil_minutes(seconds)
        np.fill_diagonal(minutes, 0)
        whole_metres = np.rint(metres).astype(np.int64)
        np.fill_diagonal(whole_metres, 0)
        return minutes.tolist(), whole_metres.tolist()


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

    def matrix(self, points: Sequence[Point], mode: str) -> tuple[Matrix, Matrix]:
        name = mode
        profile = self.profiles.get(name)
        if profile is None:
            if self.fallback is None:
                raise ValueError(f"OSRM has no profile for travel mode {name!r} and no fallback is set")
            log.debug("travel mode %s not served by OSRM: using %s", name, type(self.fallback).__name__)
            return self.fallback.matrix(points, name)
        n = len(points)
        seconds = np.zeros((n, n))
        metres = np.zeros((n, n))
        block = max(1, self.max_table_size // 2)  # sources + destinations share the coordinate list
        for s0 in range(0, n, block):
            for d0 in range(0, n, block):
                src = list(range(s0, min(n, s0 + block)))
                dst = list(range(d0, min(n, d0 + block)))
                dur, dist = self._table(profile, points, src, dst)
                seconds[np.ix_(src, dst)] = dur
                metres[np.ix_(src, dst)] = dist
        minutes = _ceil_minutes(seconds)
        np.fill_diagonal(minutes, 0)
        whole_metres = np.rint(metres).astype(np.int64)
        np.fill_diagonal(whole_metres, 0)
        return minutes.tolist(), whole_metres.tolist()

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
