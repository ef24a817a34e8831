"""Column types: UTC datetimes survive both backends with their zone; enums come back as enums."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text
from sqlalchemy.engine import Engine

from dispatch.storage.db import UTCDateTime, ValueEnum, make_engine, normalise_database_url, session_scope
from dispatch.storage.models import AuditLog, Place
from dispatch.domain import PlaceKind


def test_utc_datetime_round_trip_keeps_utc(engine: Engine) -> None:
    """A Warsaw-time instant is stored and read back as the same instant, tz-aware in UTC."""
    written = dt.datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Warsaw"))  # first 02:30, CEST
    with session_scope(engine) as s:
        s.add(AuditLog(at=written, actor="test", action="probe", entity="none"))
    with session_scope(engine) as s:
        row = s.scalars(select(AuditLog)).one()
    assert row.at.tzinfo is not None and row.at.utcoffset() == dt.timedelta(0)
    # Compare in UTC: PEP 495 makes an ambiguous local time unequal to every other zone's instant.
    assert row.at == written.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def test_utc_datetime_stores_utc_wall_time(engine: Engine) -> None:
    """What lands in the column is the UTC wall time, whatever the backend or session zone."""
    with session_scope(engine) as s:
        at = dt.datetime(2026, 3, 29, 3, 15, tzinfo=ZoneInfo("Europe/Warsaw"))
        s.add(AuditLog(at=at, actor="t", action="a", entity="e"))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
            sql = "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM audit_log"
            raw = conn.execute(text(sql)).scalar_one()
        else:
            raw = conn.execute(text("SELECT substr(at, 1, 16) FROM audit_log")).scalar_one()
    assert raw == "2026-03-29 01:15"


def test_utc_datetime_refuses_naive_values(engine: Engine) -> None:
    """A naive datetime is ambiguous, so writing one fails instead of guessing a zone."""
    with pytest.raises(Exception, match="naive datetime"):
        with session_scope(engine) as s:
            s.add(AuditLog(at=dt.datetime(2026, 1, 1, 12, 0), actor="t", action="a", entity="e"))


def test_value_enum_stores_values_and_returns_members(engine: Engine) -> None:
    """Enums are stored by value (readable SQL) and read back as the fixture enum members."""
    with session_scope(engine) as s:
        s.add(Place(id="P1", kind=PlaceKind.DESTINATION, name="WSZ", lat=50.87, lon=20.60))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind FROM places")).scalar_one() == "destination"
    with session_scope(engine) as s:
        place = s.get(Place, "P1")
        assert place is not None and place.kind is PlaceKind.DESTINATION


def test_value_enum_rejects_unknown_values() -> None:
    """A value outside the enum fails at bind time with the enum's own error."""
    with pytest.raises(ValueError):
        ValueEnum(PlaceKind).process_bind_param("castle", None)


def test_sqlite_engine_enforces_foreign_keys(tmp_path) -> None:
    """SQLite connections come with foreign keys on (SQLite's default is off)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        eng.dispose()


def test_sqlite_engine_creates_the_data_directory(tmp_path) -> None:
    """The default SQLite file's directory is created on demand."""
    target = tmp_path / "nested" / "data" / "carepath.db"
    eng = make_engine(f"sqlite:///{target}")
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    finally:
        eng.dispose()
    assert target.exists()


def test_savepoints_roll_back_on_sqlite(tmp_path) -> None:
    """A nested transaction that fails undoes only its own rows (SQLite needs the BEGIN fix for this)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'sp.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    try:
        table.metadata.create_all(eng)
        with eng.begin() as conn:
            conn.execute(table.insert().values(id=1))
            nested = conn.begin_nested()
            conn.execute(table.insert().values(id=2))
            nested.rollback()
        with eng.connect() as conn:
            assert conn.execute(select(table.c.id)).scalars().all() == [1]
    finally:
        eng.dispose()


def test_postgres_urls_use_psycopg3() -> None:
    """Plain postgres:// URLs are routed to the psycopg 3 driver."""
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
