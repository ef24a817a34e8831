"""Care plans, seniors' absences and decisions over the API (issue 17 item 1), on both backends.

A plan expands into one visit request per line and date: skipping absences and (if it says so)
public holidays, idempotent, checked by the intake rules (decision budgets reset per year).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from dispatch.storage import models as m
from dispatch.timeutil import local_to_utc

WARSAW = ZoneInfo("Europe/Warsaw")


def now_at(api, day: dt.date) -> None:
    api.set_now(dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=WARSAW))


def clean_slate(api, senior: str = "S2") -> None:
    """Cancel the small scenario's recurring home care of ``senior`` (R2 for S2) so budgets start at 0."""
    request_id = {"S1": "R1", "S2": "R2", "S3": "R3"}[senior]
    assert api.client.delete(f"/api/v1/requests/{request_id}", headers=api.auth("coordinator")).status_code == 200


def plan(api, lines: list[Any], start: str, end: str, **extra: Any) -> dict[str, Any]:
    body = {"senior_id": "S2", "service": "home_care", "valid_from": start, "valid_to": end, "lines": lines} | extra
    response = api.client.post("/api/v1/care-plans", json=body, headers=api.auth("coordinator"))
    assert response.status_code == 201, response.text
    return response.json()


def expand(api, plan_id: str, start: str, end: str, body: dict[str, Any] | None = None, **params: Any):
    return api.client.post(f"/api/v1/care-plans/{plan_id}/expand", params={"from": start, "to": end, **params},
                           json=body, headers=api.auth("coordinator"))


def created_requests(api, ids: list[str]) -> list[m.VisitRequest]:
    with Session(api.engine) as session:
        return [session.get(m.VisitRequest, i) for i in ids]


def test_a_plan_is_written_as_lines_and_read_back(api) -> None:
    """Lines as text or parts; the answer shows each line as written, 07:30-09:00 with 60 min."""
    body = plan(api, [{"text": "Mon-Fri 07:30-09:00 hygiene 60 min"},
                      {"weekdays": "daily", "start": "17:00", "end": "19:00", "duration": 45, "tasks": "evening care"}],
                "2026-12-01", "2027-01-31", skip_public_holidays=True)
    assert body["id"].startswith("cp-")
    assert [line["text"] for line in body["lines"]] == ["Mon-Fri 07:30-09:00 hygiene 60 min",
                                                        "daily 17:00-19:00 evening care 45 min"]
    assert body["lines"][0]["weekdays"] == [0, 1, 2, 3, 4]
    bad = api.client.post("/api/v1/care-plans", json={
        "senior_id": "S2", "service": "home_care", "valid_from": "2026-12-01", "valid_to": "2026-12-31",
        "lines": [{"text": "Mon-Fri 07:30-08:00 hygiene 60 min"}]}, headers=api.auth("coordinator"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lines.0.duration"
    taxi = api.client.post("/api/v1/care-plans", json={
        "senior_id": "S2", "service": "taxi", "valid_from": "2026-12-01", "valid_to": "2026-12-31",
        "lines": [{"text": "Mon 09:00-10:00 ride 30 min"}]}, headers=api.auth("coordinator"))
    assert taxi.status_code == 422 and taxi.json()["errors"][0]["field"] == "service"


def test_expanding_skips_absences_and_holidays_and_twice_creates_nothing(api) -> None:
    """Across Christmas and New Year: no visits on 24-26 Dec, 1 and 6 Jan (holidays) nor during the hospital
    stay; the requests start 07:30-08:00 (latest start = end - duration); a second expansion adds nothing."""
    now_at(api, dt.date(2026, 12, 1))
    p = plan(api, [{"text": "Mon-Fri 07:30-09:00 hygiene 60 min"}], "2026-12-01", "2027-01-31",
             skip_public_holidays=True)
    absence = api.client.post("/api/v1/seniors/S2/absences", json={"from_date": "2026-12-28", "to_date": "2026-12-30",
                                                                  "reason": "hospital"},
                              headers=api.auth("coordinator"))
    assert absence.status_code == 201, absence.text
    first = expand(api, p["id"], "2026-12-21", "2027-01-08")
    assert first.status_code == 200, first.text
    result = first.json()
    dates = result["dates"]
    assert dates == ["2026-12-21", "2026-12-22", "2026-12-23", "2026-12-31", "2027-01-04", "2027-01-05",
                     "2027-01-07", "2027-01-08"]
    assert result["skipped"] == {"public_holiday": ["2026-12-24", "2026-12-25", "2027-01-01", "2027-01-06"],
                                 "absence": ["2026-12-28", "2026-12-29", "2026-12-30"]}
    rows = created_requests(api, result["created"])
    assert all(r.window_start == dt.time(7, 30) and r.window_end == dt.time(8, 0) and r.duration == 60 and
               r.rrule is None and r.tasks == "hygiene" for r in rows)
    again = expand(api, p["id"], "2026-12-21", "2027-01-08").json()
    assert again["created"] == [] and again["already"] == len(dates)
    wider = expand(api, p["id"], "2026-12-21", "2027-01-11").json()
    assert wider["dates"] == ["2027-01-11"] and wider["already"] == len(dates)


def test_a_plan_across_new_year_meets_a_yearly_budget_that_resets(api) -> None:
    """10 h a year, a daily 60 min visit from 20 Dec: the 11th and 12th hours of 2026 (30 and 31 Dec) are
    refused with the numbers, January (a new year) is not; with a written reason everything is created and
    each overridden request audited."""
    clean_slate(api)
    now_at(api, dt.date(2026, 12, 1))
    decision = {"senior_id": "S2", "service": "home_care", "reference": "MOPR-OP.8221.7.2026", "unit": "hours",
                "amount": 10, "period": "year", "valid_from": "2026-01-01", "valid_to": "2027-12-31"}
    assert api.client.post("/api/v1/decisions", json=decision, headers=api.auth("coordinator")).status_code == 201
    p = plan(api, [{"text": "daily 17:00-19:00 evening care 60 min"}], "2026-12-20", "2027-01-10")
    refused = expand(api, p["id"], "2026-12-20", "2027-01-10")
    assert refused.status_code == 409, refused.text
    errors = refused.json()["errors"]
    assert [e["date"] for e in errors] == ["2026-12-30", "2026-12-31"]
    assert all(e["rule"] == "budget" and e["period"] == "2026" and e["limit"] == 10 for e in errors)
    assert errors[0]["used"] == 10 and "10 of 10 hours used in 2026" in errors[0]["message"]
    with Session(api.engine) as session:
        assert session.exec(select(m.VisitRequest).where(m.VisitRequest.senior_id == "S2",
                                                         m.VisitRequest.status == m.RequestStatus.ACTIVE)).all() == []
    done = expand(api, p["id"], "2026-12-20", "2027-01-10", {"override_reason": "decision being raised to 20 h"})
    assert done.status_code == 200 and len(done.json()["created"]) == 22 and done.json()["overridden"] == 2
    with Session(api.engine) as session:
        audits = session.exec(select(m.AuditLog).where(m.AuditLog.action == "visit_request.intake_override")).all()
    assert len(audits) == 2 and {a.changes["reason"] for a in audits} == {"decision being raised to 20 h"}
    usage = api.client.get("/api/v1/decisions/usage", params={"senior_id": "S2", "service": "home_care",
                                                              "from": "2027-01-01", "to": "2027-01-31"},
                           headers=api.auth("dispatcher")).json()
    assert usage["booked_hours"] == 10 and round(usage["granted_hours"], 2) == round(10 * 31 / 365, 2)


def test_expansion_on_the_spring_dst_day(api) -> None:
    """On 29 March 2026 (23 hours) a 07:30 visit is 05:30 UTC, the day before 06:30 UTC; a line in the
    spring-forward gap (02:30) refuses the expansion naming that date and line."""
    clean_slate(api)
    now_at(api, dt.date(2026, 3, 1))
    p = plan(api, [{"text": "daily 07:30-09:00 hygiene 60 min"}], "2026-03-28", "2026-03-30")
    result = expand(api, p["id"], "2026-03-28", "2026-03-30").json()
    assert result["dates"] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    rows = {r.first_date: r for r in created_requests(api, result["created"])}
    dst = rows[dt.date(2026, 3, 29)]
    assert local_to_utc(dst.first_date, dst.window_start).hour == 5
    assert local_to_utc(dt.date(2026, 3, 28), rows[dt.date(2026, 3, 28)].window_start).hour == 6
    night = plan(api, [{"text": "daily 02:30-04:00 night check 30 min"}], "2026-03-28", "2026-03-30")
    refused = expand(api, night["id"], "2026-03-28", "2026-03-30")
    assert refused.status_code == 422
    assert {(e["date"], e["field"]) for e in refused.json()["errors"]} == {("2026-03-29", "lines.0.window_start")}


def test_absences_overlap_and_roles(api) -> None:
    """Overlapping absences are 409; dispatchers read plans and absences but may not write them."""
    api.client.post("/api/v1/seniors/S1/absences", json={"from_date": "2026-12-01", "to_date": "2026-12-05"},
                    headers=api.auth("coordinator"))
    overlap = api.client.post("/api/v1/seniors/S1/absences", json={"from_date": "2026-12-05", "to_date": "2026-12-06"},
                              headers=api.auth("coordinator"))
    assert overlap.status_code == 409
    assert api.client.get("/api/v1/seniors/S1/absences", headers=api.auth("dispatcher")).json()[0]["to_date"] == \
        "2026-12-05"
    assert api.client.post("/api/v1/seniors/S1/absences", json={"from_date": "2027-01-01", "to_date": "2027-01-02"},
                           headers=api.auth("dispatcher")).status_code == 403
    assert api.client.get("/api/v1/care-plans", headers=api.auth("worker")).status_code == 403


def test_a_plan_with_expanded_visits_is_ended_not_deleted(api) -> None:
    """Deleting an expanded plan is 409; its valid_to ends it and later dates are not created."""
    now_at(api, dt.date(2026, 12, 1))
    p = plan(api, [{"text": "Sat 10:00-12:00 shopping 60 min"}], "2026-12-01", "2027-03-31")
    expand(api, p["id"], "2026-12-01", "2026-12-31")
    assert api.client.delete(f"/api/v1/care-plans/{p['id']}", headers=api.auth("coordinator")).status_code == 409
    ended = api.client.patch(f"/api/v1/care-plans/{p['id']}", json={"valid_to": "2027-01-09"},
                             headers=api.auth("coordinator"))
    assert ended.status_code == 200
    assert expand(api, p["id"], "2027-01-01", "2027-01-31").json()["dates"] == ["2027-01-02", "2027-01-09"]
    lines = api.client.patch(f"/api/v1/care-plans/{p['id']}", json={"senior_id": "S1"},
                             headers=api.auth("coordinator"))
    assert lines.status_code == 422


def test_decisions_crud_and_import_all_or_nothing(api) -> None:
    """A decision is entered, changed and listed; an import with one bad line (unknown senior, line 3) stores
    nothing, its dry run reports the same, and the corrected file stores both rows."""
    hdr = api.auth("coordinator")
    created = api.client.post("/api/v1/decisions", json={
        "senior_id": "S1", "service": "taxi", "reference": "MOPR-T.1.2026", "unit": "rides", "amount": 2,
        "period": "month", "valid_from": "2026-01-01", "valid_to": "2026-12-31"}, headers=hdr)
    assert created.status_code == 201 and created.headers["location"].endswith(created.json()["id"])
    changed = api.client.patch(f"/api/v1/decisions/{created.json()['id']}", json={"valid_to": "2026-06-30"},
                               headers=hdr)
    assert changed.status_code == 200 and changed.json()["valid_to"] == "2026-06-30"
    inverted = api.client.patch(f"/api/v1/decisions/{created.json()['id']}", json={"valid_to": "2025-06-30"},
                                headers=hdr)
    assert inverted.status_code == 422 and inverted.json()["errors"][0]["field"] == "valid_to"
    header = "senior_id;service;reference;unit;amount;period;valid_from;valid_to"
    good = "S2;home_care;MOPR-OP.8221.1.2026;hours;1,5;day;01.12.2026;31.12.2027"
    bad = "S9;home_care;MOPR-OP.8221.2.2026;hours;30;month;01.12.2026;31.12.2027"

    def upload(*rows: str, dry_run: bool = False):
        content = ("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode()
        return api.client.post("/api/v1/decisions/import", params={"dry_run": dry_run},
                               files={"file": ("decisions.csv", content, "text/csv")}, headers=hdr)

    for dry in (False, True):
        refused = upload(good, bad, dry_run=dry)
        assert refused.status_code == 422
        assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(3, "senior_id")]
    listed = api.client.get("/api/v1/decisions", params={"senior_id": "S2"}, headers=hdr).json()["items"]
    assert listed == []
    assert upload(good, good.replace(".1.", ".3."), dry_run=True).status_code == 200
    stored = upload(good, good.replace(".1.", ".3."))
    assert stored.status_code == 201 and stored.json()["created"] == {"decisions": 2}
    items = api.client.get("/api/v1/decisions", params={"senior_id": "S2"}, headers=hdr).json()["items"]
    assert [(d["amount"], d["unit"], d["period"]) for d in items] == [(1.5, "hours", "day")] * 2
