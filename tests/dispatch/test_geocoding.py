"""Geocoding: Nominatim's usage policy kept (one request a second, a named user agent, answers cached in
the database), unknown addresses and failing servers reported, and no network without a geocoder.

Nominatim is a local stub on loopback (``nominatim_stub`` in tests/conftest.py); rate limits are checked
on an injected clock, never on wall time.  Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlmodel import Session, select

from dispatch.storage import models as m
from dispatch.catalog.records import InvalidInput
from dispatch.providers.geocoding import (
    MISS_TTL,
    AddressQuery,
    Geocoder,
    GeocoderUnavailable,
    NominatimProvider,
    RateLimit,
    fill_coordinates,
    geocoder_from_settings,
    prefetch,
)
from dispatch.settings import PLACEHOLDER_USER_AGENT, Settings

AGENT = "carepath tests (tests@example.org)"


def geocoder(stub: Any, **kw: Any) -> Geocoder:
    limit = RateLimit(clock=stub.clock.now, sleep=stub.clock.sleep)
    return Geocoder(NominatimProvider(AGENT, stub.url, timeout_s=5, rate_limit=limit), **kw)


def senior_address(street: str = "Studzienna", number: str = "2", city: str = "Kielce") -> dict[str, Any]:
    return {"street": street, "number": number, "postcode": "25-544", "city": city, "lat": None, "lon": None}


def cache_rows(engine: Any) -> list[m.GeocodeCache]:
    with Session(engine) as s:
        return list(s.exec(select(m.GeocodeCache)).all())


def test_an_address_is_looked_up_once_and_cached_in_the_database(engine, nominatim_stub) -> None:
    """A structured query for Poland with the configured user agent; the answer is stored by its normalised
    query, so the same address spelt differently ("ul. STUDZIENNA  2") makes no second request."""
    nominatim_stub.add("2 Studzienna", "Kielce", 50.8736, 20.6326, "Studzienna 2, Kielce")
    geo = geocoder(nominatim_stub)
    with Session(engine) as s:
        assert fill_coordinates(s, geo, senior_address())[("lat")] == 50.8736
    [sent] = nominatim_stub.requests
    assert sent["path"] == "/search" and sent["user_agent"] == AGENT
    assert {k: sent["query"][k] for k in ("street", "city", "postalcode", "countrycodes", "format")} == \
        {"street": "2 Studzienna", "city": "Kielce", "postalcode": "25-544", "countrycodes": "pl", "format": "json"}
    [row] = cache_rows(engine)
    assert (row.query, row.lat, row.lon, row.label, row.source) == \
        ("studzienna 2|25-544|kielce|pl", 50.8736, 20.6326, "Studzienna 2, Kielce", nominatim_stub.url)

    with Session(engine) as s:
        again = fill_coordinates(s, geocoder(nominatim_stub), senior_address(street="ul. STUDZIENNA ", number=" 2"))
    assert (again["lat"], again["lon"]) == (50.8736, 20.6326)
    assert len(nominatim_stub.requests) == 1, "a cached address is never asked twice"


def test_given_coordinates_and_unchanged_addresses_ask_nobody(engine, nominatim_stub) -> None:
    """Coordinates given win; a change that keeps the address needs no lookup; without a geocoder nothing is
    asked and the data comes back as it was (validation then names the missing coordinate)."""
    geo = geocoder(nominatim_stub)
    with Session(engine) as s:
        given = senior_address() | {"lat": 50.1, "lon": 20.1}
        assert fill_coordinates(s, geo, given) == given
        assert fill_coordinates(s, geo, {"phone": "1"}, before=senior_address()) == {"phone": "1"}
        assert fill_coordinates(s, geo, {"city": "Kielce"}, before=senior_address()) == {"city": "Kielce"}
        assert fill_coordinates(s, None, senior_address()) == senior_address()
    assert nominatim_stub.requests == []
    assert geocoder_from_settings(Settings(_env_file=None)) is None


def test_at_most_one_request_a_second_across_the_process(engine, nominatim_stub) -> None:
    """Three addresses in a row reach the server at least a second apart on the injected clock (which the
    limiter advanced by sleeping, not the test by waiting); the settings' geocoder is one per process."""
    for street in ("1 Sienkiewicza", "2 Sienkiewicza", "3 Sienkiewicza"):
        nominatim_stub.add(street, "Kielce", 50.87, 20.63)
    geo = geocoder(nominatim_stub)
    with Session(engine) as s:
        asked = prefetch(s, geo, [AddressQuery("Sienkiewicza", str(n), None, "Kielce") for n in (1, 2, 3, 1)])
    assert asked == 3
    times = [r["at"] for r in nominatim_stub.requests]
    assert len(times) == 3 and all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False)), times
    assert len(nominatim_stub.clock.sleeps) == 2

    settings = Settings(_env_file=None, geocoder="nominatim", nominatim_url=nominatim_stub.url,
                        nominatim_user_agent=AGENT)
    shared = geocoder_from_settings(settings)
    assert shared is not None and shared is geocoder_from_settings(settings.model_copy())
    assert shared.provider.rate_limit.min_interval_s == 1.0  # type: ignore[attr-defined]


def test_an_unknown_address_is_a_422_naming_the_street_and_remembered(engine, nominatim_stub) -> None:
    """Not found: InvalidInput on ``street`` (on ``city`` when there is no street); the miss is cached and
    asked again only after MISS_TTL."""
    now = [dt.datetime(2026, 12, 1, tzinfo=dt.UTC)]
    geo = geocoder(nominatim_stub, now=lambda: now[0])
    with Session(engine) as s, pytest.raises(InvalidInput) as info:
        fill_coordinates(s, geo, senior_address(street="Nieistniejąca"))
    [error] = info.value.errors
    assert error["field"] == "street" and "Nieistniejąca 2, 25-544 Kielce" in error["message"]
    with Session(engine) as s, pytest.raises(InvalidInput):
        fill_coordinates(s, geo, senior_address(street="Nieistniejąca"))
    assert len(nominatim_stub.requests) == 1
    now[0] += MISS_TTL + dt.timedelta(days=1)
    with Session(engine) as s, pytest.raises(InvalidInput) as info:
        fill_coordinates(s, geo, {"city": "Atlantyda", "lat": None, "lon": None})
    assert info.value.errors[0]["field"] == "city"
    with Session(engine) as s, pytest.raises(InvalidInput):
        fill_coordinates(s, geo, senior_address(street="Nieistniejąca"))
    assert len(nominatim_stub.requests) == 3, "a stale miss is asked again"


@pytest.mark.parametrize("status", [500, 503, 429, 403])
def test_a_failing_server_stores_nothing(engine, nominatim_stub, status: int) -> None:
    """5xx, rate limiting and refusal all raise GeocoderUnavailable (the API's 503); nothing is cached."""
    nominatim_stub.status = status
    with Session(engine) as s, pytest.raises(GeocoderUnavailable, match=nominatim_stub.url):
        fill_coordinates(s, geocoder(nominatim_stub), senior_address())
    assert cache_rows(engine) == []


def test_a_lookup_never_happens_after_a_write_in_the_same_transaction(engine, nominatim_stub) -> None:
    """A lookup ends the caller's transaction (SQLite's write lock must not be held for a second); with a
    pending write that would commit half a unit of work, so it is refused."""
    with Session(engine) as s:
        s.add(m.Place(id="area-x", kind="area", name="X", lat=50.0, lon=20.0))
        with pytest.raises(RuntimeError, match="before anything is written"):
            fill_coordinates(s, geocoder(nominatim_stub), senior_address())
        s.flush()  # written to the database, not yet committed
        with pytest.raises(RuntimeError, match="before anything is written"):
            fill_coordinates(s, geocoder(nominatim_stub), senior_address())
    assert nominatim_stub.requests == []
    with Session(engine) as s:
        assert s.get(m.Place, "area-x") is None, "nothing was committed"


def test_the_placeholder_user_agent_is_refused_outside_development() -> None:
    """Nominatim's policy wants the installation named: the placeholder works in development only."""
    secret = "s" * 40
    assert Settings(_env_file=None, geocoder="nominatim").nominatim_user_agent == PLACEHOLDER_USER_AGENT
    with pytest.raises(ValueError, match="CAREPATH_NOMINATIM_USER_AGENT"):
        Settings(_env_file=None, geocoder="nominatim", environment="production", secret_key=secret)
    Settings(_env_file=None, geocoder="nominatim", environment="production", secret_key=secret,
             nominatim_user_agent=AGENT)
    Settings(_env_file=None, environment="production", secret_key=secret)  # no geocoder: no user agent needed
    with pytest.raises(ValueError, match="nominatim_url"):
        Settings(_env_file=None, nominatim_url="ftp://example.org")
