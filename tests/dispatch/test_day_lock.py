"""A day whose end has passed is closed to everyone but an admin, and an admin's change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from dispatch.planning import day_lock
from dispatch.storage.models import AuditLog, UserRole

UTC = dt.timezone.utc


def test_the_day_ends_at_the_next_local_midnight_also_on_dst_days() -> None:
    """2026-10-25 is 25 hours long in Warsaw: it ends at 23:00 UTC, not 22:00."""
    assert day_lock.day_end(dt.date(2026, 10, 25), "Europe/Warsaw") == dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert day_lock.day_end(dt.date(2026, 3, 29), "Europe/Warsaw") == dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    day = dt.date(2026, 10, 25)
    assert not day_lock.is_closed(day, dt.datetime(2026, 10, 25, 22, 59, tzinfo=UTC), "Europe/Warsaw")
    assert day_lock.is_closed(day, dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC), "Europe/Warsaw")


def test_a_dispatcher_cannot_change_a_closed_day(engine) -> None:
    """Refused with a message naming the day and the action; nothing is audited."""
    with Session(engine) as s:
        with pytest.raises(day_lock.DayClosed, match="2026-12-07.*only an admin may re-plan"):
            day_lock.require_open_day(
                s, dt.date(2026, 12, 7), actor="anna", role=UserRole.DISPATCHER, action="re-plan",
                now=dt.datetime(2026, 12, 8, 6, 0, tzinfo=UTC), tz="Europe/Warsaw")
        s.commit()
        assert s.exec(select(AuditLog).where(AuditLog.action == "roster.closed_day_override")).all() == []


def test_an_open_day_is_open_to_a_dispatcher(engine) -> None:
    """Before the day's end nothing is refused and nothing is audited."""
    with Session(engine) as s:
        assert day_lock.require_open_day(
            s, dt.date(2026, 12, 7), actor="anna", role=UserRole.DISPATCHER, action="edit",
            now=dt.datetime(2026, 12, 7, 22, 59, tzinfo=UTC), tz="Europe/Warsaw") is False
        s.commit()
        assert s.exec(select(AuditLog)).all() == []


def test_an_admin_changes_a_closed_day_and_it_is_audited(engine) -> None:
    """The override is audited with who, which day, what and why."""
    with Session(engine) as s:
        assert day_lock.require_open_day(
            s, dt.date(2026, 12, 7), actor="root", role=UserRole.ADMIN, action="edit",
            now=dt.datetime(2026, 12, 9, 6, 0, tzinfo=UTC), tz="Europe/Warsaw", reason="check-in entered late")
        s.commit()
        row = s.exec(select(AuditLog).where(AuditLog.action == "roster.closed_day_override")).one()
        assert (row.actor, row.entity_id) == ("root", "2026-12-07")
        assert row.changes["reason"]["new"] == "check-in entered late"
        assert row.changes["action"]["new"] == "edit"
