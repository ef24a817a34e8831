"""Geocoders: stored coordinates or a clear error; Nominatim only through an injected client here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dispatch.geocoding import GeocodingError, NominatimGeocoder, StoredGeocoder, geocoder_from_settings
from dispatch.settings import Settings
from fixtures.scenario import Address

ADDRESS = Address("Studzienna", "2", "25-544", "Kielce")


def test_stored_geocoder_returns_stored_coordinates_or_fails() -> None:
    """Stored lat/lon are returned as floats; missing ones raise an error naming the record."""
    g = StoredGeocoder()
    assert g.locate(ADDRESS, (50.865, 20.63)) == (50.865, 20.63)
    with pytest.raises(GeocodingError, match="S0001: no stored coordinates for 'ul. Studzienna 2, 25-544 Kielce'"):
        g.locate(ADDRESS, None, ref="S0001")
    with pytest.raises(GeocodingError, match="out of range"):
        g.locate(ADDRESS, (150.0, 20.0))


@dataclass
class _Location:
    latitude: float
    longitude: float


class _FakeNominatim:
    def __init__(self, answer: _Location | None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def geocode(self, query: str, **kwargs: Any) -> _Location | None:
        self.calls.append((query, kwargs))
        return self.answer


def test_nominatim_geocoder_queries_poland_and_prefers_stored() -> None:
    """Only addresses without coordinates are looked up, restricted to Poland; misses are errors."""
    fake = _FakeNominatim(_Location(50.8651, 20.6302))
    g = NominatimGeocoder("carepath-test", geolocator=fake)
    assert g.locate(ADDRESS, (1.0, 2.0)) == (1.0, 2.0)
    assert fake.calls == []
    assert g.locate(ADDRESS) == (50.8651, 20.6302)
    assert fake.calls == [("ul. Studzienna 2, 25-544 Kielce", {"exactly_one": True, "country_codes": "pl"})]
    with pytest.raises(GeocodingError, match="found nothing"):
        NominatimGeocoder("carepath-test", geolocator=_FakeNominatim(None)).locate("ul. Nieistniejąca 1, Kielce")


def test_settings_choose_the_geocoder() -> None:
    """geocoder=stored (default) gives StoredGeocoder; nominatim builds one without any request."""
    assert isinstance(geocoder_from_settings(Settings(_env_file=None)), StoredGeocoder)
    assert isinstance(geocoder_from_settings(Settings(_env_file=None, geocoder="nominatim")), NominatimGeocoder)
