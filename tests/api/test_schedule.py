"""A worker's own schedule: published rosters only, own visits only, minimal fields, DST-correct times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlmodel import Session

from dispatch.access.passwords import hash_password
from dispatch.storage import models as m
from dispatch.planning.rosters import plan_day
from dispatch.providers.travel import provider_from_settings
from optimizer.params import load_params
from tests.api.conftest import DAY

ALLOWED_FIELDS = {
    "uid", "date", "roster_version", "start", "end", "service", "service_name_pl", "service_name_en",
    "senior_name", "address", "tasks", "notes_for_workers", "phone", "ride", "change",
}


def add_user(api, username: str, worker_id: str | None) -> dict[str, str]:
    with Session(api.engine) as s:
        s.add(m.User(username=username, password_hash=hash_password("irrelevant-pass-1"), role=m.UserRole.WORKER,
                     worker_id=worker_id))
        s.commit()
    return api.auth(username, role="worker", worker_id=worker_id)


def plan_and_publish(api, day: dt.date = DAY) -> m.Roster:
    roster = plan_day(api.engine, day, provider_from_settings(api.settings), load_params(None, time_limit_s=1)).roster
    etag = api.client.get(f"/api/v1/rosters/{day.isoformat()}", headers=api.auth("dispatcher")).headers["etag"]
    r = api.client.post(f"/api/v1/rosters/{day.isoformat()}/publish",
                        headers={**api.auth("dispatcher"), "If-Match": etag})
    assert r.status_code == 200, r.text
    return roster


def schedule(api, h: dict[str, str], start: dt.date = DAY, end: dt.date | None = None, **extra):
    params = {"from": start.isoformat(), "to": (end or start).isoformat(), **extra}
    return api.client.get("/api/v1/me/schedule", params=params, headers=h)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC)


def insert_published(api, day: dt.date, visits: list[tuple[str, str, dt.datetime, int]], version: int = 1,
                     status: m.RosterStatus = m.RosterStatus.PUBLISHED) -> int:
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


def test_worker_sees_only_own_published_visits_and_no_health_data(api) -> None:
    """W1 and W2 each get exactly their own visits of the published roster; no health notes, no phone."""
    roster = plan_and_publish(api)
    with Session(api.engine) as s:
        own = {w: sorted(a.start for a in s.scalars(select(m.RosterAssignment).where(
            m.RosterAssignment.roster_id == roster.id, m.RosterAssignment.worker_id == w)).all())
            for w in ("W1", "W2")}
    for user, worker in (("worker", "W1"), ("worker2", "W2")):
        r = schedule(api, api.auth(user))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["worker_id"] == worker and body["from"] == DAY.isoformat() and body["timezone"] == "Europe/Warsaw"
        starts = [dt.datetime.fromisoformat(v["start"]) for v in body["visits"]]
        assert starts == own[worker] and starts == sorted(starts)
        for v in body["visits"]:
            assert set(v) == ALLOWED_FIELDS
            assert v["phone"] is None and v["ride"] is None
            assert v["notes_for_workers"] == "domofon 12" and v["address"].startswith("ul. Sienkiewicza 10/4")
        assert "cukrzyca" not in r.text and "health" not in r.text and "+48" not in r.text
        assert "birth" not in r.text and "disability" not in r.text


def test_there_is_no_way_to_ask_for_another_workers_schedule(api) -> None:
    """The worker is the token's: a worker_id parameter is ignored, and the operation declares none."""
    plan_and_publish(api)
    schedule(api, api.auth("worker"))  # the first fetch; the next ones compare with it (``since``)
    own = schedule(api, api.auth("worker")).json()
    for name in ("worker_id", "worker", "wid"):
        r = schedule(api, api.auth("worker"), **{name: "W2"})
        assert r.status_code == 200 and r.json() == own and r.json()["worker_id"] == "W1"
    assert api.client.get("/api/v1/me/schedule/W2", headers=api.auth("worker")).status_code in (404, 405)
    spec = api.client.get("/api/v1/openapi.json").json()
    params = {p["name"] for p in spec["paths"]["/api/v1/me/schedule"]["get"]["parameters"]}
    assert params == {"from", "to"}
    # A token forged to carry W2 for the user 'worker' does not help either: its signature is checked,
    # and a correctly signed token is only ever issued with the user's own worker id.
    assert schedule(api, {"Authorization": "Bearer x.y.z"}).status_code == 401


def test_other_roles_and_unlinked_workers_are_refused(api) -> None:
    """Dispatchers/coordinators/admins have no schedule (403); a worker account without a worker is 403."""
    for user in ("dispatcher", "coordinator", "admin"):
        assert schedule(api, api.auth(user)).status_code == 403
    r = schedule(api, add_user(api, "newbie", None))
    assert r.status_code == 403 and r.json()["type"].endswith("/not-a-worker")


def test_drafts_are_not_shown_to_workers(api) -> None:
    """A draft roster (not yet published) gives the worker an empty schedule."""
    plan_day(api.engine, DAY, provider_from_settings(api.settings), load_params(None, time_limit_s=1))
    assert schedule(api, api.auth("worker")).json()["visits"] == []


def test_driver_gets_the_senior_phone_and_destination_on_ride_legs(api) -> None:
    """On ride legs (only) the driver sees the senior's phone, where to and the appointment time."""
    h = add_user(api, "driver", "W3")
    plan_and_publish(api)
    visits = schedule(api, h).json()["visits"]
    assert [v["ride"]["leg"] for v in visits] == ["pickup", "dropoff", "return_pickup", "return_dropoff"]
    assert [v["ride"]["stop"] for v in visits] == ["home", "destination", "destination", "home"]
    for v in visits:
        assert v["phone"] == "+48 500 000 001" and v["senior_name"] == "Halina Zając"
        assert v["ride"]["destination"] == "WSZ" and v["ride"]["appointment"] == "2026-12-01T11:00:00+01:00"
        assert v["ride"]["wheelchair"] is False and v["ride"]["assistant"] is False
        assert v["service"] == "taxi" and "cukrzyca" not in str(v)
        # At the destination the stop's address is the destination, and the door notes stay home.
        at_destination = v["ride"]["stop"] == "destination"
        assert (v["address"] == "WSZ") is at_destination
        assert (v["notes_for_workers"] == "") is at_destination
    drop = dt.datetime.fromisoformat(visits[1]["start"])
    assert drop <= dt.datetime(2026, 12, 1, 11, 0, tzinfo=drop.tzinfo) - dt.timedelta(minutes=10)


def test_range_defaults_and_limits(api) -> None:
    """Default range: today and six days on; 'to' before 'from' or more than 92 days is a 422 problem."""
    r = api.client.get("/api/v1/me/schedule", headers=api.auth("worker"))
    body = r.json()
    assert r.status_code == 200
    start, end = dt.date.fromisoformat(body["from"]), dt.date.fromisoformat(body["to"])
    assert (end - start).days == 6
    assert schedule(api, api.auth("worker"), DAY, DAY - dt.timedelta(days=1)).status_code == 422
    too_long = schedule(api, api.auth("worker"), DAY, DAY + dt.timedelta(days=92))
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "to"
    assert schedule(api, api.auth("worker"), DAY, DAY + dt.timedelta(days=91)).status_code == 200


def test_local_times_are_right_on_both_dst_days(api) -> None:
    """2026-03-29 (23 h) and 2026-10-25 (25 h): each visit's local time and offset follow Europe/Warsaw."""
    spring, autumn = dt.date(2026, 3, 29), dt.date(2026, 10, 25)
    insert_published(api, spring, [("W1", "R1", utc(2026, 3, 29, 0, 30), 30),  # 01:30 CET, before the jump
                                   ("W1", "R2", utc(2026, 3, 29, 7), 60)])      # 09:00 CEST
    insert_published(api, autumn, [("W1", "R1", utc(2026, 10, 25, 0, 30), 30),  # 02:30 CEST (first)
                                   ("W1", "R2", utc(2026, 10, 25, 1, 30), 30),  # 02:30 CET (second)
                                   ("W1", "R3", utc(2026, 10, 25, 8), 60)])     # 09:00 CET
    h = api.auth("worker")
    got = [(v["start"], v["end"]) for v in schedule(api, h, spring).json()["visits"]]
    # 01:30 CET + 30 minutes is 03:00 CEST: the clocks jumped at 02:00.
    assert got == [("2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00"),
                   ("2026-03-29T09:00:00+02:00", "2026-03-29T10:00:00+02:00")]
    got = [(v["start"], v["end"]) for v in schedule(api, h, autumn).json()["visits"]]
    assert got == [("2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00"),
                   ("2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"),
                   ("2026-10-25T09:00:00+01:00", "2026-10-25T10:00:00+01:00")]
    # The 30-minute visit from 02:30 CEST ends at 02:00 CET: half an hour later, not half an hour earlier.
    first = schedule(api, h, autumn).json()["visits"][0]
    assert dt.datetime.fromisoformat(first["end"]) - dt.datetime.fromisoformat(first["start"]) == dt.timedelta(minutes=30)


def test_a_repeated_fetch_reads_no_health_column_and_writes_nothing(api) -> None:
    """What a phone's poll costs the database, counted (not timed): one statement each for the caller,
    the published versions, the visits, the breaks and the versions last shown; none reads a senior's
    health columns (data minimisation: they are not even loaded), and a poll that sees nothing new writes
    nothing.  Before issue 21's second pass the fetch loaded whole request and senior rows, health included,
    and read the published versions twice."""
    from sqlalchemy import event

    plan_and_publish(api)
    h = api.auth("worker")
    assert schedule(api, h).status_code == 200  # the first fetch remembers the version shown
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.lower())

    event.listen(api.engine, "before_cursor_execute", record)
    try:
        r = schedule(api, h)
    finally:
        event.remove(api.engine, "before_cursor_execute", record)
    assert r.status_code == 200 and r.json()["visits"]
    reads = [s for s in statements if s.lstrip().startswith("select")]
    writes = [s for s in statements if s.lstrip().split(" ", 1)[0] in ("insert", "update", "delete")]
    assert len(reads) == 5, reads
    assert writes == []
    for column in ("health_notes", "disability", "mental_disorder", "birth_year", "password_hash"):
        assert not [s for s in reads if column in s], column
