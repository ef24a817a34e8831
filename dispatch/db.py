"""Engines, sessions and the two column types every table relies on.

* ``make_engine(url)`` knows the quirks of our two backends: SQLite (development, tests, a
  single-office install) needs ``check_same_thread=False`` for FastAPI's thread pool, foreign keys
  switched on per connection, and proper ``BEGIN``/``SAVEPOINT`` handling, which the sqlite3
  module gets wrong by default; PostgreSQL goes through psycopg 3.
* ``UTCDateTime`` stores aware UTC instants.  SQLite keeps no offset, PostgreSQL hands values
  back in the session's time zone; both come back as aware UTC, so no caller ever compares a
  naive datetime with an aware one.
* ``ValueEnum`` stores a ``str`` enum by *value* in a VARCHAR (no PostgreSQL ENUM type to migrate)
  and gives the enum member back on read, so rows compare equal to the fixture dataclasses.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, String, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from dispatch.settings import get_settings

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


def _sqlite_pragmas_and_transactions(engine: Engine) -> None:
    """Foreign keys on, and let SQLAlchemy (not sqlite3) emit BEGIN so SAVEPOINTs and DDL roll back.

    The recipe is the one in SQLAlchemy's SQLite dialect docs ("Serializable isolation /
    Savepoints / Transactional DDL").
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # stop sqlite3 from issuing its own BEGIN/COMMIT
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def make_engine(database_url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for ``database_url`` (default: the settings' URL), ready for either backend."""
    url_text = normalise_database_url(database_url or get_settings().database_url)
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _sqlite_pragmas_and_transactions(engine)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
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
    """One unit of work: commit if the block succeeds, roll back if it raises, always close."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
