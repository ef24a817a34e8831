"""Seniors over HTTP: who may do what, health data shown only where allowed and always audited,
field errors, filters and cursor pagination.  Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from dispatch.storage.models import AuditLog



def audit_actions(api: Any, entity_id: str) -> list[tuple[str, str]]:
    with Session(api.engine) as s:
        rows = s.exec(select(AuditLog).where(AuditLog.entity_id == entity_id).order_by(AuditLog.id)).all()
        return [(r.action, r.actor) for r in rows]


def senior_body(**changes: Any) -> dict[str, Any]:
    body = {
        "first_name": "Janina", "last_name": "Wójcik", "gender": "F", "birth_year": 1938, "street": "Focha",
        "number": "3", "flat": None, "postcode": "25-002", "city": "Kielce", "area": "area-centrum",
        "lat": 50.871, "lon": 20.629, "phone": "+48 500 111 222", "disability": "znaczny", "lives_alone": True,
        "wheelchair": True, "needs": ["home_care", "taxi"], "regular_workers": ["W2"],
        "notes_for_workers": "klucz u sąsiadki", "health_notes": "po udarze, insulina",
    }
    return body | changes


def field_names(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def test_coordinator_creates_reads_updates_and_deletes_a_senior(api) -> None:
    """A coordinator's full journey: 201 + Location, health notes on a read with a purpose, PATCH, DELETE;
    each step audited."""
    c, h = api.client, api.auth("coordinator")
    created = c.post("/api/v1/seniors", json=senior_body(), headers=h)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("s-") and "health_notes" not in body
    assert created.headers["location"] == f"/api/v1/seniors/{body['id']}"

    read = c.get(created.headers["location"], headers=h)
    assert read.status_code == 200 and "health_notes" not in read.json() and "disability" not in read.json()
    health = c.get(created.headers["location"] + "/health", params={"purpose": "care_planning"}, headers=h)
    assert health.status_code == 200 and health.json()["health_notes"] == "po udarze, insulina"
    assert health.json()["disability"] == "znaczny"

    patched = c.patch(read.request.url.path, json={"phone": "+48 600 000 000", "health_notes": "po udarze"}, headers=h)
    assert patched.status_code == 200 and patched.json()["phone"] == "+48 600 000 000"
    assert c.delete(read.request.url.path, headers=h).status_code == 204
    gone = c.get(read.request.url.path, headers=h)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")

    assert audit_actions(api, body["id"]) == [
        ("senior.create", "coordinator"), ("senior.read_health", "coordinator"),
        ("senior.update", "coordinator"), ("senior.delete", "coordinator"),
    ]
    with Session(api.engine) as s:
        logged = s.exec(select(AuditLog).where(AuditLog.entity_id == body["id"])).all()
    assert "insulina" not in str([r.changes for r in logged]), "health notes must never be copied into the audit log"
    update = next(r for r in logged if r.action == "senior.update")
    assert update.changes["health_notes"] == {"old": "[redacted]", "new": "[redacted]"}


def test_health_fields_hidden_from_dispatcher_and_lists_and_every_read_audited_with_a_purpose(api) -> None:
    """Dispatchers never see health fields (and cause no health-read audit); lists and plain reads never
    carry them (disability, mental_disorder, health_notes); a coordinator's or admin's read needs a
    purpose, shows them and is audited with it; a dispatcher's or worker's is refused."""
    c = api.client
    health = {"health_notes", "disability", "mental_disorder"}
    as_dispatcher = c.get("/api/v1/seniors/S1", headers=api.auth("dispatcher"))
    assert as_dispatcher.status_code == 200 and not health & as_dispatcher.json().keys()
    assert as_dispatcher.json()["notes_for_workers"] == "domofon 12"
    for role in ("coordinator", "dispatcher", "admin"):
        listed = c.get("/api/v1/seniors", headers=api.auth(role)).json()["items"]
        assert listed and all(not health & s.keys() for s in listed)
    assert not health & c.get("/api/v1/seniors/S1", headers=api.auth("coordinator")).json().keys()
    assert audit_actions(api, "S1") == []

    for role, status in (("dispatcher", 403), ("worker", 403)):
        assert c.get("/api/v1/seniors/S1/health", params={"purpose": "care_planning"},
                     headers=api.auth(role)).status_code == status
    missing = c.get("/api/v1/seniors/S1/health", headers=api.auth("coordinator"))
    assert missing.status_code == 422 and "purpose" in str(field_names(missing))
    bad = c.get("/api/v1/seniors/S1/health", params={"purpose": "curiosity"}, headers=api.auth("coordinator"))
    assert bad.status_code == 422 and field_names(bad) == {"purpose"}
    assert audit_actions(api, "S1") == []

    as_coordinator = c.get("/api/v1/seniors/S1/health", params={"purpose": "care_assessment"},
                           headers=api.auth("coordinator"))
    assert as_coordinator.json() == {"id": "S1", "disability": "umiarkowany", "mental_disorder": False,
                                     "health_notes": "cukrzyca typu 2", "purpose": "care_assessment"}
    c.get("/api/v1/seniors/S1/health", params={"purpose": "incident"}, headers=api.auth("admin"))
    assert audit_actions(api, "S1") == [("senior.read_health", "coordinator"), ("senior.read_health", "admin")]
    with Session(api.engine) as s:
        purposes = [r.changes for r in s.exec(select(AuditLog).where(AuditLog.action == "senior.read_health")
                                              .order_by(AuditLog.id))]
    assert purposes == [{"purpose": "care_assessment"}, {"purpose": "incident"}]


def test_workers_and_dispatchers_cannot_change_seniors_and_workers_cannot_read_them(api) -> None:
    """Workers get 403 on lists and reads; dispatchers read but get 403 on every write; no token is 401."""
    c = api.client
    worker = api.auth("worker")
    assert c.get("/api/v1/seniors", headers=worker).status_code == 403
    assert c.get("/api/v1/seniors/S1", headers=worker).status_code == 403
    dispatcher = api.auth("dispatcher")
    assert c.post("/api/v1/seniors", json=senior_body(), headers=dispatcher).status_code == 403
    assert c.patch("/api/v1/seniors/S1", json={"phone": "1"}, headers=dispatcher).status_code == 403
    assert c.delete("/api/v1/seniors/S1", headers=dispatcher).status_code == 403
    denied = c.get("/api/v1/seniors")
    assert denied.status_code == 401 and denied.json()["type"].endswith("/unauthorized")
    assert audit_actions(api, "S1") == []


def test_senior_bad_input_names_every_field(api) -> None:
    """Format errors, unknown references and contradictions come back as 422 with each field in errors[];
    a duplicate id is 409 and unknown ids are 404."""
    c, h = api.client, api.auth("coordinator")
    formats = c.post("/api/v1/seniors", json=senior_body(postcode="25001", gender="X"), headers=h)
    assert formats.status_code == 422
    assert {"postcode", "gender"} <= field_names(formats)

    refs = c.post("/api/v1/seniors", json=senior_body(area="area-nowhere", regular_workers=["W1", "W9"],
                                                      forbidden_workers=["W1"], needs=["home_care", "cooking"]),
                  headers=h)
    assert refs.status_code == 422, refs.text
    assert field_names(refs) == {"area", "regular_workers", "forbidden_workers", "needs"}
    assert "'cooking'" in {e["field"]: e["message"] for e in refs.json()["errors"]}["needs"]
    assert refs.json()["type"].endswith("/validation-error")

    assert field_names(c.patch("/api/v1/seniors/S1", json={"first_name": None}, headers=h)) == {"first_name"}
    assert field_names(c.patch("/api/v1/seniors/S1", json={"shoe_size": 40}, headers=h)) == {"shoe_size"}
    assert c.patch("/api/v1/seniors/S404", json={"phone": "1"}, headers=h).status_code == 404
    assert c.delete("/api/v1/seniors/S404", headers=h).status_code == 404
    duplicate = c.post("/api/v1/seniors", json=senior_body(id="S1"), headers=h)
    assert duplicate.status_code == 409 and field_names(duplicate) == {"id"}


def test_senior_with_visit_requests_cannot_be_deleted(api) -> None:
    """Requests are history: deleting their senior is a 409 conflict and changes nothing."""
    response = api.client.delete("/api/v1/seniors/S1", headers=api.auth("admin"))
    assert response.status_code == 409 and "visit request" in response.json()["detail"]
    assert api.client.get("/api/v1/seniors/S1", headers=api.auth("dispatcher")).status_code == 200


def test_list_filters_by_area_and_name_prefix_in_any_case_and_sorts(api) -> None:
    """``name`` matches the start of first or last name ignoring case (Polish letters too); ``sort``
    accepts whitelisted fields, ``-`` for descending, and refuses others with a field error."""
    c, h = api.client, api.auth("coordinator")
    assert c.post("/api/v1/seniors", json=senior_body(first_name="Łucja", last_name="Żak"), headers=h).status_code == 201

    def ids(**params: Any) -> list[str]:
        response = c.get("/api/v1/seniors", params=params, headers=h)
        assert response.status_code == 200, response.text
        return [s["last_name"] for s in response.json()["items"]]

    assert ids(name="hal") == ["Zając"]
    assert ids(name="żak") == ["Żak"] and ids(name="ŁUC") == ["Żak"]
    assert ids(name="ma") == ["Mazur"]
    # birth years: Żak 1938, Zając (S1) 1941, Mazur (S2) 1942, Kaczmarek (S3) 1943
    assert ids(area="area-centrum", sort="birth_year") == ["Żak", "Zając", "Mazur", "Kaczmarek"]
    assert ids(sort="-birth_year") == ["Kaczmarek", "Mazur", "Zając", "Żak"]
    assert ids(area="nowhere") == []
    bad = c.get("/api/v1/seniors", params={"sort": "health_notes"}, headers=h)
    assert bad.status_code == 422 and field_names(bad) == {"sort"}


def test_pagination_walks_every_senior_exactly_once_in_either_direction(api) -> None:
    """Pages of 3 with ties in the sort key return every senior once, in order; a foreign or forged
    cursor is a 422 on the ``cursor`` field."""
    c, h = api.client, api.auth("coordinator")
    for i in range(7):
        body = senior_body(last_name="Nowak" if i % 2 else f"Adamczyk{i}", first_name=f"Imię{i}")
        assert c.post("/api/v1/seniors", json=body, headers=h).status_code == 201
    everyone = {s["id"] for s in c.get("/api/v1/seniors", params={"limit": 200}, headers=h).json()["items"]}
    assert len(everyone) == 10

    for sort in ("last_name", "-last_name", "id"):
        seen: list[dict[str, Any]] = []
        cursor = None
        for _ in range(10):
            params = {"limit": 3, "sort": sort} | ({"cursor": cursor} if cursor else {})
            page = c.get("/api/v1/seniors", params=params, headers=h).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(s["id"] for s in seen) == sorted(everyone), sort
        keys = [(s[sort.lstrip("-")], s["id"]) for s in seen]
        assert keys == sorted(keys, reverse=sort.startswith("-")), sort

    first = c.get("/api/v1/seniors", params={"limit": 3}, headers=h).json()["next_cursor"]
    other_filter = c.get("/api/v1/seniors", params={"limit": 3, "cursor": first, "area": "area-centrum"}, headers=h)
    assert other_filter.status_code == 422 and field_names(other_filter) == {"cursor"}
    forged = c.get("/api/v1/seniors", params={"cursor": "not-a-cursor"}, headers=h)
    assert forged.status_code == 422 and field_names(forged) == {"cursor"}
    assert field_names(c.get("/api/v1/seniors", params={"limit": 0}, headers=h)) == {"query.limit"}
