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
from dispatch import models as m

from tests.api.conftest import PASSWORDS

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at minimal cost so a login takes milliseconds (the real cost is ~0.5 s here)."""
    import api.security
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    monkeypatch.setattr(
        api.security, "_hasher", PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    )


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
    import dispatch.users

    calls: list[str] = []
    real = dispatch.users.verify_password

    def spy(password: str, password_hash: str) -> bool:
        calls.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(dispatch.users, "verify_password", spy)
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


# --------------------------------------------------------------------------- throttling


def test_too_many_failed_logins_pause_the_account(api) -> None:
    """Five wrong passwords for one username in 15 minutes: the sixth try, even with the right
    password, is a 429 problem with Retry-After; other accounts are not affected."""
    for _ in range(5):
        assert _token(api, "dispatcher", "wrong-password-123").status_code == 401
    blocked = _token(api, "dispatcher", PASSWORDS["dispatcher"])
    assert blocked.status_code == 429
    assert blocked.headers["content-type"].startswith(PROBLEM)
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert _token(api, "coordinator", PASSWORDS["coordinator"]).status_code == 200


def test_login_throttle_window_and_success_reset() -> None:
    """The pause ends when the oldest failure leaves the 15-minute window; a success clears
    the username's failures; the per-address limit is far higher than the per-user one."""
    from api.login_throttle import ADDRESS_LIMIT, USER_LIMIT, LoginThrottle

    now = [1000.0]
    t = LoginThrottle(clock=lambda: now[0])
    for i in range(USER_LIMIT):
        now[0] = 1000.0 + i
        t.failed("Ewa", "10.0.0.1")
    assert t.wait_s("ewa", "10.0.0.1") == 15 * 60 - (USER_LIMIT - 1)
    now[0] = 1000.0 + 15 * 60
    assert t.wait_s("ewa", "10.0.0.1") == 0
    t.failed("ewa", None)
    t.succeeded("EWA")
    assert t.wait_s("ewa", None) == 0
    for i in range(ADDRESS_LIMIT):
        t.failed(f"user{i}", "10.0.0.2")
    assert t.wait_s("someone-else", "10.0.0.2") > 0
    assert t.wait_s("someone-else", "10.0.0.3") == 0
