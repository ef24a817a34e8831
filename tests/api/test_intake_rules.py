"""Intake rules on every submission (issue 17 item 2), at their boundaries, on both backends.

The small scenario's taxi has Kielce's rules (seeded by the scenario loader, domain.md 1.1):
2 rides a month, 6 a year, booked 3 working days ahead, Mon-Fri 06:00-20:00, cancelled at least
1 working day before.  Each test sets "now" with ``api.set_now`` (the app's injectable clock).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from dispatch.storage import models as m
from dispatch.catalog.intake_rules import working_days_after

WARSAW = ZoneInfo("Europe/Warsaw")
URL = "/api/v1/requests"


def local(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=WARSAW)


def ride(senior: str, day: dt.date | str, **extra: Any) -> dict[str, Any]:
    body = {"senior_id": senior, "service": "taxi", "first_date": str(day), "window_start": "09:00",
            "window_end": "10:00", "destination_place_id": "destination-wsz", "appointment": "11:00",
            "appointment_minutes": 60}
    return body | extra


def visit(senior: str, day: dt.date | str, **extra: Any) -> dict[str, Any]:
    return {"senior_id": senior, "service": "home_care", "first_date": str(day), "window_start": "12:00",
            "window_end": "13:00", "duration": 30} | extra


def post(api, body: dict[str, Any], user: str = "coordinator"):
    return api.client.post(URL, json=body, headers=api.auth(user))


def test_working_days_skip_weekends_and_polish_holidays_with_24_december_from_2025() -> None:
    """The 3rd working day after Friday 18 Dec 2026 is Wednesday 23; after Monday 21 it is Monday 28
    (24 Dec, a holiday from 2025, 25, 26 and the weekend skipped); 24 Dec 2024 was still a working day."""
    assert working_days_after(dt.date(2026, 12, 18), 3) == dt.date(2026, 12, 23)
    assert working_days_after(dt.date(2026, 12, 21), 3) == dt.date(2026, 12, 28)
    assert working_days_after(dt.date(2026, 12, 23), 1) == dt.date(2026, 12, 28)
    assert working_days_after(dt.date(2024, 12, 23), 1) == dt.date(2024, 12, 24)
    assert working_days_after(dt.date(2026, 12, 18), 0) == dt.date(2026, 12, 18)


def test_the_second_ride_of_a_month_is_accepted_and_the_third_refused_with_the_numbers(api) -> None:
    """2 of 2 rides: the third is 409 intake-rule-violated naming month_quota and "2 of 2 rides used in
    December 2026"; a second request on a day already booked is the same ride and passes."""
    api.set_now(local(2026, 11, 2))
    assert post(api, ride("S2", "2026-12-07")).status_code == 201
    assert post(api, ride("S2", "2026-12-09")).status_code == 201
    same_day = post(api, ride("S2", "2026-12-09", window_start="14:00", window_end="14:30", appointment="15:00"))
    assert same_day.status_code == 201, same_day.text  # outbound + return on one day is one ride
    third = post(api, ride("S2", "2026-12-11"))
    assert third.status_code == 409, third.text
    body = third.json()
    assert third.headers["content-type"].startswith("application/problem+json")
    assert body["type"].endswith("/intake-rule-violated")
    [error] = body["errors"]
    assert error["rule"] == "month_quota" and error["used"] == 2 and error["limit"] == 2
    assert error["period"] == "December 2026"
    assert "2 of 2 rides used in December 2026" in error["message"]
    assert post(api, ride("S2", "2027-01-11")).status_code == 201  # a new month


def test_the_year_quota_counts_six_rides_in_a_calendar_year(api) -> None:
    """Six rides in 2027 (two a month) pass, the seventh is refused naming the year; 2028 starts afresh."""
    api.set_now(local(2026, 12, 1))
    for day in ("2027-01-11", "2027-01-12", "2027-02-08", "2027-02-09", "2027-03-08", "2027-03-09"):
        assert post(api, ride("S3", day)).status_code == 201, day
    seventh = post(api, ride("S3", "2027-04-12"))
    assert seventh.status_code == 409
    [error] = seventh.json()["errors"]
    assert (error["rule"], error["used"], error["limit"], error["period"]) == ("year_quota", 6, 6, "2027")
    assert post(api, ride("S3", "2028-01-10")).status_code == 201


def test_lead_time_the_third_working_day_after_a_friday(api) -> None:
    """Booked on Friday 11 Dec 2026: Wednesday 16 (3rd working day) passes, Tuesday 15 (2nd) is 422 lead_time."""
    api.set_now(local(2026, 12, 11, 10))
    early = post(api, ride("S2", "2026-12-15"))
    assert early.status_code == 422, early.text
    [error] = early.json()["errors"]
    assert error["rule"] == "lead_time" and error["earliest"] == "2026-12-16" and error["date"] == "2026-12-15"
    assert post(api, ride("S2", "2026-12-16")).status_code == 201


def test_lead_time_across_christmas_eve_and_christmas(api) -> None:
    """On Friday 18 Dec 2026 the 3rd working day is Wednesday 23; on Monday 21 it is Monday 28, since 24 Dec
    (a holiday from 2025), 25, 26 and the weekend do not count; a taxi on 24 Dec itself is refused."""
    api.set_now(local(2026, 12, 18))
    assert post(api, ride("S2", "2026-12-22")).json()["errors"][0]["rule"] == "lead_time"
    assert post(api, ride("S2", "2026-12-23")).status_code == 201
    api.set_now(local(2026, 12, 21))
    refused = post(api, ride("S3", "2026-12-23"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["earliest"] == "2026-12-28"
    christmas_eve = post(api, ride("S3", "2026-12-24"))
    assert christmas_eve.status_code == 422
    assert "working days only" in christmas_eve.json()["errors"][0]["message"]
    assert post(api, ride("S3", "2026-12-28")).status_code == 201


def test_service_hours_end_at_20_for_the_return_ride(api) -> None:
    """Taxi hours 06:00-20:00: a pickup from 05:30 is refused; a return leaving at 20:00 passes, at 20:30 not."""
    api.set_now(local(2026, 11, 2))
    early = post(api, ride("S2", "2026-12-07", window_start="05:30", window_end="06:30", appointment="07:00"))
    assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "service_hours"
    late = post(api, ride("S2", "2026-12-07", window_start="17:00", window_end="18:00", appointment="19:00",
                          appointment_minutes=90))
    assert late.status_code == 422
    [error] = late.json()["errors"]
    assert (error["rule"], error["to"], error["service_to"]) == ("service_hours", "20:30", "20:00")
    ok = post(api, ride("S2", "2026-12-07", window_start="17:00", window_end="18:00", appointment="18:30",
                        appointment_minutes=90))
    assert ok.status_code == 201, ok.text


def test_no_dates_in_the_past_reads_today_in_warsaw_on_dst_days(api) -> None:
    """"Today" is the local date: at 22:30 UTC on 29 March 2026 it is already 30 March in Warsaw (CEST, +2),
    so the 29th is in the past; at 22:59 UTC on 25 October (CET again, +1) it is still the 25th."""
    api.set_now(dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC))
    past = post(api, visit("S1", "2026-03-29"))
    assert past.status_code == 422, past.text
    [error] = past.json()["errors"]
    assert (error["rule"], error["today"]) == ("no_past", "2026-03-30")
    assert post(api, visit("S1", "2026-03-30")).status_code == 201
    api.set_now(dt.datetime(2026, 10, 25, 22, 59, tzinfo=dt.UTC))
    assert post(api, visit("S1", "2026-10-25")).status_code == 201
    api.set_now(dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC))
    assert post(api, visit("S1", "2026-10-25")).json()["errors"][0]["rule"] == "no_past"


def test_an_override_with_a_written_reason_is_accepted_and_audited(api) -> None:
    """A coordinator's override_reason stores the third ride; the audit row keeps who, why and the numbers."""
    api.set_now(local(2026, 11, 2))
    post(api, ride("S2", "2026-12-07"))
    post(api, ride("S2", "2026-12-09"))
    blank = post(api, ride("S2", "2026-12-11", override_reason=" "))
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "override_reason"
    reason = "dialysis moved by the hospital; agreed with MOPR"
    accepted = post(api, ride("S2", "2026-12-11", override_reason=reason))
    assert accepted.status_code == 201, accepted.text
    with Session(api.engine) as session:
        [row] = session.exec(select(m.AuditLog).where(m.AuditLog.action == "visit_request.intake_override")).all()
    assert row.actor == "coordinator" and row.entity_id == accepted.json()["id"]
    assert row.changes["reason"] == reason
    [violation] = row.changes["violations"]
    assert (violation["rule"], violation["used"], violation["limit"]) == ("month_quota", 2, 2)


def test_a_late_cancellation_still_counts_against_the_quota(api) -> None:
    """Cancelled on Saturday, Monday's ride is late (the last day to cancel was Friday) and still counts, so a
    third ride that month is refused; Wednesday's ride cancelled on Saturday is free and frees its place."""
    api.set_now(local(2026, 11, 2))
    monday = post(api, ride("S2", "2026-12-07")).json()["id"]
    wednesday = post(api, ride("S2", "2026-12-09")).json()["id"]
    api.set_now(local(2026, 12, 5))
    assert api.client.delete(f"{URL}/{monday}", headers=api.auth("coordinator")).status_code == 200
    refused = post(api, ride("S2", "2026-12-11"))
    assert refused.status_code == 409 and refused.json()["errors"][0]["used"] == 2
    assert api.client.delete(f"{URL}/{wednesday}", headers=api.auth("coordinator")).status_code == 200
    assert post(api, ride("S2", "2026-12-11")).status_code == 201


def test_a_recurring_request_is_checked_occurrence_by_occurrence(api) -> None:
    """A weekly taxi ride has 4-5 rides a month and 52 a year: refused at both quotas, naming the first
    month and the first year over them; a monthly one within the year quota passes."""
    api.set_now(local(2026, 11, 2))
    weekly = post(api, ride("S2", "2026-12-07", rrule="FREQ=WEEKLY;BYDAY=MO"))
    assert weekly.status_code == 409
    month, year = weekly.json()["errors"]
    assert (month["rule"], month["period"], month["used"]) == ("month_quota", "December 2026", 0)
    assert (year["rule"], year["period"]) == ("year_quota", "2027")
    monthly = post(api, ride("S2", "2026-12-07", rrule="FREQ=MONTHLY;BYDAY=1MO", until="2027-06-30"))
    assert monthly.status_code == 201, monthly.text  # 7 months, one ride each: 6 in 2027 at most


def test_the_budget_of_a_decision_is_checked_per_week(api) -> None:
    """S3 has 2.5 h a week of home care (30 min Mon-Fri); a 3 h/week decision takes one more 30 min visit
    (3 of 3) and refuses the next with the decision's reference and the numbers."""
    api.set_now(local(2026, 11, 2))
    decision = {"senior_id": "S3", "service": "home_care", "reference": "MOPR-OP.8221.123.2026", "unit": "hours",
                "amount": 3, "period": "week", "valid_from": "2026-01-01", "valid_to": "2027-12-31"}
    assert api.client.post("/api/v1/decisions", json=decision, headers=api.auth("coordinator")).status_code == 201
    assert post(api, visit("S3", "2026-12-12")).status_code == 201  # Saturday: 3.0 of 3
    over = post(api, visit("S3", "2026-12-13", duration=15))
    assert over.status_code == 409, over.text
    [error] = over.json()["errors"]
    assert error["rule"] == "budget" and error["reference"] == "MOPR-OP.8221.123.2026"
    assert (error["used"], error["limit"], error["period"]) == (3.0, 3.0, "the week of 2026-12-07")
    assert post(api, visit("S3", "2026-12-19", duration=15)).status_code == 201  # next week, 0.5 h left


def test_an_import_with_a_rule_violation_is_refused_by_line_and_stores_nothing(api) -> None:
    """Three taxi rows for one senior in December: line 4 breaks the month quota, nothing is imported."""
    api.set_now(local(2026, 11, 2))
    header = "senior_id;service;first_date;window_start;window_end;destination_place_id;appointment;appointment_minutes"
    rows = [f"S2;taxi;{d}.12.2026;09:00;10:00;destination-wsz;11:00;60" for d in ("07", "09", "11")]
    content = ("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode()
    with Session(api.engine) as session:
        before = len(session.exec(select(m.VisitRequest)).all())
    response = api.client.post("/api/v1/imports/requests", files={"file": ("rides.csv", content, "text/csv")},
                               headers=api.auth("coordinator"))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["field"], error["rule"]) == (4, "first_date", "month_quota")
    assert "2 of 2 rides used in December 2026" in error["message"]
    with Session(api.engine) as session:
        assert len(session.exec(select(m.VisitRequest)).all()) == before


def test_intake_rules_are_read_and_set_by_admins(api) -> None:
    """The taxi's seeded Kielce rules read back; an admin sets the handyman's, a coordinator may not."""
    rules = api.client.get("/api/v1/intake-rules/taxi", headers=api.auth("coordinator")).json()
    assert (rules["month_quota"], rules["year_quota"], rules["lead_working_days"]) == (2, 6, 3)
    assert (rules["service_days"], rules["service_from"], rules["service_to"]) == ([0, 1, 2, 3, 4], "06:00:00",
                                                                                     "20:00:00")
    body = {"month_quota": 1, "lead_working_days": 0}
    assert api.client.put("/api/v1/intake-rules/home_care", json=body,
                          headers=api.auth("coordinator")).status_code == 403
    set_ = api.client.put("/api/v1/intake-rules/home_care", json=body, headers=api.auth("admin"))
    assert set_.status_code == 200 and set_.json()["month_quota"] == 1


def test_a_change_of_date_is_a_new_submission_and_other_changes_are_not(api) -> None:
    """Moving a ride into a month already used up is refused (409); the request itself is not counted
    twice when it moves within its month; changing only the tasks of a request whose date passed is fine."""
    api.set_now(local(2026, 11, 2))
    h = api.auth("coordinator")
    post(api, ride("S2", "2026-12-07"))
    post(api, ride("S2", "2026-12-09"))
    january = post(api, ride("S2", "2027-01-11")).json()["id"]
    moved = api.client.patch(f"{URL}/{january}", json={"first_date": "2026-12-11"}, headers=h)
    assert moved.status_code == 409 and moved.json()["errors"][0]["rule"] == "month_quota"
    within = api.client.patch(f"{URL}/{january}", json={"first_date": "2027-01-12"}, headers=h)
    assert within.status_code == 200, within.text
    api.set_now(local(2027, 2, 1))
    late_note = api.client.patch(f"{URL}/{january}", json={"tasks": "wózek w bagażniku"}, headers=h)
    assert late_note.status_code == 200, late_note.text
    past = api.client.patch(f"{URL}/{january}", json={"first_date": "2027-01-13"}, headers=h)
    assert past.status_code == 422 and past.json()["errors"][0]["rule"] == "no_past"
