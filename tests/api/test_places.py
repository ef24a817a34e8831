"""Places over HTTP: admins and coordinators write, dispatchers read, workers are refused; a place comes
from an address with coordinates given or looked up (a local Nominatim stub), and one that anything
refers to cannot be deleted.  Seniors and workers without coordinates go through the same lookup.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from api.app import create_app
from dispatch.storage import models as m
from dispatch.providers.geocoding import RateLimit

AGENT = "carepath tests (tests@example.org)"


def field_names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def count(api: Any, model: Any) -> int:
    with Session(api.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def geo(api: Any, nominatim_stub: Any) -> Iterator[TestClient]:
    """The same app and database as ``api``, with CAREPATH_GEOCODER=nominatim pointing at the stub
    (its rate limit on the stub's clock, so no test waits a second)."""
    settings = api.settings.model_copy(update={"geocoder": "nominatim", "nominatim_url": nominatim_stub.url,
                                               "nominatim_user_agent": AGENT})
    app = create_app(settings, api.engine)
    app.state.geocoder.provider.rate_limit = RateLimit(clock=nominatim_stub.clock.now, sleep=nominatim_stub.clock.sleep)
    with TestClient(app) as client:
        yield client


CLINIC = {"kind": "destination", "name": "Przychodnia Zdrowie", "street": "Sienkiewicza", "number": "12",
          "postcode": "25-001", "city": "Kielce"}


def test_admins_and_coordinators_write_dispatchers_read_workers_are_refused(api) -> None:
    """POST/PATCH/DELETE by admin and coordinator; dispatchers list and read but may not write; workers
    may do nothing; no token is 401."""
    c = api.client
    for writer in ("admin", "coordinator"):
        body = CLINIC | {"name": f"Przychodnia {writer}", "lat": 50.87, "lon": 20.63}
        created = c.post("/api/v1/places", json=body, headers=api.auth(writer))
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert c.patch(location, json={"note": "wejście od podwórza"}, headers=api.auth(writer)).status_code == 200
        assert c.delete(location, headers=api.auth(writer)).status_code == 204
    reader = api.auth("dispatcher")
    assert c.get("/api/v1/places", headers=reader).status_code == 200
    assert c.get("/api/v1/places/office-mopr", headers=reader).json()["name"] == "MOPR Kielce"
    refused = [c.post("/api/v1/places", json=CLINIC | {"lat": 50.87, "lon": 20.63}, headers=reader),
               c.patch("/api/v1/places/office-mopr", json={"note": "x"}, headers=reader),
               c.delete("/api/v1/places/office-mopr", headers=reader)]
    worker = api.auth("worker")
    refused += [c.get("/api/v1/places", headers=worker), c.get("/api/v1/places/office-mopr", headers=worker),
                c.post("/api/v1/places", json=CLINIC | {"lat": 50.87, "lon": 20.63}, headers=worker)]
    assert [r.status_code for r in refused] == [403] * 6
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    assert c.get("/api/v1/places").status_code == 401
    assert count(api, m.Place) == 3


def test_a_place_from_an_address_and_coordinates_gets_a_readable_id_and_an_audit(api) -> None:
    """The address and coordinates are stored; the id comes from kind and name (-2 when taken); the
    create is audited; list filters by kind and name prefix."""
    c, h = api.client, api.auth("coordinator")
    first = c.post("/api/v1/places", json=CLINIC | {"lat": 50.8702, "lon": 20.6285}, headers=h)
    assert first.status_code == 201, first.text
    place = first.json()
    assert place["id"] == "destination-przychodnia-zdrowie" and first.headers["location"].endswith(place["id"])
    assert (place["street"], place["number"], place["postcode"], place["city"], place["lat"]) == \
        ("Sienkiewicza", "12", "25-001", "Kielce", 50.8702)
    second = c.post("/api/v1/places", json=CLINIC | {"lat": 50.8702, "lon": 20.6285}, headers=h)
    assert second.json()["id"] == "destination-przychodnia-zdrowie-2"
    area = c.post("/api/v1/places", json={"kind": "area", "name": "Herby", "lat": 50.84, "lon": 20.62}, headers=h)
    assert area.status_code == 201 and area.json()["street"] is None
    listed = c.get("/api/v1/places", params={"kind": "destination", "name": "przych"}, headers=h).json()
    assert [p["id"] for p in listed["items"]] == ["destination-przychodnia-zdrowie", "destination-przychodnia-zdrowie-2"]
    with Session(api.engine) as s:
        audit = s.exec(select(m.AuditLog).where(m.AuditLog.entity == "place")).all()
    assert [(a.action, a.actor) for a in audit] == [("place.create", "coordinator")] * 3


def test_without_coordinates_and_without_a_geocoder_the_answer_names_lat(api) -> None:
    """No geocoder configured (the default): a place without coordinates is 422 naming lat and saying how
    to fix it; a lone lat is 422 naming lon; nothing is stored."""
    c, h = api.client, api.auth("admin")
    missing = c.post("/api/v1/places", json=CLINIC, headers=h)
    assert missing.status_code == 422 and field_names(missing) == {"lat"}
    assert "CAREPATH_GEOCODER=nominatim" in missing.json()["errors"][0]["message"]
    half = c.post("/api/v1/places", json=CLINIC | {"lat": 50.87}, headers=h)
    assert half.status_code == 422 and field_names(half) == {"lon"}
    assert count(api, m.Place) == 3


def test_bad_places_name_every_field(api) -> None:
    """Kind, postcode, latitude and unknown fields are named; a taken id is 409; a moved address without new
    coordinates is 422 on lat (the old ones would send workers to the old door); unknown ids are 404."""
    c, h = api.client, api.auth("admin")
    bad = c.post("/api/v1/places", json=CLINIC | {"kind": "hospital", "postcode": "25001", "lat": 95, "lon": 20,
                                                  "colour": "red"}, headers=h)
    assert bad.status_code == 422 and field_names(bad) == {"kind", "postcode", "lat", "colour"}
    assert c.post("/api/v1/places", json=CLINIC | {"id": "office-mopr", "lat": 50.8, "lon": 20.6},
                  headers=h).status_code == 409
    assert c.post("/api/v1/places", json=CLINIC | {"id": "bad id!", "lat": 50.8, "lon": 20.6},
                  headers=h).status_code == 422
    moved = c.patch("/api/v1/places/office-mopr", json={"street": "Kołłątaja", "number": "4"}, headers=h)
    assert moved.status_code == 422 and field_names(moved) == {"lat"}
    ok = c.patch("/api/v1/places/office-mopr", json={"street": "Kołłątaja", "number": "4", "lat": 50.871, "lon": 20.632},
                 headers=h)
    assert ok.status_code == 200 and ok.json()["street"] == "Kołłątaja"
    assert field_names(c.patch("/api/v1/places/office-mopr", json={"name": None}, headers=h)) == {"name"}
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"note": "x"}} if method == "patch" else {}
        assert getattr(c, method)("/api/v1/places/nowhere", headers=h, **kwargs).status_code == 404


def test_a_place_anything_refers_to_is_not_deleted_and_the_answer_says_who(api) -> None:
    """The area of seniors and workers, a car's base and a ride's destination are 409 naming the records
    referring to them; nothing is deleted."""
    c, h = api.client, api.auth("admin")
    area = c.delete("/api/v1/places/area-centrum", headers=h)
    assert area.status_code == 409 and area.json()["type"].endswith("/conflict")
    assert "3 senior(s) (S1, S2, S3)" in area.json()["detail"] and "3 worker(s) (W1, W2, W3)" in area.json()["detail"]
    assert "1 car(s) (C1)" in c.delete("/api/v1/places/office-mopr", headers=h).json()["detail"]
    assert "1 visit request(s) (R4)" in c.delete("/api/v1/places/destination-wsz", headers=h).json()["detail"]
    assert count(api, m.Place) == 3


def test_a_geocoder_fills_in_coordinates_once_per_address(api, geo, nominatim_stub) -> None:
    """With CAREPATH_GEOCODER=nominatim a place without coordinates is located from its address; the same
    address again (another place) asks nothing; a PATCH moving it is looked up again."""
    nominatim_stub.add("12 Sienkiewicza", "Kielce", 50.8705, 20.6301)
    nominatim_stub.add("4 Kołłątaja", "Kielce", 50.8712, 20.6330)
    h = api.auth("coordinator")
    created = geo.post("/api/v1/places", json=CLINIC, headers=h)
    assert created.status_code == 201, created.text
    assert (created.json()["lat"], created.json()["lon"]) == (50.8705, 20.6301)
    again = geo.post("/api/v1/places", json=CLINIC | {"name": "Apteka", "kind": "destination"}, headers=h)
    assert again.status_code == 201 and again.json()["lat"] == 50.8705
    assert len(nominatim_stub.requests) == 1
    assert nominatim_stub.requests[0]["user_agent"] == AGENT
    moved = geo.patch(created.headers["location"], json={"street": "Kołłątaja", "number": "4"}, headers=h)
    assert moved.status_code == 200 and (moved.json()["lat"], moved.json()["lon"]) == (50.8712, 20.6330)
    assert len(nominatim_stub.requests) == 2


def test_unknown_addresses_are_422_and_failing_geocoders_503_with_nothing_stored(api, geo, nominatim_stub) -> None:
    """Not found: 422 naming street; a server error: 503 problem+json with Retry-After; neither stores a place
    (nor, for the error, a cache entry)."""
    h = api.auth("admin")
    unknown = geo.post("/api/v1/places", json=CLINIC | {"street": "Nieistniejąca"}, headers=h)
    assert unknown.status_code == 422 and field_names(unknown) == {"street"}
    assert "Nieistniejąca 12, 25-001 Kielce" in unknown.json()["errors"][0]["message"]
    nominatim_stub.status = 500
    down = geo.post("/api/v1/places", json=CLINIC, headers=h)
    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert down.json()["type"].endswith("/geocoder-unavailable") and int(down.headers["retry-after"]) > 0
    assert count(api, m.Place) == 3
    with Session(api.engine) as s:
        assert [row.query for row in s.exec(select(m.GeocodeCache)).all()] == ["nieistniejąca 12|25-001|kielce|pl"]


def test_seniors_and_workers_without_coordinates_are_located_the_same_way(api, geo, nominatim_stub) -> None:
    """A senior's address and a worker's home address (not stored) are looked up like a place's; without a
    geocoder the same bodies are 422 naming lat / home_lat."""
    nominatim_stub.add("7 Paderewskiego", "Kielce", 50.8680, 20.6250)
    nominatim_stub.add("3 Wesoła", "Kielce", 50.8690, 20.6330)
    senior = {"first_name": "Irena", "last_name": "Wójcik", "gender": "F", "birth_year": 1944, "street": "Paderewskiego",
              "number": "7", "postcode": "25-004", "city": "Kielce", "area": "area-centrum", "disability": "lekki"}
    worker = {"first_name": "Ola", "last_name": "Lis", "gender": "F", "kind": "carer", "contract": "etat_podstawowy",
              "weekly_hours": 40, "home_area": "area-centrum", "travel_mode": "walk", "home_street": "Wesoła",
              "home_number": "3", "home_city": "Kielce"}
    for body, path, user, field in ((senior, "seniors", "coordinator", "lat"), (worker, "workers", "admin", "home_lat")):
        without = api.client.post(f"/api/v1/{path}", json=body, headers=api.auth(user))
        assert without.status_code == 422 and field_names(without) == {field}, without.text
    s = geo.post("/api/v1/seniors", json=senior, headers=api.auth("coordinator"))
    assert s.status_code == 201, s.text
    assert (s.json()["lat"], s.json()["lon"]) == (50.8680, 20.6250)
    w = geo.post("/api/v1/workers", json=worker, headers=api.auth("admin"))
    assert w.status_code == 201, w.text
    assert (w.json()["home_lat"], w.json()["home_lon"]) == (50.8690, 20.6330) and "home_street" not in w.json()
    assert [r["query"]["street"] for r in nominatim_stub.requests] == ["7 Paderewskiego", "3 Wesoła"]
