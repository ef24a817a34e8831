"""Logging in and being refused: the token endpoint, /auth/me, and every way a token can be bad."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest
from sqlmodel import Session, select

from api.routers.auth import ACCESS_TOKEN_MINUTES
from api.security import create_access_token
from dispatch.access.passwords import hash_password
from dispatch.storage import models as m

from tests.api.conftest import PASSWORDS

PROBLEM = "application/problem+json"


def _token(api, username: str, password: str):
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _me(api, token: str):
    return api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def _secret(api) -> str:
    return api.settings.secret_key.get_secret_value()


def _assert_401(response, detail_part: str = "") -> dict:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers.get("www-authenticate") == "Bearer"
    body = response.json()
    assert body["status"] == 401 and body["type"].startswith("https://") and body["title"]
    assert detail_part in body["detail"]
    return body


def _set_user(api, username: str, **values) -> None:
    with Session(api.engine) as session:
        user = session.exec(select(m.User).where(m.User.username == username)).one()
        for key, value in values.items():
            setattr(user, key, value)
        session.add(user)
        session.commit()


# --------------------------------------------------------------------------- the token flow


def test_login_returns_a_bearer_token_that_identifies_the_user(api) -> None:
    """Username and password give a bearer token with its lifetime and role; /auth/me names the user."""
    response = _token(api, "dispatcher", PASSWORDS["dispatcher"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == ACCESS_TOKEN_MINUTES * 60
    assert body["role"] == "dispatcher" and body["scope"] == "dispatcher"
    assert response.headers["cache-control"] == "no-store"
    me = _me(api, body["access_token"])
    assert me.status_code == 200
    assert me.json() == {"username": "dispatcher", "role": "dispatcher", "worker_id": None}


def test_worker_token_carries_the_worker_id(api) -> None:
    """A worker's /auth/me gives the worker id, so the app can show that worker's own schedule."""
    assert _me(api, api.login("worker")).json() == {"username": "worker", "role": "worker", "worker_id": "W1"}
    assert _me(api, api.login("worker2")).json()["worker_id"] == "W2"


def test_token_is_hs256_signed_with_the_settings_secret_for_the_configured_lifetime(api) -> None:
    """The token verifies with settings.secret_key (HS256) and expires ACCESS_TOKEN_MINUTES after issue."""
    claims = jwt.decode(api.login("worker"), _secret(api), algorithms=["HS256"])
    assert claims["sub"] == "worker" and claims["scope"] == "worker" and claims["wid"] == "W1"
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_MINUTES * 60


def test_login_ignores_case_and_spaces_in_the_username(api) -> None:
    """Usernames are lowercase by rule, so ' Admin' typed on a phone still logs in as admin."""
    response = _token(api, " Admin", PASSWORDS["admin"])
    assert response.status_code == 200, response.text
    assert _me(api, response.json()["access_token"]).json()["username"] == "admin"


# --------------------------------------------------------------------------- refused logins


def test_wrong_password_and_unknown_user_get_the_same_401(api) -> None:
    """A wrong password and an unknown username answer identically, so usernames cannot be probed."""
    wrong = _assert_401(_token(api, "admin", "not-the-password"))
    unknown = _assert_401(_token(api, "nobody", "not-the-password"))
    assert wrong["detail"] == unknown["detail"] == "wrong username or password"
    assert wrong["type"] == unknown["type"] and wrong["type"].endswith("/invalid-credentials")
    assert "access_token" not in wrong


def test_unknown_user_still_costs_a_password_verification(api, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown username is verified against a dummy hash, so timing does not reveal who exists."""
    import dispatch.access.users

    calls: list[str] = []
    real = dispatch.access.users.verify_password

    def spy(password: str, password_hash: str) -> bool:
        calls.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(dispatch.access.users, "verify_password", spy)
    _assert_401(_token(api, "nobody", "whatever-password"))
    _assert_401(_token(api, "admin", "whatever-password"))
    assert len(calls) == 2 and all(h.startswith("$argon2") for h in calls)


def test_deactivated_user_cannot_log_in_and_loses_existing_tokens(api) -> None:
    """A deactivated account gets 401 even with the right password, and its earlier token stops working."""
    token = api.login("coordinator")
    _set_user(api, "coordinator", active=False)
    _assert_401(_token(api, "coordinator", PASSWORDS["coordinator"]), "deactivated")
    _assert_401(_me(api, token), "inactive")


def test_deactivated_user_with_a_wrong_password_gets_the_generic_answer(api) -> None:
    """'Deactivated' is only said after the right password, so guessing learns nothing."""
    _set_user(api, "coordinator", active=False)
    body = _assert_401(_token(api, "coordinator", "a-wrong-password"))
    assert body["detail"] == "wrong username or password"


def test_login_form_with_missing_fields_is_a_422_naming_them(api) -> None:
    """A login form without username or password is a 422 problem listing each missing field."""
    response = api.client.post("/api/v1/auth/token", data={})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"username", "password"} <= fields


# --------------------------------------------------------------------------- bad tokens


def test_request_without_a_token_is_a_401_problem(api) -> None:
    """/auth/me without a token says how to get one."""
    _assert_401(api.client.get("/api/v1/auth/me"), "Bearer")


def test_expired_token_is_refused(api) -> None:
    """A token whose lifetime ended (issued two hours ago for 60 minutes) gets 401 'expired'."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    token = create_access_token(_secret(api), "admin", "admin", None, past, ACCESS_TOKEN_MINUTES)
    _assert_401(_me(api, token), "expired")


def test_token_signed_with_another_secret_is_refused(api) -> None:
    """A token with valid claims but signed with a different key gets 401."""
    now = dt.datetime.now(dt.UTC)
    token = create_access_token("another-secret-" + "y" * 32, "admin", "admin", None, now, 60)
    _assert_401(_me(api, token), "not valid")


def test_tampered_payload_is_refused(api) -> None:
    """Raising one's role by editing the token's payload (keeping the signature) gets 401."""
    header, payload, signature = api.login("worker").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(sub="admin", scope="admin", wid=None)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _assert_401(_me(api, f"{header}.{forged}.{signature}"), "not valid")
    _assert_401(api.client.get("/api/v1/users", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}))


def test_unsigned_token_is_refused(api) -> None:
    """A token with alg 'none' (no signature at all) gets 401."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    token = jwt.encode({"sub": "admin", "scope": "admin", "exp": now + 600}, None, algorithm="none")
    _assert_401(_me(api, token), "not valid")


def test_garbage_token_is_refused(api) -> None:
    """A bearer value that is not a JWT at all gets 401, not 500."""
    _assert_401(_me(api, "not-a-jwt"))


def test_token_of_a_user_whose_role_changed_is_refused(api) -> None:
    """After an admin changes a user's role, tokens issued for the old role get 401."""
    token = api.login("dispatcher")
    _set_user(api, "dispatcher", role=m.UserRole.COORDINATOR)
    _assert_401(_me(api, token), "another role")
    assert _me(api, api.login("dispatcher")).json()["role"] == "coordinator"


def test_token_of_a_deleted_user_is_refused(api) -> None:
    """A well-signed token naming a user who does not exist gets 401."""
    token = create_access_token(_secret(api), "ghost", "admin", None, dt.datetime.now(dt.UTC), 60)
    _assert_401(_me(api, token), "unknown")


# --------------------------------------------------------------------------- ending tokens


def _logout(api, token: str):
    return api.client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})


def _patch_user(api, admin_token: str, username: str, **body):
    response = api.client.patch(
        f"/api/v1/users/{username}", json=body, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert response.status_code == 200, response.text
    return response


def test_a_token_used_after_logout_is_refused(api) -> None:
    """POST /auth/logout ends the token presented (204): it then gets 401, also for a second
    logout; another token of the same user (another device) still works."""
    phone, desk = api.login("dispatcher"), api.login("dispatcher")
    response = _logout(api, phone)
    assert response.status_code == 204 and response.content == b""
    _assert_401(_me(api, phone), "logging out")
    _assert_401(api.client.get("/api/v1/requests", headers={"Authorization": f"Bearer {phone}"}))
    _assert_401(_logout(api, phone))
    assert _me(api, desk).status_code == 200


def test_logout_needs_a_valid_token(api) -> None:
    """Logging out without a token, or with a forged one, is a 401 problem."""
    _assert_401(api.client.post("/api/v1/auth/logout"))
    forged = create_access_token("another-secret-" + "y" * 32, "admin", "admin", None, dt.datetime.now(dt.UTC), 60)
    _assert_401(_logout(api, forged), "not valid")


def test_a_token_without_an_id_is_refused(api) -> None:
    """Every token carries a random id (jti), the thing logout revokes; a token without one,
    which could never be logged out, gets 401."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    token = jwt.encode({"sub": "admin", "scope": "admin", "ver": 0, "exp": now + 600}, _secret(api), algorithm="HS256")
    _assert_401(_me(api, token), "not valid")
    first, second = (jwt.decode(api.login("admin"), _secret(api), algorithms=["HS256"])["jti"] for _ in range(2))
    assert first != second and len(first) >= 20


def test_the_token_of_a_deactivated_and_reactivated_user_stays_refused(api) -> None:
    """Reactivating a user does not bring back the tokens they had before being deactivated
    (the reason they were deactivated may be a stolen phone); a new login works."""
    admin = api.login("admin")
    old = api.login("coordinator")
    _patch_user(api, admin, "coordinator", active=False)
    _patch_user(api, admin, "coordinator", active=True)
    _assert_401(_me(api, old), "log in again")
    assert _me(api, api.login("coordinator")).status_code == 200


def test_a_reactivation_made_in_the_database_alone_still_refuses_old_tokens(api) -> None:
    """Deactivation itself ends the tokens for good: even if the row is switched back on by hand
    (no reactivation through dispatch.access.users), the old token stays refused."""
    admin = api.login("admin")
    old = api.login("coordinator")
    _patch_user(api, admin, "coordinator", active=False)
    _set_user(api, "coordinator", active=True)
    _assert_401(_me(api, old))


def test_after_a_password_change_the_old_token_is_refused_and_a_new_login_works(api) -> None:
    """An admin's password reset ends the user's earlier token; the new password logs in."""
    admin = api.login("admin")
    old = api.login("worker")
    _patch_user(api, admin, "worker", password="a-brand-new-password")
    _assert_401(_me(api, old), "password")
    _assert_401(_token(api, "worker", PASSWORDS["worker"]))
    fresh = _token(api, "worker", "a-brand-new-password")
    assert fresh.status_code == 200 and _me(api, fresh.json()["access_token"]).status_code == 200


def test_a_worker_link_change_ends_the_old_token(api) -> None:
    """Moving a worker user to another worker ends tokens issued for the old link."""
    admin = api.login("admin")
    old = api.login("worker")
    _patch_user(api, admin, "worker", worker_id="W3")
    _assert_401(_me(api, old))
    assert _me(api, api.login("worker")).json()["worker_id"] == "W3"


def test_a_change_that_changes_nothing_keeps_the_tokens(api) -> None:
    """An empty PATCH or one that sets what is already there ends no token."""
    admin = api.login("admin")
    token = api.login("dispatcher")
    _patch_user(api, admin, "dispatcher")
    _patch_user(api, admin, "dispatcher", role="dispatcher", active=True)
    assert _me(api, token).status_code == 200


def test_token_signed_with_the_old_published_secret_is_refused(database_url: str, tmp_path) -> None:
    """A server set up the README's way (no CAREPATH_SECRET_KEY) refuses an admin token forged with the
    secret that used to be in the source, and accepts a real login (issue 21, item 1)."""
    import datetime as dt

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from api.app import create_app
    from api.security import create_access_token
    from dispatch.storage.db import make_engine
    from dispatch.settings import PUBLISHED_SECRET_KEYS, Settings

    settings = Settings(database_url=database_url, data_dir=tmp_path)
    assert settings.secret_key is None
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(m.User(username="admin", password_hash=hash_password("admin-pass-1"), role=m.UserRole.ADMIN))
        session.commit()
    try:
        with TestClient(create_app(settings, engine)) as client:
            for published in PUBLISHED_SECRET_KEYS:
                forged = create_access_token(published, "admin", "admin", None, dt.datetime.now(dt.UTC), 60)
                r = client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"})
                assert r.status_code == 401, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
            token = client.post("/api/v1/auth/token", data={"username": "admin", "password": "admin-pass-1"}).json()
            r = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token['access_token']}"})
            assert r.status_code == 200, r.text
    finally:
        engine.dispose()
