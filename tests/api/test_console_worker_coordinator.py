"""The worker's phone page (only their own published visits) and the coordinator's seniors list and
request form (errors next to the field at fault), on both backends."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

from sqlmodel import Session, select

from dispatch.storage import models as m
from tests.api.conftest import DAY
from tests.api.console_helpers import console_login, plan_through_console


def _publish_day(api) -> None:
    csrf = console_login(api, "dispatcher")
    plan_through_console(api, csrf)
    page = api.client.get(f"/console/day/{DAY.isoformat()}").text
    etag = htmllib.unescape(re.search(r'name="etag" value="([^"]+)"', page).group(1))
    r = api.client.post(f"/console/day/{DAY.isoformat()}/publish",
                        data={"csrf_token": csrf, "etag": etag, "ack": re.findall(r'name="ack" value="([^"]+)"', page)},
                        follow_redirects=False)
    assert r.status_code == 303, r.text


def _frozen_today(monkeypatch, day: dt.date) -> None:
    import api.console.pages_worker as pages

    monkeypatch.setattr(pages, "today_in", lambda tz: day)


def test_worker_sees_only_their_own_published_visits(api, monkeypatch) -> None:
    _frozen_today(monkeypatch, DAY)
    console_login(api, "worker")
    assert "W najbliższych dniach nie masz opublikowanych wizyt" in api.client.get("/console/me").text
    _publish_day(api)
    with Session(api.engine) as s:
        roster = s.exec(select(m.Roster).where(m.Roster.status == m.RosterStatus.PUBLISHED)).one()
        rows = s.exec(select(m.RosterAssignment).where(m.RosterAssignment.roster_id == roster.id)).all()
    mine = {r.visit_request_id for r in rows if r.worker_id == "W1"}
    assert mine, "the small day gives W1 visits"
    console_login(api, "worker")
    page = api.client.get("/console/me").text
    shown = re.findall(r'data-uid="([^"]+)"', page)
    assert len(shown) == len([r for r in rows if r.worker_id == "W1"])
    assert all("W1" in uid for uid in shown) and not any("W2" in uid or "W3" in uid for uid in shown)
    assert "geo:0,0?q=" in page and "Sienkiewicza" in page  # the address opens in a maps app
    assert "domofon 12" in page  # notes meant for workers
    assert "cukrzyca" not in page  # never health notes
    r = api.client.post("/console/me/calendar-token", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', page).group(1)})
    assert r.status_code == 200 and "/api/v1/calendar/" in r.text


def test_coordinator_lists_seniors_and_enters_a_request(api) -> None:
    csrf = console_login(api, "coordinator")
    page = api.client.get("/console/seniors", params={"name": "Maz"}).text
    assert "Krystyna" in page and "Halina" not in page
    form = api.client.get("/console/requests/new", params={"senior_id": "S2"})
    assert "Krystyna Mazur" in form.text
    good = {"csrf_token": csrf, "senior_id": "S2", "service": "home_care", "first_date": (DAY + dt.timedelta(days=1)).isoformat(),
            "window_start": "10:00", "window_end": "11:00", "priority": "3", "tasks": "spacer"}
    r = api.client.post("/console/requests", data=good, follow_redirects=False)
    assert r.status_code == 303, r.text
    done = api.client.get(r.headers["location"]).text
    assert "Zlecenie wprowadzono" in done
    with Session(api.engine) as s:
        row = s.exec(select(m.VisitRequest).where(m.VisitRequest.tasks == "spacer")).one()
    assert row.senior_id == "S2" and row.window_start == dt.time(10) and row.duration == 60  # the service's default


def test_request_errors_are_shown_next_to_the_field_at_fault(api) -> None:
    csrf = console_login(api, "coordinator")
    bad = {"csrf_token": csrf, "senior_id": "S2", "service": "home_care", "first_date": DAY.isoformat(),
           "window_start": "11:00", "window_end": "10:00", "priority": "3", "tasks": "zły"}
    r = api.client.post("/console/requests", data=bad)
    assert r.status_code == 422
    assert re.search(r'id="window_end"[^>]*aria-invalid="true"[^>]*aria-describedby="window_end-error"', r.text)
    assert re.search(r'id="window_end-error" data-field="window_end">[^<]*before window_start', r.text)
    assert 'value="11:00"' in r.text  # what was typed stays in the form
    r = api.client.post("/console/requests", data={**bad, "window_end": "12:00", "priority": "9", "senior_id": "S404"})
    assert r.status_code == 422 and 'id="priority-error"' in r.text
    r = api.client.post("/console/requests", data={**bad, "window_end": "12:00", "senior_id": "S404"})
    assert r.status_code == 422 and 'id="senior_id-error"' in r.text
    with Session(api.engine) as s:
        assert s.exec(select(m.VisitRequest).where(m.VisitRequest.tasks == "zły")).first() is None


def test_an_intake_rule_is_shown_next_to_the_field_it_concerns(api) -> None:
    """The intake rules run at the app's clock as in the API: a date already past is refused on first_date."""
    csrf = console_login(api, "coordinator")
    api.set_now(dt.datetime.combine(DAY + dt.timedelta(days=3), dt.time(9), tzinfo=dt.UTC))
    r = api.client.post("/console/requests", data={
        "csrf_token": csrf, "senior_id": "S2", "service": "home_care", "first_date": DAY.isoformat(),
        "window_start": "10:00", "window_end": "11:00", "tasks": "po terminie"})
    assert r.status_code == 422
    assert re.search(r'id="first_date"[^>]*aria-invalid="true"', r.text) and 'id="first_date-error"' in r.text
    with Session(api.engine) as s:
        assert s.exec(select(m.VisitRequest).where(m.VisitRequest.tasks == "po terminie")).first() is None
