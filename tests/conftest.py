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
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    from dispatch.migrate import upgrade

    template = tmp_path_factory.mktemp("template") / "carepath-head.db"
    upgrade(f"sqlite:///{template.as_posix()}")
    return template


@pytest.fixture(scope="session")
def _migrated_pg_schema(pg_server: PgServer | None) -> Iterator[str | None]:
    """One schema per run migrated to head; tests share it and get it truncated."""
    if pg_server is None:
        yield None
        return
    from dispatch.migrate import upgrade

    with _pg_schema(pg_server) as url:
        upgrade(url)
        yield url


def _truncate_all(url: str) -> None:
    """Empty every table but alembic_version and restart identities: a clean slate in milliseconds."""
    import psycopg
    from sqlmodel import SQLModel

    import dispatch.models  # noqa: F401

    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(_libpq(url.split("?", 1)[0]), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


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
    from dispatch.db import make_engine

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
    from dispatch.db import reset_engine
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which storage backends the database tests ran on."""
    if not _backend_use and not _pg_unreachable:
        return
    ran = ", ".join(f"{b} ({_backend_use[b]} tests)" for b in BACKENDS if _backend_use[b]) or "none"
    terminalreporter.write_sep("-", "storage backends")
    terminalreporter.write_line(f"storage tests ran on: {ran}")
    if _pg_unreachable:
        terminalreporter.write_line(f"{PG_SKIP_REASON} ({_pg_unreachable[0]})")
