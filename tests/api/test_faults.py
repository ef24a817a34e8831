"""Faults (issue 20, item 3) not covered elsewhere: the database going away, racing publishes on a
real server, an import cut off half-way.

Covered elsewhere: a ``carepath worker`` killed (SIGKILL) mid-solve, a worker stopped, and an
API process killed while its SQLite child solves (``tests/dispatch/test_job_processes.py``); a
write that cannot get its lock in time (``tests/api/test_concurrent_writes.py``).

The database restart is played by a TCP relay between the app and PostgreSQL that the test
stops (every connection cut, new ones refused, as a restarting server does) and starts again;
the shared PostgreSQL server itself is never touched.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from api.app import create_app
from api.security import create_access_token
from dispatch.settings import Settings
from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from tests.api.conftest import DAY, _prepared_database

PROBLEM = "application/problem+json"


class TcpRelay:
    """Loopback TCP relay to ``upstream``: ``stop()`` cuts every connection and refuses new ones
    (a database restarting), ``start()`` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _pg_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite is a file: there is no server to lose")


def _app_through(url: str, settings: Settings, port: int, tmp_path) -> tuple[TestClient, object, dict[str, str]]:
    relayed = make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    app_settings = Settings(database_url=relayed, data_dir=tmp_path, secret_key=settings.secret_key,
                            db_connect_timeout_s=2)
    engine = make_engine(relayed, settings=app_settings)
    token = create_access_token(settings.secret_key.get_secret_value(), "dispatcher", "dispatcher", None,
                                dt.datetime.now(dt.UTC), 60)
    return TestClient(create_app(app_settings, engine)), engine, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def prepared(backend: str, database_url: str, tmp_path) -> Iterator[Settings]:
    _pg_only(backend)
    settings, engine = _prepared_database(database_url, tmp_path)
    engine.dispose()
    yield settings


def _timed_get(client: TestClient, headers: dict[str, str]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.get("/api/v1/seniors", headers=headers)
    return response, time.monotonic() - started


def test_a_database_restart_answers_503_at_once_and_service_resumes(prepared: Settings, database_url: str,
                                                                   tmp_path) -> None:
    """Connections cut and refused (PostgreSQL restarting): 503 problem+json with Retry-After in
    well under the connect timeout, not a hang and not a 500; once it is back, 200 again."""
    upstream = make_url(database_url)
    relay = TcpRelay((upstream.host or "127.0.0.1", upstream.port or 5432))
    relay.start()
    client, engine, headers = _app_through(database_url, prepared, relay.port, tmp_path)
    try:
        with client:
            assert _timed_get(client, headers)[0].status_code == 200  # a pooled connection now exists
            relay.stop()
            for _ in range(2):  # the pooled connection is dead, and a new one is refused
                response, took = _timed_get(client, headers)
                assert response.status_code == 503, response.text
                assert response.headers["content-type"].startswith(PROBLEM)
                assert response.json()["type"].endswith("/database-unavailable")
                assert response.headers["retry-after"] == "5"
                assert took < 2.0, f"{took:.1f} s to answer while the database restarts"
            relay.start()
            response, _ = _timed_get(client, headers)
            assert response.status_code == 200, response.text
            assert client.get("/api/v1/health").status_code == 200
    finally:
        relay.stop()
        engine.dispose()


def test_a_database_that_does_not_answer_is_503_after_the_connect_timeout(prepared: Settings, database_url: str,
                                                                         tmp_path) -> None:
    """A server that accepts the TCP connection and never speaks (a host gone away behind a proxy):
    503 after ``db_connect_timeout_s`` (2 s here), not a request hanging for minutes; and the API
    starts within the same bound (its planning-queue check once waited 130 s for the kernel)."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted: the kernel completes the handshake, nobody answers
    client, engine, headers = _app_through(database_url, prepared, silent.getsockname()[1], tmp_path)
    try:
        started = time.monotonic()
        with client:
            assert time.monotonic() - started < 10, f"startup took {time.monotonic() - started:.0f} s"
            response, took = _timed_get(client, headers)
        assert response.status_code == 503, response.text
        assert response.json()["type"].endswith("/database-unavailable")
        assert 1.5 < took < 10, f"answered after {took:.1f} s"
    finally:
        silent.close()
        engine.dispose()


def test_two_publishes_racing_on_a_live_server_exactly_one_wins(live_api) -> None:
    """Two dispatchers publish the same draft with the same ETag through a real server, at once, three
    times over: each time one 200, the other 412 ``precondition-failed`` (publishing changed the
    roster's ETag, whichever of the two got there first), one published version and one audit entry."""
    from tests.api.test_rosters import make_draft

    url = f"/api/v1/rosters/{DAY.isoformat()}"
    for round_ in range(3):
        make_draft(live_api)  # a new draft version each round (plans in-process, as a finished job would)
        with live_api.client() as c:
            etag = c.get(url, headers=live_api.auth("dispatcher")).headers["etag"]
        barrier = threading.Barrier(2)
        results: list[httpx.Response] = []

        def go(user: str) -> None:
            with live_api.client() as c:
                barrier.wait()
                results.append(c.post(f"{url}/publish", headers={**live_api.auth(user), "If-Match": etag}))

        threads = [threading.Thread(target=go, args=(u,)) for u in ("dispatcher", "admin")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 412], [r.text for r in results]
        loser = max(results, key=lambda r: r.status_code)
        assert loser.headers["content-type"].startswith(PROBLEM)
        with Session(live_api.engine) as s:
            published = s.exec(select(m.Roster).where(m.Roster.status == m.RosterStatus.PUBLISHED)).all()
            audits = s.exec(select(func.count()).select_from(m.AuditLog)
                            .where(m.AuditLog.action == "roster.publish")).one()
        assert [r.version for r in published] == [round_ + 1] and audits == round_ + 1


def test_an_import_cut_off_half_way_leaves_nothing_behind(api, monkeypatch) -> None:
    """The server fails after the import has written some rows and part of their audit: no request of the
    file, no audit entry, no import summary is left; the same file imported again then succeeds."""
    from dispatch.access import audit
    from tests.api.test_imports import GOOD_CARE, GOOD_SHORT, GOOD_TAXI, REQUEST_HEADER, count, csv, upload

    with Session(api.engine) as s:
        requests_before, audits_before = count(api, m.VisitRequest), count(api, m.AuditLog)
    real_record = audit.record
    calls = {"n": 0}

    def failing_record(*args, **kwargs):  # the process dies while writing the second row's audit
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut half-way through the import")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_record)
    content = csv(REQUEST_HEADER, GOOD_CARE, GOOD_SHORT, GOOD_TAXI)
    response = upload(api, "requests", content)
    assert response.status_code == 500 and response.headers["content-type"].startswith(PROBLEM)
    assert calls["n"] == 2  # it really was cut off half-way, after rows were written
    assert count(api, m.VisitRequest) == requests_before and count(api, m.AuditLog) == audits_before
    monkeypatch.setattr(audit, "record", real_record)
    again = upload(api, "requests", content)
    assert again.status_code == 201, again.text
    assert count(api, m.VisitRequest) == requests_before + 3
