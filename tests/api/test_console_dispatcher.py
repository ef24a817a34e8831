"""The dispatcher's console pages on both backends: plan through the form with live job polling,
the board, the unplaced list in the chosen language, the map, publishing with the API's rules."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re

from sqlmodel import Session, select

from dispatch.storage import models as m
from tests.api.conftest import DAY
from tests.api.console_helpers import console_login, plan_through_console

DAY_URL = f"/console/day/{DAY.isoformat()}"


def _roster(api) -> m.Roster:
    with Session(api.engine) as s:
        return s.exec(select(m.Roster).order_by(m.Roster.version.desc())).first()


def test_dispatcher_plans_sees_the_board_and_map_and_publishes_by_the_api_rules(api) -> None:
    """One planned day (planning is the slow part): the board, the map, then publishing as the API does:
    a stale ETag is 412, a missing acknowledgement 409, the version reviewed with its acknowledgements 303."""
    csrf = console_login(api, "dispatcher")
    empty = api.client.get(DAY_URL)
    assert "Dla tego dnia nie ma jeszcze grafiku" in empty.text  # Polish by default
    plan_through_console(api, csrf)
    page = api.client.get(DAY_URL)
    assert page.status_code == 200
    roster = _roster(api)
    assert roster.status == m.RosterStatus.DRAFT
    # a row per worker with visits, visit blocks carrying their request ids, a legend naming each service
    with Session(api.engine) as s:
        placed = s.exec(select(m.RosterAssignment).where(m.RosterAssignment.roster_id == roster.id)).all()
    workers = {a.worker_id for a in placed}
    assert workers and set(re.findall(r'<tr data-worker="([^"]+)"', page.text)) == workers
    assert set(re.findall(r'data-request="([^"]+)"', page.text)) == {a.visit_request_id for a in placed}
    assert "HC = Usługi opiekuńcze" in page.text

    # the map: every route's stops with coordinates, no tile server configured; one worker's route alone
    data = json.loads(htmllib.unescape(re.search(r'data-map="([^"]*)"', api.client.get(f"{DAY_URL}/map").text).group(1)))
    assert data["tiles"] is None and len(data["routes"]) == len(workers)
    assert sum(len(r["stops"]) for r in data["routes"]) == len(placed)
    one = api.client.get(f"{DAY_URL}/map", params={"worker": "W1"}).text
    shown = json.loads(htmllib.unescape(re.search(r'data-map="([^"]*)"', one).group(1)))["routes"]
    assert [r["worker"] for r in shown] == ["Anna Nowak"]

    etag = htmllib.unescape(re.search(r'name="etag" value="([^"]+)"', page.text).group(1))
    acks = re.findall(r'name="ack" value="([^"]+)"', page.text)
    r = api.client.post(f"{DAY_URL}/publish", data={"csrf_token": csrf, "etag": '"stale"', "ack": acks})
    assert r.status_code == 412 and "Grafik zmienił się" in r.text
    if acks:  # leaving an acknowledgement out is refused, as in the API
        r = api.client.post(f"{DAY_URL}/publish", data={"csrf_token": csrf, "etag": etag, "ack": acks[1:]})
        assert r.status_code == 409
    assert _roster(api).status == m.RosterStatus.DRAFT
    r = api.client.post(f"{DAY_URL}/publish", data={"csrf_token": csrf, "etag": etag, "ack": acks},
                        follow_redirects=False)
    assert r.status_code == 303, r.text
    assert _roster(api).status == m.RosterStatus.PUBLISHED
    assert "Opublikowano wersję" in api.client.get(r.headers["location"]).text


def test_unplaced_reasons_follow_the_language_and_mandatory_ones_come_first(api) -> None:
    csrf = console_login(api, "dispatcher")
    with Session(api.engine) as s:  # a mandatory visit nobody can do: its reason must be shown
        s.add(m.VisitRequest(id="R9", senior_id="S2", service="home_care", first_date=DAY, window_start=dt.time(23),
                             window_end=dt.time(23, 30), duration=60, mandatory=True, required_skills=["no_such_skill"]))
        s.commit()
    plan_through_console(api, csrf)
    with Session(api.engine) as s:
        row = s.exec(select(m.RosterUnassigned).where(m.RosterUnassigned.visit_request_id == "R9")).first()
    assert row is not None and row.mandatory
    polish = api.client.get(DAY_URL).text
    assert htmllib.escape(row.message_pl) in polish and htmllib.escape(row.message_en) not in polish
    assert polish.index('id="mandatory-title"') < polish.index('id="board-title"')
    api.client.get(f"/console/lang/en?next={DAY_URL}")
    english = api.client.get(DAY_URL).text
    assert 'lang="en"' in english and htmllib.escape(row.message_en) in english
    assert "Mandatory visits not placed" in english
    # publishing needs R9 acknowledged, exactly as POST /rosters/{date}/publish does
    assert re.findall(r'name="ack" value="([^"]+)"', english) == ["R9"]
    etag = htmllib.unescape(re.search(r'name="etag" value="([^"]+)"', english).group(1))
    r = api.client.post(f"{DAY_URL}/publish", data={"csrf_token": csrf, "etag": etag})
    assert r.status_code == 409 and "Acknowledge every unplaced mandatory visit" in r.text
    assert _roster(api).status == m.RosterStatus.DRAFT
    r = api.client.post(f"{DAY_URL}/publish", data={"csrf_token": csrf, "etag": etag, "ack": ["R9"]},
                        follow_redirects=False)
    assert r.status_code == 303 and _roster(api).status == m.RosterStatus.PUBLISHED


def test_plan_form_errors_and_roles(api) -> None:
    csrf = console_login(api, "dispatcher")
    r = api.client.post(f"{DAY_URL}/plan", data={"csrf_token": csrf, "time_limit_s": "5000"})
    assert r.status_code == 422 and 'id="plan-error"' in r.text
    with Session(api.engine) as s:
        assert s.exec(select(m.PlanJob)).first() is None
    console_login(api, "worker")
    assert api.client.get(DAY_URL).status_code == 403
    console_login(api, "coordinator")
    assert api.client.get(DAY_URL).status_code == 403


def test_planning_an_area_goes_to_the_area_and_a_place_that_is_no_area_is_refused(api) -> None:
    csrf = console_login(api, "dispatcher")
    r = api.client.post(f"{DAY_URL}/plan", data={"csrf_token": csrf, "area": "office-mopr", "time_limit_s": "1"})
    assert r.status_code == 422
    r = api.client.post(f"{DAY_URL}/plan", data={"csrf_token": csrf, "area": "area-centrum", "time_limit_s": "1"},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{DAY_URL}?area=area-centrum"
    with Session(api.engine) as s:
        job = s.exec(select(m.PlanJob)).one()
    assert job.area == "area-centrum" and job.created_by == "dispatcher" and job.time_limit_s == 1
    page = api.client.get(r.headers["location"]).text
    assert '<option value="area-centrum" selected>' in page and f'hx-get="/console/jobs/{job.id}"' in page
