"""The coordinator's pages beyond the request form, on both backends: a senior's decisions with what is left
of each budget (the intake rules' own count), care plans and requests; changing and cancelling a request
(one-off and recurring) with errors next to the field and an override with a written reason; the import
page (a dry run writes nothing, every bad row is listed)."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import Session, select

from dispatch.catalog import care_plans, entitlements
from dispatch.catalog.intake_rules import check
from dispatch.catalog.requests import prepare
from dispatch.storage import models as m
from dispatch.storage.care_models import Decision
from tests.api.conftest import DAY, TEST_NOW
from tests.api.console_helpers import console_login, csrf_of

WEEK_BUDGET = {"senior_id": "S2", "service": "home_care", "reference": "MOPR-OP.8221.7.2026", "unit": "hours",
               "amount": 5, "period": "week", "valid_from": dt.date(2026, 11, 1), "valid_to": dt.date(2026, 12, 31)}


def _decision(api) -> str:
    with Session(api.engine) as s:
        row = entitlements.create_decision(s, "test", WEEK_BUDGET)
        care_plans.create_plan(s, "test", {"senior_id": "S2", "service": "home_care", "valid_from": dt.date(2026, 12, 1),
                                          "valid_to": dt.date(2026, 12, 31),
                                          "lines": [care_plans.parse_line("Mon-Fri 09:00-11:00 shopping 45 min")]})
        s.commit()
        return row.id


def test_remaining_budget_is_the_count_the_intake_rules_refuse_on(api) -> None:
    """S2's 5 h a week; R2 books 5 x 45 min in DAY's week: 3.75 h used, 1.25 h left, and a 90-minute visit
    that week is refused naming the same 3.75 h."""
    decision_id = _decision(api)
    with Session(api.engine) as s:
        [budget] = entitlements.remaining_budgets(s, "S2", DAY)
        assert budget.decision.id == decision_id
        assert (budget.start, budget.end) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
        assert (budget.used, budget.remaining) == (3.75, 1.25)
        assert entitlements.remaining_budgets(s, "S2", dt.date(2027, 1, 4)) == []  # the decision has ended
        values, problems = prepare(s, {"senior_id": "S2", "service": "home_care", "first_date": DAY + dt.timedelta(1),
                                       "window_start": dt.time(12), "window_end": dt.time(13), "duration": 90})
        assert problems == []
        [violation] = check(s, values, now=TEST_NOW)
        assert violation.rule == "budget" and violation.numbers["used"] == budget.used
        values["duration"] = 75  # exactly what is left
        assert check(s, values, now=TEST_NOW) == []


def test_the_senior_page_shows_budgets_plans_and_requests(api) -> None:
    _decision(api)
    console_login(api, "coordinator")
    page = api.client.get("/console/seniors/S2", params={"on": DAY.isoformat()})
    assert page.status_code == 200
    row = re.search(r'<tr data-decision="d-\d+">(.*?)</tr>', page.text, re.S).group(1)
    assert "MOPR-OP.8221.7.2026" in row and "2026-11-30 – 2026-12-06" in row
    assert '<td class="used">3.75</td>' in row and "1.25 godz." in row
    assert "Mon-Fri 09:00-11:00" in page.text  # the plan's line as entered
    assert 'href="/console/requests/R2"' in page.text and "Halina" not in page.text  # only S2's requests
    later = api.client.get("/console/seniors/S2", params={"on": "2027-02-01"}).text
    assert "nieważna tego dnia" in later
    assert api.client.get("/console/seniors/S999").status_code == 404
    assert "/console/seniors/S2" in api.client.get("/console/seniors").text  # the list links to the page
    console_login(api, "dispatcher")
    assert api.client.get("/console/seniors/S2").status_code == 403


def test_a_request_over_budget_shows_the_rule_and_is_accepted_with_a_written_reason(api) -> None:
    _decision(api)
    csrf = console_login(api, "coordinator")
    form = {"csrf_token": csrf, "senior_id": "S2", "service": "home_care", "first_date": (DAY + dt.timedelta(1)).isoformat(),
            "window_start": "12:00", "window_end": "13:00", "duration": "90"}
    r = api.client.post("/console/requests", data=form)
    assert r.status_code == 409
    error = re.search(r'id="duration-error"[^>]*>([^<]*)<', r.text).group(1)
    assert error == ("wykorzystano 3.75 z 5 godz. w okresie limitu obejmującym 2026-12-02 według decyzji "
                     "MOPR-OP.8221.7.2026; to zlecenie przekroczyłoby limit [budget]")  # worded in Polish at the edge
    assert "uzasadnienie odstępstwa" in r.text
    assert api.client.post("/console/requests", data={**form, "override_reason": "   "}).status_code == 409  # no reason
    r = api.client.post("/console/requests", data={**form, "override_reason": "x" * 501})
    assert r.status_code == 422 and 'id="override_reason-error"' in r.text
    r = api.client.post("/console/requests", data={**form, "override_reason": "szpital zmienił termin"},
                        follow_redirects=False)
    assert r.status_code == 303
    created = re.search(r"created=([^&]+)", r.headers["location"]).group(1)
    with Session(api.engine) as s:
        assert s.get(m.VisitRequest, created).duration == 90
        audit = s.exec(select(m.AuditLog).where(m.AuditLog.action == "visit_request.intake_override",
                                                m.AuditLog.entity_id == created)).one()
        assert "szpital" in str(audit.changes)
    page = api.client.get("/console/seniors/S2", params={"on": DAY.isoformat()}).text
    assert 'class="left error">-0.25' in page  # overdrawn, shown as such


def test_changing_a_recurring_request_shows_errors_next_to_the_field_then_saves(api) -> None:
    csrf = console_login(api, "coordinator")
    page = api.client.get("/console/requests/R3")
    assert page.status_code == 200 and 'value="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"' in page.text
    form = {"csrf_token": csrf, "service": "home_care", "first_date": "2026-11-30", "window_start": "11:00",
            "window_end": "10:00", "duration": "30", "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "priority": "3",
            "tasks": "obiad"}
    r = api.client.post("/console/requests/R3", data=form)
    assert r.status_code == 422 and 'id="window_end-error"' in r.text
    assert re.search(r'id="window_end"[^>]*aria-invalid="true"', r.text)
    with Session(api.engine) as s:
        assert s.get(m.VisitRequest, "R3").window_end == dt.time(13)  # nothing changed
    r = api.client.post("/console/requests/R3", data={**form, "window_end": "12:30", "rrule": ""},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/requests/R3?saved=changed"
    with Session(api.engine) as s:
        row = s.get(m.VisitRequest, "R3")
        assert (row.window_end, row.rrule, row.mandatory) == (dt.time(12, 30), None, False)  # now one-off
    assert "Zlecenie zostało zmienione" in api.client.get(r.headers["location"]).text
    assert api.client.get("/console/requests/NOPE").status_code == 404


def test_cancelling_one_off_and_recurring_requests(api) -> None:
    csrf = console_login(api, "coordinator")
    for request_id in ("R4", "R2"):  # the taxi ride (one-off) and a weekday visit (recurring)
        r = api.client.post(f"/console/requests/{request_id}/cancel", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        page = api.client.get(r.headers["location"]).text
        assert "Zlecenie zostało odwołane" in page and 'id="cancelled-note"' in page
        assert f'action="/console/requests/{request_id}"' not in page  # history: no form to change it
    r = api.client.post("/console/requests/R1/cancel", data={}, follow_redirects=False)
    assert r.status_code == 403  # without the CSRF token
    with Session(api.engine) as s:
        assert {r.id: r.status for r in s.exec(select(m.VisitRequest)).all()} == {
            "R1": m.RequestStatus.ACTIVE, "R2": m.RequestStatus.CANCELLED, "R3": m.RequestStatus.ACTIVE,
            "R4": m.RequestStatus.CANCELLED}
        assert len(s.exec(select(m.AuditLog).where(m.AuditLog.action == "visit_request.cancel")).all()) == 2
    r = api.client.post("/console/requests/R2", data={"csrf_token": csrf, "window_start": "09:00"})
    assert r.status_code == 409  # a cancelled request is history


GOOD = "senior_id;service;first_date;window_start;window_end;duration\r\nS1;home_care;07.12.2026;14:00;15:00;30\r\n"
BAD = GOOD + "S9;home_care;08.12.2026;14:00;15:00;30\r\nS2;home_care;2026-12-09;16:00;15:00;30\r\n"


def _upload(api, csrf: str, content: str, dry_run: bool) -> object:
    data = {"csrf_token": csrf, "kind": "requests", **({"dry_run": "1"} if dry_run else {})}
    return api.client.post("/console/imports", data=data,
                           files={"file": ("zlecenia.csv", ("\ufeff" + content).encode(), "text/csv")})


def _count(api) -> int:
    with Session(api.engine) as s:
        return len(s.exec(select(m.VisitRequest)).all())


def test_the_import_page_checks_first_lists_every_bad_row_and_imports_all_or_nothing(api) -> None:
    csrf = console_login(api, "coordinator")
    page = api.client.get("/console/imports").text
    assert 'name="dry_run" type="checkbox" value="1" checked' in page
    assert '<option value="requests"' in page and '<option value="workers"' not in page  # admins only
    before = _count(api)
    r = _upload(api, csrf, BAD, dry_run=True)
    assert r.status_code == 422
    lines = re.findall(r'<tr data-row="(\d+)">', r.text)
    assert lines == ["3", "4"]  # every bad row, numbered as Excel shows them
    assert "S9" in r.text and "window_end" in r.text
    r = _upload(api, csrf, GOOD, dry_run=True)
    assert r.status_code == 200 and 'id="import-result"' in r.text and "visit_requests: 1" in r.text
    assert _count(api) == before  # a dry run writes nothing
    r = _upload(api, csrf, BAD, dry_run=False)
    assert r.status_code == 422 and _count(api) == before  # all or nothing
    r = _upload(api, csrf, GOOD, dry_run=False)
    assert r.status_code == 200 and "Zaimportowano" in r.text and _count(api) == before + 1
    with Session(api.engine) as s:
        assert s.exec(select(m.AuditLog).where(m.AuditLog.action == "import.requests")).one()
    template = api.client.get("/console/imports/requests/template.csv")
    assert template.status_code == 200 and template.content.startswith(b"\xef\xbb\xbfid;senior_id;service")
    assert api.client.post("/console/imports", data={"csrf_token": csrf, "kind": "workers"},
                           files={"file": ("w.csv", b"x", "text/csv")}).status_code == 403
    console_login(api, "worker")
    assert api.client.get("/console/imports").status_code == 403


def test_decisions_are_per_senior(api) -> None:
    """A decision of another senior never shows on this senior's page."""
    _decision(api)
    console_login(api, "coordinator")
    with Session(api.engine) as s:
        assert s.exec(select(Decision)).one().senior_id == "S2"
    assert "MOPR-OP.8221.7.2026" not in api.client.get("/console/seniors/S1").text


def test_the_import_page_takes_files_past_the_json_body_limit(api) -> None:
    """A multipart upload to the console's import page gets the import's own limit (as ``/api/v1/imports``),
    not the 1 MiB JSON body limit: a 1.5 MB file is read and refused for its rows, by the import's rules."""
    csrf = console_login(api, "coordinator")
    row = "S1;home_care;07.12.2026;14:00;15:00;30;" + "x" * 200 + "\r\n"
    big = "senior_id;service;first_date;window_start;window_end;duration;tasks\r\n" + row * 7000
    assert len(big.encode()) > 1_400_000
    r = api.client.post("/console/imports", data={"csrf_token": csrf, "kind": "requests", "dry_run": "1"},
                        files={"file": ("big.csv", big.encode(), "text/csv")})
    assert r.status_code == 422 and 'id="import-problems"' in r.text and re.search(r"5[ ,]?000", r.text)


def test_an_import_row_over_budget_names_the_rule_in_polish(api) -> None:
    _decision(api)
    csrf = console_login(api, "coordinator")
    r = _upload(api, csrf, "senior_id;service;first_date;window_start;window_end;duration\r\n"
                           "S2;home_care;02.12.2026;12:00;13:00;90\r\n", dry_run=True)
    assert r.status_code == 422
    row = re.search(r'<tr data-row="2">(.*?)</tr>', r.text, re.S).group(1)
    assert "wykorzystano 3.75 z 5 godz." in row and "[budget]" in row


def test_a_taxi_ride_is_booked_from_the_form_and_the_month_quota_is_shown_on_the_date(api) -> None:
    """The small centre carries Kielce's taxi rules (2 ride days a month); S1 has a ride on DAY already."""
    csrf = console_login(api, "coordinator")
    page = api.client.get("/console/requests/new", params={"senior_id": "S1"}).text
    assert '<option value="destination-wsz">' in page
    ride = {"csrf_token": csrf, "senior_id": "S1", "service": "taxi", "first_date": "2026-12-09",
            "window_start": "09:00", "window_end": "10:00", "destination_place_id": "destination-wsz",
            "appointment": "11:00", "appointment_minutes": "60", "one_way": "on"}
    r = api.client.post("/console/requests", data=ride, follow_redirects=False)
    assert r.status_code == 303, r.text
    created = re.search(r"created=([^&]+)", r.headers["location"]).group(1)
    with Session(api.engine) as s:
        row = s.get(m.VisitRequest, created)
        assert (row.destination_place_id, row.appointment, row.appointment_minutes, row.return_trip) == (
            "destination-wsz", dt.time(11), 60, False)
    assert 'id="one_way" name="one_way" type="checkbox" checked' in api.client.get(f"/console/requests/{created}").text
    r = api.client.post("/console/requests", data={**ride, "first_date": "2026-12-10"})
    assert r.status_code == 409
    error = re.search(r'id="first_date-error"[^>]*>([^<]*)<', r.text).group(1)
    assert error.startswith("wykorzystano 2 z 2 dni z rezerwacją w miesiącu") and error.endswith("[month_quota]")
    r = api.client.post("/console/requests", data={**ride, "first_date": "2027-01-09"})  # a Saturday
    assert r.status_code == 422 and 'id="first_date-error"' in r.text  # the taxi runs on working days only
