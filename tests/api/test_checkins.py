"""Check-in and check-out of visits (issue 17 item 3) over HTTP, on SQLite and PostgreSQL.

Rosters are written by hand (no solver: fast) except in the re-plan test, which plans the small
scenario's Tuesday deterministically (``tests.api.test_replan``: the checker checks every plan).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlmodel import Session

from dispatch.planning import replan as rp
from dispatch.providers.travel import provider_from_settings
from dispatch.storage import models as m
from dispatch.timeutil import to_minutes
from optimizer import load_weights
from optimizer.params import load_params
from tests.api.conftest import DAY
from tests.api.test_replan import PARAMS, plan_and_publish, stops
from tests.api.test_rosters import PROBLEM

Visit = tuple[str, str, dt.datetime, int, str]  # worker, request, start UTC, minutes, leg


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC)


def roster(api, day: dt.date, visits: list[Visit], version: int = 1,
           status: m.RosterStatus = m.RosterStatus.PUBLISHED) -> int:
    """A roster version written directly: (worker, request, start UTC, minutes, leg) per stop."""
    with Session(api.engine) as s:
        row = m.Roster(date=day, version=version, status=status)
        s.add(row)
        s.flush()
        for seq, (worker, request, start, minutes, leg) in enumerate(visits):
            s.add(m.RosterAssignment(roster_id=row.id, worker_id=worker, visit_request_id=request, occurrence_date=day,
                                     sequence=seq, arrival=start, start=start,
                                     end=start + dt.timedelta(minutes=minutes), leg=leg))
        s.commit()
        return row.id or 0


def uid(request: str, day: dt.date, worker: str, leg: str = "visit") -> str:
    return f"{request}-{day:%Y%m%d}-{leg}-{worker}@carepath"


def start(api, user: str, visit: str, **body):
    return api.client.post(f"/api/v1/me/visits/{visit}/start", json=body or None, headers=api.auth(user))


def finish(api, user: str, visit: str, **body):
    return api.client.post(f"/api/v1/me/visits/{visit}/finish", json=body or None, headers=api.auth(user))


TUESDAY = [("W1", "R1", utc(2026, 12, 1, 7), 60, "visit"),    # 08:00-09:00 local
           ("W2", "R2", utc(2026, 12, 1, 8), 45, "visit"),    # 09:00-09:45
           ("W1", "R3", utc(2026, 12, 1, 10), 30, "visit")]   # 11:00-11:30


def test_a_worker_checks_in_and_out_of_own_visit_by_its_schedule_uid_and_it_is_audited(api) -> None:
    roster(api, DAY, TUESDAY)
    api.set_now(utc(2026, 12, 1, 9, 30))
    [first, *_] = api.client.get("/api/v1/me/schedule", params={"from": DAY.isoformat()},
                                 headers=api.auth("worker")).json()["visits"]
    assert first["uid"] == uid("R1", DAY, "W1")
    r = start(api, "worker", first["uid"], at="08:05", note="domofon nie działa")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "started" and body["started_at"] == "2026-12-01T08:05:00+01:00"
    assert body["finished_at"] is None and body["note"] == "domofon nie działa"
    r = finish(api, "worker", first["uid"], at="2026-12-01T09:10")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "finished" and body["outcome"] == "delivered"
    assert body["finished_at"] == "2026-12-01T09:10:00+01:00"
    with Session(api.engine) as s:
        rows = s.scalars(select(m.AuditLog).where(m.AuditLog.action.like("visit.checkin%"))
                         .order_by(m.AuditLog.id)).all()
    assert [(a.action, a.actor) for a in rows] == [("visit.checkin_start", "worker"), ("visit.checkin_finish", "worker")]
    assert rows[0].changes["visit"]["new"] == first["uid"]
    assert rows[1].changes["outcome"]["new"] == "delivered"


def test_another_worker_s_stop_a_draft_and_other_roles_are_refused(api) -> None:
    roster(api, DAY, TUESDAY)
    roster(api, DAY + dt.timedelta(days=1), [("W1", "R1", utc(2026, 12, 2, 7), 60, "visit")],
           status=m.RosterStatus.DRAFT)
    api.set_now(utc(2026, 12, 2, 9))
    for visit in (uid("R1", DAY, "W1"), uid("R1", DAY, "W2"), "nonsense", uid("R1", DAY + dt.timedelta(days=1), "W2")):
        r = start(api, "worker2", visit)
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM), visit
    assert start(api, "worker", uid("R1", DAY + dt.timedelta(days=1), "W1")).status_code == 404  # a draft
    for user in ("coordinator", "dispatcher", "admin"):
        assert start(api, user, uid("R1", DAY, "W1")).status_code == 403
    with Session(api.engine) as s:
        assert s.scalars(select(m.VisitCheckin)).all() == []


def test_twice_finish_before_start_and_bad_times_are_refused_naming_the_field(api) -> None:
    roster(api, DAY, TUESDAY)
    api.set_now(utc(2026, 12, 1, 9, 0))  # 10:00 local
    visit = uid("R1", DAY, "W1")
    bad = [({"at": "2026-12-01T08:05:00+01:00"}, "offset"), ({"at": "2026-12-01T07:05Z"}, "offset"),
           ({"at": "8 rano"}, "not a local time"), ({"at": "10:30"}, "in the future")]
    for body, words in bad:
        r = start(api, "worker", visit, **body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == "at" and words in r.json()["errors"][0]["message"]
    assert finish(api, "worker", visit).status_code == 409  # delivered, never started
    assert start(api, "worker", visit, at="08:10").status_code == 200
    again = start(api, "worker", visit, at="08:12")
    assert again.status_code == 409 and "already started at 2026-12-01T08:10+01:00" in again.json()["detail"]
    early = finish(api, "worker", visit, at="08:00")
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "at"
    assert "before the start" in early.json()["errors"][0]["message"]
    assert finish(api, "worker", visit, at="09:00", outcome="delivered").status_code == 200
    twice = finish(api, "worker", visit, at="09:05")
    assert twice.status_code == 409 and "already finished" in twice.json()["detail"]
    assert finish(api, "worker", visit, outcome="lost").status_code == 422


def test_not_delivered_visits_are_finished_as_absent_or_refused_with_a_note(api) -> None:
    roster(api, DAY, TUESDAY)
    api.set_now(utc(2026, 12, 1, 12))
    r = finish(api, "worker", uid("R1", DAY, "W1"), at="08:02", outcome="absent", note="nikt nie otwiera")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcome"] == "absent" and body["started_at"] == body["finished_at"] == "2026-12-01T08:02:00+01:00"
    assert body["note"] == "nikt nie otwiera"
    assert start(api, "worker2", uid("R2", DAY, "W2"), at="09:00").status_code == 200
    r = finish(api, "worker2", uid("R2", DAY, "W2"), at="09:05", outcome="refused", note="senior odmówiła")
    assert r.status_code == 200 and r.json()["outcome"] == "refused"
    assert start(api, "worker", uid("R3", DAY, "W1"), at="11:00", note="a" * 400).status_code == 200
    long = finish(api, "worker", uid("R3", DAY, "W1"), at="11:30", note="b" * 200)  # 601 with the start's
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "note"
    view = api.client.get(f"/api/v1/rosters/{DAY}", headers=api.auth("dispatcher")).json()
    states = {v["visit_request_id"]: v["checkin"] for rt in view["routes"] for v in rt["visits"]}
    assert states["R3"]["status"] == "started" and states["R3"]["note"] == "a" * 400
    assert states["R1"]["outcome"] == "absent" and states["R2"]["outcome"] == "refused"
    assert not states["R1"]["missed"] and not states["R2"]["late"]


def test_the_roster_view_flags_late_and_missed_visits_at_the_app_clock(api) -> None:
    """At 09:20 local: R1 (08:00-09:00) not started is missed; R2 (09:00-09:45) not started is late (15 min
    passed, end not); R3 (11:00) is just planned.  Once R2 starts it is no longer late.  Drafts: no flags."""
    roster(api, DAY, TUESDAY)
    api.set_now(utc(2026, 12, 1, 8, 20))

    def states() -> dict[str, dict]:
        view = api.client.get(f"/api/v1/rosters/{DAY}", headers=api.auth("dispatcher")).json()
        return {v["visit_request_id"]: v["checkin"] for rt in view["routes"] for v in rt["visits"]}

    now = states()
    assert (now["R1"]["missed"], now["R1"]["late"]) == (True, False)
    assert (now["R2"]["missed"], now["R2"]["late"]) == (False, True)
    assert now["R3"] == {"status": "planned", "started_at": None, "finished_at": None, "outcome": None, "note": "",
                         "late": False, "missed": False}
    api.set_now(utc(2026, 12, 1, 8, 14))  # 09:14: R2 only 14 min past its start
    assert states()["R2"]["late"] is False
    api.set_now(utc(2026, 12, 1, 8, 20))
    assert start(api, "worker2", uid("R2", DAY, "W2"), at="09:18").status_code == 200
    after = states()["R2"]
    assert after["status"] == "started" and after["late"] is False and after["started_at"] == "2026-12-01T09:18:00+01:00"
    roster(api, DAY, TUESDAY, version=2, status=m.RosterStatus.DRAFT)
    draft = states()
    assert not any(s["late"] or s["missed"] for s in draft.values())


def test_a_re_plan_keeps_a_checked_in_stop_where_it_was(api) -> None:
    """The small Tuesday planned and published; a carer starts a visit planned after 10:00; then the other
    carer is sick from 10:00 and the day is re-planned from 10:00: the started stop is pinned (same worker,
    same start) in the re-plan's problem and in the stored draft."""
    published = plan_and_publish(api)
    before = stops(api, published.id or 0)
    cut = utc(2026, 12, 1, 9)  # 10:00 local
    later = sorted((s, k, w) for k, (w, s) in before.items() if w in ("W1", "W2") and s >= cut)
    assert later, before
    start_at, key, worker = later[0]
    other = "W2" if worker == "W1" else "W1"
    api.set_now(start_at + dt.timedelta(minutes=1))
    user = "worker" if worker == "W1" else "worker2"
    r = start(api, user, uid(key[0], DAY, worker, key[1]))
    assert r.status_code == 200, r.text

    spec = rp.ReplanSpec(dt.time(10), (rp.Unavailability(dt.time(10), other),), "sick")
    with Session(api.engine) as s:
        assert rp.checked_in(s, DAY) == {(key[0], DAY, key[1])}
        built = rp.build_replan(s, DAY, None, spec, provider_from_settings(api.settings), "Europe/Warsaw",
                                load_weights(None), start_at + dt.timedelta(minutes=2)).built
    pins = {(src.request_id, src.leg): (v.pinned_worker, v.pinned_start) for v in built.problem.visits
            for src in [built.sources[v.id]]}
    assert pins[key] == (worker, to_minutes(start_at, DAY, "Europe/Warsaw"))  # held where it is
    assert all(pins[k] == (None, None) for k, (w, s_) in before.items()
               if w in ("W1", "W2") and s_ >= cut and k != key and k in pins)  # the others are free to move
    draft, counts, solution = rp.replan_and_store(
        api.engine, DAY, spec, provider_from_settings(api.settings), load_params(None, **PARAMS), "Europe/Warsaw",
        None, now=start_at + dt.timedelta(minutes=2), actor="dispatcher", role=m.UserRole.DISPATCHER)
    after = stops(api, draft.id or 0)
    assert after[key] == (worker, start_at)
    moved = [k for k, (w, s) in before.items() if w == other and s >= cut]
    assert all(after[k][0] != other for k in moved if k in after)
