"""Reading the audit log: newest first, filters, limit, paging, and the read itself recorded."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from dispatch.access import audit
from dispatch.storage import models as m

PROBLEM = "application/problem+json"


@pytest.fixture
def logged(api) -> list[tuple[str, str, str, str]]:
    """Five audit rows, oldest first: (actor, action, entity, entity_id)."""
    rows = [
        ("coordinator", "senior.update", "senior", "S1"),
        ("coordinator", "senior.update", "senior", "S2"),
        ("dispatcher", "roster.publish", "roster", "1"),
        ("coordinator", "senior.update", "senior", "S1"),
        ("admin", "user.update", "user", "worker"),
    ]
    with Session(api.engine) as session:
        for actor, action, entity, entity_id in rows:
            audit.record(session, actor, action, entity, entity_id, {"note": {"old": None, "new": action}})
            session.flush()  # one id per row, in this order
        session.commit()
    return rows


def _get(api, headers, **params):
    return api.client.get("/api/v1/audit", params=params, headers=headers)


def test_audit_log_is_listed_newest_first(api, logged) -> None:
    """GET /audit returns every row, newest first, with who, what, which record, when and the changes."""
    response = _get(api, api.auth("admin"))
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["actor"], r["action"], r["entity"], r["entity_id"]) for r in rows[:5]] == logged[::-1]
    assert rows[-1]["action"] == "scenario.load"  # written by the fixture before the five
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert rows[0]["changes"] == {"note": {"old": None, "new": "user.update"}}
    assert rows[0]["at"].endswith(("Z", "+00:00"))


def test_audit_log_filters_combine(api, logged) -> None:
    """entity, entity_id, actor and action filter the rows, and combine with AND."""
    admin = api.auth("admin")
    assert len(_get(api, admin, entity="senior").json()) == 3
    assert [r["entity_id"] for r in _get(api, admin, entity="senior", entity_id="S1").json()] == ["S1", "S1"]
    assert [r["action"] for r in _get(api, admin, actor="dispatcher").json()] == ["roster.publish"]
    assert [r["actor"] for r in _get(api, admin, action="user.update").json()] == ["admin"]
    assert _get(api, admin, entity="senior", actor="dispatcher").json() == []


def test_audit_log_limit_and_paging(api, logged) -> None:
    """limit caps a page; before_id (the last id of a page) gives the next, older page without overlap."""
    admin = api.auth("admin")
    first = _get(api, admin, entity="senior", limit=2).json()
    assert [r["entity_id"] for r in first] == ["S1", "S2"]
    second = _get(api, admin, entity="senior", limit=2, before_id=first[-1]["id"]).json()
    assert [r["entity_id"] for r in second] == ["S1"]
    assert {r["id"] for r in first}.isdisjoint(r["id"] for r in second)


def test_reading_the_audit_log_is_itself_audited(api, logged) -> None:
    """Each read leaves an audit.read row naming the reader and the filters (rows can quote health data)."""
    admin = api.auth("admin")
    _get(api, admin, entity="senior", entity_id="S1")
    with Session(api.engine) as session:
        row = session.exec(select(m.AuditLog).order_by(col(m.AuditLog.id).desc())).first()
    assert row is not None
    assert (row.actor, row.action, row.entity) == ("admin", "audit.read", "audit")
    assert row.changes == {"entity": "senior", "entity_id": "S1", "rows": 2}
    assert _get(api, admin, limit=1).json()[0]["action"] == "audit.read"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 100000}, "limit"), ({"limit": "many"}, "limit"), ({"before_id": 0}, "before_id")],
    ids=["limit-zero", "limit-too-large", "limit-not-a-number", "before-id-zero"],
)
def test_bad_query_parameters_are_a_422_naming_them(api, params, field) -> None:
    """A limit outside 1..1000 or a non-numeric one is a 422 problem naming the parameter."""
    response = _get(api, api.auth("admin"), **params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert any(e["field"].endswith(field) for e in response.json()["errors"])


def test_user_writes_show_up_in_the_audit_log_without_hashes(api) -> None:
    """A user created over the API appears in GET /audit?entity=user, and no row carries a password hash."""
    admin = api.auth("admin")
    api.client.post("/api/v1/users", headers=admin,
                    json={"username": "ewa.k", "password": "a-long-password-1", "role": "dispatcher"})
    api.client.patch("/api/v1/users/ewa.k", headers=admin, json={"password": "another-long-password"})
    response = _get(api, admin, entity="user", entity_id="ewa.k")
    assert [(r["actor"], r["action"]) for r in response.json()] == [("admin", "user.update"), ("admin", "user.create")]
    assert "argon2" not in response.text and "long-password" not in response.text
