"""SQLite engines for concurrent writers: WAL, the configured busy timeout, ``synchronous=NORMAL``,
and write units (``for_writing``) that hold the write lock from BEGIN while reads do not."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from dispatch.storage.db import for_writing, is_lock_error, make_engine, session_scope
from dispatch.settings import Settings


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'engine.db').as_posix()}"


def _settings(url: str, busy_ms: int = 1234) -> Settings:
    return Settings(database_url=url, sqlite_busy_timeout_ms=busy_ms)


def test_a_sqlite_file_database_runs_in_wal_with_the_configured_busy_timeout(sqlite_file: str) -> None:
    """Every connection of the engine: journal_mode WAL, busy_timeout from the settings, synchronous NORMAL (1)."""
    engine = make_engine(sqlite_file, settings=_settings(sqlite_file))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def _other_writer_can_start(path: str) -> bool:
    """Whether another connection gets the write lock right now (no waiting)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_write_unit_holds_the_write_lock_from_its_first_statement_and_a_read_does_not(sqlite_file: str) -> None:
    """After one SELECT, a ``for_writing`` session (and ``session_scope``) already holds the write lock,
    so its later writes cannot fail on a lock upgrade; a plain session's read leaves writers free."""
    engine = make_engine(sqlite_file, settings=_settings(sqlite_file))
    path = sqlite_file.removeprefix("sqlite:///")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        with Session(engine) as reader:
            reader.execute(text("SELECT count(*) FROM t")).scalar()
            assert _other_writer_can_start(path)
        with Session(for_writing(engine)) as writer:
            writer.execute(text("SELECT count(*) FROM t")).scalar()
            assert not _other_writer_can_start(path)
        assert _other_writer_can_start(path)
        with session_scope(engine) as unit:
            unit.execute(text("SELECT count(*) FROM t")).scalar()
            assert not _other_writer_can_start(path)
    finally:
        engine.dispose()


def test_only_lock_errors_count_as_lock_errors(sqlite_file: str) -> None:
    """A write that waited past the busy timeout is a lock error (the API's 503); a broken constraint is not."""
    engine = make_engine(sqlite_file, settings=_settings(sqlite_file, busy_ms=50))
    path = sqlite_file.removeprefix("sqlite:///")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DBAPIError) as busy, session_scope(engine) as s:
                s.execute(text("SELECT 1"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert is_lock_error(busy.value)
        with pytest.raises(DBAPIError) as duplicate, session_scope(engine) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
        assert not is_lock_error(duplicate.value)
        assert not is_lock_error(RuntimeError("database is locked"))
    finally:
        engine.dispose()
