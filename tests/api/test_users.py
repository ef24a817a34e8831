"""User management by admins: create, list, change; rules, role guard, audit rows; demo users."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, delete, select

from dispatch.storage import models as m
from dispatch.access import users as use
from tests.api.conftest import DAY, PASSWORDS

PROBLEM = "application/problem+json"
NEW_PASSWORD = "a-long-password-1"


def _login(api, username: str, password: str) -> int:
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password}).status_code


def _create(api, headers, **body):
    return api.client.post("/api/v1/users", json=body, headers=headers)


def _patch(api, headers, name: str, body: dict | None = None, **fields):
    return api.client.patch(f"/api/v1/users/{name}", json={**(body or {}), **fields}, headers=headers)


def _audit_rows(api, entity_id: str | None = None) -> list[m.AuditLog]:
    with Session(api.engine) as session:
        statement = select(m.AuditLog).where(col(m.AuditLog.entity) == "user").order_by(col(m.AuditLog.id))
        if entity_id is not None:
            statement = statement.where(col(m.AuditLog.entity_id) == entity_id)
        return list(session.exec(statement).all())


def _assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


@pytest.fixture
def admin(api) -> dict[str, str]:
    return api.auth("admin")


# --------------------------------------------------------------------------- create, read, list


def test_admin_creates_a_user_who_can_then_log_in(api, admin) -> None:
    """POST /users answers 201 with Location and the user (no hash); the new user can log in."""
    response = _create(api, admin, username="marta.k", password=NEW_PASSWORD, role="coordinator")
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/users/marta.k"
    assert response.json() == {"username": "marta.k", "role": "coordinator", "worker_id": None, "active": True}
    assert api.client.get(response.headers["location"], headers=admin).json()["username"] == "marta.k"
    assert _login(api, "marta.k", NEW_PASSWORD) == 200


def test_worker_user_is_linked_to_an_existing_worker(api, admin) -> None:
    """A worker user names its worker; after login /auth/me gives that worker id."""
    response = _create(api, admin, username="jan.w", password=NEW_PASSWORD, role="worker", worker_id="W3")
    assert response.status_code == 201, response.text
    assert response.json()["worker_id"] == "W3"
    token = api.client.post("/api/v1/auth/token", data={"username": "jan.w", "password": NEW_PASSWORD}).json()
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json() == {"username": "jan.w", "role": "worker", "worker_id": "W3"}


def test_user_list_shows_every_user_and_never_a_password_hash(api, admin) -> None:
    """GET /users lists all users by username with role, worker and active flag, and no hash."""
    response = api.client.get("/api/v1/users", headers=admin)
    assert response.status_code == 200
    users = response.json()
    assert [u["username"] for u in users] == sorted(PASSWORDS)
    assert all(set(u) == {"username", "role", "worker_id", "active"} for u in users)
    assert {u["username"]: u["worker_id"] for u in users}["worker2"] == "W2"
    assert "argon2" not in response.text and "hash" not in response.text


def test_unknown_user_is_a_404_problem(api, admin) -> None:
    """Reading or changing a user who does not exist answers 404 problem+json."""
    _assert_problem(api.client.get("/api/v1/users/nobody", headers=admin), 404)
    _assert_problem(_patch(api, admin, "nobody", active=False), 404)


# --------------------------------------------------------------------------- bad input


def test_create_with_missing_fields_names_each_field(api, admin) -> None:
    """An empty body is a 422 problem listing username, password and role."""
    body = _assert_problem(_create(api, admin), 422)
    assert {"username", "password", "role"} <= {e["field"] for e in body["errors"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "password": NEW_PASSWORD, "role": "admin"}, "username"),
        ({"username": "Marta", "password": NEW_PASSWORD, "role": "admin"}, "username"),
        ({"username": "marta k", "password": NEW_PASSWORD, "role": "admin"}, "username"),
        ({"username": "marta", "password": "short-pw", "role": "admin"}, "password"),
        ({"username": "marta", "password": "x" * 129, "role": "admin"}, "password"),
        ({"username": "marta.kowal", "password": "marta.kowal", "role": "admin"}, "password"),
        ({"username": "marta", "password": NEW_PASSWORD, "role": "boss"}, "role"),
        ({"username": "marta", "password": NEW_PASSWORD, "role": "worker"}, "worker_id"),
        ({"username": "marta", "password": NEW_PASSWORD, "role": "worker", "worker_id": "W999"}, "worker_id"),
        ({"username": "marta", "password": NEW_PASSWORD, "role": "dispatcher", "worker_id": "W1"}, "worker_id"),
        ({"username": "marta", "password": NEW_PASSWORD, "role": "admin", "is_superuser": True}, "is_superuser"),
    ],
    ids=[
        "username-too-short", "username-uppercase", "username-space", "password-too-short", "password-too-long",
        "password-is-username", "unknown-role", "worker-without-worker-id", "unknown-worker",
        "worker-id-for-non-worker", "unknown-field",
    ],
)
def test_create_with_bad_input_is_a_422_naming_the_field(api, admin, body, field) -> None:
    """Each broken rule answers 422 problem+json with the field at fault in errors[], and no user is made."""
    _assert_problem(_create(api, admin, **body), 422, field)
    assert len(api.client.get("/api/v1/users", headers=admin).json()) == len(PASSWORDS)
    assert _audit_rows(api) == []


def test_duplicate_username_is_a_409_and_leaves_no_audit_row(api, admin) -> None:
    """Creating an existing username answers 409 naming 'username'; the failed write is not audited."""
    _assert_problem(_create(api, admin, username="dispatcher", password=NEW_PASSWORD, role="dispatcher"), 409, "username")
    assert _audit_rows(api) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "short-pw"}, "password"),
        ({"role": None}, "role"),
        ({"active": None}, "active"),
        ({"role": "boss"}, "role"),
        ({"role": "worker"}, "worker_id"),
        ({"worker_id": "W999"}, "worker_id"),
        ({"username": "renamed"}, "username"),
    ],
    ids=["short-password", "null-role", "null-active", "unknown-role", "worker-without-worker-id",
         "worker-id-for-non-worker", "username-not-changeable"],
)
def test_update_with_bad_input_is_a_422_naming_the_field(api, admin, body, field) -> None:
    """PATCH /users/{name} with a broken rule answers 422 with the field at fault, and changes nothing."""
    _assert_problem(_patch(api, admin, "coordinator", body), 422, field)
    assert api.client.get("/api/v1/users/coordinator", headers=admin).json()["role"] == "coordinator"
    assert _audit_rows(api) == []


# --------------------------------------------------------------------------- changes


def test_admin_changes_role_and_the_old_token_stops_working(api, admin) -> None:
    """PATCH role: the answer shows the new role and the user's earlier token gets 401."""
    old = api.auth("coordinator")
    response = _patch(api, admin, "coordinator", role="dispatcher")
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "dispatcher"
    assert api.client.get("/api/v1/auth/me", headers=old).status_code == 401


def test_moving_a_worker_user_to_another_role_drops_the_worker_link(api, admin) -> None:
    """A worker user made coordinator is no longer linked to a worker."""
    response = _patch(api, admin, "worker", role="coordinator")
    assert response.status_code == 200, response.text
    assert response.json() == {"username": "worker", "role": "coordinator", "worker_id": None, "active": True}


def test_making_a_user_a_worker_needs_a_worker_id(api, admin) -> None:
    """Role worker plus an existing worker_id links the user; /auth/me then gives that worker."""
    response = _patch(api, admin, "dispatcher", role="worker", worker_id="W3")
    assert response.status_code == 200, response.text
    assert response.json()["worker_id"] == "W3"


def test_deactivate_and_reactivate(api, admin) -> None:
    """active=false stops login and existing tokens at once; active=true lets the user back in."""
    old = api.auth("dispatcher")
    assert _patch(api, admin, "dispatcher", active=False).json()["active"] is False
    assert _login(api, "dispatcher", PASSWORDS["dispatcher"]) == 401
    assert api.client.get("/api/v1/auth/me", headers=old).status_code == 401
    assert _patch(api, admin, "dispatcher", active=True).json()["active"] is True
    assert _login(api, "dispatcher", PASSWORDS["dispatcher"]) == 200


def test_password_reset(api, admin) -> None:
    """PATCH password: the old password stops working and the new one works; a token issued
    before the reset stops working too (it may be why the password was reset)."""
    old = api.auth("worker")
    assert api.client.get("/api/v1/auth/me", headers=old).status_code == 200
    assert _patch(api, admin, "worker", password=NEW_PASSWORD).status_code == 200
    assert _login(api, "worker", PASSWORDS["worker"]) == 401
    assert _login(api, "worker", NEW_PASSWORD) == 200
    stale = api.client.get("/api/v1/auth/me", headers=old)
    assert stale.status_code == 401 and "password, role or status was changed" in stale.json()["detail"]
    fresh = api.client.post("/api/v1/auth/token", data={"username": "worker", "password": NEW_PASSWORD})
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "worker"


def test_empty_patch_changes_nothing_and_is_not_audited(api, admin) -> None:
    """PATCH {} answers the user unchanged and writes no audit row."""
    response = _patch(api, admin, "coordinator")
    assert response.status_code == 200
    assert response.json()["role"] == "coordinator"
    assert _audit_rows(api) == []


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(api, admin) -> None:
    """Demoting or deactivating the only active admin is a 409; with a second admin it is allowed."""
    _assert_problem(_patch(api, admin, "admin", active=False), 409)
    _assert_problem(_patch(api, admin, "admin", role="dispatcher"), 409)
    assert _create(api, admin, username="second.admin", password=NEW_PASSWORD, role="admin").status_code == 201
    assert _patch(api, admin, "second.admin", active=False).status_code == 200
    _assert_problem(_patch(api, admin, "admin", active=False), 409)  # the second one is inactive
    assert _patch(api, admin, "second.admin", active=True).status_code == 200
    assert _patch(api, admin, "admin", role="coordinator").status_code == 200


# --------------------------------------------------------------------------- role guard


@pytest.mark.parametrize("user", ["coordinator", "dispatcher", "worker"])
def test_only_admins_manage_users_and_read_the_audit_log(api, user) -> None:
    """Every user-management and audit endpoint answers 403 problem+json naming the admin role to others."""
    headers = api.auth(user)
    calls = [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"username": "sneaky", "password": NEW_PASSWORD, "role": "admin"}),
        ("GET", "/api/v1/users/admin", None),
        ("PATCH", f"/api/v1/users/{user}", {"role": "admin"}),
        ("GET", "/api/v1/audit", None),
    ]
    for method, path, body in calls:
        response = api.client.request(method, path, json=body, headers=headers)
        problem = _assert_problem(response, 403)
        assert "admin" in problem["detail"] and user in problem["detail"], (method, path, problem)
    with Session(api.engine) as session:
        assert session.exec(select(m.User).where(m.User.username == "sneaky")).first() is None
        assert session.exec(select(m.User).where(m.User.username == user)).one().role.value != "admin"


def test_user_endpoints_need_a_token(api) -> None:
    """Without a token every user endpoint answers 401 problem+json."""
    for method, path in [("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/admin"),
                         ("GET", "/api/v1/audit")]:
        _assert_problem(api.client.request(method, path, json={}), 401)


# --------------------------------------------------------------------------- audit


def test_every_user_write_is_audited_with_actor_and_changes_but_no_password(api, admin) -> None:
    """Create, role change, deactivation and password reset each leave a row by the admin; none holds a hash."""
    _create(api, admin, username="ola.n", password=NEW_PASSWORD, role="worker", worker_id="W2")
    _patch(api, admin, "ola.n", role="dispatcher")
    _patch(api, admin, "ola.n", active=False)
    _patch(api, admin, "ola.n", password="another-long-password")
    rows = _audit_rows(api, "ola.n")
    assert [r.action for r in rows] == ["user.create", "user.update", "user.update", "user.update"]
    assert all(r.actor == "admin" and r.entity == "user" for r in rows)
    assert rows[0].changes == {
        "username": {"old": None, "new": "ola.n"},
        "role": {"old": None, "new": "worker"},
        "worker_id": {"old": None, "new": "W2"},
        "active": {"old": None, "new": True},
    }
    assert rows[1].changes == {"role": {"old": "worker", "new": "dispatcher"}, "worker_id": {"old": "W2", "new": None}}
    assert rows[2].changes == {"active": {"old": True, "new": False}}
    assert rows[3].changes == {"password": {"old": "***", "new": "***"}}
    text = repr([r.changes for r in rows])
    assert "argon2" not in text and NEW_PASSWORD not in text and "another-long-password" not in text


# --------------------------------------------------------------------------- demo users


def test_demo_users_are_created_one_per_role_with_the_published_passwords(api) -> None:
    """On an empty user table ensure_demo_users makes admin/coordinator/dispatcher/worker, worker linked to W1."""
    with Session(api.engine) as session:
        session.exec(delete(m.User))
        session.commit()
    with Session(api.engine) as session:
        demo = use.ensure_demo_users(session, DAY)
        session.commit()
    assert [(d.username, d.password, d.role, d.worker_id) for d in demo] == [
        ("admin", "demo-admin-2026", "admin", None),
        ("coordinator", "demo-coordinator-2026", "coordinator", None),
        ("dispatcher", "demo-dispatcher-2026", "dispatcher", None),
        ("worker", "demo-worker-2026", "worker", "W1"),
    ]
    for d in demo:
        assert _login(api, d.username, d.password) == 200
    assert [r.action for r in _audit_rows(api)] == ["user.create"] * 4


def test_demo_users_are_idempotent_and_restore_the_demo_passwords(api) -> None:
    """Run again over existing users, it re-links the worker, resets passwords and creates no duplicates."""
    with Session(api.engine) as session:
        use.ensure_demo_users(session, DAY)
        session.commit()
    with Session(api.engine) as session:
        session.exec(select(m.User).where(m.User.username == "worker")).one().worker_id = None
        session.commit()
    with Session(api.engine) as session:
        demo = use.ensure_demo_users(session, DAY)
        session.commit()
    assert _login(api, "worker", "demo-worker-2026") == 200
    assert _login(api, "worker", PASSWORDS["worker"]) == 401
    with Session(api.engine) as session:
        users = session.exec(select(m.User)).all()
        assert len(users) == len(PASSWORDS)
        assert {u.username: u.worker_id for u in users}["worker"] == "W1" == demo[-1].worker_id


def test_demo_worker_is_someone_on_shift_that_day(api) -> None:
    """On a Sunday nobody in the small scenario works, so no demo worker user is made."""
    sunday = DAY + dt.timedelta(days=(6 - DAY.weekday()))
    with Session(api.engine) as session:
        demo = use.ensure_demo_users(session, sunday)
        session.commit()
    assert [d.role for d in demo] == ["admin", "coordinator", "dispatcher"]
