"""Engines, sessions and the two column types every table relies on.

* ``make_engine(url)`` knows the quirks of our two backends: SQLite (development, tests, a
  single-office install) needs ``check_same_thread=False`` for FastAPI's thread pool, foreign keys
  switched on per connection, and proper ``BEGIN``/``SAVEPOINT`` handling, which the sqlite3
  module gets wrong by default; PostgreSQL goes through psycopg 3.
* Concurrent writers on SQLite: a file database runs in WAL mode (readers never wait for the
  writer, nor the writer for readers), with a busy timeout (``CAREPATH_SQLITE_BUSY_TIMEOUT_MS``)
  and ``synchronous=NORMAL``.  A unit of work that writes runs on ``for_writing(engine)``: its
  transaction starts with ``BEGIN IMMEDIATE`` and so waits (up to the busy timeout) for the write
  lock *before* reading anything.  A deferred transaction that reads first and then writes would
  have to upgrade its lock, and SQLite refuses that upgrade at once ("database is locked") while
  another connection writes, without honouring the busy timeout.  Reads keep a deferred
  ``BEGIN`` and never wait.  ``is_lock_error`` tells the few errors that remain after waiting
  (timeout, deadlock) from real failures, so callers can answer "busy, retry" instead of crashing.
* ``UTCDateTime`` stores aware UTC instants.  SQLite keeps no offset, PostgreSQL hands values
  back in the session's time zone; both come back as aware UTC, so no caller ever compares a
  naive datetime with an aware one.
* ``ValueEnum`` stores a ``str`` enum by *value* in a VARCHAR (no PostgreSQL ENUM type to migrate)
  and gives the enum member back on read, so rows compare equal to the fixture dataclasses.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, String, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from dispatch.settings import Settings, get_settings

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- column types


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as UTC; naive values are refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware datetime (UTC)")
        utc = value.astimezone(dt.UTC)
        # SQLite would silently drop any offset, so hand it the UTC wall time explicitly.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class ValueEnum(TypeDecorator[Enum]):
    """A ``str`` enum stored by value in a VARCHAR; reads give the enum member back."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[Enum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        self.length = length

    def process_bind_param(self, value: Enum | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        # Validates plain strings too: a typo fails at write time, not when the planner reads it.
        return str(self.enum_class(value).value)

    def process_result_value(self, value: str | None, dialect: Any) -> Enum | None:
        return None if value is None else self.enum_class(value)

    def __repr__(self) -> str:
        return f"ValueEnum({self.enum_class.__name__}, length={self.length})"


# --------------------------------------------------------------------------- engines


def normalise_database_url(url: str) -> str:
    """Route PostgreSQL URLs through psycopg 3 (``postgresql://`` would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: Execution option marking a connection whose transactions write (see ``for_writing``).
WRITE_OPTION = "carepath_write"


def for_writing(engine: Engine) -> Engine:
    """``engine`` for a unit of work that writes: same pool, but on SQLite ``BEGIN IMMEDIATE``.

    The write lock is taken when the transaction begins, where SQLite waits for it up to the
    busy timeout, instead of at the first write after some reads, where it would fail at once
    under concurrency.  On PostgreSQL (row locks) the option changes nothing.
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def _sqlite_pragmas_and_transactions(engine: Engine, *, file_database: bool, busy_timeout_ms: int) -> None:
    """Foreign keys on, WAL, busy timeout, and let SQLAlchemy (not sqlite3) emit BEGIN.

    SQLAlchemy emitting BEGIN makes SAVEPOINTs and DDL roll back; the recipe is the one in
    SQLAlchemy's SQLite dialect docs ("Serializable isolation / Savepoints / Transactional DDL").
    ``synchronous=NORMAL`` is durable against crashes of the process in WAL mode (only a power
    loss may lose the last commits, never corrupt the file) and saves an fsync per commit.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # stop sqlite3 from issuing its own BEGIN/COMMIT
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if file_database:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


#: SQLSTATEs of PostgreSQL errors that mean "try again": lock_not_available,
#: serialization_failure, deadlock_detected.
_PG_RETRY_STATES = frozenset({"55P03", "40001", "40P01"})


def is_lock_error(exc: BaseException) -> bool:
    """True for a database error that means "busy, try again", not "wrong".

    SQLite: SQLITE_BUSY ("database is locked": the busy timeout ran out) or SQLITE_LOCKED;
    PostgreSQL: lock timeout, serialization failure, deadlock.
    """
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return (getattr(orig, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return getattr(orig, "sqlstate", None) in _PG_RETRY_STATES


#: SQLSTATE classes of PostgreSQL errors that mean "the server is not there (now)":
#: connection exceptions (08) and operator intervention (57: shutting down, starting up, crashed).
_PG_UNAVAILABLE_CLASSES = ("08", "57P")


def is_unavailable_error(exc: BaseException) -> bool:
    """True for a database error that means "the database cannot be reached now", not "wrong".

    A server restarting refuses connections and ends the open ones (``57P01 admin_shutdown``);
    one unreachable makes connecting time out (``db_connect_timeout_s``).  SQLAlchemy marks a
    lost connection ``connection_invalidated``; a refused or timed-out connect carries no
    SQLSTATE at all.  SQLite (a file) has no such state.
    """
    if not isinstance(exc, DBAPIError) or isinstance(exc.orig, sqlite3.Error):
        return False
    if exc.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    orig = exc.orig
    if not isinstance(orig, psycopg.OperationalError):
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_PG_UNAVAILABLE_CLASSES)


def serialize_on(session: Session, name: str) -> None:
    """Make transactions that call this with the same ``name`` take turns until they end.

    For a "highest stored + 1" that must not be computed twice at once (a day's roster version).
    PostgreSQL: a transaction-scoped advisory lock on the name.  SQLite: nothing to add, provided
    the transaction writes (``for_writing``, or a write as its first statement): one writer at a
    time holds the database's write lock anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})


def _is_file_database(database: str | None) -> bool:
    """A SQLite database on disk (not ``:memory:``, not a shared-memory ``file:`` URI)."""
    return bool(database) and database != ":memory:" and "mode=memory" not in (database or "")


def make_engine(database_url: str | None = None, *, echo: bool = False, settings: Settings | None = None) -> Engine:
    """An engine for ``database_url`` (default: the settings' URL), ready for either backend.

    The pool holds ``db_pool_size`` connections (plus ``db_max_overflow`` under load); the API
    admits at most that many requests to the database at once (``api.deps.db_slot``), so a
    request never waits for a connection while holding a worker thread.  SQLite: a writer waits
    ``sqlite_busy_timeout_ms`` for the write lock.  ``settings`` default to ``get_settings()``.
    """
    settings = settings or get_settings()
    url_text = normalise_database_url(database_url or settings.database_url)
    url = make_url(url_text)
    pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_queue_timeout_s}
    if url.get_backend_name() == "sqlite":
        memory = not url.database or url.database == ":memory:"
        if not memory and not url.database.startswith("file:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False},
                               **({} if memory else pool))
        _sqlite_pragmas_and_transactions(
            engine, file_database=_is_file_database(url.database), busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True,
                               connect_args={"connect_timeout": settings.db_connect_timeout_s}, **pool)
    log.debug("engine created for %s", url.render_as_string(hide_password=True))
    return engine


_default_engine: Engine | None = None


def get_engine() -> Engine:
    """The process-wide engine for the settings' database, created on first use."""
    global _default_engine
    if _default_engine is None:
        _default_engine = make_engine()
    return _default_engine


def reset_engine() -> None:
    """Dispose of the process-wide engine (tests, or after changing settings)."""
    global _default_engine
    if _default_engine is not None:
        _default_engine.dispose()
    _default_engine = None


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work that writes: commit if the block succeeds, roll back if it raises, always close.

    On SQLite it holds the write lock from its first statement (``for_writing``), so keep slow
    work (solving, parsing files) outside the block.
    """
    session = Session(for_writing(engine or get_engine()), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
