"""Concurrent writes against a real uvicorn server (issue 21, item 3), on SQLite and PostgreSQL.

Simultaneous creates all succeed with distinct ids (no ``max + 1`` clash, no "database is
locked"); simultaneous requests with one ``Idempotency-Key`` create one record and answer
replay or 409; a write that cannot get its lock in time is a 503 problem with ``Retry-After``;
logins and reads do not wait for a writer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from api.app import create_app
from dispatch.catalog import requests as requests_service
from dispatch.storage.db import make_engine
from dispatch.storage.models import AuditLog, IdempotencyKey, Senior, VisitRequest
from dispatch.clock import fixed_clock
from tests.api.conftest import PASSWORDS, TEST_NOW

N = 20
CARE = {"senior_id": "S2", "service": "home_care", "first_date": "2026-12-02", "window_start": "14:00",
        "window_end": "15:30"}
SENIOR = {"first_name": "Ala", "last_name": "Kot", "gender": "F", "birth_year": 1940, "street": "Leśna",
          "number": "1", "postcode": "25-003", "city": "Kielce", "area": "area-centrum", "lat": 50.87,
          "lon": 20.63, "disability": "lekki"}


def simultaneously(n: int, call: Callable[[httpx.Client, int], httpx.Response], live: Any) -> list[httpx.Response]:
    """``call(client, i)`` for i in 0..n-1 from n threads, released together by a barrier."""
    barrier = threading.Barrier(n)

    def run(i: int) -> httpx.Response:
        with live.client() as client:
            barrier.wait(timeout=30)
            return call(client, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def count(engine: Any, model: Any, *where: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


def _statuses(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(r.status_code, r.text[:200]) for r in responses if r.status_code != 201]


def test_twenty_simultaneous_request_creates_all_succeed_with_distinct_ids(live_api) -> None:
    """20 concurrent POST /requests: all 201, 20 distinct generated ids, all 20 stored and audited."""
    h = live_api.auth("coordinator")
    responses = simultaneously(
        N, lambda c, i: c.post("/api/v1/requests", json=CARE | {"tasks": f"concurrent {i}"}, headers=h), live_api
    )
    assert _statuses(responses) == []
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == N and all(i.startswith("r-") for i in ids)
    assert {r.headers["location"].rsplit("/", 1)[1] for r in responses} == ids
    assert count(live_api.engine, VisitRequest, col(VisitRequest.tasks).like("concurrent %")) == N
    assert count(live_api.engine, AuditLog, AuditLog.action == "visit_request.create", col(AuditLog.entity_id).in_(ids)) == N


def test_twenty_simultaneous_senior_creates_all_succeed_with_distinct_ids(live_api) -> None:
    """20 concurrent POST /seniors: all 201, 20 distinct consecutive s- ids, all 20 stored."""
    h = live_api.auth("coordinator")
    responses = simultaneously(
        N, lambda c, i: c.post("/api/v1/seniors", json=SENIOR | {"first_name": f"Ala{i}"}, headers=h), live_api
    )
    assert _statuses(responses) == []
    ids = sorted(r.json()["id"] for r in responses)
    assert ids == [f"s-{n:05d}" for n in range(1, N + 1)]  # the fixture's seniors are S1-S3: no s- ids yet
    assert count(live_api.engine, Senior, col(Senior.id).in_(ids)) == N


def test_simultaneous_requests_with_one_idempotency_key_create_once(live_api) -> None:
    """10 concurrent POSTs with one key and body: one executes (201), every other one replays it (201,
    ``Idempotent-Replayed``) or answers 409 ``idempotency-key-in-use``; never 500; one request stored."""
    h = live_api.auth("coordinator") | {"Idempotency-Key": "same-key-at-once"}
    body = CARE | {"tasks": "one key"}
    responses = simultaneously(10, lambda c, i: c.post("/api/v1/requests", json=body, headers=h), live_api)
    executed = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    replayed = [r for r in responses if r.status_code == 201 and r.headers.get("idempotent-replayed") == "true"]
    in_use = [r for r in responses if r.status_code == 409]
    assert len(executed) == 1, [(r.status_code, r.text[:200]) for r in responses]
    assert len(executed) + len(replayed) + len(in_use) == 10, [(r.status_code, r.text[:200]) for r in responses]
    assert all(r.json() == executed[0].json() for r in replayed)
    for r in in_use:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/idempotency-key-in-use")
    assert count(live_api.engine, VisitRequest, VisitRequest.tasks == "one key") == 1
    with live_api.client() as client:
        retry = client.post("/api/v1/requests", json=body, headers=h)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == executed[0].json()


def _wait_until_someone_waits_for_a_lock(database_url: str) -> None:
    """PostgreSQL: until a backend of the test database waits on a lock.  SQLite keeps no such
    record (a writer waits in its busy handler), so there: a moment for the request to get there."""
    if not database_url.startswith("postgresql"):
        time.sleep(0.5)
        return
    url = make_url(database_url)
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    deadline = time.monotonic() + 20
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'").fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no request came to wait for a lock within 20 s")


def test_a_retry_while_the_first_request_is_still_running_replays_it(live_api, monkeypatch) -> None:
    """A retry sent while the first request with its key is still inside its transaction waits for it and
    replays its answer (SQLite: at BEGIN IMMEDIATE; PostgreSQL: on the key's unique index), or answers 409
    ``idempotency-key-in-use``; never 500, and one request is stored."""
    entered, release = threading.Event(), threading.Event()
    original = requests_service.create_request

    def held_first_time(*args: Any, **kwargs: Any) -> Any:
        if not entered.is_set():
            entered.set()
            assert release.wait(30), "the test never released the first request"
        return original(*args, **kwargs)

    monkeypatch.setattr(requests_service, "create_request", held_first_time)
    h = live_api.auth("coordinator") | {"Idempotency-Key": "retry-while-running"}
    body = CARE | {"tasks": "retried while running"}

    def post() -> httpx.Response:
        with live_api.client() as client:
            return client.post("/api/v1/requests", json=body, headers=h)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post)
        assert entered.wait(30), "the first request never reached create_request"
        retry = pool.submit(post)
        try:
            _wait_until_someone_waits_for_a_lock(live_api.settings.database_url)
        finally:
            release.set()
        first_response, retry_response = first.result(60), retry.result(60)
    assert first_response.status_code == 201, first_response.text
    assert "idempotent-replayed" not in first_response.headers
    if retry_response.status_code == 409:
        assert retry_response.json()["type"].endswith("/idempotency-key-in-use")
    else:
        assert retry_response.status_code == 201, retry_response.text
        assert retry_response.headers["idempotent-replayed"] == "true"
        assert retry_response.json() == first_response.json()
    assert count(live_api.engine, VisitRequest, VisitRequest.tasks == "retried while running") == 1
    assert count(live_api.engine, IdempotencyKey, IdempotencyKey.key == "retry-while-running") == 1


# --------------------------------------------------------------------------- lock held by someone else


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection holds what a create needs: SQLite's write lock (``BEGIN IMMEDIATE``), or on
    PostgreSQL an exclusive lock on ``id_counters`` (reads of other tables go on)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        conn.execute("LOCK TABLE id_counters IN EXCLUSIVE MODE")
        yield
        conn.rollback()


def _impatient_url(database_url: str) -> str:
    """PostgreSQL: the URL with ``lock_timeout`` 300 ms, so a blocked write fails fast (SQLite: as is)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return database_url
    options = f"{url.query.get('options', '')} -clock_timeout=300".strip()
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture
def impatient_client(api) -> Iterator[TestClient]:
    """The ``api`` app on an engine that gives up on a lock after 300 ms (SQLite busy timeout,
    PostgreSQL lock_timeout) instead of the defaults."""
    settings = api.settings.model_copy(update={"sqlite_busy_timeout_ms": 300})
    engine = make_engine(_impatient_url(api.settings.database_url), settings=settings)
    try:
        with TestClient(create_app(settings, engine, clock=fixed_clock(TEST_NOW))) as client:
            yield client
    finally:
        engine.dispose()


def test_a_write_that_cannot_get_its_lock_in_time_is_a_503_problem_and_changes_nothing(api, impatient_client) -> None:
    """While another connection holds the lock a create needs longer than the timeout, POST /seniors answers
    503 problem+json ``database-busy`` with Retry-After (not a plain-text 500), stores nothing, and the
    same request succeeds once the lock is free."""
    h = api.auth("coordinator")
    with write_lock_held(api.settings.database_url):
        busy = impatient_client.post("/api/v1/seniors", json=SENIOR, headers=h)
    assert busy.status_code == 503, busy.text
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["type"].endswith("/database-busy") and busy.json()["status"] == 503
    assert "locked" not in busy.text and "Traceback" not in busy.text
    assert count(api.engine, Senior, Senior.first_name == "Ala") == 0
    again = impatient_client.post("/api/v1/seniors", json=SENIOR, headers=h)
    assert again.status_code == 201, again.text


def test_reads_do_not_wait_for_a_writer(api, impatient_client) -> None:
    """With another connection holding the write lock, GETs still answer 200: only unsafe methods take
    the write lock.  A login counts the attempt (a short write, ``dispatch.access.login_throttle``), so it
    waits for the writer like any other write and succeeds once the lock is free."""
    h = api.auth("dispatcher")
    with write_lock_held(api.settings.database_url):
        listed = impatient_client.get("/api/v1/requests", headers=h)
        assert listed.status_code == 200, listed.text
        me = impatient_client.get("/api/v1/auth/me", headers=h)
        assert me.status_code == 200, me.text
    login = impatient_client.post("/api/v1/auth/token", data={"username": "dispatcher",
                                                              "password": PASSWORDS["dispatcher"]})
    assert login.status_code == 200, login.text