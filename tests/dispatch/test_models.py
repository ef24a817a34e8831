"""Table constraints that protect data whatever code writes it, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from dispatch.storage import models as m
from dispatch.storage.db import session_scope
from dispatch.domain import Contract, PlaceKind, TravelMode, WorkerKind

DAY = dt.date(2026, 12, 1)


def _area(s: object) -> None:
    s.add(m.Place(id="A1", kind=PlaceKind.AREA, name="Centrum", lat=50.87, lon=20.63))  # type: ignore[attr-defined]


def test_roster_version_unique_per_day_and_area_including_citywide(engine: Engine) -> None:
    """Version 1 of a day's roster exists once per area and once for the whole city (area NULL)."""
    with session_scope(engine) as s:
        _area(s)
        s.add_all([m.Roster(date=DAY, version=1), m.Roster(date=DAY, area="A1", version=1),
                   m.Roster(date=DAY, version=2)])
    for duplicate in (m.Roster(date=DAY, version=1), m.Roster(date=DAY, area="A1", version=1)):
        with pytest.raises(IntegrityError):
            with session_scope(engine) as s:
                s.add(duplicate)


def test_shift_weekday_and_order_are_checked(engine: Engine) -> None:
    """A shift on weekday 7 or ending before it starts is rejected by the database."""
    with session_scope(engine) as s:
        _area(s)
        s.add(m.Worker(id="W1", first_name="A", last_name="B", gender="F", kind=WorkerKind.CARER,
                       contract=Contract.CIVIL, weekly_hours=20, home_area="A1", home_lat=50.87, home_lon=20.63,
                       travel_mode=TravelMode.WALK))
    for bad in (m.WorkerShift(worker_id="W1", weekday=7, start=dt.time(8), end=dt.time(12)),
                m.WorkerShift(worker_id="W1", weekday=1, start=dt.time(12), end=dt.time(8))):
        with pytest.raises(IntegrityError):
            with session_scope(engine) as s:
                s.add(bad)


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    """A worker living in an unknown area is refused (SQLite included: foreign keys are switched on)."""
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            s.add(m.Place(id="X", kind=PlaceKind.AREA, name="x", lat=0, lon=0))
            s.add(m.Worker(id="W9", first_name="A", last_name="B", gender="F", kind=WorkerKind.CARER,
                           contract=Contract.CIVIL, weekly_hours=20, home_area="NOPE", home_lat=50.87,
                           home_lon=20.63, travel_mode=TravelMode.WALK))
