"""Reproducers of issue 21 items 5 and 8 (the fuzz run's plain-text 500s and the missing sanity
limits), each now a 422 problem+json naming its field, over HTTP and through spreadsheet imports.

Every test runs on SQLite and PostgreSQL.  The limits themselves are in ``dispatch/limits.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from dispatch import limits
from dispatch.storage.models import VisitRequest, Worker, WorkerAbsence

PROBLEM = "application/problem+json"
HUGE = "19375160791587713024"  # the fuzz run's integer: more than 64 bits
CARE = {"senior_id": "S2", "service": "home_care", "first_date": "2026-12-02", "window_start": "14:00",
        "window_end": "15:30"}
TAXI = {"senior_id": "S3", "service": "taxi", "first_date": "2026-12-03", "window_start": "08:00",
        "window_end": "09:00", "destination_place_id": "destination-wsz", "appointment": "10:00",
        "appointment_minutes": 45}
CAR = {"plate": "TK 55555", "seats": 3, "base_place": "office-mopr"}


def refused(response: Any, *fields: str) -> dict[str, str]:
    """Assert a 422 problem+json whose errors name exactly ``fields``; returns their messages."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} == set(fields), errors
    return {e["field"]: e["message"] for e in errors}


def count(api: Any, model: Any) -> int:
    with Session(api.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def worker_body(**changes: Any) -> dict[str, Any]:
    body = {
        "first_name": "Marek", "last_name": "Lis", "gender": "M", "kind": "handyman", "skills": ["handyman"],
        "contract": "zlecenie", "weekly_hours": 20, "home_area": "area-centrum", "home_lat": 50.87,
        "home_lon": 20.63, "travel_mode": "car", "shifts": [{"weekday": 0, "start": "08:00", "end": "16:00"}],
    }
    return body | changes


def senior_body(**changes: Any) -> dict[str, Any]:
    body = {
        "first_name": "Janina", "last_name": "Wójcik", "gender": "F", "birth_year": 1938, "street": "Focha",
        "number": "3", "postcode": "25-002", "city": "Kielce", "area": "area-centrum", "lat": 50.871,
        "lon": 20.629, "disability": "znaczny",
    }
    return body | changes


# --------------------------------------------------------------------------- times with offsets


def test_times_with_an_offset_are_refused_never_stored_as_local(api) -> None:
    """``window_start`` with ``Z`` next to a ``window_end`` without (a 500 in the fuzz run), and
    ``09:00:00+05:00`` (once echoed back and stored as 09:00 local) are 422 naming the field; the
    request is not stored, and a PATCH with an offset leaves the request as it was."""
    c, h = api.client, api.auth("coordinator")
    before = count(api, VisitRequest)
    msgs = refused(c.post("/api/v1/requests", json=CARE | {"window_start": "14:00:00Z"}, headers=h), "window_start")
    assert "without an offset" in msgs["window_start"] and "09:00" in msgs["window_start"]
    refused(c.post("/api/v1/requests", json=CARE | {"window_start": "09:00:00+05:00", "window_end": "10:00:00+05:00"},
                   headers=h), "window_start", "window_end")
    refused(c.post("/api/v1/requests", json=TAXI | {"appointment": "10:00:00-01:00"}, headers=h), "appointment")
    assert count(api, VisitRequest) == before
    refused(c.patch("/api/v1/requests/R1", json={"window_start": "08:00:00+01:00"}, headers=h), "window_start")
    assert c.get("/api/v1/requests/R1", headers=h).json()["window_start"] == "08:00:00"


def test_shift_and_car_times_with_an_offset_are_refused(api) -> None:
    """A worker's shift starting at ``06:00:00+01:00`` and a car ``available_from`` the same (500s in the
    fuzz run) are 422 naming the field, on create and on change."""
    c, h = api.client, api.auth("admin")
    shifts = [{"weekday": 0, "start": "06:00:00+01:00", "end": "14:00"}]
    refused(c.post("/api/v1/workers", json=worker_body(shifts=shifts), headers=h), "shifts.0.start")
    refused(c.patch("/api/v1/workers/W1", json={"shifts": shifts}, headers=h), "shifts.0.start")
    refused(c.post("/api/v1/cars", json=CAR | {"available_from": "06:00:00+01:00"}, headers=h), "available_from")
    refused(c.patch("/api/v1/cars/C1", json={"available_to": "22:00Z"}, headers=h), "available_to")
    assert c.post("/api/v1/cars", json=CAR | {"available_from": "06:00"}, headers=h).status_code == 201


# --------------------------------------------------------------------------- integers


def test_integers_beyond_what_a_column_holds_are_422_naming_the_parameter(api) -> None:
    """``?version=19375160791587713024`` (a 500 in the fuzz run) and every other integer path or query
    parameter beyond the id columns' range is a 422 naming it; the largest id is still a plain 404."""
    c, admin = api.client, api.auth("admin")
    refused(c.get(f"/api/v1/rosters/2026-12-01?version={HUGE}", headers=admin), "query.version")
    refused(c.get(f"/api/v1/rosters/2026-12-01/export?version={HUGE}", headers=admin), "query.version")
    refused(c.get(f"/api/v1/workers/W1/absences/{HUGE}", headers=admin), "path.absence_id")
    refused(c.delete(f"/api/v1/workers/W1/absences/{HUGE}", headers=admin), "path.absence_id")
    refused(c.get(f"/api/v1/audit?before_id={HUGE}", headers=admin), "query.before_id")
    refused(c.get(f"/api/v1/requests?limit={HUGE}", headers=admin), "query.limit")
    largest = limits.MAX_DB_INT
    assert c.get(f"/api/v1/rosters/2026-12-01?version={largest}", headers=admin).status_code == 404
    assert c.get(f"/api/v1/workers/W1/absences/{largest}", headers=admin).status_code == 404
    assert c.get(f"/api/v1/audit?before_id={largest}", headers=admin).status_code == 200


def test_a_hand_made_cursor_is_a_422_not_a_500(api) -> None:
    """A cursor carrying a huge integer, a non-date or a non-text key (made by hand, with the right sort
    and filters) is a 422 naming ``cursor``; a cursor the API gave out still works."""
    c, h = api.client, api.auth("dispatcher")

    def cursor(sort: str, key: list[Any]) -> str:
        good = c.get("/api/v1/requests", params={"limit": 1, "sort": sort}, headers=h).json()["next_cursor"]
        doc = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
        doc["k"] = key
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    for sort, key in (("priority", [int(HUGE), "R1"]), ("first_date", ["not-a-date", "R1"]),
                      ("first_date", ["9999-99-99", "R1"]), ("id", [["R1"], ["R1"]]), ("priority", [3, 10**30])):
        refused(c.get("/api/v1/requests", params={"limit": 1, "sort": sort, "cursor": cursor(sort, key)}, headers=h),
                "cursor")
    page = c.get("/api/v1/requests", params={"limit": 1, "sort": "priority"}, headers=h).json()
    again = c.get("/api/v1/requests", params={"limit": 1, "sort": "priority", "cursor": page["next_cursor"]},
                  headers=h)
    assert again.status_code == 200 and again.json()["items"]


# --------------------------------------------------------------------------- dates


def test_dates_outside_the_sane_range_are_422_naming_the_field(api) -> None:
    """``first_date`` 9999-12-31 (a 500 in the fuzz run), ``until`` in 9999, an absence from the year 0266
    (once accepted) and every date in a path or query beyond 2000-2099 are 422 naming the field; the
    range's own ends are accepted."""
    c, coordinator, admin = api.client, api.auth("coordinator"), api.auth("admin")
    msgs = refused(c.post("/api/v1/requests", json=CARE | {"first_date": "9999-12-31"}, headers=coordinator),
                   "first_date")
    assert "2000-01-01" in msgs["first_date"] and "2099-12-31" in msgs["first_date"]
    refused(c.post("/api/v1/requests", json=CARE | {"rrule": "FREQ=WEEKLY", "until": "9999-12-31"},
                   headers=coordinator), "until")
    refused(c.patch("/api/v1/requests/R1", json={"first_date": "0266-01-01"}, headers=coordinator), "first_date")
    last = c.post("/api/v1/requests", json=CARE | {"first_date": "2099-12-31"}, headers=coordinator)
    assert last.status_code == 201, last.text

    refused(c.post("/api/v1/workers/W1/absences", json={"from_date": "0266-01-01", "to_date": "2028-01-01"},
                   headers=admin), "from_date")
    assert count(api, WorkerAbsence) == 0

    refused(c.get("/api/v1/rosters/9999-12-31", headers=admin), "path.date")
    refused(c.post("/api/v1/rosters/9999-12-31/plan", json={"time_limit_s": 1}, headers=admin), "path.date")
    refused(c.get("/api/v1/rosters/0001-01-01/export", headers=admin), "path.date")
    refused(c.get("/api/v1/requests", params={"active_on": "9999-12-31"}, headers=admin), "query.active_on")
    refused(c.get("/api/v1/jobs", params={"date": "0001-01-01"}, headers=admin), "query.date")
    refused(c.get("/api/v1/me/schedule", params={"from": "9999-12-31"}, headers=api.auth("worker")), "query.from")


def test_an_absence_longer_than_three_years_is_refused(api) -> None:
    """Childcare leave (3 years) is the longest absence; a longer one, a typo in a year, is a 422 on
    ``to_date``, while three years fit."""
    c, h = api.client, api.auth("admin")
    msgs = refused(c.post("/api/v1/workers/W1/absences", json={"from_date": "2026-01-01", "to_date": "2062-01-01"},
                          headers=h), "to_date")
    assert "longer than" in msgs["to_date"]
    ok = c.post("/api/v1/workers/W1/absences", json={"from_date": "2026-01-01", "to_date": "2028-12-31"}, headers=h)
    assert ok.status_code == 201, ok.text


# --------------------------------------------------------------------------- durations, delays, sizes


def test_delays_durations_and_list_sizes_are_bounded(api) -> None:
    """``follow_min_delay`` 10^12 (once accepted) and every delay over a day, more than 50 required skills
    (200,000 were accepted), a 13.5 h shift and too many shifts, skills or referred workers are 422
    naming the field; the limits themselves are accepted."""
    c, coordinator, admin = api.client, api.auth("coordinator"), api.auth("admin")
    follow = CARE | {"follows_request_id": "R1"}
    refused(c.post("/api/v1/requests", json=follow | {"follow_min_delay": 10**12}, headers=coordinator),
            "follow_min_delay")
    refused(c.post("/api/v1/requests", json=follow | {"follow_max_delay": 24 * 60 + 1}, headers=coordinator),
            "follow_max_delay")
    day = c.post("/api/v1/requests", json=follow | {"follow_min_delay": 24 * 60, "follow_max_delay": 24 * 60},
                 headers=coordinator)
    assert day.status_code == 201, day.text
    too_many = [f"skill_{i}" for i in range(limits.MAX_SKILLS + 1)]
    refused(c.post("/api/v1/requests", json=CARE | {"required_skills": too_many}, headers=coordinator),
            "required_skills")
    refused(c.post("/api/v1/requests", json=CARE | {"duration": 12 * 60 + 1}, headers=coordinator), "duration")
    refused(c.post("/api/v1/requests", json=CARE | {"max_lateness": 10**12}, headers=coordinator), "max_lateness")

    refused(c.post("/api/v1/workers", json=worker_body(skills=too_many), headers=admin), "skills")
    long_shift = [{"weekday": 0, "start": "06:00", "end": "19:30"}]
    msgs = refused(c.post("/api/v1/workers", json=worker_body(shifts=long_shift), headers=admin), "shifts.0.end")
    assert "13 h" in msgs["shifts.0.end"]
    many_shifts = [{"weekday": d % 7, "start": f"{h:02d}:00", "end": f"{h:02d}:30"}
                   for d in range(7) for h in range(5)]
    refused(c.post("/api/v1/workers", json=worker_body(shifts=many_shifts), headers=admin), "shifts")
    thirteen = [{"weekday": 0, "start": "06:00", "end": "19:00"}]
    assert c.post("/api/v1/workers", json=worker_body(shifts=thirteen), headers=admin).status_code == 201

    refs = [f"W{i}" for i in range(limits.MAX_WORKER_REFS + 1)]
    refused(c.post("/api/v1/seniors", json=senior_body(regular_workers=refs), headers=coordinator), "regular_workers")
    refused(c.patch("/api/v1/seniors/S1", json={"forbidden_workers": refs}, headers=coordinator), "forbidden_workers")


def test_homes_must_lie_near_their_area(api) -> None:
    """A senior at 0,0 registered in a Kielce area (once accepted) and a worker living 55 km from the
    home area are 422 naming the latitude; 40 km away is accepted."""
    c, coordinator, admin = api.client, api.auth("coordinator"), api.auth("admin")
    msgs = refused(c.post("/api/v1/seniors", json=senior_body(lat=0, lon=0), headers=coordinator), "lat")
    assert "area-centrum" in msgs["lat"] and "50 km" in msgs["lat"]
    refused(c.patch("/api/v1/seniors/S1", json={"lat": 0.0, "lon": 0.0}, headers=coordinator), "lat")
    refused(c.post("/api/v1/workers", json=worker_body(home_lat=50.87 + 0.5), headers=admin), "home_lat")
    near = c.post("/api/v1/seniors", json=senior_body(lat=50.8703 + 0.36), headers=coordinator)  # about 40 km north
    assert near.status_code == 201, near.text


# --------------------------------------------------------------------------- imports


def upload(api: Any, kind: str, content: bytes, user: str) -> Any:
    return api.client.post(f"/api/v1/imports/{kind}", files={"file": ("plik.csv", content, "text/csv")},
                           headers=api.auth(user))


def csv(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_imports_apply_the_same_limits_row_by_row(api) -> None:
    """A spreadsheet row with a time with an offset, a date in 9999, a follow-up delay of 10^12, too many
    skills or an over-long first name (a database error on PostgreSQL before) is reported by line and
    column; nothing is imported."""
    skills = ",".join(f"s{i}" for i in range(limits.MAX_SKILLS + 1))
    requests = upload(api, "requests", csv(
        "senior_id;service;first_date;window_start;window_end;follows_request_id;follow_min_delay;required_skills",
        "S1;home_care;2026-12-07;09:00+05:00;10:00;;;",
        "S1;home_care;31.12.9999;09:00;10:00;;;",
        "S1;home_care;2026-12-07;09:00;10:00;R1;1000000000000;",
        f"S1;home_care;2026-12-07;09:00;10:00;;;{skills}",
        "S1;home_care;2026-12-07;09:00;10:00Z;;;",
    ), "coordinator")
    assert requests.status_code == 422 and requests.headers["content-type"].startswith(PROBLEM)
    found = {(e["row"], e["field"]) for e in requests.json()["errors"]}
    assert found == {(2, "window_start"), (3, "first_date"), (4, "follow_min_delay"), (5, "required_skills"),
                     (6, "window_end")}
    offset = next(e for e in requests.json()["errors"] if e["row"] == 2)
    assert "without an offset" in offset["message"]
    assert count(api, VisitRequest) == 4

    header = "first_name;last_name;gender;kind;contract;weekly_hours;home_area;home_lat;home_lon;travel_mode;shift_mon"
    workers = upload(api, "workers", csv(
        header,
        "Ewa;Lis;F;carer;zlecenie;20;area-centrum;0;0;walk;08:00-12:00",
        "Ola;Kos;F;carer;zlecenie;20;area-centrum;50,87;20,63;walk;06:00+01:00-14:00",
        f"{'A' * 101};Kos;F;carer;zlecenie;20;area-centrum;50,87;20,63;walk;06:00-20:00",
    ), "admin")
    assert workers.status_code == 422, workers.text
    assert {(e["row"], e["field"]) for e in workers.json()["errors"]} == {
        (2, "home_lat"), (3, "shift_mon"), (4, "first_name"), (4, "shift_mon")}
    assert count(api, Worker) == 3
