"""Workers (with weekly shifts) and their absences over HTTP: admins write, dispatchers read, a
worker sees only themself.  Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from dispatch.storage.models import AuditLog



def field_names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def worker_body(**changes: Any) -> dict[str, Any]:
    body = {
        "first_name": "Marek", "last_name": "Lis", "gender": "M", "kind": "handyman", "skills": ["handyman"],
        "contract": "zlecenie", "weekly_hours": 20, "home_area": "area-centrum", "home_lat": 50.87,
        "home_lon": 20.63, "travel_mode": "car", "car_id": "C1",
        "shifts": [{"weekday": 2, "start": "08:00", "end": "12:00"}, {"weekday": 0, "start": "08:00", "end": "16:00"}],
    }
    return body | changes


def test_admin_creates_changes_and_deletes_a_worker_with_shifts(api) -> None:
    """201 + Location, shifts returned in weekday order, PATCH replaces the pattern, DELETE 204; audited."""
    c, h = api.client, api.auth("admin")
    created = c.post("/api/v1/workers", json=worker_body(), headers=h)
    assert created.status_code == 201, created.text
    worker = created.json()
    assert created.headers["location"] == f"/api/v1/workers/{worker['id']}"
    assert [(s["weekday"], s["start"]) for s in worker["shifts"]] == [(0, "08:00:00"), (2, "08:00:00")]

    patched = c.patch(created.headers["location"], headers=h,
                      json={"weekly_hours": 10, "shifts": [{"weekday": 4, "start": "09:00", "end": "13:00"}]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["weekly_hours"] == 10 and [s["weekday"] for s in patched.json()["shifts"]] == [4]
    assert c.get(created.headers["location"], headers=h).json()["shifts"] == patched.json()["shifts"]
    assert c.delete(created.headers["location"], headers=h).status_code == 204
    assert c.get(created.headers["location"], headers=h).status_code == 404

    with Session(api.engine) as s:
        rows = s.exec(select(AuditLog).where(AuditLog.entity_id == worker["id"]).order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["worker.create", "worker.update", "worker.delete"]
    assert rows[1].changes["shifts"]["new"] == [{"weekday": 4, "start": "09:00:00", "end": "13:00:00"}]


def test_worker_reads_only_themself_and_other_roles_stay_in_their_lane(api) -> None:
    """A worker reads their own record and absences but gets 403 for anyone else and for the list;
    dispatchers read, and record absences (tests/api/test_rodo.py), but do not write workers; coordinators
    do not manage workers."""
    c = api.client
    me = api.auth("worker")
    assert c.get("/api/v1/workers/W1", headers=me).status_code == 200
    assert c.get("/api/v1/workers/W1/absences", headers=me).status_code == 200
    assert c.get("/api/v1/workers/W2", headers=me).status_code == 403
    assert c.get("/api/v1/workers/W2/absences", headers=me).status_code == 403
    assert c.get("/api/v1/workers", headers=me).status_code == 403
    assert c.patch("/api/v1/workers/W1", json={"weekly_hours": 1}, headers=me).status_code == 403

    dispatcher = api.auth("dispatcher")
    assert c.get("/api/v1/workers/W2", headers=dispatcher).status_code == 200
    assert c.post("/api/v1/workers", json=worker_body(), headers=dispatcher).status_code == 403
    assert c.post("/api/v1/workers/W2/absences", json={"from_date": "2026-12-01", "to_date": "2026-12-02"},
                  headers=api.auth("coordinator")).status_code == 403
    assert c.delete("/api/v1/workers/W2", headers=dispatcher).status_code == 403
    coordinator = api.auth("coordinator")  # reads workers to name a senior's regular carers
    assert c.get("/api/v1/workers", headers=coordinator).status_code == 200
    assert c.post("/api/v1/workers", json=worker_body(), headers=coordinator).status_code == 403


def test_worker_bad_input_names_every_field(api) -> None:
    """Overlapping or inverted shifts, unknown place and car, out-of-range values: 422 with each field."""
    c, h = api.client, api.auth("admin")
    domain = c.post("/api/v1/workers", headers=h, json=worker_body(
        home_area="area-x", car_id="C9",
        shifts=[{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "15:00"},
                {"weekday": 3, "start": "15:00", "end": "07:00"}],
    ))
    assert domain.status_code == 422, domain.text
    assert field_names(domain) == {"home_area", "car_id", "shifts.1", "shifts.2.end"}

    formats = c.post("/api/v1/workers", headers=h, json=worker_body(
        kind="astronaut", max_daily_minutes=2000, shifts=[{"weekday": 7, "start": "08:00", "end": "12:00"}]))
    assert {"kind", "max_daily_minutes", "shifts.0.weekday"} <= field_names(formats)
    assert field_names(c.patch("/api/v1/workers/W1", json={"shifts": None}, headers=h)) == {"shifts"}
    assert c.patch("/api/v1/workers/W404", json={"weekly_hours": 1}, headers=h).status_code == 404
    assert c.post("/api/v1/workers", json=worker_body(id="W1"), headers=h).status_code == 409


def test_absences_are_added_listed_refused_when_overlapping_and_removed(api) -> None:
    """Absences: 201 + Location, 409 on overlap, 422 when to_date precedes from_date, 404 for unknown workers."""
    c, h = api.client, api.auth("admin")
    url = "/api/v1/workers/W2/absences"
    created = c.post(url, json={"from_date": "2026-12-01", "to_date": "2026-12-03", "reason": "urlop"}, headers=h)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{url}/{created.json()['id']}"
    assert c.get(created.headers["location"], headers=api.auth("worker2")).json()["reason"] == "urlop"

    overlap = c.post(url, json={"from_date": "2026-12-03", "to_date": "2026-12-04"}, headers=h)
    assert overlap.status_code == 409 and overlap.json()["type"].endswith("/conflict")
    inverted = c.post(url, json={"from_date": "2026-12-10", "to_date": "2026-12-09"}, headers=h)
    assert inverted.status_code == 422 and field_names(inverted) == {"to_date"}
    assert c.post("/api/v1/workers/W404/absences", json={"from_date": "2026-12-10", "to_date": "2026-12-10"},
                  headers=h).status_code == 404
    assert [a["from_date"] for a in c.get(url, headers=api.auth("dispatcher")).json()] == ["2026-12-01"]

    assert c.delete(created.headers["location"], headers=h).status_code == 204
    assert c.get(url, headers=h).json() == []
    assert c.delete(created.headers["location"], headers=h).status_code == 404


def test_worker_others_refer_to_cannot_be_deleted(api) -> None:
    """W1 has a user account and is a senior's regular worker: deleting is a 409 that says why."""
    response = api.client.delete("/api/v1/workers/W1", headers=api.auth("admin"))
    assert response.status_code == 409
    assert "user account" in response.json()["detail"] and "S1" in response.json()["detail"]


def test_worker_list_filters_and_pages_through_everyone_once(api) -> None:
    """``kind`` and ``name`` filter; pages of one walk all workers exactly once in sort order."""
    c, h = api.client, api.auth("dispatcher")
    assert [w["id"] for w in c.get("/api/v1/workers", params={"kind": "driver"}, headers=h).json()["items"]] == ["W3"]
    assert [w["id"] for w in c.get("/api/v1/workers", params={"name": "wiś"}, headers=h).json()["items"]] == ["W3"]
    seen, cursor = [], None
    while True:
        page = c.get("/api/v1/workers", params={"limit": 1, "sort": "-last_name"} | ({"cursor": cursor} if cursor else {}),
                     headers=h).json()
        seen += [w["last_name"] for w in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["Wiśniewski", "Nowak", "Kowalska"]
    assert field_names(c.get("/api/v1/workers", params={"kind": "astronaut"}, headers=h)) == {"query.kind"}
