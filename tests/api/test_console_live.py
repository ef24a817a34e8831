"""The live day in the console on both backends: a hand edit checked (dry run) then saved with the checker's
verdict, recommended slots applied as edits, the draft compared with the published version, a re-plan
started from the form; only dispatchers and admins, every POST with its CSRF token."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import time

from sqlalchemy import select
from sqlmodel import Session

from dispatch.storage import models as m
from tests.api.conftest import DAY
from tests.api.console_helpers import console_login
from tests.api.test_jobs import drain_queue
from tests.api.test_replan import plan_and_publish
from tests.api.test_roster_edits import URL, add_request, checked_latest, headers, latest, plan, stops

DAY_URL = f"/console/day/{DAY.isoformat()}"
EDIT = f"{DAY_URL}/edit"


def etag_of(page: str) -> str:
    return htmllib.unescape(re.search(r'name="etag" value="([^"]+)"', page).group(1))


def edit_form(api, csrf: str, **fields: str) -> dict[str, str]:
    """The edit form as the day page fills it: its CSRF token and the ETag of the version shown."""
    return {"csrf_token": csrf, "etag": etag_of(api.client.get(DAY_URL).text), **fields}


def test_a_move_is_checked_without_saving_refused_naming_the_rule_then_saved_as_a_new_version(api) -> None:
    plan(api)
    csrf = console_login(api, "dispatcher")
    page = api.client.get(DAY_URL, params={"visit": "R1"}).text
    assert '<option value="R1" selected>' in page and 'id="edit-start"' in page
    before = latest(api)

    impossible = edit_form(api, csrf, visit="R1", start="12:00", reason="senior asked")  # R1's window: 08:00-09:00
    for action in ("check", "save"):
        r = api.client.post(EDIT, data={**impossible, "action": action})
        assert r.status_code == 409, r.text
        assert 'data-rule="time_window"' in r.text and "Kontroler odrzuca tę zmianę" in r.text
        assert "(180 min)" in r.text and 'value="12:00"' in r.text  # the form keeps what was asked
        assert latest(api)["version"] == before["version"]

    possible = edit_form(api, csrf, visit="R3", start="12:00")
    checked = api.client.post(EDIT, data={**possible, "action": "check"})
    assert checked.status_code == 200 and "Kontroler przyjmuje tę zmianę" in checked.text
    assert latest(api)["etag"] == before["etag"]  # a check stores nothing
    saved = api.client.post(EDIT, data={**possible, "action": "save"})
    assert saved.status_code == 200, saved.text
    after = latest(api)
    assert after["version"] == before["version"] + 1 and after["status"] == "draft"
    assert f"Zapisano jako szkic, wersja {after['version']}" in saved.text
    assert stops(after)["R3"][0][1] == "12:00" and etag_of(saved.text) == after["etag"]
    stale = api.client.post(EDIT, data={**possible, "start": "12:10", "action": "save"})  # the old ETag
    assert stale.status_code == 412 and "Grafik zmienił się" in stale.text
    checked_latest(api)

    add_request(api, "R9", dt.time(14, 30), dt.time(14, 50), 45)  # W1 at 14:45 works overtime: saved, warned
    api.client.get(f"/console/lang/en?next={DAY_URL}")
    warned = api.client.post(EDIT, data={**edit_form(api, csrf, visit="R9", worker="W1", start="14:45"),
                                         "action": "save"})
    assert warned.status_code == 200 and "The checker warns:" in warned.text
    assert 'data-rule="overtime"' in warned.text
    assert stops(latest(api))["R9"] == [("W1", "14:45")]
    bad = api.client.post(EDIT, data={**edit_form(api, csrf, visit="R9", start="25:99"), "action": "check"})
    assert bad.status_code == 422 and "start" in bad.text and "not a time" in bad.text
    with Session(api.engine) as s:
        edits = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.edit")).all()
    assert len(edits) == 2 and {e.actor for e in edits} == {"dispatcher"}  # checks and refusals leave no trace


def test_an_unplaced_visit_s_recommended_slot_is_applied_and_the_draft_compared_with_the_published(api) -> None:
    published = plan_and_publish(api)
    csrf = console_login(api, "dispatcher")
    out = api.client.post(EDIT, data={**edit_form(api, csrf, visit="R3", unassign="1", reason="hospital"),
                                      "action": "save"})
    assert out.status_code == 200, out.text
    page = api.client.get(DAY_URL).text
    assert f'href="{DAY_URL}/recommend?visit=R3"' in page
    assert f'href="{DAY_URL}/compare"' in page  # the draft differs from the published version

    rec = api.client.get(f"{DAY_URL}/recommend", params={"visit": "R3"})
    assert rec.status_code == 200, rec.text
    expected = api.client.post(f"{URL}/recommendations", json={"request_id": "R3"}, headers=headers(api)).json()
    assert expected["options"]
    first = re.search(r'<tr data-option="1">(.*?)</tr>', rec.text, re.S).group(1)
    fields = {k: htmllib.unescape(v) for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', first)}
    best = expected["options"][0]
    assert fields["worker"] == best["workers"][0]["worker_id"] and fields["start"] == best["start"][11:16]
    assert fields["etag"] == latest(api)["etag"]
    applied = api.client.post(EDIT, data={**fields, "action": "save"})
    assert applied.status_code == 200, applied.text
    assert stops(latest(api))["R3"] == [(fields["worker"], fields["start"])]
    checked_latest(api)

    compare = api.client.get(f"{DAY_URL}/compare")
    assert compare.status_code == 200
    diff = api.client.get(f"{URL}/diff", headers=headers(api)).json()
    assert diff["from_version"] == published.version
    told = re.search(r'<ul id="must-tell">(.*?)</ul>', compare.text, re.S)
    assert sorted(re.findall(r'data-worker="([^"]+)"', told.group(1) if told else "")) == sorted(diff["must_tell"])
    for w in diff["workers"]:
        row = re.search(rf'<tr data-worker="{w["worker_id"]}">(.*?)</tr>', compare.text, re.S).group(1)
        for kind in ("moved_in_time", "moved_in", "moved_out", "added", "removed"):
            assert row.count(f'data-change="{kind}"') == len(w[kind]), (w["worker_id"], kind)
    missing = api.client.get(f"{DAY_URL}/recommend", params={"visit": "NOPE"})
    assert missing.status_code == 422 and "NOPE" in missing.text


def test_a_re_plan_is_started_from_the_form_and_its_progress_shown_like_planning(api) -> None:
    csrf = console_login(api, "dispatcher")
    nothing = api.client.post(f"{DAY_URL}/replan", data={"csrf_token": csrf, "from_time": "10:00"})
    assert nothing.status_code == 409 and "Nie można rozpocząć przeplanowania" in nothing.text
    published = plan_and_publish(api)
    page = api.client.get(DAY_URL).text
    assert 'id="replan-from"' in page and 'name="unavailable" value="W1"' in page
    bad = api.client.post(f"{DAY_URL}/replan", data={"csrf_token": csrf, "from_time": "xx"})
    assert bad.status_code == 422
    r = api.client.post(f"{DAY_URL}/replan", data={"csrf_token": csrf, "from_time": "10:00", "unavailable": ["W1"],
                                                    "reason": "W1 is ill", "time_limit_s": "1"},
                        follow_redirects=False)
    assert r.status_code == 303, r.text
    job = re.search(r'hx-get="/console/jobs/([^"]+)"', api.client.get(r.headers["location"]).text)
    assert job, "the day page shows no job being polled"
    drain_queue(api)
    deadline = time.monotonic() + 90
    while (poll := api.client.get(f"/console/jobs/{job.group(1)}", headers={"HX-Request": "true"})).status_code != 204:
        assert poll.status_code == 200 and "failed" not in poll.text, poll.text
        assert time.monotonic() < deadline
        time.sleep(0.3)
    draft = latest(api)
    assert draft["version"] == published.version + 1 and draft["status"] == "draft"
    after_ten = [w for visits in stops(draft).values() for w, start in visits if start >= "10:00"]
    assert "W1" not in after_ten
    with Session(api.engine) as s:
        (audit,) = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.replan")).all()
    assert audit.actor == "dispatcher"


def test_live_pages_are_for_dispatchers_and_admins_and_every_post_needs_its_csrf_token(api) -> None:
    posts = (EDIT, f"{DAY_URL}/replan")
    gets = (f"{DAY_URL}/compare", f"{DAY_URL}/recommend?visit=R1")
    for user in ("coordinator", "worker"):
        csrf = console_login(api, user)
        for url in gets:
            assert api.client.get(url).status_code == 403, (user, url)
        for url in posts:
            assert api.client.post(url, data={"csrf_token": csrf, "visit": "R1"}).status_code == 403, (user, url)
    console_login(api, "dispatcher")
    for url in posts:
        assert api.client.post(url, data={"csrf_token": "wrong", "visit": "R1", "action": "save"}).status_code == 403
        assert api.client.post(url, data={"visit": "R1", "action": "save"}).status_code == 403
    console_login(api, "admin")
    compare = api.client.get(f"{DAY_URL}/compare")
    assert compare.status_code == 200 and "Dla tego dnia nie ma jeszcze grafiku" in compare.text
    api.client.cookies.clear()
    assert api.client.get(f"{DAY_URL}/compare", follow_redirects=False).status_code == 303  # to the login page
