"""Breaks are part of the roster (issue 14, item 5): stored with the version, shown in the roster view,
the worker's own schedule, the CSV/XLSX export and the calendar feed, local times with the offset
outside, right on both DST days.

Every roster here is planned by ``plan_day`` (checked by the independent checker).  The small
scenario's 8-hour weekday shifts each carry one 15-minute break (Kodeks pracy art. 134).  The DST
tests give W1 a Sunday shift and two visits that leave the break exactly one place to go: on
2026-03-29 right after the clocks jump (03:00 CEST), on 2026-10-25 in the hour that happens twice
(02:45 CET, the second time round).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import icalendar
import pytest
from sqlalchemy import select
from sqlmodel import Session

from dispatch.exchange import calendar_feed
from dispatch.storage import models as m
from dispatch.planning.rosters import PlannedDay, plan_day
from dispatch.timeutil import from_minutes
from dispatch.providers.travel import provider_from_settings
from dispatch.domain import ServiceCode
from optimizer.params import load_params
from tests.api.conftest import DAY

SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)


def plan(api, day: dt.date = DAY) -> PlannedDay:
    """Plan ``day`` in-process (1 s; checked) and store the draft."""
    planned = plan_day(api.engine, day, provider_from_settings(api.settings), load_params(None, time_limit_s=1))
    return planned


def roster(api, day: dt.date = DAY, user: str = "dispatcher") -> dict:
    r = api.client.get(f"/api/v1/rosters/{day.isoformat()}", headers=api.auth(user))
    assert r.status_code == 200, r.text
    return r.json()


def publish(api, day: dt.date = DAY) -> dict:
    etag = roster(api, day)["etag"]
    r = api.client.post(f"/api/v1/rosters/{day.isoformat()}/publish",
                        headers={**api.auth("dispatcher"), "If-Match": etag})
    assert r.status_code == 200, r.text
    return r.json()


def schedule(api, user: str, day: dt.date = DAY) -> dict:
    r = api.client.get("/api/v1/me/schedule", params={"from": day.isoformat(), "to": day.isoformat()},
                       headers=api.auth(user))
    assert r.status_code == 200, r.text
    return r.json()


def export_rows(api, day: dt.date = DAY) -> list[list[str]]:
    r = api.client.get(f"/api/v1/rosters/{day.isoformat()}/export", params={"format": "csv"},
                       headers=api.auth("dispatcher"))
    assert r.status_code == 200
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))


def feed(api, monkeypatch: pytest.MonkeyPatch, now: dt.datetime) -> dict[str, icalendar.Event]:
    """W1's calendar feed as it reads at ``now``, events by UID."""
    monkeypatch.setattr(calendar_feed, "_clock", lambda: now)
    r = api.client.post("/api/v1/me/calendar-token", headers=api.auth("worker"))
    assert r.status_code == 201, r.text
    text = api.client.get(r.json()["path"]).content
    return {str(e["uid"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}


def planned_breaks(planned: PlannedDay, day: dt.date) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """worker -> the solver's breaks as UTC instants (routes with visits)."""
    out: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for route in planned.solution.routes:
        if route.stops:
            out.setdefault(route.worker_id, []).extend(
                (from_minutes(b.start, day), from_minutes(b.end, day)) for b in route.breaks)
    return {w: sorted(bs) for w, bs in out.items()}


def test_breaks_are_stored_with_the_version_and_shown_in_the_roster_view(api) -> None:
    """Each worker's planned break is stored with the roster version and shown on their route: the
    solver's times, local with the offset, 15 minutes, between visits (never during one)."""
    planned = plan(api)
    expected = planned_breaks(planned, DAY)
    assert set(expected) == {"W1", "W2", "W3"} and all(len(bs) == 1 for bs in expected.values())
    with Session(api.engine) as s:
        stored = s.scalars(select(m.RosterBreak).where(m.RosterBreak.roster_id == planned.roster.id)).all()
    assert sorted((b.worker_id, b.start, b.end) for b in stored) == sorted(
        (w, a, b) for w, bs in expected.items() for a, b in bs)

    body = roster(api)
    for route in body["routes"]:
        shown = [(dt.datetime.fromisoformat(b["start"]), dt.datetime.fromisoformat(b["end"])) for b in route["breaks"]]
        assert shown == expected[route["worker_id"]]
        for b in route["breaks"]:
            assert b["start"].endswith("+01:00") and b["end"].endswith("+01:00") and b["minutes"] == 15
            start, end = dt.datetime.fromisoformat(b["start"]), dt.datetime.fromisoformat(b["end"])
            for v in route["visits"]:
                assert end <= dt.datetime.fromisoformat(v["start"]) or start >= dt.datetime.fromisoformat(v["end"])


def test_a_workers_schedule_has_their_own_breaks_and_nobody_elses(api) -> None:
    """``/me/schedule`` lists the worker's own published breaks (uid, local times, minutes), never another's."""
    planned = plan(api)
    expected = planned_breaks(planned, DAY)
    assert schedule(api, "worker")["breaks"] == []  # a draft's breaks are not shown either
    publish(api)
    for user, worker, other in (("worker", "W1", "W2"), ("worker2", "W2", "W1")):
        breaks = schedule(api, user)["breaks"]
        assert [(dt.datetime.fromisoformat(b["start"]), dt.datetime.fromisoformat(b["end"])) for b in breaks] \
            == expected[worker]
        assert [b["uid"] for b in breaks] == [f"break1-20261201-{worker}@carepath"]
        assert all(b["minutes"] == 15 and b["roster_version"] == 1 and b["date"] == DAY.isoformat() for b in breaks)
        assert other not in str(breaks)


def test_the_export_has_a_row_per_break_in_time_order(api) -> None:
    """CSV and XLSX: one "przerwa" row per break with the worker and local HH:MM, among the worker's visits
    in time order."""
    from openpyxl import load_workbook

    plan(api)
    body = roster(api)
    rows = export_rows(api)
    header = rows[0]
    kind, worker, start, end, service = (header.index(c) for c in ("Rodzaj", "ID pracownika", "Początek", "Koniec",
                                                                   "Usługa"))
    breaks = [r for r in rows[1:] if r[kind] == "przerwa"]
    expected = [(rt["worker_id"], b["start"][11:16], b["end"][11:16]) for rt in body["routes"] for b in rt["breaks"]]
    assert sorted((r[worker], r[start], r[end]) for r in breaks) == sorted(expected)
    assert all(r[service] == "Przerwa (15 min)" for r in breaks)
    for w in ("W1", "W2", "W3"):
        starts = [r[start] for r in rows[1:] if r[worker] == w]
        assert starts == sorted(starts) and len(starts) >= 2

    xlsx = api.client.get(f"/api/v1/rosters/{DAY.isoformat()}/export", params={"format": "xlsx"},
                          headers=api.auth("dispatcher"))
    values = list(load_workbook(io.BytesIO(xlsx.content))["Grafik"].values)
    assert sorted((r[worker], r[start], r[end]) for r in values[1:] if r[kind] == "przerwa") == sorted(expected)


def test_calendar_feed_has_an_event_per_break_cancelled_when_a_newer_version_drops_it(api, monkeypatch) -> None:
    """The feed has the break as an event with a stable UID; when a newer published version no longer
    has it (W1 is absent), the same UID comes back STATUS:CANCELLED with a higher SEQUENCE."""
    planned = plan(api)
    [(start, end)] = planned_breaks(planned, DAY)["W1"]
    publish(api)
    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    uid = "break1-20261201-W1@carepath"
    event = feed(api, monkeypatch, now)[uid]
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (start, end)
    assert str(event["summary"]) == "Przerwa (15 min)" and str(event["status"]) == "CONFIRMED"
    assert int(event["sequence"]) == 1 and "location" not in event

    with Session(api.engine) as s:
        s.add(m.WorkerAbsence(worker_id="W1", from_date=DAY, to_date=DAY, reason="L4"))
        s.commit()
    replanned = plan(api)
    assert "W1" not in planned_breaks(replanned, DAY)
    body = roster(api)
    r = api.client.post(f"/api/v1/rosters/{DAY.isoformat()}/publish",
                        headers={**api.auth("dispatcher"), "If-Match": body["etag"]},
                        json={"acknowledge_unplaced_mandatory": body["unplaced_mandatory_ids"]})
    assert r.status_code == 200, r.text
    event = feed(api, monkeypatch, now)[uid]
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 2
    assert str(event["summary"]).startswith("Odwołane: ")
    assert schedule(api, "worker")["breaks"] == []


def _dst_day(api, day: dt.date, first: tuple[dt.time, int], second: tuple[dt.time, int]) -> None:
    """W1 works 00:00-08:00 on ``day`` (a Sunday); two mandatory visits at S1 at fixed times."""
    with Session(api.engine) as s:
        s.add(m.WorkerShift(worker_id="W1", weekday=day.weekday(), start=dt.time(0), end=dt.time(8)))
        for suffix, (at, minutes) in (("a", first), ("b", second)):
            s.add(m.VisitRequest(id=f"D{day:%m%d}{suffix}", senior_id="S1", service=ServiceCode.HOME_CARE,
                                 first_date=day, window_start=at, window_end=at, duration=minutes, mandatory=True))
        s.commit()


@pytest.mark.parametrize(
    ("day", "first", "second", "local", "utc_start", "ical_start", "ical_end"),
    [
        # 01:00-03:00 (the clocks jump at 02:00), break 03:00-03:15 CEST, then 03:15 CEST.
        (SPRING, (dt.time(1), 60), (dt.time(3, 15), 240), ("2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"),
         dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
         b"DTSTART;TZID=Europe/Warsaw:20260329T030000", b"DTEND;TZID=Europe/Warsaw:20260329T031500"),
        # 01:00 CEST + 165 min ends at 02:45 CET (the second 02:45), break to 03:00 CET, then 03:00 CET.
        (AUTUMN, (dt.time(1), 165), (dt.time(3), 240), ("2026-10-25T02:45:00+01:00", "2026-10-25T03:00:00+01:00"),
         dt.datetime(2026, 10, 25, 1, 45, tzinfo=dt.UTC),
         b"DTSTART:20261025T014500Z", b"DTEND;TZID=Europe/Warsaw:20261025T030000"),
    ],
    ids=["spring", "autumn"],
)
def test_breaks_on_dst_days(api, monkeypatch, day, first, second, local, utc_start, ical_start, ical_end) -> None:
    """On 2026-03-29 and 2026-10-25 the break lands at the one place the visits leave it; every view
    shows it at the right instant: local time and offset in the roster and the schedule, HH:MM in
    the export, TZID (or UTC for the wall time that happens twice) in the calendar feed."""
    _dst_day(api, day, first, second)
    planned = plan(api, day)
    assert planned.solution.unassigned == ()
    assert planned_breaks(planned, day) == {"W1": [(utc_start, utc_start + dt.timedelta(minutes=15))]}

    [route] = roster(api, day)["routes"]
    assert [(b["start"], b["end"], b["minutes"]) for b in route["breaks"]] == [(*local, 15)]
    rows = export_rows(api, day)
    kind = rows[0].index("Rodzaj")
    assert [(r[6], r[7]) for r in rows[1:] if r[kind] == "przerwa"] == [(local[0][11:16], local[1][11:16])]
    assert [r[kind] for r in rows[1:]] == ["wizyta", "przerwa", "wizyta"]

    publish(api, day)
    assert [(b["start"], b["end"]) for b in schedule(api, "worker", day)["breaks"]] == [local]
    monkeypatch.setattr(calendar_feed, "_clock", lambda: dt.datetime.combine(day, dt.time(12), dt.UTC))
    r = api.client.post("/api/v1/me/calendar-token", headers=api.auth("worker"))
    text = api.client.get(r.json()["path"]).content
    [block] = [b for b in text.split(b"BEGIN:VEVENT") if f"UID:break1-{day:%Y%m%d}-W1@carepath".encode() in b]
    assert ical_start in block and ical_end in block
    event = {str(e["uid"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}[f"break1-{day:%Y%m%d}-W1@carepath"]
    assert event.decoded("dtstart").astimezone(dt.UTC) == utc_start
