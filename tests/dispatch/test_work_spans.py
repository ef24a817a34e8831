"""Which stored work of other days binds a day (``dispatch.planning.work_spans.neighbours``), on
SQLite and PostgreSQL: a day's published version and a newer draft merged to the widest, older drafts
and superseded versions ignored, the day itself left out, earlier months summed for the year's
overtime."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from dispatch.catalog.labour import LabourRules
from dispatch.planning import work_spans
from dispatch.storage import models as m
from dispatch.timeutil import local_to_utc

TZ = "Europe/Warsaw"
DAY = dt.date(2026, 12, 2)


def _worker(session: Session) -> None:
    session.add(m.Place(id="a", kind="area", name="A", lat=50.87, lon=20.63))
    session.flush()
    session.add(m.Worker(id="w1", first_name="A", last_name="B", gender="F", kind="carer", contract="etat_podstawowy",
                         weekly_hours=40, home_area="a", home_lat=50.87, home_lon=20.63, travel_mode="car"))
    session.flush()


def _version(session: Session, day: dt.date, version: int, status: m.RosterStatus, start: dt.time,
             end: dt.time) -> None:
    r = m.Roster(date=day, version=version, status=status)
    session.add(r)
    session.flush()
    a, b = local_to_utc(day, start, TZ), local_to_utc(day, end, TZ)
    session.add(m.WorkerWorkSpan(roster_id=r.id, worker_id="w1", date=day, start=a, end=b,
                                 work_minutes=int((b - a).total_seconds() // 60)))


def test_published_and_newer_draft_count_merged_others_do_not(engine) -> None:
    """Yesterday: published 12:00-20:00 and a newer draft 13:00-22:00 -> 12:00-22:00 (the widest).  The
    day before: an old superseded version and a draft older than the published one are ignored.  The
    day being planned never counts.  February's days come summed as one span of the month."""
    T = dt.time
    with Session(engine) as session:
        _worker(session)
        yesterday, before = DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=2)
        _version(session, yesterday, 1, m.RosterStatus.PUBLISHED, T(12), T(20))
        _version(session, yesterday, 2, m.RosterStatus.DRAFT, T(13), T(22))
        _version(session, before, 1, m.RosterStatus.SUPERSEDED, T(6), T(23))
        _version(session, before, 2, m.RosterStatus.DRAFT, T(5), T(23))
        _version(session, before, 3, m.RosterStatus.PUBLISHED, T(7), T(15))
        _version(session, DAY, 1, m.RosterStatus.PUBLISHED, T(7), T(15))
        for d in (3, 4):
            _version(session, dt.date(2026, 2, d), 1, m.RosterStatus.PUBLISHED, T(7), T(17))
        session.commit()
        got = work_spans.neighbours(session, DAY, ["w1"], LabourRules())["w1"]
    by_date = {s.date: s for s in got}
    assert set(by_date) == {dt.date(2026, 2, 1), before, yesterday}
    assert (by_date[yesterday].start, by_date[yesterday].end) == (
        local_to_utc(yesterday, T(12), TZ), local_to_utc(yesterday, T(22), TZ))
    assert by_date[yesterday].work_minutes == 540
    assert (by_date[before].start, by_date[before].end) == (
        local_to_utc(before, T(7), TZ), local_to_utc(before, T(15), TZ))
    assert by_date[dt.date(2026, 2, 1)].work_minutes == 2 * 600
