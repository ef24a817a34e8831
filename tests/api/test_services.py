"""The service catalogue over HTTP: admins write, coordinators and dispatchers read, workers are refused;
a centre's own service is data (code, names, duration, skills, worker kinds, mandatory default, kind,
working days), and requests follow its attributes, not a hard-wired code.  Every test runs on SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from dispatch.storage import models as m



def field_names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


REHAB = {"code": "rehabilitation", "name_pl": "Rehabilitacja w domu", "name_en": "Home rehabilitation",
         "default_duration": 50, "required_skills": ["physiotherapist"], "worker_kinds": ["specialist_carer"],
         "mandatory": True, "working_days_only": True}
VISIT = {"senior_id": "S1", "first_date": "2026-12-07", "window_start": "09:00", "window_end": "12:00"}


def test_admins_write_coordinators_and_dispatchers_read_workers_are_refused(api) -> None:
    """Only admins add and change services; coordinators and dispatchers list and read; workers get 403."""
    c = api.client
    created = c.post("/api/v1/services", json=REHAB, headers=api.auth("admin"))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/services/rehabilitation"
    assert c.patch("/api/v1/services/rehabilitation", json={"default_duration": 45},
                   headers=api.auth("admin")).json()["default_duration"] == 45
    for reader in ("coordinator", "dispatcher"):
        listed = c.get("/api/v1/services", headers=api.auth(reader))
        assert [s["code"] for s in listed.json()["items"]] == ["home_care", "rehabilitation", "taxi"]
        assert c.get("/api/v1/services/taxi", headers=api.auth(reader)).json()["kind"] == "ride"
        assert c.post("/api/v1/services", json=REHAB | {"code": "x"}, headers=api.auth(reader)).status_code == 403
        assert c.patch("/api/v1/services/taxi", json={"mandatory": True}, headers=api.auth(reader)).status_code == 403
    worker = api.auth("worker")
    assert [c.get("/api/v1/services", headers=worker).status_code,
            c.get("/api/v1/services/taxi", headers=worker).status_code] == [403, 403]
    with Session(api.engine) as s:
        actions = s.exec(select(m.AuditLog.action).where(m.AuditLog.entity == "service").order_by(m.AuditLog.id)).all()
    assert actions == ["service.create", "service.update"]


def test_a_centres_own_service_drives_its_requests(api) -> None:
    """A new service's default duration, skills and mandatory default fill its requests; working_days_only
    makes a Saturday request never happen; a visit service refuses ride fields; an unknown code lists the
    known ones."""
    c = api.client
    assert c.post("/api/v1/services", json=REHAB, headers=api.auth("admin")).status_code == 201
    h = api.auth("coordinator")
    request = c.post("/api/v1/requests", json=VISIT | {"service": "rehabilitation"}, headers=h)
    assert request.status_code == 201, request.text
    body = request.json()
    assert (body["duration"], body["mandatory"], body["required_skills"]) == (50, True, ["physiotherapist"])
    saturday = c.post("/api/v1/requests", json=VISIT | {"service": "rehabilitation", "first_date": "2026-12-05"},
                      headers=h)
    assert field_names(saturday) == {"first_date"} and "working days only" in saturday.text
    assert c.post("/api/v1/requests", json=VISIT | {"service": "home_care", "first_date": "2026-12-05"},
                  headers=h).status_code == 201
    ride_fields = c.post("/api/v1/requests", json=VISIT | {"service": "rehabilitation",
                                                           "destination_place_id": "destination-wsz"}, headers=h)
    assert field_names(ride_fields) == {"destination_place_id"}
    unknown = c.post("/api/v1/requests", json=VISIT | {"service": "cooking"}, headers=h)
    assert field_names(unknown) == {"service"} and "home_care, rehabilitation, taxi" in unknown.text
    senior = c.patch("/api/v1/seniors/S2", json={"needs": ["rehabilitation"]}, headers=h)
    assert senior.status_code == 200 and senior.json()["needs"] == ["rehabilitation"]


def test_a_new_ride_service_is_planned_as_a_ride(api) -> None:
    """kind ride: a request of a centre's own transport service needs a destination and an appointment,
    like the taxi's."""
    c = api.client
    transport = {"code": "transport_rehab", "name_pl": "Przewóz na rehabilitację", "name_en": "Rehab transport",
                 "default_duration": 20, "worker_kinds": ["driver"], "required_skills": ["driving_licence_b"],
                 "kind": "ride", "working_days_only": True}
    assert c.post("/api/v1/services", json=transport, headers=api.auth("admin")).status_code == 201
    h = api.auth("coordinator")
    bare = c.post("/api/v1/requests", json=VISIT | {"service": "transport_rehab"}, headers=h)
    assert field_names(bare) == {"destination_place_id", "appointment", "appointment_minutes"}
    ride = c.post("/api/v1/requests", json=VISIT | {"service": "transport_rehab", "window_end": "09:30",
                                                    "destination_place_id": "destination-wsz", "appointment": "10:30",
                                                    "appointment_minutes": 60}, headers=h)
    assert ride.status_code == 201, ride.text
    assert ride.json()["return_trip"] is True and ride.json()["required_skills"] == ["driving_licence_b"]


def test_bad_services_name_every_field_and_kind_stays_while_requests_refer(api) -> None:
    """Code, names, duration and worker kinds are checked with their field named; a taken code is 409;
    changing a service's kind while requests refer to it is 409 (their ride fields would no longer fit),
    allowed before; unknown codes are 404."""
    c, h = api.client, api.auth("admin")
    bad = c.post("/api/v1/services", json=REHAB | {"code": "bad code!", "name_pl": "", "default_duration": 0,
                                                   "worker_kinds": ["nurse"]}, headers=h)
    assert bad.status_code == 422 and field_names(bad) == {"code", "name_pl", "default_duration", "worker_kinds.0"}
    assert field_names(c.post("/api/v1/services", json=REHAB | {"worker_kinds": []}, headers=h)) == {"worker_kinds"}
    taken = c.post("/api/v1/services", json=REHAB | {"code": "taxi"}, headers=h)
    assert taken.status_code == 409 and field_names(taken) == {"code"}
    kind = c.patch("/api/v1/services/taxi", json={"kind": "visit"}, headers=h)
    assert kind.status_code == 409 and field_names(kind) == {"kind"} and "visit request" in kind.text
    assert c.post("/api/v1/services", json=REHAB, headers=h).status_code == 201
    assert c.patch("/api/v1/services/rehabilitation", json={"kind": "ride"}, headers=h).json()["kind"] == "ride"
    assert field_names(c.patch("/api/v1/services/taxi", json={"name_en": None}, headers=h)) == {"name_en"}
    assert c.get("/api/v1/services/cooking", headers=h).status_code == 404
    assert c.patch("/api/v1/services/cooking", json={"mandatory": True}, headers=h).status_code == 404
    long_code = "a" * 64
    assert c.post("/api/v1/services", json=REHAB | {"code": long_code}, headers=h).status_code == 201
    assert c.post("/api/v1/services", json=REHAB | {"code": long_code + "b"}, headers=h).status_code == 422
