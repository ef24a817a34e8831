"""The worker's phone page marks their own published visits started, finished and not delivered (the
check-in service of ``POST /api/v1/me/visits/{uid}/start|finish``), on both backends; another worker's
visit is "not found" and nothing is stored; twice is refused on the visit; every form needs its CSRF token."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from dispatch.planning.schedule import visit_uid
from dispatch.storage import models as m
from tests.api.conftest import DAY
from tests.api.console_helpers import console_login, csrf_of
from tests.api.test_console_worker_coordinator import _frozen_today, _publish_day


def _stops(api) -> dict[str, list[str]]:
    """Published uids per worker (one-leg visits)."""
    with Session(api.engine) as s:
        roster = s.exec(select(m.Roster).where(m.Roster.status == m.RosterStatus.PUBLISHED)).one()
        rows = s.exec(select(m.RosterAssignment).where(m.RosterAssignment.roster_id == roster.id)).all()
    out: dict[str, list[str]] = {}
    for a in rows:
        if a.visit_request_id != "R4":  # the taxi's legs have their own uids
            out.setdefault(a.worker_id, []).append(visit_uid(a.visit_request_id, a.occurrence_date, "visit", a.worker_id))
    return out


def _checkins(api) -> list[m.VisitCheckin]:
    with Session(api.engine) as s:
        return list(s.exec(select(m.VisitCheckin)).all())


def test_a_worker_starts_finishes_and_marks_a_visit_not_delivered(api, monkeypatch) -> None:
    _frozen_today(monkeypatch, DAY)
    _publish_day(api)
    stops = _stops(api)
    mine = sorted(stops["W1"])
    assert len(mine) >= 2, "the small day gives W1 two visits"
    csrf = console_login(api, "worker")
    page = api.client.get("/console/me").text
    assert page.count('data-checkin="planned"') == len(re.findall(r'data-uid="', page))
    first, second = mine[0], mine[1]
    r = api.client.post(f"/console/me/visits/{first}/start", data={"csrf_token": csrf, "note": "klucz u sąsiadki"},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/me?done=start#v-")
    page = api.client.get(r.headers["location"]).text
    assert "Oznaczono jako rozpoczętą" in page
    assert re.search(rf'data-uid="{re.escape(first)}"[^>]*data-checkin="started"', page)
    assert f'action="/console/me/visits/{first.replace("@", "%40")}/finish"' in page
    r = api.client.post(f"/console/me/visits/{first}/start", data={"csrf_token": csrf})
    assert r.status_code == 409 and "already started" in r.text  # twice: refused on the visit
    r = api.client.post(f"/console/me/visits/{first}/finish", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    r = api.client.post(f"/console/me/visits/{second}/absent", data={"csrf_token": csrf, "note": "nikt nie otworzył"},
                        follow_redirects=False)
    assert r.status_code == 303
    page = api.client.get("/console/me").text
    assert re.search(rf'data-uid="{re.escape(second)}"[^>]*data-checkin="finished"', page) and "nikt nie otworzył" in page
    done = {c.visit_request_id: c for c in _checkins(api)}
    assert done[first.split("-")[0]].outcome == "delivered" and done[first.split("-")[0]].note == "klucz u sąsiadki"
    assert done[second.split("-")[0]].outcome == "absent"
    assert done[second.split("-")[0]].started_at == done[second.split("-")[0]].finished_at  # not started: same time
    with Session(api.engine) as s:
        actions = [a.action for a in s.exec(select(m.AuditLog).where(m.AuditLog.entity == "visit_checkin")).all()]
    assert sorted(actions) == ["visit.checkin_finish", "visit.checkin_finish", "visit.checkin_start"]


def test_a_worker_cannot_check_in_another_workers_visit_or_without_the_token(api, monkeypatch) -> None:
    _frozen_today(monkeypatch, DAY)
    _publish_day(api)
    stops = _stops(api)
    theirs = sorted(stops["W2"])[0]
    csrf = console_login(api, "worker")
    r = api.client.post(f"/console/me/visits/{theirs}/start", data={"csrf_token": csrf})
    assert r.status_code == 404 and "nie należy do Twoich" in r.text
    assert theirs not in r.text  # nothing about the other worker's visit is shown
    r = api.client.post(f"/console/me/visits/{sorted(stops['W1'])[0]}/start", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = api.client.post(f"/console/me/visits/{sorted(stops['W1'])[0]}/explode", data={"csrf_token": csrf})
    assert r.status_code == 404
    assert _checkins(api) == []
    coordinator = console_login(api, "coordinator")
    r = api.client.post(f"/console/me/visits/{sorted(stops['W1'])[0]}/start", data={"csrf_token": coordinator})
    assert r.status_code == 403 and _checkins(api) == []
    assert csrf_of(api.client.get("/console/seniors").text)
