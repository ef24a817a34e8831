"""Rosters over HTTP: the dispatcher's journey, reading versions, publishing with If-Match, export."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import threading
import time

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dispatch import jobs
from dispatch.storage import models as m
from dispatch.planning.rosters import plan_day
from dispatch.providers.travel import provider_from_settings
from optimizer.params import load_params
from tests.api.conftest import DAY

PROBLEM = "application/problem+json"


def make_draft(api, day: dt.date = DAY) -> m.Roster:
    """Plan ``day`` in-process (1 s) and store a draft version, as a finished job would."""
    return plan_day(api.engine, day, provider_from_settings(api.settings), load_params(None, time_limit_s=1)).roster


def roster_url(day: dt.date = DAY) -> str:
    return f"/api/v1/rosters/{day.isoformat()}"


def get_roster(api, user: str = "dispatcher", **params):
    return api.client.get(roster_url(), params=params, headers=api.auth(user))


def publish(api, etag: str | None, user: str = "dispatcher"):
    extra = {"If-Match": etag} if etag is not None else {}
    return api.client.post(roster_url() + "/publish", headers=api.auth(user, **extra))


def test_dispatcher_journey_plan_poll_review_publish_and_the_worker_sees_it(api) -> None:
    """Plan -> poll the job -> read the draft (ETag) -> publish with If-Match -> the worker's schedule has it."""
    h = api.auth("dispatcher")
    r = api.client.post(roster_url() + "/plan", json={"time_limit_s": 1}, headers=h)
    assert r.status_code == 202
    job_url = r.headers["location"]
    if api.engine.url.get_backend_name() != "sqlite":
        asyncio.run(jobs.work_async(jobs.engine_url(api.engine), api.settings, wait=False,
                                    install_signal_handlers=False))
    deadline = time.monotonic() + 90
    while (job := api.client.get(job_url, headers=h).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "succeeded", job

    draft = api.client.get(job["roster_url"], headers=h)
    assert draft.status_code == 200
    body = draft.json()
    assert body["status"] == "draft" and body["version"] == 1 and draft.headers["etag"] == body["etag"]
    assert body["etag"] == f'"r{body["id"]}-v1-draft"'
    assert {rt["worker_id"] for rt in body["routes"]} == {"W1", "W2", "W3"}
    for route in body["routes"]:
        assert [v["sequence"] for v in route["visits"]] == list(range(len(route["visits"])))
        for v in route["visits"]:
            assert v["start"].endswith("+01:00")  # December: CET, local time with offset
    assert body["unassigned"] == [] and body["kpis"]["visits_placed"] == 7
    legs = sorted(v["leg"] for rt in body["routes"] for v in rt["visits"])
    assert legs == ["dropoff", "pickup", "return_dropoff", "return_pickup", "visit", "visit", "visit"]
    assert "cukrzyca" not in draft.text  # health notes never appear in a roster

    worker_before = api.client.get("/api/v1/me/schedule", params={"from": DAY.isoformat(), "to": DAY.isoformat()},
                                   headers=api.auth("worker"))
    assert worker_before.status_code == 200 and worker_before.json()["visits"] == []  # a draft is not shown

    published = publish(api, draft.headers["etag"])
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published" and published.json()["version"] == 1
    assert published.headers["etag"] == draft.headers["etag"].replace("-draft", "-published")  # status changed
    assert published.headers["etag"] == published.json()["etag"] == get_roster(api).headers["etag"]
    assert get_roster(api).json()["status"] == "published"

    w1_visits = [v for rt in body["routes"] if rt["worker_id"] == "W1" for v in rt["visits"]]
    mine = api.client.get("/api/v1/me/schedule", params={"from": DAY.isoformat(), "to": DAY.isoformat()},
                          headers=api.auth("worker")).json()
    assert [v["start"] for v in mine["visits"]] == [v["start"] for v in w1_visits]
    with Session(api.engine) as s:
        audit = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.publish")).all()
    assert len(audit) == 1 and audit[0].actor == "dispatcher" and audit[0].entity_id == str(body["id"])


def test_reading_rosters_roles_and_missing_days(api) -> None:
    """Dispatchers, coordinators and admins read rosters; workers may not; a day without one is 404."""
    r = get_roster(api)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    make_draft(api)
    for user in ("dispatcher", "coordinator", "admin"):
        assert get_roster(api, user).status_code == 200
    assert get_roster(api, "worker").status_code == 403
    assert get_roster(api, version=7).status_code == 404
    assert api.client.get(roster_url()).status_code == 401


def test_coordinator_cannot_publish(api) -> None:
    """Coordinators read rosters but publishing is the dispatcher's: 403, and the draft stays a draft."""
    make_draft(api)
    etag = get_roster(api, "coordinator").headers["etag"]
    r = publish(api, etag, user="coordinator")
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    assert get_roster(api).json()["status"] == "draft"


def test_publish_requires_a_current_if_match(api) -> None:
    """No If-Match -> 428; '*' -> 428; an ETag of an older version -> 412 (with the current ETag); right -> 200."""
    make_draft(api)
    first = get_roster(api).headers["etag"]
    assert publish(api, None).status_code == 428
    assert publish(api, "*").status_code == 428
    make_draft(api)  # version 2 appears after the dispatcher read version 1
    stale = publish(api, first)
    assert stale.status_code == 412 and stale.headers["content-type"].startswith(PROBLEM)
    assert "version 2" in stale.json()["detail"]
    current = stale.headers["etag"]
    assert current == get_roster(api).headers["etag"] != first
    ok = publish(api, current)
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert [(v["version"], v["status"]) for v in ok.json()["versions"]] == [(1, "draft"), (2, "published")]


def test_publishing_again_is_412_or_409_and_a_newer_publish_supersedes_the_old_one(api) -> None:
    """Publishing changes the ETag: the draft's ETag again is 412 (with the new ETag), the published
    version's own ETag is 409 (nothing to do); publishing v2 makes v1 'superseded', kept and readable."""
    make_draft(api)
    etag1 = get_roster(api).headers["etag"]
    done = publish(api, etag1)
    assert done.status_code == 200
    published_etag = get_roster(api).headers["etag"]
    assert published_etag != etag1 and published_etag.endswith('-published"')
    stale = publish(api, etag1)
    assert stale.status_code == 412 and stale.json()["type"].endswith("/precondition-failed")
    assert stale.headers["etag"] == published_etag
    again = publish(api, published_etag)
    assert again.status_code == 409 and again.json()["type"].endswith("/publish-conflict")
    make_draft(api)
    latest = get_roster(api)
    assert latest.json()["status"] == "draft" and latest.json()["version"] == 2  # the draft is newer
    assert publish(api, latest.headers["etag"]).status_code == 200
    old = get_roster(api, version=1).json()
    assert old["status"] == "superseded" and old["routes"]  # kept, with its assignments
    with Session(api.engine) as s:
        published = s.scalars(select(m.Roster).where(m.Roster.status == m.RosterStatus.PUBLISHED)).all()
    assert [r.version for r in published] == [2]


@pytest.mark.parametrize("round_", [1, 2])
def test_two_simultaneous_publishes_with_the_same_etag_exactly_one_wins(api, round_: int) -> None:
    """Two dispatchers publish the same draft at the same instant: one 200, the other 412 (its If-Match
    no longer holds); one published row."""
    make_draft(api)
    etag = get_roster(api).headers["etag"]
    barrier = threading.Barrier(2)
    results: list[int] = []
    lock = threading.Lock()
    hdrs = [api.auth("dispatcher", **{"If-Match": etag}), api.auth("admin", **{"If-Match": etag})]

    def go(h: dict[str, str]) -> None:
        barrier.wait()
        r = api.client.post(roster_url() + "/publish", headers=h)
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=go, args=(h,)) for h in hdrs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200, 412]
    with Session(api.engine) as s:
        statuses = s.scalars(select(m.Roster.status)).all()
        audits = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.publish")).all()
    assert list(statuses) == [m.RosterStatus.PUBLISHED] and len(audits) == 1


def test_export_csv_is_semicolon_utf8_bom_for_polish_excel(api) -> None:
    """CSV export: BOM, ';', Polish headers, one row per visit with local HH:MM, no health data."""
    with Session(api.engine) as s:
        s.get(m.VisitRequest, "R2").tasks = "=HYPERLINK(\"http://evil\")"
        s.commit()
    roster = make_draft(api)
    r = api.client.get(roster_url() + "/export", params={"format": "csv"}, headers=api.auth("coordinator"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="grafik-{DAY.isoformat()}-v{roster.version}.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:5] == ["Data", "Wersja", "Status", "ID pracownika", "Pracownik"]
    assert "Powód nieprzydzielenia" in rows[0]
    assert rows[0][-1] == "Rodzaj"
    assert [row[-1] for row in rows[1:]].count("wizyta") == 7  # three visits, four taxi stops (pickup, drop-off, and back)
    assert [row[-1] for row in rows[1:]].count("przerwa") == 3  # each of the three workers' 8-hour day has a break
    taxi = [row for row in rows[1:] if row[14] == "R4"]
    assert [row[11] for row in taxi] == ["odbiór z domu", "wysadzenie u celu", "odbiór (powrót)", "odwiezienie do domu"]
    assert [row[9] for row in taxi][1:3] == ["WSZ", "WSZ"]  # the stops at the clinic show the clinic
    by_request = {row[14]: row for row in rows[1:] if row[14] not in ("R4", "")}
    assert by_request["R1"][0] == DAY.isoformat() and by_request["R1"][2] == "draft"
    assert by_request["R1"][8] == "Halina Zając" and by_request["R1"][10] == "Usługi opiekuńcze"
    assert by_request["R1"][6] == "08:00"  # window 08:00-09:00, mandatory, first visit of the day
    assert by_request["R2"][12].startswith("'=")  # formula neutralised
    assert "cukrzyca" not in text and "domofon" not in text


def test_export_xlsx_has_the_same_rows(api) -> None:
    """XLSX export opens with openpyxl: sheet 'Grafik', bold header, the visits, text never a formula."""
    from openpyxl import load_workbook

    with Session(api.engine) as s:
        s.get(m.VisitRequest, "R3").tasks = "@SUM(1)"
        s.commit()
    make_draft(api)
    r = api.client.get(roster_url() + "/export", params={"format": "xlsx"}, headers=api.auth("dispatcher"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(r.content))["Grafik"]
    values = list(ws.values)
    assert values[0][3] == "ID pracownika" and ws["A1"].font.bold
    assert [row[-1] for row in values[1:]].count("wizyta") == 7  # three visits, four taxi stops
    assert [row[-1] for row in values[1:]].count("przerwa") == 3
    r3 = next(row for row in values[1:] if row[14] == "R3")
    assert r3[12] == "'@SUM(1)"
    assert api.client.get(roster_url() + "/export", params={"format": "pdf"},
                          headers=api.auth("dispatcher")).status_code == 422
