"""Failed logins over HTTP: a back-off nobody can use to lock others out, shared by every API
process through the database, visible to and clearable by admins (issue 21, item 6).

Clients at different addresses are TestClients with their own ``client`` address.  The login
endpoint's clock is held still (``clock``) and moved on by the test, so waits are exact and no
test sleeps or depends on how fast the machine is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from dispatch.access import login_throttle as lt
from dispatch.storage import models as m
from dispatch.storage.db import make_engine

from tests.api.conftest import PASSWORDS

PROBLEM = "application/problem+json"
OFFICE = "198.51.100.10"
ATTACKER = "203.0.113.66"
PAIR_FREE = lt.POLICIES[m.ThrottleKind.PAIR].free
ADDRESS_FREE = lt.POLICIES[m.ThrottleKind.ADDRESS].free


def _client(api, address: str, app=None) -> TestClient:
    """A client of the test app (or ``app``) calling from ``address``."""
    return TestClient(app or api.client.app, client=(address, 50000))


def _token(client: TestClient, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _bearer(client: TestClient, username: str) -> dict[str, str]:
    response = _token(client, username, PASSWORDS[username])
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _assert_429(response) -> int:
    """A 429 problem with a Retry-After of seconds; returns the wait."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 429 and body["type"].endswith("/too-many-logins")
    wait = int(response.headers["Retry-After"])
    assert f"{wait} s" in body["detail"]
    return wait


@dataclass
class Clock:
    now: dt.datetime

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The time the login endpoints see: now, standing still until the test moves it on."""
    import api.routers.auth

    held = Clock(dt.datetime.now(dt.UTC))
    monkeypatch.setattr(api.routers.auth, "_now", lambda: held.now)
    return held


# --------------------------------------------------------------------------- nobody locks others out


def test_wrong_passwords_slow_the_account_down_for_seconds_instead_of_locking_it(api, clock: Clock) -> None:
    """Reproducer: five wrong passwords used to lock 'dispatcher' for 15 minutes.  Now, after
    the free five, the guesser's next try waits 1 s (429 problem+json, Retry-After); the real
    dispatcher at the office is not held up at all; and after the second, even the right
    password from the guesser's address gets in."""
    attacker, office = _client(api, ATTACKER), _client(api, OFFICE)
    for _ in range(PAIR_FREE + 1):
        assert _token(attacker, "dispatcher", "wrong-password-123").status_code == 401
    assert _assert_429(_token(attacker, "dispatcher", PASSWORDS["dispatcher"])) == 1
    assert _token(office, "dispatcher", PASSWORDS["dispatcher"]).status_code == 200
    clock.advance(1)
    assert _token(attacker, "dispatcher", PASSWORDS["dispatcher"]).status_code == 200


def test_an_attacker_guessing_for_long_cannot_keep_the_owner_out(api, clock: Clock) -> None:
    """Two hundred wrong passwords for 'dispatcher' from elsewhere, as fast as allowed: the
    guesser waits up to a minute between guesses, and the dispatcher, who logs in from the
    office, gets in at once."""
    attacker, office = _client(api, ATTACKER), _client(api, OFFICE)
    assert _token(office, "dispatcher", PASSWORDS["dispatcher"]).status_code == 200  # a known address
    waits = []
    for _ in range(200):
        response = _token(attacker, "dispatcher", "wrong-password-123")
        if response.status_code == 429:
            waits.append(_assert_429(response))
            clock.advance(waits[-1])
        else:
            assert response.status_code == 401
    assert max(waits) == 60
    assert _token(office, "dispatcher", PASSWORDS["dispatcher"]).status_code == 200


def test_fifty_failures_behind_one_address_lock_nobody_out(api) -> None:
    """Reproducer: 50 failed logins from one address used to lock out every user behind it (an
    office NAT).  Now 60 failures there, for many names, leave everyone behind it able to log in."""
    office = _client(api, OFFICE)
    for i in range(60):
        assert _token(office, f"someone{i % 20}", "wrong-password-123").status_code == 401
    for user in ("admin", "coordinator", "dispatcher", "worker", "worker2"):
        assert _token(office, user, PASSWORDS[user]).status_code == 200, user


# --------------------------------------------------------------------------- shared, clearable


def test_a_failure_counted_by_one_api_process_is_seen_by_another(api, database_url: str) -> None:
    """Reproducer: the throttle lived in the process (a second process did not see it, a restart
    cleared it).  Two app instances on one database, each with its own engine: failures counted
    by the first make the second answer 429, and the second's admin sees them."""
    engine = make_engine(database_url)
    try:
        second = create_app(api.settings, engine)
        first_attacker, second_attacker = _client(api, ATTACKER), _client(api, ATTACKER, second)
        for _ in range(PAIR_FREE + 1):
            assert _token(first_attacker, "dispatcher", "wrong-password-123").status_code == 401
        _assert_429(_token(second_attacker, "dispatcher", PASSWORDS["dispatcher"]))
        admin = _bearer(_client(api, OFFICE, second), "admin")
        listed = second_attacker.get("/api/v1/auth/throttles", headers=admin)
        assert listed.status_code == 200, listed.text
        pair = next(t for t in listed.json() if t["key"] == f"pair:dispatcher@{ATTACKER}")
        assert pair["failures"] == PAIR_FREE + 1 and pair["retry_after_s"] == 1 and pair["kind"] == "pair"
        assert second_attacker.delete(f"/api/v1/auth/throttles/pair:dispatcher@{ATTACKER}",
                                      headers=admin).status_code == 204
        assert _token(first_attacker, "dispatcher", PASSWORDS["dispatcher"]).status_code == 200
    finally:
        engine.dispose()


def test_admin_lists_and_clears_a_throttled_address_and_it_is_audited(api) -> None:
    """A guesser spraying 101 accounts from the office address exhausts its generous allowance:
    everyone there waits.  An admin elsewhere sees the address in GET /auth/throttles, clears it
    with DELETE /auth/throttles/{key} (204, audited), and the office logs in again."""
    office = _client(api, OFFICE)
    for i in range(ADDRESS_FREE + 1):
        assert _token(office, f"someone{i}", "wrong-password-123").status_code == 401
    _assert_429(_token(office, "coordinator", PASSWORDS["coordinator"]))
    admin_client = _client(api, "192.0.2.5")
    admin = _bearer(admin_client, "admin")
    listed = admin_client.get("/api/v1/auth/throttles", headers=admin)
    assert listed.status_code == 200, listed.text
    first = listed.json()[0]  # the longest wait first
    assert first["key"] == f"address:{OFFICE}" and first["kind"] == "address" and first["address"] == OFFICE
    assert first["failures"] == ADDRESS_FREE + 1 and first["retry_after_s"] >= 1
    assert dt.datetime.fromisoformat(first["last_failure_at"]).utcoffset() is not None
    assert admin_client.delete(f"/api/v1/auth/throttles/address:{OFFICE}", headers=admin).status_code == 204
    assert _token(office, "coordinator", PASSWORDS["coordinator"]).status_code == 200
    with Session(api.engine) as session:
        rows = session.exec(select(m.AuditLog).where(col(m.AuditLog.action) == "login_throttle.clear")).all()
    assert [(r.actor, r.entity, r.entity_id) for r in rows] == [("admin", "login_throttle", f"address:{OFFICE}")]
    assert rows[0].changes["failures"] == {"old": ADDRESS_FREE + 1, "new": 0}


def test_clearing_an_ipv6_block_takes_its_key_with_the_slash(api) -> None:
    """IPv6 callers are counted per /64, so the key holds a '/'; DELETE takes it as it is listed."""
    block = _client(api, "2001:db8:1:2::7")
    for _ in range(PAIR_FREE + 1):
        _token(block, "ewa", "wrong-password-123")
    _assert_429(_token(_client(api, "2001:db8:1:2::8"), "ewa", "wrong-password-123"))
    admin = api.auth("admin")
    keys = {t["key"] for t in api.client.get("/api/v1/auth/throttles", headers=admin).json()}
    assert "pair:ewa@2001:db8:1:2::/64" in keys
    assert api.client.delete("/api/v1/auth/throttles/pair:ewa@2001:db8:1:2::/64", headers=admin).status_code == 204
    assert _token(block, "ewa", "wrong-password-123").status_code == 401


def test_clearing_a_key_with_nothing_counted_is_a_404_problem(api) -> None:
    """DELETE of a key nothing is counted under answers 404 problem+json naming the key."""
    response = api.client.delete("/api/v1/auth/throttles/address:192.0.2.99", headers=api.auth("admin"))
    assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
    assert "address:192.0.2.99" in response.json()["detail"]


def test_only_admins_see_and_clear_throttles(api) -> None:
    """Throttle endpoints answer 401 without a token and 403 to every role but admin."""
    for method, path in (("GET", "/api/v1/auth/throttles"), ("DELETE", f"/api/v1/auth/throttles/address:{OFFICE}")):
        assert api.client.request(method, path).status_code == 401
        for user in ("coordinator", "dispatcher", "worker"):
            response = api.client.request(method, path, headers=api.auth(user))
            assert response.status_code == 403 and response.headers["content-type"].startswith(PROBLEM)
