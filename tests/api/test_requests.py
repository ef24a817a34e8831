"""Visit requests over HTTP: the coordinator's journey, cancel-not-delete, every validation rule
reported with its field, list filters (``active_on`` expands RRULEs) and pagination.  Every test
runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from dispatch.storage.models import AuditLog



def field_names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


CARE = {"senior_id": "S2", "service": "home_care", "first_date": "2026-12-02", "window_start": "14:00",
        "window_end": "15:30", "tasks": "spacer"}
TAXI = {"senior_id": "S3", "service": "taxi", "first_date": "2026-12-03", "window_start": "08:00",
        "window_end": "09:00", "destination_place_id": "destination-wsz", "appointment": "10:00",
        "appointment_minutes": 45}


def test_coordinator_enters_changes_and_cancels_a_request_which_stays_as_history(api) -> None:
    """201 + Location with defaults from the service; PATCH re-checks; DELETE cancels (200), the request
    stays readable, cannot be changed afterwards (409), and each step is audited."""
    c, h = api.client, api.auth("coordinator")
    created = c.post("/api/v1/requests", json=CARE, headers=h)
    assert created.status_code == 201, created.text
    req = created.json()
    assert created.headers["location"] == f"/api/v1/requests/{req['id']}"
    assert (req["duration"], req["status"], req["priority"], req["rrule"]) == (60, "active", 3, None)

    patched = c.patch(created.headers["location"], json={"priority": 5, "rrule": "FREQ=WEEKLY;BYDAY=WE",
                                                         "until": "2027-01-31"}, headers=h)
    assert patched.status_code == 200, patched.text
    assert patched.json()["priority"] == 5

    cancelled = c.delete(created.headers["location"], headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert c.get(created.headers["location"], headers=h).json()["status"] == "cancelled"
    again = c.patch(created.headers["location"], json={"priority": 1}, headers=h)
    assert again.status_code == 409 and again.json()["type"].endswith("/conflict")
    assert c.delete(created.headers["location"], headers=h).status_code == 200  # cancelling twice is harmless

    with Session(api.engine) as s:
        rows = s.exec(select(AuditLog).where(AuditLog.entity_id == req["id"]).order_by(AuditLog.id)).all()
    assert [(r.action, r.actor) for r in rows] == [("visit_request.create", "coordinator"),
                                                   ("visit_request.update", "coordinator"),
                                                   ("visit_request.cancel", "coordinator")]
    assert rows[1].changes["priority"] == {"old": 3, "new": 5}


def test_taxi_request_gets_its_ride_defaults_and_the_services_skills(api) -> None:
    """A taxi request is stored with return trip, purpose and the driving-licence skill filled in."""
    response = api.client.post("/api/v1/requests", json=TAXI | {"required_skills": ["passenger_assistance"]},
                               headers=api.auth("admin"))
    assert response.status_code == 201, response.text
    ride = response.json()
    assert ride["required_skills"] == ["passenger_assistance", "driving_licence_b"]
    assert (ride["return_trip"], ride["escort"], ride["wheelchair"], ride["purpose"]) == (True, False, False, "medical")


def test_dispatchers_read_requests_and_workers_are_refused(api) -> None:
    """Dispatchers list and read but cannot write; workers get 403 for lists, reads and writes."""
    c = api.client
    dispatcher = api.auth("dispatcher")
    assert len(c.get("/api/v1/requests", headers=dispatcher).json()["items"]) == 4
    assert c.get("/api/v1/requests/R1", headers=dispatcher).status_code == 200
    assert c.post("/api/v1/requests", json=CARE, headers=dispatcher).status_code == 403
    assert c.patch("/api/v1/requests/R1", json={"priority": 1}, headers=dispatcher).status_code == 403  # not time
    assert c.delete("/api/v1/requests/R1", headers=dispatcher).status_code == 403
    worker = api.auth("worker")
    for response in (c.get("/api/v1/requests", headers=worker), c.get("/api/v1/requests/R1", headers=worker),
                     c.post("/api/v1/requests", json=CARE, headers=worker)):
        assert response.status_code == 403 and response.json()["type"].endswith("/forbidden")


def test_every_broken_rule_is_reported_at_once_with_its_field(api) -> None:
    """Unknown senior, window end before start, an invalid RRULE and until before first date come back
    together in one 422; unknown service/place/followed request too."""
    c, h = api.client, api.auth("coordinator")
    many = c.post("/api/v1/requests", headers=h, json=CARE | {
        "senior_id": "S404", "window_start": "15:00", "window_end": "09:00", "rrule": "FREQ=SOMETIMES",
        "until": "2026-11-01", "follows_request_id": "R404",
    })
    assert many.status_code == 422
    assert field_names(many) == {"senior_id", "window_end", "rrule", "until", "follows_request_id"}
    messages = {e["field"]: e["message"] for e in many.json()["errors"]}
    assert "S404" in messages["senior_id"] and "15:00" in messages["window_end"]

    assert field_names(c.post("/api/v1/requests", json=CARE | {"rrule": "FREQ=WEEKLY;DTSTART=20261201"},
                              headers=h)) == {"rrule"}
    assert field_names(c.post("/api/v1/requests", json=CARE | {"service": "cooking"}, headers=h)) == {"service"}
    assert field_names(c.post("/api/v1/requests", json=CARE | {"priority": 6, "workers_needed": 3, "priorty": 1},
                              headers=h)) == {"priority", "workers_needed", "priorty"}
    assert field_names(c.patch("/api/v1/requests/R1", json={"window_end": "07:00"}, headers=h)) == {"window_end"}
    assert field_names(c.patch("/api/v1/requests/R1", json={"duration": None}, headers=h)) == {"duration"}
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"priority": 1}} if method == "patch" else {}
        assert getattr(c, method)("/api/v1/requests/R404", headers=h, **kwargs).status_code == 404
    assert c.post("/api/v1/requests", json=CARE | {"id": "R1"}, headers=h).status_code == 409


def test_ride_fields_must_fit_the_service_and_the_senior(api) -> None:
    """A taxi needs destination and appointment; a wheelchair ride needs a wheelchair user; care visits
    carry no ride fields; a one-off taxi on a Saturday never happens."""
    c, h = api.client, api.auth("coordinator")
    bare = {k: v for k, v in TAXI.items() if k not in ("destination_place_id", "appointment")}
    assert field_names(c.post("/api/v1/requests", json=bare, headers=h)) == {"destination_place_id", "appointment"}
    assert field_names(c.post("/api/v1/requests", json=TAXI | {"wheelchair": True}, headers=h)) == {"wheelchair"}
    assert field_names(c.post("/api/v1/requests", json=TAXI | {"appointment": "07:30", "destination_place_id": "x"},
                              headers=h)) == {"appointment", "destination_place_id"}
    assert field_names(c.post("/api/v1/requests", json=CARE | {"destination_place_id": "destination-wsz"},
                              headers=h)) == {"destination_place_id"}
    saturday = c.post("/api/v1/requests", json=TAXI | {"first_date": "2026-12-05"}, headers=h)
    assert field_names(saturday) == {"first_date"} and "working days" in saturday.json()["errors"][0]["message"]
    assert c.post("/api/v1/requests", json=TAXI, headers=h).status_code == 201


def test_list_filters_by_senior_service_status_and_active_day(api) -> None:
    """Filters combine; ``active_on`` expands each RRULE (weekdays only here) and drops cancelled requests."""
    c, h = api.client, api.auth("dispatcher")

    def ids(**params: Any) -> list[str]:
        response = c.get("/api/v1/requests", params=params, headers=h)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert ids(senior_id="S1") == ["R1", "R4"]
    assert ids(service="taxi") == ["R4"]
    assert ids(active_on="2026-12-01") == ["R1", "R2", "R3", "R4"]
    assert ids(active_on="2026-12-02") == ["R1", "R2", "R3"]  # the taxi ride was on the 1st only
    assert ids(active_on="2026-12-05") == []  # Saturday
    assert ids(sort="-window_start") == ["R3", "R4", "R2", "R1"]  # R2, R4 tie at 09:00: id breaks it
    assert c.delete("/api/v1/requests/R2", headers=api.auth("coordinator")).status_code == 200
    assert ids(status="cancelled") == ["R2"]
    assert ids(active_on="2026-12-01", sort="-id") == ["R4", "R3", "R1"]
    assert field_names(c.get("/api/v1/requests", params={"active_on": "yesterday"}, headers=h)) == {"query.active_on"}


def test_pages_filtered_by_active_day_still_hold_every_match_once(api) -> None:
    """With a filter the database cannot apply (RRULE expansion), pages of one still walk all matches once."""
    c, h = api.client, api.auth("coordinator")
    for day in ("2026-12-05", "2026-12-06"):  # weekend care visits: never active on a Tuesday
        assert c.post("/api/v1/requests", json=CARE | {"first_date": day}, headers=h).status_code == 201
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 1, "active_on": "2026-12-01", "sort": "priority"} | ({"cursor": cursor} if cursor else {})
        page = c.get("/api/v1/requests", params=params, headers=h).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["R1", "R2", "R3", "R4"] and len(seen) == 4
