"""After a re-publish: calendar events keep UID and SEQUENCE unless they changed; the schedule marks changes."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from sqlalchemy import select
from sqlmodel import Session

from dispatch.exchange import calendar_feed
from dispatch.storage import models as m
from tests.api.conftest import DAY

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _calendar_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_feed, "_clock", lambda: NOW)


def headers(api, user: str) -> dict[str, str]:
    return api.auth(user)


def utc(h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 1, h, mi, tzinfo=dt.UTC)


def publish_version(api, version: int, visits: list[tuple[str, str, dt.datetime, int]]) -> None:
    """Version ``version`` of DAY, written directly and published (the previous published one superseded)."""
    with Session(api.engine) as s:
        for old in s.scalars(select(m.Roster).where(m.Roster.status == m.RosterStatus.PUBLISHED)).all():
            old.status = m.RosterStatus.SUPERSEDED
        roster = m.Roster(date=DAY, version=version, status=m.RosterStatus.PUBLISHED)
        s.add(roster)
        s.flush()
        for seq, (worker, request, start, minutes) in enumerate(visits):
            s.add(m.RosterAssignment(roster_id=roster.id, worker_id=worker, visit_request_id=request,
                                     occurrence_date=DAY, sequence=seq, arrival=start, start=start,
                                     end=start + dt.timedelta(minutes=minutes), leg="visit"))
        s.commit()


def feed(api, path: str) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(api.client.get(path).content)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_republishing_keeps_sequence_of_unchanged_events_raises_changed_and_cancels_removed(api) -> None:
    r = api.client.post("/api/v1/me/calendar-token", headers=headers(api, "worker"))
    path = r.json()["path"]
    r1, r2, r3 = ("R1-20261201-visit-W1@carepath", "R2-20261201-visit-W1@carepath", "R3-20261201-visit-W1@carepath")
    publish_version(api, 1, [("W1", "R1", utc(7), 60), ("W1", "R2", utc(9), 45), ("W1", "R3", utc(11), 30)])
    publish_version(api, 2, [("W1", "R1", utc(7), 60), ("W1", "R2", utc(9, 30), 45), ("W1", "R3", utc(11), 30)])
    evs = feed(api, path)
    assert {uid: int(e["sequence"]) for uid, e in evs.items()} == {r1: 1, r2: 2, r3: 1}
    publish_version(api, 3, [("W1", "R1", utc(7), 60), ("W1", "R2", utc(9, 30), 45)])  # R3 dropped
    evs = feed(api, path)
    assert {uid: int(e["sequence"]) for uid, e in evs.items()} == {r1: 1, r2: 2, r3: 3}
    assert str(evs[r3]["status"]) == "CANCELLED" and str(evs[r1]["status"]) == "CONFIRMED"
    publish_version(api, 4, [("W1", "R1", utc(7), 60), ("W1", "R2", utc(9, 30), 45)])  # nothing changes
    evs = feed(api, path)
    assert {uid: int(e["sequence"]) for uid, e in evs.items()} == {r1: 1, r2: 2, r3: 3}


def test_schedule_marks_what_changed_since_the_worker_last_fetched_it(api) -> None:
    params = {"from": DAY.isoformat(), "to": DAY.isoformat()}

    def fetch() -> dict:
        r = api.client.get("/api/v1/me/schedule", params=params, headers=headers(api, "worker"))
        assert r.status_code == 200, r.text
        return r.json()

    publish_version(api, 1, [("W1", "R1", utc(7), 60), ("W1", "R2", utc(9), 45), ("W2", "R3", utc(11), 30)])
    first = fetch()
    assert [v["change"] for v in first["visits"]] == [None, None] and first["removed"] == []
    assert first["since"] == [{"date": DAY.isoformat(), "area": None, "last_fetched_version": None, "version": 1}]
    publish_version(api, 2, [("W1", "R1", utc(7), 60), ("W1", "R3", utc(11), 30), ("W2", "R2", utc(9), 45)])
    second = fetch()
    marks = {v["uid"].split("-")[0]: v["change"] for v in second["visits"]}
    assert marks == {"R1": None, "R3": "new"}
    assert [v["uid"].split("-")[0] for v in second["removed"]] == ["R2"]
    assert second["since"][0]["last_fetched_version"] == 1 and second["since"][0]["version"] == 2
    publish_version(api, 3, [("W1", "R1", utc(7, 15), 60), ("W1", "R3", utc(11), 30), ("W2", "R2", utc(9), 45)])
    third = fetch()
    assert {v["uid"].split("-")[0]: v["change"] for v in third["visits"]} == {"R1": "changed", "R3": None}
    again = fetch()  # nothing new since the last fetch
    assert [v["change"] for v in again["visits"]] == [None, None] and again["removed"] == []
    other = api.client.get("/api/v1/me/schedule", params=params, headers=headers(api, "worker2")).json()
    assert [v["change"] for v in other["visits"]] == [None]  # worker2's first fetch: nothing to compare
