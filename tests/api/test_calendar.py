"""The calendar feed: secret revocable token URL, iCalendar content, cancellations, DST days."""

from __future__ import annotations

import datetime as dt
import hashlib

import icalendar
import pytest
from sqlalchemy import select
from sqlmodel import Session

from api.security import create_access_token
from dispatch.exchange import calendar_feed
from dispatch.storage import models as m
from tests.api.conftest import DAY

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # DAY (2026-12-01) is inside the feed window


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed's clock fixed at NOW so its window does not depend on the day tests run."""
    monkeypatch.setattr(calendar_feed, "_clock", lambda: NOW)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC)


def insert_roster(api, day: dt.date, visits: list[tuple[str, str, dt.datetime, int]], version: int,
                  status: m.RosterStatus) -> int:
    """A roster version written directly: (worker, request, start UTC, minutes) per visit."""
    with Session(api.engine) as s:
        roster = m.Roster(date=day, version=version, status=status)
        s.add(roster)
        s.flush()
        for seq, (worker, request, start, minutes) in enumerate(visits):
            s.add(m.RosterAssignment(roster_id=roster.id, worker_id=worker, visit_request_id=request,
                                     occurrence_date=day, sequence=seq, arrival=start, start=start,
                                     end=start + dt.timedelta(minutes=minutes)))
        s.commit()
        return roster.id


def issue(api, user: str = "worker") -> str:
    r = api.client.post("/api/v1/me/calendar-token", headers=api.auth(user))
    assert r.status_code == 201, r.text
    return r.json()["path"]


def events(text: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_token_url_serves_the_feed_without_auth_and_only_a_hash_is_stored(api) -> None:
    """POST gives a secret URL (shown once, no-store); the feed needs no header; the DB keeps only SHA-256."""
    insert_roster(api, DAY, [("W1", "R1", utc(2026, 12, 1, 7), 60), ("W2", "R2", utc(2026, 12, 1, 8), 45)],
                  1, m.RosterStatus.PUBLISHED)
    r = api.client.post("/api/v1/me/calendar-token", headers=api.auth("worker"))
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    body = r.json()
    token = body["path"].removeprefix("/api/v1/calendar/").removesuffix(".ics")
    assert body["url"].endswith(body["path"]) and len(token) >= 40
    with Session(api.engine) as s:
        [row] = s.scalars(select(m.CalendarToken)).all()
    assert row.worker_id == "W1" and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash

    feed = api.client.get(body["path"])  # no Authorization header
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "private" in feed.headers["cache-control"]
    cal = icalendar.Calendar.from_ical(feed.content)
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["tzid"]) == "Europe/Warsaw"
    evs = events(feed.content)
    assert list(evs) == ["R1-20261201-visit-W1@carepath"]  # only W1's, not W2's
    ev = evs["R1-20261201-visit-W1@carepath"]
    assert ev.decoded("dtstart") == dt.datetime(2026, 12, 1, 8, 0, tzinfo=ev.decoded("dtstart").tzinfo)
    assert ev.decoded("dtstart").astimezone(dt.UTC) == utc(2026, 12, 1, 7)
    assert b"DTSTART;TZID=Europe/Warsaw:20261201T080000" in feed.content
    assert int(ev["sequence"]) == 1 and str(ev["status"]) == "CONFIRMED"
    # By default only time, place and service (the calendar provider holds no names, tasks or notes).
    assert str(ev["summary"]) == "Wizyta: Usługi opiekuńcze" and "Sienkiewicza" in str(ev["location"])
    assert "description" not in ev
    for private in ("Halina", "Zając", "domofon", "toaleta", "cukrzyca", "+48"):
        assert private.encode() not in feed.content, private
    with Session(api.engine) as s:
        actions = s.scalars(select(m.AuditLog.action)).all()
    assert "calendar_token.issue" in actions


def test_revoking_and_reissuing_tokens(api) -> None:
    """DELETE revokes (feed 404, status inactive); issuing a new token makes the previous URL stop working."""
    first = issue(api)
    assert api.client.get(first).status_code == 200
    second = issue(api)
    assert second != first
    assert api.client.get(first).status_code == 404
    assert api.client.get(second).status_code == 200
    assert api.client.get("/api/v1/me/calendar-token", headers=api.auth("worker")).json()["active"] is True
    r = api.client.delete("/api/v1/me/calendar-token", headers=api.auth("worker"))
    assert r.status_code == 204
    gone = api.client.get(second)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")
    assert api.client.get("/api/v1/me/calendar-token", headers=api.auth("worker")).json() == {
        "active": False, "created_at": None}
    with Session(api.engine) as s:
        assert all(t.revoked_at is not None for t in s.scalars(select(m.CalendarToken)).all())


def test_feed_stops_for_unknown_tokens_and_deactivated_accounts(api) -> None:
    """A made-up token is 404; so is a valid one once the worker's account is deactivated."""
    assert api.client.get("/api/v1/calendar/not-a-real-token.ics").status_code == 404
    path = issue(api)
    with Session(api.engine) as s:
        user = s.scalars(select(m.User).where(m.User.username == "worker")).one()
        user.active = False
        s.commit()
    assert api.client.get(path).status_code == 404


def test_only_workers_have_a_calendar_token(api) -> None:
    """Dispatchers, coordinators and admins cannot issue feed tokens (403)."""
    for user in ("dispatcher", "coordinator", "admin"):
        assert api.client.post("/api/v1/me/calendar-token", headers=api.auth(user)).status_code == 403


def test_drafts_never_reach_the_feed(api) -> None:
    """Only published versions appear: a newer draft changes nothing in the feed."""
    insert_roster(api, DAY, [("W1", "R1", utc(2026, 12, 1, 7), 60)], 1, m.RosterStatus.PUBLISHED)
    insert_roster(api, DAY, [("W1", "R1", utc(2026, 12, 1, 9), 60), ("W1", "R2", utc(2026, 12, 1, 11), 60)],
                  2, m.RosterStatus.DRAFT)
    evs = events(api.client.get(issue(api)).content)
    assert list(evs) == ["R1-20261201-visit-W1@carepath"]
    assert evs["R1-20261201-visit-W1@carepath"].decoded("dtstart").astimezone(dt.UTC) == utc(2026, 12, 1, 7)


def test_a_newer_published_version_updates_events_and_cancels_removed_ones(api) -> None:
    """Same UID across versions; SEQUENCE = the published version; a visit dropped by v2 is STATUS:CANCELLED."""
    path = issue(api)
    insert_roster(api, DAY, [("W1", "R1", utc(2026, 12, 1, 7), 60), ("W1", "R2", utc(2026, 12, 1, 9), 45)],
                  1, m.RosterStatus.PUBLISHED)
    before = events(api.client.get(path).content)
    assert {uid: int(e["sequence"]) for uid, e in before.items()} == {
        "R1-20261201-visit-W1@carepath": 1, "R2-20261201-visit-W1@carepath": 1}
    with Session(api.engine) as s:
        s.scalars(select(m.Roster)).one().status = m.RosterStatus.SUPERSEDED
        s.commit()
    insert_roster(api, DAY, [("W1", "R1", utc(2026, 12, 1, 7, 30), 60), ("W2", "R2", utc(2026, 12, 1, 9), 45)],
                  2, m.RosterStatus.PUBLISHED)
    after = events(api.client.get(path).content)
    assert set(after) == set(before)  # same UIDs: clients update, never duplicate
    moved, removed = after["R1-20261201-visit-W1@carepath"], after["R2-20261201-visit-W1@carepath"]
    assert int(moved["sequence"]) == 2 and str(moved["status"]) == "CONFIRMED"
    assert moved.decoded("dtstart").astimezone(dt.UTC) == utc(2026, 12, 1, 7, 30)
    assert int(removed["sequence"]) == 2 and str(removed["status"]) == "CANCELLED"
    assert str(removed["summary"]).startswith("Odwołane: ")


def test_feed_local_times_are_right_on_both_dst_days(api, monkeypatch: pytest.MonkeyPatch) -> None:
    """2026-03-29 and 2026-10-25: TZID local times match the instants; the twice-occurring 02:30 is in UTC."""
    insert_roster(api, dt.date(2026, 3, 29), [("W1", "R1", utc(2026, 3, 29, 0, 30), 30),
                                              ("W1", "R2", utc(2026, 3, 29, 7), 60)], 1, m.RosterStatus.PUBLISHED)
    insert_roster(api, dt.date(2026, 10, 25), [("W1", "R1", utc(2026, 10, 25, 0, 30), 30),
                                               ("W1", "R2", utc(2026, 10, 25, 1, 30), 30),
                                               ("W1", "R3", utc(2026, 10, 25, 8), 60)], 1, m.RosterStatus.PUBLISHED)
    path = issue(api)

    monkeypatch.setattr(calendar_feed, "_clock", lambda: dt.datetime(2026, 3, 20, tzinfo=dt.UTC))
    spring = api.client.get(path).content
    assert b"DTSTART;TZID=Europe/Warsaw:20260329T013000" in spring  # CET, before the jump
    assert b"DTEND;TZID=Europe/Warsaw:20260329T030000" in spring    # 30 min later is 03:00 CEST
    assert b"DTSTART;TZID=Europe/Warsaw:20260329T090000" in spring  # CEST
    evs = events(spring)
    assert evs["R1-20260329-visit-W1@carepath"].decoded("dtstart").astimezone(dt.UTC) == utc(2026, 3, 29, 0, 30)
    assert evs["R2-20260329-visit-W1@carepath"].decoded("dtstart").astimezone(dt.UTC) == utc(2026, 3, 29, 7)
    offsets = {str(c.name): c.decoded("tzoffsetto") for c in icalendar.Calendar.from_ical(spring).walk()
               if c.name in ("STANDARD", "DAYLIGHT")}
    assert offsets == {"STANDARD": dt.timedelta(hours=1), "DAYLIGHT": dt.timedelta(hours=2)}

    monkeypatch.setattr(calendar_feed, "_clock", lambda: dt.datetime(2026, 10, 20, tzinfo=dt.UTC))
    autumn = api.client.get(path).content
    assert b"DTSTART:20261025T003000Z" in autumn  # 02:30 CEST: the wall time happens twice, so UTC
    assert b"DTSTART:20261025T013000Z" in autumn  # 02:30 CET
    assert b"DTSTART;TZID=Europe/Warsaw:20261025T090000" in autumn  # CET again
    evs = events(autumn)
    assert evs["R1-20261025-visit-W1@carepath"].decoded("dtstart") == utc(2026, 10, 25, 0, 30)
    assert evs["R2-20261025-visit-W1@carepath"].decoded("dtstart") == utc(2026, 10, 25, 1, 30)
    assert evs["R3-20261025-visit-W1@carepath"].decoded("dtstart").astimezone(dt.UTC) == utc(2026, 10, 25, 8)
    assert "R1-20260329-visit-W1@carepath" not in evs  # outside the window (a month back)


def test_an_account_change_ends_the_feed_and_a_new_feed_works(api) -> None:
    """A password reset (or deactivation and reactivation) ends a feed URL issued before it, as it
    ends the account's access tokens; a feed issued afterwards works (issue 21, item 6)."""
    from dispatch.access import users as use

    path = issue(api)
    assert api.client.get(path).status_code == 200
    with Session(api.engine) as s:
        use.set_password(s, "admin", "worker", "a-new-password-1")
        s.commit()
    assert api.client.get(path).status_code == 404
    with Session(api.engine) as s:
        version = s.scalars(select(m.User.token_version).where(m.User.username == "worker")).one()
    token = create_access_token(api.settings.secret_key.get_secret_value(), "worker", "worker", "W1",
                                dt.datetime.now(dt.UTC), 60, version)
    r = api.client.post("/api/v1/me/calendar-token", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert api.client.get(r.json()["path"]).status_code == 200
