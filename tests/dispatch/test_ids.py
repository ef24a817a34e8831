"""Readable ids from a counter row per scheme (``IdScheme``), and roster versions numbered under a
lock: nothing two writers can compute twice.  Every test runs on SQLite and PostgreSQL.

The id tests use ``places`` (the simplest table with a string id) and a test-only scheme.
"""

from __future__ import annotations

from types import SimpleNamespace

import datetime as dt
import threading
from zoneinfo import ZoneInfo
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.catalog.records import IdScheme
from dispatch.storage.db import session_scope
from dispatch.planning.rosters import save_roster
from dispatch.domain import PlaceKind
from optimizer.model import Solution

SCHEME = IdScheme("tp-", 3)
DAY = dt.date(2026, 12, 1)


def add_places(engine: Any, *ids: str) -> None:
    """Rows stored without going through the scheme (a scenario load, a raw insert)."""
    with Session(engine) as s:
        s.add_all(m.Place(id=i, kind=PlaceKind.OFFICE, name=i, lat=50.0, lon=20.0) for i in ids)
        s.commit()


def allocate(engine: Any, count: int = 1, *, store: bool = True) -> list[str]:
    """``count`` ids in one write transaction, stored as places (as a create would) unless not ``store``."""
    with session_scope(engine) as s:
        ids = SCHEME.allocate(s, m.Place, count)
        if store:
            s.add_all(m.Place(id=i, kind=PlaceKind.OFFICE, name=i, lat=50.0, lon=20.0) for i in ids)
    return ids


def counter(engine: Any) -> int | None:
    with Session(engine) as s:
        return s.scalar(select(m.IdCounter.value).where(col(m.IdCounter.name) == SCHEME.prefix))


def test_the_counter_starts_after_the_highest_id_already_stored(engine) -> None:
    """On first use the counter row is created from the highest stored serial of the scheme; ids of other
    schemes, non-numeric tails and serials too long for a counter do not count."""
    add_places(engine, "tp-003", "tp-010", "tp-abc", "TP-500", "xtp-900", "tp-" + "9" * 19)
    assert counter(engine) is None
    assert allocate(engine, 2) == ["tp-011", "tp-012"]
    assert counter(engine) == 12


def test_explicit_ids_move_the_counter_past_them(engine) -> None:
    """An id given explicitly (a client, an import) is never handed out later: ``claim`` moves the counter."""
    with session_scope(engine) as s:
        assert SCHEME.claim(s, m.Place, "tp-050") == "tp-050"
        s.add(m.Place(id="tp-050", kind=PlaceKind.OFFICE, name="x", lat=50.0, lon=20.0))
    with session_scope(engine) as s:
        assert SCHEME.claim(s, m.Place, "custom-id") == "custom-id"  # not of the scheme: counter unchanged
    assert allocate(engine) == ["tp-051"]


def test_ids_stored_behind_the_counters_back_are_skipped(engine) -> None:
    """Ids inserted without the counter (it is at 4, then tp-005 and tp-006 appear) are not handed out again."""
    assert allocate(engine, 4) == ["tp-001", "tp-002", "tp-003", "tp-004"]
    add_places(engine, "tp-005", "tp-006")
    assert allocate(engine, 3) == ["tp-007", "tp-008", "tp-009"]


def test_a_batch_never_hands_out_an_id_given_in_the_same_batch(engine) -> None:
    """An import with some ids given: fresh ids come after the given ones (max + 1 gave tp-002 twice
    here); a dry run shows the same ids and writes nothing."""
    given = [None, "tp-002", None]
    with Session(engine) as s:
        assert SCHEME.for_batch(s, m.Place, given, dry_run=True) == ["tp-003", "tp-002", "tp-004"]
    assert counter(engine) is None
    with session_scope(engine) as s:
        assert SCHEME.for_batch(s, m.Place, given) == ["tp-003", "tp-002", "tp-004"]
    assert counter(engine) == 4


def test_a_rolled_back_create_gives_its_serial_back(engine) -> None:
    """The increment belongs to the writing transaction: a failed create leaves no gap."""
    assert allocate(engine) == ["tp-001"]
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        assert SCHEME.allocate(s, m.Place) == ["tp-002"]
        raise RuntimeError("the create failed after allocating")
    assert allocate(engine) == ["tp-002"]


def test_simultaneous_allocations_never_share_an_id(engine) -> None:
    """8 threads x 5 creates, each in its own write transaction: 40 distinct ids, all stored."""
    barrier = threading.Barrier(8)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(30)
            mine = [i for _ in range(5) for i in allocate(engine)]
            results.append(mine)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) == 40
    with Session(engine) as s:
        assert len(s.scalars(select(m.Place.id).where(col(m.Place.id).like("tp-%"))).all()) == 40


# --------------------------------------------------------------------------- roster versions


def _wait_for_lock_wait(engine: Any) -> None:
    """PostgreSQL: until some backend of this database waits on a lock; SQLite: a moment."""
    import time

    if engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 20
    from sqlalchemy import text

    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND wait_event_type = 'Lock'")).scalar()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second writer never waited for a lock")


@pytest.mark.parametrize("area", [None, "area-x"])
def test_two_plans_stored_at_once_get_consecutive_versions(engine, area: str | None) -> None:
    """While one plan of (day, area) is stored but not committed, a second one waits and becomes the next
    version: versions 1 and 2, both stored (without the lock both read "no version yet" and the second
    failed on the unique (date, area, version))."""
    add_places(engine, "area-x")
    empty = Solution(routes=(), unassigned=())
    nothing_built = SimpleNamespace(sources={}, skipped=[], rides=[], tz=ZoneInfo("Europe/Warsaw"),
                                    labour_limits={})  # an empty day's BuiltProblem
    stored, release = threading.Event(), threading.Event()
    versions: list[int] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with session_scope(engine) as s:
                versions.append(save_roster(s, DAY, area, nothing_built, empty).version)  # type: ignore[arg-type]
                stored.set()
                assert release.wait(30)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            stored.set()

    def second() -> None:
        try:
            with session_scope(engine) as s:
                versions.append(save_roster(s, DAY, area, nothing_built, empty).version)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t1 = threading.Thread(target=first)
    t1.start()
    assert stored.wait(30)
    t2 = threading.Thread(target=second)
    t2.start()
    try:
        _wait_for_lock_wait(engine)
    finally:
        release.set()
        t1.join(30)
        t2.join(30)
    assert errors == []
    assert sorted(versions) == [1, 2]
    with Session(engine) as s:
        rows = s.scalars(select(m.Roster).where(col(m.Roster.date) == DAY)).all()
    assert sorted((r.area, r.version) for r in rows) == [(area, 1), (area, 2)]
