"""Labour rules across days (issue 17, items 5 and 7), on SQLite and PostgreSQL.

Entry: a weekly pattern that breaks the 11 h daily or 35 h weekly rest is refused (API create and
update, and the import, 422 naming the rule and its minutes); contract hours over ``weekly_hours``
are a warning, never a refusal; a zlecenie has no caps.  Planning: what is planned or published on
the days around a day cuts its shifts (a late visit yesterday starts today later; 11 h 00 min of
rest leaves the shift as it is, 10 h 59 min moves it by a minute), measured in real hours on both
DST days, and the week's rest and hours hold across New Year.  Every roster here is planned by
``plan_day`` and checked again by the independent checker (``optimizer.check``).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from rich.console import Console
from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.cli.summary import print_summary
from dispatch.planning.rosters import PlannedDay, plan_day
from dispatch.providers.travel import provider_from_settings
from dispatch.storage import models as m
from dispatch.timeutil import local_to_utc, to_minutes
from optimizer import check, is_feasible
from optimizer.params import load_params
from tests.api.conftest import DAY

T = dt.time
TZ = "Europe/Warsaw"
MONDAY = DAY - dt.timedelta(days=1)  # 2026-11-30
SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)
WEEKDAYS = [{"weekday": d, "start": "07:00", "end": "15:00"} for d in range(5)]
ISSUE_PATTERN = ([{"weekday": 0, "start": "06:00", "end": "18:00"}, {"weekday": 0, "start": "18:30", "end": "23:30"}]
                 + [{"weekday": d, "start": "06:00", "end": "18:00"} for d in range(1, 7)])


def worker_body(**changes: Any) -> dict[str, Any]:
    body = {"first_name": "Maria", "last_name": "Lis", "gender": "F", "kind": "carer", "skills": ["community_carer"],
            "contract": "etat_podstawowy", "weekly_hours": 40, "home_area": "area-centrum", "home_lat": 50.871,
            "home_lon": 20.629, "travel_mode": "car", "shifts": WEEKDAYS}
    return body | changes


def set_shifts(api, worker_id: str, shifts: list[dict], **changes: Any) -> dict:
    r = api.client.patch(f"/api/v1/workers/{worker_id}", json={"shifts": shifts, **changes}, headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def add_request(api, day: dt.date, start: str, end: str, duration: int, worker: str, senior: str = "S1") -> str:
    r = api.client.post("/api/v1/requests", headers=api.auth("coordinator"), json={
        "senior_id": senior, "service": "home_care", "first_date": day.isoformat(), "window_start": start,
        "window_end": end, "duration": duration, "mandatory": True, "required_workers": [worker]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def plan(api, day: dt.date) -> PlannedDay:
    """Plan ``day`` (1 s) as the dispatcher's job would, and check the plan independently again."""
    planned = plan_day(api.engine, day, provider_from_settings(api.settings), load_params(None, time_limit_s=1))
    assert is_feasible(check(planned.built.problem, planned.solution))
    return planned


def roster(api, day: dt.date) -> dict:
    r = api.client.get(f"/api/v1/rosters/{day.isoformat()}", headers=api.auth("dispatcher"))
    assert r.status_code == 200, r.text
    return r.json()


def publish(api, day: dt.date) -> None:
    r = api.client.post(f"/api/v1/rosters/{day.isoformat()}/publish",
                        headers={**api.auth("dispatcher"), "If-Match": roster(api, day)["etag"]},
                        json={"acknowledge_unplaced_mandatory": roster(api, day)["unplaced_mandatory_ids"]})
    assert r.status_code == 200, r.text


def published_work(api, day: dt.date, worker_id: str, start: dt.time, end: dt.time) -> None:
    """A published roster of ``day`` in which ``worker_id`` worked from ``start`` to ``end`` (local)."""
    with Session(api.engine) as session:
        r = m.Roster(date=day, version=1, status=m.RosterStatus.PUBLISHED)
        session.add(r)
        session.flush()
        a, b = local_to_utc(day, start, TZ), local_to_utc(day, end, TZ)
        session.add(m.WorkerWorkSpan(roster_id=r.id, worker_id=worker_id, date=day, start=a, end=b,
                                     work_minutes=int((b - a).total_seconds() // 60)))
        session.commit()


def span_of(api, roster_id: int, worker_id: str) -> m.WorkerWorkSpan:
    with Session(api.engine) as session:
        return session.scalars(select(m.WorkerWorkSpan).where(col(m.WorkerWorkSpan.roster_id) == roster_id,
                                                              col(m.WorkerWorkSpan.worker_id) == worker_id)).one()


def worker_of(planned: PlannedDay, worker_id: str):
    return next(w for w in planned.built.problem.workers if w.id == worker_id)


def limits(api, day: dt.date, worker_id: str) -> list[dict]:
    return [x for x in roster(api, day)["labour_limits"] if x["worker_id"] == worker_id]


# --------------------------------------------------------------------------- entry


def test_a_pattern_breaking_the_rests_is_refused_naming_the_rule_and_minutes(api) -> None:
    """The issue's worker (6 h 30 min of rest in Monday's doba, no 35 h rest) is a 422 on create and on
    update; nothing is stored or changed."""
    r = api.client.post("/api/v1/workers", json=worker_body(shifts=ISSUE_PATTERN), headers=api.auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    by_rule = {e["rule"]: e for e in r.json()["errors"]}
    assert set(by_rule) == {"daily_rest", "weekly_rest"}
    assert (by_rule["daily_rest"]["field"], by_rule["daily_rest"]["actual_minutes"],
            by_rule["daily_rest"]["limit_minutes"]) == ("shifts.0", 390, 660)
    assert "6 h 30 min" in by_rule["daily_rest"]["message"]
    assert (by_rule["weekly_rest"]["actual_minutes"], by_rule["weekly_rest"]["limit_minutes"]) == (720, 2100)
    r = api.client.patch("/api/v1/workers/W1", json={"shifts": ISSUE_PATTERN}, headers=api.auth("admin"))
    assert r.status_code == 422 and {e["rule"] for e in r.json()["errors"]} == {"daily_rest", "weekly_rest"}
    assert len(api.client.get("/api/v1/workers/W1", headers=api.auth("admin")).json()["shifts"]) == 5


def test_contract_hours_over_weekly_hours_are_flagged_not_refused_and_zlecenie_is_uncapped(api) -> None:
    """Five 10-hour days on a 40 h contract are stored with a weekly_hours warning (50 h vs 40 h); the
    issue's pattern on an umowa zlecenie is stored with no warning at all."""
    long_days = [{"weekday": d, "start": "07:00", "end": "17:00"} for d in range(5)]
    r = api.client.post("/api/v1/workers", json=worker_body(shifts=long_days), headers=api.auth("admin"))
    assert r.status_code == 201, r.text
    [warning] = r.json()["labour_warnings"]
    assert (warning["rule"], warning["actual_minutes"], warning["limit_minutes"]) == ("weekly_hours", 3000, 2400)
    assert "50 h" in warning["message"] and "50 h" in warning["message_pl"]
    r = api.client.post("/api/v1/workers", json=worker_body(contract="zlecenie", shifts=ISSUE_PATTERN),
                        headers=api.auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["labour_warnings"] == []


def test_import_refuses_a_rest_breach_by_line_and_column_and_reports_warnings(api) -> None:
    """An imported row whose Monday leaves 10 h 59 min of rest before Tuesday is refused under its
    weekday column with the rule; a file of lawful rows is stored, overtime patterns as warnings."""
    from tests.api.test_imports import csv, upload

    header = ("first_name;last_name;gender;kind;contract;weekly_hours;home_area;home_lat;home_lon;travel_mode;"
              "shift_mon;shift_tue")
    bad = upload(api, "workers", csv(header, "Ewa;Lis;F;carer;etat_podstawowy;40;area-centrum;50,87;20,63;car;"
                                             "12:00-20:01;07:00-15:00"), user="admin")
    assert bad.status_code == 422, bad.text
    [error] = bad.json()["errors"]
    assert (error["row"], error["field"], error["rule"], error["actual_minutes"]) == (2, "shift_mon", "daily_rest", 659)
    good = upload(api, "workers", csv(header, "Ewa;Lis;F;carer;etat_podstawowy;40;area-centrum;50,87;20,63;car;"
                                              "12:00-20:00;07:00-15:00",
                                      "Ola;Kos;F;carer;etat_czesc;10;area-centrum;50,87;20,63;car;"
                                      "07:00-15:00;07:00-15:00"), user="admin")
    assert good.status_code == 201, good.text
    [warning] = good.json()["warnings"]
    assert (warning["row"], warning["rule"], warning["actual_minutes"], warning["limit_minutes"]) == (
        3, "weekly_hours", 960, 600)


# --------------------------------------------------------------------------- planning across days


def test_a_late_visit_yesterday_starts_today_later(api) -> None:
    """W1 works Monday 12:00-20:00 (and may run an hour over) and has a visit at 20:00; planned and
    published, it ends Monday after 20:00.  Tuesday's plan then starts W1 no earlier than 11 h after
    Monday's real end, and the roster says so (in Polish and English)."""
    set_shifts(api, "W1", [{"weekday": 0, "start": "12:00", "end": "20:00"}] + WEEKDAYS[1:])
    add_request(api, MONDAY, "19:55", "20:00", 45, "W1")
    monday = plan(api, MONDAY)
    publish(api, MONDAY)
    monday_end = span_of(api, monday.roster.id, "W1").end
    assert monday_end > local_to_utc(MONDAY, T(20), TZ)
    tuesday = plan(api, DAY)
    earliest = to_minutes(monday_end + dt.timedelta(hours=11), DAY, TZ)
    assert worker_of(tuesday, "W1").shifts[0].start == earliest > 7 * 60
    w1_routes = [r for r in tuesday.solution.routes if r.worker_id == "W1" and r.stops]
    assert w1_routes and min(r.start for r in w1_routes) >= earliest
    assert span_of(api, tuesday.roster.id, "W1").start >= monday_end + dt.timedelta(hours=11)
    [limit] = limits(api, DAY, "W1")
    assert (limit["rule"], limit["details"]["side"], limit["details"]["earliest_start"]) == (
        "daily_rest", "before", earliest)
    assert "11 h" in limit["message_en"] and "odpoczynku dobowego" in limit["message_pl"]
    console = Console(record=True, width=200)
    print_summary(console, tuesday)  # what `carepath rosters plan` prints
    assert f"labour rule, W1: {limit['message_en']}" in console.export_text()


def test_rest_of_exactly_11_hours_keeps_the_shift_and_10h59_moves_it(api) -> None:
    """Monday's published work ending at 20:00 leaves Tuesday's 07:00 shift as it is (11 h 00 min);
    ending at 20:01 it starts at 07:01 (10 h 59 min would break the rule)."""
    published_work(api, MONDAY, "W1", T(12), T(20))
    exact = plan(api, DAY)
    assert worker_of(exact, "W1").shifts[0].start == 7 * 60 and limits(api, DAY, "W1") == []
    with Session(api.engine) as session:  # the same day, one minute later
        row = session.scalars(select(m.WorkerWorkSpan).where(col(m.WorkerWorkSpan.date) == MONDAY)).one()
        row.end = local_to_utc(MONDAY, T(20, 1), TZ)
        session.add(row)
        session.commit()
    late = plan(api, DAY)
    assert worker_of(late, "W1").shifts[0].start == 7 * 60 + 1
    assert all(r.start >= 7 * 60 + 1 for r in late.solution.routes if r.worker_id == "W1")
    [limit] = limits(api, DAY, "W1")
    assert limit["details"]["earliest_start"] == 421 and "07:01" in limit["message_en"]


def test_rest_is_measured_in_real_hours_on_both_dst_days(api) -> None:
    """On 2026-03-29 (23 h) Saturday's end at 19:30 CET is 10 h 30 min of real rest before 07:00 CEST
    although the clock reads 11 h 30 min: the Sunday shift starts 07:30.  On 2026-10-25 (25 h) an end
    at 21:00 CEST is exactly 11 h before 07:00 CET although the clock reads 10 h: the shift stays."""
    set_shifts(api, "W1", WEEKDAYS + [{"weekday": 6, "start": "07:00", "end": "15:00"}])
    published_work(api, SPRING - dt.timedelta(days=1), "W1", T(11, 30), T(19, 30))
    published_work(api, AUTUMN - dt.timedelta(days=1), "W1", T(13), T(21))
    add_request(api, SPRING, "07:00", "10:00", 60, "W1")
    add_request(api, AUTUMN, "07:00", "10:00", 60, "W1")
    spring = plan(api, SPRING)
    assert worker_of(spring, "W1").shifts[0].start == to_minutes(local_to_utc(SPRING, T(7, 30), TZ), SPRING, TZ) == 390
    assert spring.solution.kpis.visits_placed == 1
    assert all(r.start >= 390 for r in spring.solution.routes if r.worker_id == "W1")
    [limit] = limits(api, SPRING, "W1")
    assert "07:30" in limit["message_en"] and "07:30" in limit["message_pl"]
    autumn = plan(api, AUTUMN)
    assert worker_of(autumn, "W1").shifts[0].start == to_minutes(local_to_utc(AUTUMN, T(7), TZ), AUTUMN, TZ) == 480
    assert limits(api, AUTUMN, "W1") == [] and autumn.solution.kpis.visits_placed == 1


def test_a_week_across_new_year_keeps_its_rest_and_hours(api) -> None:
    """The week of 2026-12-28 to 2027-01-03: Monday to Friday published at 9 h a day (45 h).  Saturday
    2027-01-02 (07:00-13:00 in the pattern, which leaves 35 h to the week's end) gets at most 3 h (48 h a
    week, art. 131) and no overtime past 13:00, so that 35 h of rest remain before Monday 00:00."""
    set_shifts(api, "W1", WEEKDAYS + [{"weekday": 5, "start": "07:00", "end": "13:00"}])  # 35 h to Monday
    for k in range(5):
        published_work(api, dt.date(2026, 12, 28) + dt.timedelta(days=k), "W1", T(7), T(16))
    saturday = dt.date(2027, 1, 2)
    add_request(api, saturday, "09:00", "10:00", 60, "W1")
    planned = plan(api, saturday)
    w1 = worker_of(planned, "W1")
    assert (w1.shifts[-1].end, w1.shifts[-1].max_overtime, w1.max_work_minutes) == (13 * 60, 0, 180)
    assert planned.solution.kpis.visits_placed == 1
    assert all(r.end <= 13 * 60 and r.work_minutes <= 180 for r in planned.solution.routes if r.worker_id == "W1")
    by_rule = {x["rule"]: x for x in limits(api, saturday, "W1")}
    assert set(by_rule) == {"weekly_rest", "weekly_maximum"}
    assert (by_rule["weekly_rest"]["details"]["how"], by_rule["weekly_rest"]["details"]["week_start"]) == (
        "end_earlier", "2026-12-28")
    assert by_rule["weekly_maximum"]["details"]["worked_minutes"] == 45 * 60
    assert "13:00" in by_rule["weekly_rest"]["message_en"]


def test_zlecenie_is_not_capped_but_its_hours_are_recorded(api) -> None:
    """W2 on an umowa zlecenie worked until 23:30 yesterday: today's 07:00 shift stays and nothing is
    limited; the day's work is recorded for the contract's hours like anyone's."""
    set_shifts(api, "W2", WEEKDAYS, contract="zlecenie")
    published_work(api, MONDAY, "W2", T(15), T(23, 30))
    add_request(api, DAY, "07:30", "08:00", 60, "W2", senior="S2")
    planned = plan(api, DAY)
    assert worker_of(planned, "W2").shifts[0].start == 7 * 60 and limits(api, DAY, "W2") == []
    recorded = span_of(api, planned.roster.id, "W2")
    assert recorded.work_minutes > 60 and recorded.start < local_to_utc(DAY, T(8), TZ)
