"""``Idempotency-Key`` on creating POSTs: a retry replays the first answer and creates nothing,
a reused key with another body is refused, keys are per user, failures do not use up a key.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from dispatch.storage.models import AuditLog, IdempotencyKey, VisitRequest



CARE = {"senior_id": "S2", "service": "home_care", "first_date": "2026-12-02", "window_start": "14:00",
        "window_end": "15:30", "tasks": "idempotent visit"}
SENIOR = {"first_name": "Ala", "last_name": "Kot", "gender": "F", "birth_year": 1940, "street": "Leśna",
          "number": "1", "postcode": "25-003", "city": "Kielce", "area": "area-centrum", "lat": 50.87,
          "lon": 20.63, "disability": "lekki", "health_notes": "astma"}


def count(api: Any, model: Any, *where: Any) -> int:
    with Session(api.engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


def test_retry_with_the_same_key_replays_the_answer_and_creates_one_request(api) -> None:
    """The second POST with the same key and body gets the same status, body and Location, marked as a
    replay; one request and one audit row exist."""
    c = api.client
    h = api.auth("coordinator") | {"Idempotency-Key": "6f1c2a9e-retry"}
    first = c.post("/api/v1/requests", json=CARE, headers=h)
    # Same content, other key order and spelling of the time: the same request.
    second = c.post("/api/v1/requests", json=dict(reversed(list((CARE | {"window_end": "15:30:00"}).items()))),
                    headers=h)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert count(api, VisitRequest, VisitRequest.tasks == "idempotent visit") == 1
    assert count(api, AuditLog, AuditLog.action == "visit_request.create") == 1


def test_same_key_with_another_body_is_refused_and_creates_nothing(api) -> None:
    """Reusing a key for a different body, or on another endpoint, is a 422 problem ``idempotency-key-reused``."""
    c = api.client
    h = api.auth("coordinator") | {"Idempotency-Key": "key-1"}
    assert c.post("/api/v1/requests", json=CARE, headers=h).status_code == 201
    reused = c.post("/api/v1/requests", json=CARE | {"priority": 5}, headers=h)
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    assert reused.headers["content-type"].startswith("application/problem+json")
    other_path = c.post("/api/v1/seniors", json=SENIOR, headers=h)
    assert other_path.status_code == 422 and other_path.json()["type"].endswith("/idempotency-key-reused")
    assert count(api, VisitRequest, VisitRequest.tasks == "idempotent visit") == 1


def test_keys_are_per_user_and_a_failed_request_does_not_use_up_its_key(api) -> None:
    """Two users may pick the same key; a request that failed (422) stored nothing, so the corrected
    retry with the same key is executed.  Stored answers never contain health notes."""
    c = api.client
    key = {"Idempotency-Key": "shared-key"}
    bad = c.post("/api/v1/requests", json=CARE | {"senior_id": "S404"}, headers=api.auth("coordinator") | key)
    assert bad.status_code == 422
    assert count(api, IdempotencyKey) == 0
    assert c.post("/api/v1/requests", json=CARE, headers=api.auth("coordinator") | key).status_code == 201
    assert c.post("/api/v1/requests", json=CARE, headers=api.auth("admin") | key).status_code == 201
    assert count(api, VisitRequest, VisitRequest.tasks == "idempotent visit") == 2

    headers = api.auth("coordinator") | {"Idempotency-Key": "senior-1"}
    assert c.post("/api/v1/seniors", json=SENIOR, headers=headers).status_code == 201
    replay = c.post("/api/v1/seniors", json=SENIOR, headers=headers)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    with Session(api.engine) as s:
        stored = s.exec(select(IdempotencyKey).where(IdempotencyKey.key == "senior-1")).one()
    assert "astma" not in str(stored.response_body) and stored.location == replay.headers["location"]
