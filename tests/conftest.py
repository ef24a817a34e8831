"""Shared test fixtures: fresh databases on SQLite and, when a server answers, PostgreSQL.

Storage tests take ``database_url`` (a fresh database migrated to head) or
``empty_database_url`` (a fresh database with nothing in it); both run once per backend, with
ids ``sqlite`` and ``postgresql``.

* SQLite: a new file in the test's temporary directory.
* PostgreSQL: one database ``carepath_test_<hex>`` per test run on
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` (override with
  ``CAREPATH_TEST_POSTGRES_URL``), dropped at the end; inside it each test gets its own schema,
  selected through ``search_path`` in the URL, so tests are isolated and fast.  If the server
  does not answer, the PostgreSQL variants are skipped and the terminal summary says so.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

log = logging.getLogger(__name__)

PG_ADMIN_URL = os.environ.get("CAREPATH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_PG_HOST = PG_ADMIN_URL.split("@")[-1].split("/")[0]
PG_SKIP_REASON = f"PostgreSQL not reachable on {_PG_HOST}: storage tests ran on SQLite only"
BACKENDS = ("sqlite", "postgresql")

_backend_use: collections.Counter[str] = collections.Counter()
_pg_unreachable: list[str] = []


@dataclass(frozen=True)
class PgServer:
    """The per-run test database on a reachable PostgreSQL server."""

    admin_conninfo: str
    database: str
    url: str  # SQLAlchemy URL of the test database


def _libpq(url: str) -> str:
    """``postgresql+psycopg://`` -> ``postgresql://`` for psycopg.connect()."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, database: str) -> str:
    base, _, _query = url.partition("?")
    head, _, _old = base.rpartition("/")
    return f"{head}/{database}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    """Create a throw-away database for this run if PostgreSQL answers, else yield None."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        _pg_unreachable.append(f"psycopg missing: {exc}")
        yield None
        return
    admin = _libpq(PG_ADMIN_URL)
    try:
        conn = psycopg.connect(admin, connect_timeout=2, autocommit=True)
    except psycopg.Error as exc:
        _pg_unreachable.append(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        yield None
        return
    database = f"carepath_test_{secrets.token_hex(4)}"
    with conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    log.info("created PostgreSQL test database %s", database)
    try:
        yield PgServer(admin_conninfo=admin, database=database, url=_with_database(PG_ADMIN_URL, database))
    finally:
        with psycopg.connect(admin, connect_timeout=5, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        log.info("dropped PostgreSQL test database %s", database)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of a database test: ``sqlite`` or ``postgresql`` (skipped if unreachable)."""
    if request.param == "postgresql" and request.getfixturevalue("pg_server") is None:
        pytest.skip(PG_SKIP_REASON)
    _backend_use[request.param] += 1
    return str(request.param)


def _pg_schema_url(server: PgServer, schema: str) -> str:
    return f"{server.url}?options={quote(f'-csearch_path={schema}')}"


@contextmanager
def _pg_schema(server: PgServer) -> Iterator[str]:
    """A new schema in the run's test database, dropped afterwards; yields its URL."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(server.url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_schema_url(server, schema)
    finally:
        with psycopg.connect(_libpq(server.url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database (no tables, no Alembic version) that the test may do anything with."""
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'carepath-empty.db').as_posix()}"
        return
    server: PgServer | None = request.getfixturevalue("pg_server")
    assert server is not None  # the backend fixture skipped otherwise
    with _pg_schema(server) as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test gets a copy."""
    from dispatch.storage.migrate import upgrade

    template = tmp_path_factory.mktemp("template") / "carepath-head.db"
    upgrade(f"sqlite:///{template.as_posix()}")
    return template


@pytest.fixture(scope="session")
def _migrated_pg_schema(pg_server: PgServer | None) -> Iterator[str | None]:
    """One schema per run migrated to head; tests share it and get it truncated."""
    if pg_server is None:
        yield None
        return
    from dispatch.storage.migrate import upgrade

    with _pg_schema(pg_server) as url:
        upgrade(url)
        yield url


def _truncate_all(url: str) -> None:
    """Empty every table but alembic_version and restart the sequences: a clean slate in milliseconds.

    DELETE, not TRUNCATE: on tables this small TRUNCATE costs about 90 ms (it makes new files for
    40-odd tables), DELETE about 20 ms, paid by every PostgreSQL test.  ``session_replication_role
    = replica`` (the test server's user is a superuser) skips the foreign keys, so the order does not
    matter, and the audit log's append-only trigger, which refuses deletes by design.
    """
    import psycopg
    from sqlmodel import SQLModel

    import dispatch.storage.models  # noqa: F401

    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(_libpq(url.split("?", 1)[0]), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute(f'SET search_path TO "{schema}"')
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            for table in SQLModel.metadata.sorted_tables:
                conn.execute(f'DELETE FROM "{table.name}"')
            sequences = conn.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = %s", (schema,))
            for (sequence,) in sequences.fetchall():
                conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A clean database migrated to head with Alembic (data from other tests never shows).

    SQLite: a copy of a once-migrated file.  PostgreSQL: a schema migrated once per run and
    truncated before each test, so do not change the schema here (use ``empty_database_url``).
    """
    if backend == "sqlite":
        target = tmp_path / "carepath-test.db"
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite_template"), target)
        return f"sqlite:///{target.as_posix()}"
    url = request.getfixturevalue("_migrated_pg_schema")
    assert url is not None
    _truncate_all(url)
    return str(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[object]:
    """An engine on the migrated test database, disposed after the test."""
    from dispatch.storage.db import make_engine

    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No CAREPATH_* variables, no .env from the developer's checkout, settings cache cleared.

    Runs the test in an empty temporary directory (returned) so a ``.env`` can be written there.
    """
    from dispatch.storage.db import reset_engine
    from dispatch.settings import get_settings

    for name in list(os.environ):
        if name.startswith("CAREPATH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    reset_engine()
    yield tmp_path
    get_settings.cache_clear()
    reset_engine()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist a worker hands its backend counts to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["carepath_backend_use"] = dict(_backend_use)
        workeroutput["carepath_pg_unreachable"] = list(_pg_unreachable)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist controller: add up what each worker counted (see :func:`pytest_sessionfinish`)."""
    output = getattr(node, "workeroutput", None) or {}
    _backend_use.update(output.get("carepath_backend_use", {}))
    for reason in output.get("carepath_pg_unreachable", []):
        if reason not in _pg_unreachable:
            _pg_unreachable.append(reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which storage backends the database tests ran on."""
    if not _backend_use and not _pg_unreachable:
        return
    ran = ", ".join(f"{b} ({_backend_use[b]} tests)" for b in BACKENDS if _backend_use[b]) or "none"
    terminalreporter.write_sep("-", "storage backends")
    terminalreporter.write_line(f"storage tests ran on: {ran}")
    if _pg_unreachable:
        terminalreporter.write_line(f"{PG_SKIP_REASON} ({_pg_unreachable[0]})")


# --------------------------------------------------------------------------- a local Nominatim


class FakeClock:
    """A clock for rate limits: ``sleep`` advances it at once (no test waits) and is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@dataclass
class NominatimStub:
    """A tiny HTTP server on loopback answering like Nominatim's ``/search`` (format=json).

    ``places`` maps ``"<street>|<city>"`` (as the structured query sends them, lower-case) to
    ``(lat, lon, display_name)``; anything else is not found (``[]``).  ``status`` other than 200
    makes every answer that HTTP error.  Each request is recorded with its query, its User-Agent
    and the ``clock`` reading when it arrived.
    """

    url: str
    clock: FakeClock
    places: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    status: int = 200
    requests: list[dict[str, object]] = field(default_factory=list)

    def add(self, street: str, city: str, lat: float, lon: float, label: str = "") -> None:
        self.places[f"{street}|{city}".lower()] = (lat, lon, label or f"{street}, {city}, Polska")


@pytest.fixture
def nominatim_stub() -> Iterator[NominatimStub]:
    """A local Nominatim ``/search`` on a free loopback port (no test reaches the internet)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    stub = NominatimStub(url="", clock=FakeClock())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            stub.requests.append({"path": parts.path, "query": query, "user_agent": self.headers.get("User-Agent"),
                                  "at": stub.clock.now()})
            if stub.status != 200:
                self._answer(stub.status, {"error": "stub failure"})
                return
            if parts.path != "/search":
                self._answer(404, {"error": "unknown path"})
                return
            hit = stub.places.get(f"{query.get('street', '')}|{query.get('city', '')}".lower())
            body = [] if hit is None else [{"place_id": 1, "lat": str(hit[0]), "lon": str(hit[1]),
                                            "display_name": hit[2], "class": "building", "type": "yes"}]
            self._answer(200, body)

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="nominatim-stub", daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


API_NOW = dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)
"""The API's clock in tests (``api.clock``): 2026-01-01 00:00 in Warsaw.  The tests' days are fixed
dates (the fixture week of 2026-12-01, DST days of 2026), most of them over by the real clock, and
a day whose end has passed is closed to all but an admin (``dispatch.planning.day_lock``); tests of that
rule set the clock themselves."""


@pytest.fixture(autouse=True)
def _api_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import api.clock

    monkeypatch.setattr(api.clock, "clock", lambda: API_NOW)
@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at minimal cost in every test, so creating users and logging in take milliseconds
    (the real cost is ~0.5 s a hash); the one place tests set it."""
    import dispatch.access.passwords

    monkeypatch.setattr(dispatch.access.passwords, "_hasher", cheap_hasher())


def cheap_hasher() -> object:
    """Argon2 at its minimal cost (tests only)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
