"""Cars over HTTP: admins write, dispatchers read, everyone else is refused.  Every test runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from dispatch.storage.models import AuditLog



def field_names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


CAR = {"plate": "tk  9876a", "seats": 4, "wheelchair_places": 1, "base_place": "office-mopr"}


def test_admin_manages_cars_and_plates_are_unique_whatever_the_spelling(api) -> None:
    """201 + Location with the plate normalised, 409 for the same plate spelt differently, PATCH,
    DELETE 204, 409 when a worker still drives the car; each write audited."""
    c, h = api.client, api.auth("admin")
    created = c.post("/api/v1/cars", json=CAR, headers=h)
    assert created.status_code == 201, created.text
    car = created.json()
    assert car["plate"] == "TK 9876A" and car["available_from"] == "06:00:00"
    assert created.headers["location"] == f"/api/v1/cars/{car['id']}"
    duplicate = c.post("/api/v1/cars", json=CAR | {"plate": "TK 9876A"}, headers=h)
    assert duplicate.status_code == 409 and field_names(duplicate) == {"plate"}
    assert c.patch("/api/v1/cars/C1", json={"plate": "tk 9876a"}, headers=h).status_code == 409

    patched = c.patch(created.headers["location"], json={"seats": 3, "available_to": "20:00"}, headers=h)
    assert patched.status_code == 200 and patched.json()["seats"] == 3
    assert c.delete(created.headers["location"], headers=h).status_code == 204
    in_use = c.delete("/api/v1/cars/C1", headers=h)
    assert in_use.status_code == 409 and "W3" in in_use.json()["detail"]
    with Session(api.engine) as s:
        actions = s.exec(select(AuditLog.action).where(AuditLog.entity == "car").order_by(AuditLog.id)).all()
    assert actions == ["car.create", "car.update", "car.delete"]


def test_dispatchers_read_cars_and_nobody_else_touches_them(api) -> None:
    """Dispatchers list and read but cannot write; coordinators and workers get 403 even for reads."""
    c = api.client
    dispatcher = api.auth("dispatcher")
    page = c.get("/api/v1/cars", headers=dispatcher).json()
    assert [x["id"] for x in page["items"]] == ["C1"] and page["next_cursor"] is None
    assert c.get("/api/v1/cars/C1", headers=dispatcher).status_code == 200
    assert c.post("/api/v1/cars", json=CAR, headers=dispatcher).status_code == 403
    assert c.patch("/api/v1/cars/C1", json={"seats": 1}, headers=dispatcher).status_code == 403
    for user in ("coordinator", "worker"):
        assert c.get("/api/v1/cars", headers=api.auth(user)).status_code == 403
        assert c.get("/api/v1/cars/C1", headers=api.auth(user)).status_code == 403


def test_car_bad_input_names_every_field(api) -> None:
    """Unknown base place, an availability that ends before it starts, negative seats: 422 per field;
    unknown ids are 404."""
    c, h = api.client, api.auth("admin")
    domain = c.post("/api/v1/cars", headers=h,
                    json=CAR | {"base_place": "office-nowhere", "available_from": "18:00", "available_to": "08:00"})
    assert domain.status_code == 422 and field_names(domain) == {"base_place", "available_to"}
    assert field_names(c.post("/api/v1/cars", json=CAR | {"seats": -1, "id": "bad id!"}, headers=h)) == {"seats", "id"}
    assert field_names(c.patch("/api/v1/cars/C1", json={"available_to": "05:00"}, headers=h)) == {"available_to"}
    assert c.get("/api/v1/cars/C404", headers=h).status_code == 404
    assert c.delete("/api/v1/cars/C404", headers=h).status_code == 404
