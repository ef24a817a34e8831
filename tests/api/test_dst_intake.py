"""Visit windows on the days the clocks change in Europe/Warsaw (issue 21, item 6): 2026-03-29 (02:00 ->
03:00, local 02:00-02:59 does not exist) and 2026-10-25 (03:00 -> 02:00, 02:00-02:59 happens twice).

Intake refuses a one-off window in the gap and states how a recurring one is read (RFC 5545: with the
offset before the gap, 02:30 is 03:30) and which of two ambiguous times is meant (the first, summer
time).  Planning never fails on such a stored request (databases from before these checks hold them):
the job that failed with ``NonexistentLocalTime`` for the whole day now plans it, and a request whose
window the gap empties is named among the roster's unplaced visits.  Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from dispatch.storage import models as m
from dispatch.planning.rosters import build_day
from dispatch.providers.travel import GeodesicProvider
from dispatch.domain import ServiceCode
from tests.api.test_jobs import drain_queue, poll

PROBLEM = "application/problem+json"
SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)  # both Sundays


def care(first_date: dt.date, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"senior_id": "S1", "service": "home_care", "first_date": first_date.isoformat(), "window_start": start,
            "window_end": end, "duration": 20} | extra


def notes(body: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(n["field"], n["date"], n["kind"], n["meant"]) for n in body["local_time_notes"]]


def test_a_one_off_window_in_the_spring_gap_is_refused_naming_both_fields(api) -> None:
    """2026-03-29 02:15-02:45 (accepted before, then the day's plan failed) is a 422 on window_start and
    window_end saying the time does not exist and which hour is skipped; nothing is stored."""
    c, h = api.client, api.auth("coordinator")
    before = len(c.get("/api/v1/requests", headers=h).json()["items"])
    response = c.post("/api/v1/requests", json=care(SPRING, "02:15", "02:45"), headers=h)
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(messages) == {"window_start", "window_end"}
    assert "02:15 does not exist on 2026-03-29" in messages["window_start"]
    assert "clocks jump from 02:00 to 03:00" in messages["window_end"] and "02:00-03:00" in messages["window_end"]
    assert len(c.get("/api/v1/requests", headers=h).json()["items"]) == before
    # moving a stored one-off request onto the gap is refused the same way
    r1 = c.post("/api/v1/requests", json=care(SPRING, "01:00", "01:30"), headers=h)
    assert r1.status_code == 201 and r1.json()["local_time_notes"] == []
    moved = c.patch(f"/api/v1/requests/{r1.json()['id']}", json={"window_end": "02:30"}, headers=h)
    assert moved.status_code == 422 and {e["field"] for e in moved.json()["errors"]} == {"window_end"}


def test_a_one_off_window_in_the_spring_gap_is_refused_in_an_import(api) -> None:
    """The same window in a spreadsheet row is reported by line and column; nothing is imported."""
    content = ("\ufeffsenior_id;service;first_date;window_start;window_end\r\n"
               "S1;home_care;29.03.2026;02:15;02:45\r\n").encode()
    response = api.client.post("/api/v1/imports/requests", files={"file": ("plik.csv", content, "text/csv")},
                               headers=api.auth("coordinator"))
    assert response.status_code == 422, response.text
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {(2, "window_start"), (2, "window_end")}


def test_a_recurring_window_meeting_the_gap_is_accepted_and_the_answer_states_the_reading(api) -> None:
    """Every Sunday 02:15-02:45 from 2026-03-01: 201, and ``local_time_notes`` says that on 2026-03-29 the
    times are read as 03:15 and 03:45 CEST (RFC 5545) and on 2026-10-25 the first (CEST) 02:15/02:45 is
    meant; a GET says the same."""
    c, h = api.client, api.auth("coordinator")
    created = c.post("/api/v1/requests", json=care(dt.date(2026, 3, 1), "02:15", "02:45", rrule="FREQ=WEEKLY;BYDAY=SU"),
                     headers=h)
    assert created.status_code == 201, created.text
    expected = [
        ("window_start", "2026-03-29", "nonexistent", "2026-03-29T03:15:00+02:00"),
        ("window_end", "2026-03-29", "nonexistent", "2026-03-29T03:45:00+02:00"),
        ("window_start", "2026-10-25", "ambiguous", "2026-10-25T02:15:00+02:00"),
        ("window_end", "2026-10-25", "ambiguous", "2026-10-25T02:45:00+02:00"),
    ]
    assert notes(created.json()) == expected
    spring = created.json()["local_time_notes"][0]["message"]
    assert "does not exist on 2026-03-29" in spring and "03:15" in spring and "RFC 5545" in spring
    autumn = created.json()["local_time_notes"][2]["message"]
    assert "happens twice on 2026-10-25" in autumn and "first one is meant" in autumn
    assert notes(c.get(created.headers["location"], headers=h).json()) == expected


def test_an_ambiguous_one_off_time_is_accepted_and_the_first_one_is_stated(api) -> None:
    """2026-10-25 02:30-02:50 is accepted; the answer says 02:30 means the first, summer-time 02:30 (+02:00)."""
    created = api.client.post("/api/v1/requests", json=care(AUTUMN, "02:30", "02:50"), headers=api.auth("coordinator"))
    assert created.status_code == 201, created.text
    assert notes(created.json()) == [("window_start", "2026-10-25", "ambiguous", "2026-10-25T02:30:00+02:00"),
                                     ("window_end", "2026-10-25", "ambiguous", "2026-10-25T02:50:00+02:00")]
    assert "summer time (UTC+02:00)" in created.json()["local_time_notes"][0]["message"]


def test_a_recurring_window_the_gap_would_empty_is_refused(api) -> None:
    """Sundays 02:45-03:10: on 2026-03-29 the start reads as 03:45, after the end 03:10, so the window would
    be empty that day: a 422 on window_start saying so."""
    response = api.client.post("/api/v1/requests", headers=api.auth("coordinator"),
                               json=care(dt.date(2026, 3, 1), "02:45", "03:10", rrule="FREQ=WEEKLY;BYDAY=SU"))
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["window_start"] and "would be empty" in errors[0]["message"]


def _store_old_requests(api: Any) -> None:
    """Rows as a database from before the intake checks may hold them, and a Sunday shift for W1."""
    with Session(api.engine) as s:
        s.add(m.VisitRequest(id="R-GAP", senior_id="S1", service=ServiceCode.HOME_CARE, first_date=SPRING,
                             window_start=dt.time(2, 15), window_end=dt.time(2, 45), duration=20))
        s.add(m.VisitRequest(id="R-EMPTY", senior_id="S2", service=ServiceCode.HOME_CARE, first_date=dt.date(2026, 3, 1),
                             rrule="FREQ=WEEKLY;BYDAY=SU", window_start=dt.time(2, 45), window_end=dt.time(3, 10),
                             duration=20))
        s.add(m.VisitRequest(id="R-AMBIG", senior_id="S3", service=ServiceCode.HOME_CARE, first_date=AUTUMN,
                             window_start=dt.time(2, 30), window_end=dt.time(2, 45), duration=20))
        s.add(m.WorkerShift(worker_id="W1", weekday=6, start=dt.time(2, 0), end=dt.time(10, 0)))
        s.commit()


def test_stored_gap_and_ambiguous_windows_become_the_instants_intake_states(api) -> None:
    """The day's problem reads 02:15-02:45 on 2026-03-29 as 03:15-03:45 CEST (minutes 135-165 from local
    midnight), W1's Sunday shift from 02:00 as from 03:00 (minute 120), 02:30 on 2026-10-25 as the first
    02:30 (minute 150); the request the gap empties is skipped with a reason that names it."""
    _store_old_requests(api)
    travel = GeodesicProvider.from_settings(api.settings)
    with Session(api.engine) as s:
        spring = build_day(s, SPRING, travel, "Europe/Warsaw")
        autumn = build_day(s, AUTUMN, travel, "Europe/Warsaw")
    windows = {v.id: v.windows[0] for v in spring.problem.visits}
    assert (windows["R-GAP@2026-03-29"].start, windows["R-GAP@2026-03-29"].end) == (135, 165)
    assert [(sh.start, sh.end) for w in spring.problem.workers if w.id == "W1" for sh in w.shifts] == [(120, 540)]
    assert [s.request_id for s in spring.skipped] == ["R-EMPTY"]
    assert "R-EMPTY" in spring.skipped[0].message_en and "03:45" in spring.skipped[0].message_en
    assert "R-EMPTY" in spring.skipped[0].message_pl
    ambiguous = {v.id: v.windows[0] for v in autumn.problem.visits}["R-AMBIG@2026-10-25"]
    assert (ambiguous.start, ambiguous.end) == (150, 165)


def test_the_plan_job_of_the_spring_forward_day_succeeds_and_names_the_request_it_cannot_plan(api) -> None:
    """The job for 2026-03-29 (which failed with NonexistentLocalTime) succeeds: the gap request is in the
    roster at 03:15 CEST or later, and the request the gap empties is among the unplaced visits, named,
    with the reason ``request_not_plannable`` in both languages."""
    _store_old_requests(api)
    h = api.auth("dispatcher")
    started = api.client.post(f"/api/v1/rosters/{SPRING.isoformat()}/plan", json={"time_limit_s": 1}, headers=h)
    assert started.status_code == 202, started.text
    drain_queue(api)
    done = poll(api, started.json()["id"])
    assert done["status"] == "succeeded", done
    roster = api.client.get(done["roster_url"], headers=h).json()
    unplaced = {u["visit_request_id"]: u for u in roster["unassigned"]}
    assert unplaced["R-EMPTY"]["reason"] == "request_not_plannable"
    assert "R-EMPTY" in unplaced["R-EMPTY"]["message_en"] and "R-EMPTY" in unplaced["R-EMPTY"]["message_pl"]
    gap = [v for route in roster["routes"] for v in route["visits"] if v["visit_request_id"] == "R-GAP"]
    assert gap, roster  # W1 works from 03:00: the visit is planned
    assert dt.datetime.fromisoformat(gap[0]["start"]) >= dt.datetime(2026, 3, 29, 3, 15, tzinfo=dt.timezone(
        dt.timedelta(hours=2)))
    with Session(api.engine) as s:
        assert s.exec(select(m.PlanJob.error).where(m.PlanJob.id == done["id"])).one() is None
