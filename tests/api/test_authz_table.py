"""The authorisation table (``tests/api/authz_table.py``) against the app (issue 20, item 2).

Every route has a row; every row is sent as every caller; each answer's status is the table's.
API errors are problem+json.  And a worker never receives another worker's visits or a health
field beyond the visit's notes for workers, whatever the worker may read.

Runs on SQLite only: who may do what is decided in ``api.deps`` and the console's guards, the
same code on both backends, and the table's ~1,200 requests take a few seconds once.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import Session

from api.console.session import SESSION_COOKIE, session_csrf
from api.security import create_access_token, decode_access_token
from dispatch.access.passwords import hash_password
from dispatch.storage import models as m
from tests.api.authz_table import (
    BAD_TOKENS, CALLERS, OTHER_WORKER, ROWS, Row, expected,
)
from tests.api.conftest import DAY, ApiClient
from tests.api.test_schedule import plan_and_publish

PROBLEM = "application/problem+json"
#: Fields about a senior's health or disability that a worker must never be sent (issue 20).
HEALTH_FIELDS = ("health_notes", "disability", "mental_disorder", "cukrzyca")


@dataclass
class Ids:
    """The ids a caller's URL placeholders are filled with."""

    worker: str
    absence: int
    visit: str


def _sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the authorisation table runs once, on SQLite (same guards on both backends)")


def _alg_none(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class Tokens:
    """A fresh token per request (logging out in one cell must not end the next cell's token)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.secret = api.settings.secret_key.get_secret_value()

    def __call__(self, caller: str) -> str | None:
        now = dt.datetime.now(dt.UTC)
        if caller == "anonymous":
            return None
        if caller == "expired":
            return create_access_token(self.secret, "dispatcher", "dispatcher", None, now - dt.timedelta(hours=3), 60)
        if caller == "forged":
            return create_access_token("another-secret-" + "y" * 32, "admin", "admin", None, now, 60)
        if caller == "alg_none":
            claims = {"sub": "admin", "scope": "admin", "wid": None, "ver": 0, "jti": "x" * 22,
                      "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 3600}
            return _alg_none(claims)
        if caller == "disabled":
            return self._bearer(self.api.auth("disabled"))
        if caller == "deleted":
            return self._bearer(self.api.auth("deleted", role="admin"))
        user = "worker" if caller == OTHER_WORKER else caller
        return self._bearer(self.api.auth(user))

    @staticmethod
    def _bearer(headers: dict[str, str]) -> str:
        return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def table_api(backend: str, request: pytest.FixtureRequest) -> Iterator[tuple[ApiClient, dict[str, Ids]]]:
    """``api`` with a published roster for DAY, an absence per worker, and a disabled admin."""
    _sqlite_only(backend)
    api: ApiClient = request.getfixturevalue("api")
    plan_and_publish(api)
    with Session(api.engine) as s:
        s.add(m.User(username="disabled", password_hash=hash_password("disabled-pass-1"), role=m.UserRole.ADMIN,
                     active=False))
        s.commit()
    ids: dict[str, Ids] = {}
    for user, worker in (("worker", "W1"), ("worker2", "W2")):
        r = api.client.post(f"/api/v1/workers/{worker}/absences", headers=api.auth("admin"),
                            json={"from_date": "2026-12-20", "to_date": "2026-12-21"})
        assert r.status_code == 201, r.text
        schedule = api.client.get("/api/v1/me/schedule", headers=api.auth(user),
                                  params={"from": DAY.isoformat(), "to": DAY.isoformat()}).json()
        visits = schedule["visits"]
        assert visits, f"{worker} has no visit on {DAY}: the table needs one per worker"
        ids[user] = Ids(worker, r.json()["id"], visits[0]["uid"])
    yield api, ids


def _send(api: ApiClient, tokens: Tokens, ids: dict[str, Ids], row: Row, caller: str) -> object:
    own = ids["worker2" if caller == OTHER_WORKER else "worker"]
    url = row.url.replace("{worker}", own.worker).replace("{absence}", str(own.absence)).replace("{visit}", own.visit)
    token = tokens(caller)
    headers = dict(row.headers)
    api.client.cookies.clear()
    if row.console:
        if token:
            api.client.cookies.set(SESSION_COOKIE, token)
            if row.method != "GET":
                try:
                    headers["X-CSRF-Token"] = session_csrf(tokens.secret, decode_access_token(tokens.secret, token).jti)
                except Exception:  # noqa: BLE001 - a bad token has no session: no CSRF token to send
                    pass
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        return api.client.request(row.method, url, headers=headers, json=row.json, data=row.data, files=row.files,
                                  follow_redirects=False)
    finally:
        api.client.cookies.clear()


def test_every_route_has_a_row_and_every_row_a_route(backend: str, request: pytest.FixtureRequest) -> None:
    """A new route fails here until the table says who may use it (see authz_table's docstring)."""
    _sqlite_only(backend)
    api: ApiClient = request.getfixturevalue("api")
    routes = set()
    for ctx in iter_route_contexts(api.client.app.routes):
        methods = getattr(ctx.original_route, "methods", None) or {"GET"}  # a mount: GET its files
        routes |= {(method, ctx.path) for method in methods if method != "HEAD"}
    rows = {(row.method, row.path) for row in ROWS}
    assert not routes - rows, f"routes without a row in tests/api/authz_table.py: {sorted(routes - rows)}"
    assert not rows - routes, f"rows naming no route: {sorted(rows - routes)}"
    assert len(rows) == len(ROWS), "two rows for one route"


def test_every_route_answers_every_caller_as_the_table_says(table_api) -> None:
    """Every row x every caller: the status of the table; API errors are problem+json."""
    api, ids = table_api
    tokens = Tokens(api)
    wrong: list[str] = []
    for row in ROWS:
        for caller in CALLERS:
            if caller == OTHER_WORKER and not row.names_a_worker:
                continue
            response = _send(api, tokens, ids, row, caller)
            want = expected(row, caller)
            got = response.status_code  # type: ignore[attr-defined]
            if got != want:
                wrong.append(f"{row.method} {row.url} as {caller}: {got} (table: {want}) "
                             f"{response.text[:160]!r}")  # type: ignore[attr-defined]
            elif not row.console and got >= 400 and not response.headers["content-type"].startswith(PROBLEM):  # type: ignore[attr-defined]
                wrong.append(f"{row.method} {row.url} as {caller}: {got} is not problem+json")
            if caller in BAD_TOKENS and not row.public and not row.console and got == 401:
                assert response.headers.get("www-authenticate") == "Bearer", row  # type: ignore[attr-defined]
    assert not wrong, f"{len(wrong)} cells differ from the table:\n" + "\n".join(wrong)


def _walk(obj: object) -> Iterator[tuple[str, object]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield str(key), value
            yield from _walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _walk(value)


def test_a_worker_receives_only_their_own_visits_and_no_health_field(table_api) -> None:
    """Whatever a worker may read (schedule, own record, calendar feed, console page), there are
    only their own visits and nothing about health beyond the visit's notes for workers."""
    api, ids = table_api
    own, other = ids["worker"], ids["worker2"]
    h = api.auth("worker")
    schedule = api.client.get("/api/v1/me/schedule", headers=h,
                              params={"from": DAY.isoformat(), "to": (DAY + dt.timedelta(days=6)).isoformat()})
    assert schedule.status_code == 200
    visits = schedule.json()["visits"]
    assert own.visit in {v["uid"] for v in visits} and other.visit not in {v["uid"] for v in visits}
    assert all(v.get("worker_id", own.worker) == own.worker for v in visits)
    assert "domofon 12" in schedule.text  # the senior's notes for workers: the one note a worker needs
    record = api.client.get(f"/api/v1/workers/{own.worker}", headers=h)
    feed = api.client.get(api.client.post("/api/v1/me/calendar-token", headers=h).json()["path"])
    assert feed.status_code == 200
    api.client.cookies.set(SESSION_COOKIE, h["Authorization"].removeprefix("Bearer "))
    page = api.client.get("/console/me", params={"day": DAY.isoformat()})
    api.client.cookies.clear()
    assert page.status_code == 200
    for name, text in (("schedule", schedule.text), ("worker record", record.text), ("calendar feed", feed.text),
                       ("console page", page.text)):
        for word in HEALTH_FIELDS:
            assert word not in text, f"{word!r} in the worker's {name}"
        assert other.visit not in text, f"W2's visit in the worker's {name}"
    keys = {k for k, _ in _walk(schedule.json())} | {k for k, _ in _walk(record.json())}
    assert not keys & set(HEALTH_FIELDS)
    assert "BEGIN:VEVENT" in feed.text and own.visit in feed.text
