"""Addresses to coordinates.

The default ``StoredGeocoder`` only uses coordinates already stored with a senior or place and
fails loudly when they are missing: planning with a guessed location would send a carer to the
wrong door.  ``NominatimGeocoder`` asks OpenStreetMap's Nominatim through geopy, one request
per second as its usage policy requires, and only when configured (``CAREPATH_GEOCODER=nominatim``).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from dispatch.settings import Settings, get_settings
from fixtures.scenario import Address

log = logging.getLogger(__name__)

Point = tuple[float, float]


class GeocodingError(LookupError):
    """No coordinates could be found for an address."""


class Geocoder(Protocol):
    """Returns ``(lat, lon)`` for an address, using ``stored`` coordinates when present."""

    def locate(self, address: Address | str, stored: Point | None = None, *, ref: str = "") -> Point: ...


def _text(address: Address | str) -> str:
    return address.line() if isinstance(address, Address) else address


def _valid(stored: Point | None) -> Point | None:
    if stored is None or stored[0] is None or stored[1] is None:
        return None
    lat, lon = float(stored[0]), float(stored[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise GeocodingError(f"stored coordinates {stored} are out of range")
    return lat, lon


class StoredGeocoder:
    """Stored coordinates or an error; never touches the network."""

    def locate(self, address: Address | str, stored: Point | None = None, *, ref: str = "") -> Point:
        point = _valid(stored)
        if point is None:
            who = f"{ref}: " if ref else ""
            raise GeocodingError(
                f"{who}no stored coordinates for {_text(address)!r}; enter lat/lon or set CAREPATH_GEOCODER=nominatim"
            )
        return point


class NominatimGeocoder:
    """Nominatim via geopy for addresses without stored coordinates, limited to Poland."""

    def __init__(self, user_agent: str, *, geolocator: Any | None = None, min_delay_s: float = 1.0) -> None:
        if geolocator is None:
            from geopy.extra.rate_limiter import RateLimiter
            from geopy.geocoders import Nominatim

            nominatim = Nominatim(user_agent=user_agent, timeout=10)
            self._geocode = RateLimiter(nominatim.geocode, min_delay_seconds=min_delay_s)
        else:
            self._geocode = geolocator.geocode

    def locate(self, address: Address | str, stored: Point | None = None, *, ref: str = "") -> Point:
        point = _valid(stored)
        if point is not None:
            return point
        query = _text(address)
        try:
            found = self._geocode(query, exactly_one=True, country_codes="pl")
        except Exception as exc:  # geopy raises a family of GeopyError subclasses and socket errors
            raise GeocodingError(f"geocoding {query!r} failed: {exc}") from exc
        if found is None:
            who = f"{ref}: " if ref else ""
            raise GeocodingError(f"{who}Nominatim found nothing for {query!r}")
        log.info("geocoded %s to %.5f, %.5f", ref or query, found.latitude, found.longitude)
        return float(found.latitude), float(found.longitude)


def geocoder_from_settings(settings: Settings | None = None) -> Geocoder:
    """The geocoder the settings ask for."""
    s = settings or get_settings()
    if s.geocoder == "nominatim":
        return NominatimGeocoder(s.nominatim_user_agent)
    return StoredGeocoder()
