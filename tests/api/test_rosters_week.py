"""A week planned in one job over HTTP (issue 17, item 6): ``POST /rosters/week/{monday}/plan`` and
``GET /rosters/week/{monday}``, on SQLite (a child process of the API) and PostgreSQL (the queue).

The small API scenario's week (from Monday 30 November 2026): three care visits every weekday for
seniors whose regular worker is W1, and one taxi ride on Tuesday.  The job's days are planned by
``plan_day``, whose rosters the independent checker verifies before they are stored.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlmodel import Session

from dispatch.storage import models as m
from tests.api.conftest import MON
from tests.api.test_jobs import BackgroundWorker, drain_queue, poll

PROBLEM = "application/problem+json"


def plan_week(api, user: str = "dispatcher", monday: dt.date = MON, **body) -> object:
    return api.client.post(f"/api/v1/rosters/week/{monday.isoformat()}/plan", json=body or None,
                           headers=api.auth(user))


def jobs_count(api) -> int:
    with Session(api.engine) as s:
        return s.scalar(select(func.count()).select_from(m.PlanJob)) or 0


def test_a_week_job_stores_seven_drafts_and_the_week_reads_as_one(api) -> None:
    """202 + Location; the job plans Monday to Sunday (seven draft versions, listed in its progress); the
    week's report counts the 19 visits placed, one carer per senior (W1, their regular worker), no rest
    breach, and links each day's version; the days read back as ordinary rosters."""
    r = plan_week(api, time_limit_s=1)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert job["days"] == 7 and job["date"] == MON.isoformat() and job["time_limit_s"] == 1.0
    drain_queue(api)
    done = poll(api, job["id"], timeout=180)
    assert done["status"] == "succeeded", done
    assert done["roster_url"] == f"/api/v1/rosters/week/{MON.isoformat()}"
    days = done["progress"]["days"]
    assert [d["date"] for d in days] == [(MON + dt.timedelta(days=i)).isoformat() for i in range(7)]
    assert done["progress"]["visits_total"] == 19 and done["progress"]["visits_placed"] == 19
    week = api.client.get(done["roster_url"], headers=api.auth("dispatcher"))
    assert week.status_code == 200, week.text
    body = week.json()
    assert (body["visits_placed"], body["visits_total"], body["seniors"], body["rest_breaches"]) == (19, 19, 3, 0)
    assert [(d["version"], d["status"]) for d in body["days"]] == [(1, "draft")] * 7
    assert [d["roster_id"] for d in body["days"]] == [d["roster_id"] for d in days]
    # Recount continuity from the seven rosters as a coordinator reads them: R1-R3 are S1-S3's care visits.
    senior_of = {"R1": "S1", "R2": "S2", "R3": "S3"}
    carers: dict[str, set[str]] = {}
    by_w1 = 0
    for d in body["days"]:
        roster = api.client.get(d["roster_url"], headers=api.auth("coordinator"))
        assert roster.status_code == 200 and roster.json()["status"] == "draft"
        for rt in roster.json()["routes"]:
            for v in rt["visits"]:
                if v["visit_request_id"] in senior_of:
                    carers.setdefault(senior_of[v["visit_request_id"]], set()).add(rt["worker_id"])
                    by_w1 += rt["worker_id"] == "W1"
    assert {x["senior_id"]: set(x["workers"]) for x in body["by_senior"]} == carers
    counts = [len(c) for c in carers.values()]
    assert body["distinct_workers_per_senior"] == {"mean": round(sum(counts) / 3, 3), "max": max(counts)}
    # W1 does most of them (a majority: at a 1 s limit on a loaded machine the search may not reach all 15).
    assert body["regular_share"] == round(by_w1 / 15, 4) and by_w1 >= 8
    with Session(api.engine) as s:
        audit = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "plan_job.create")).one()
    assert audit.changes["days"] == {"old": None, "new": 7}


def test_only_dispatchers_and_admins_plan_a_week_coordinators_read_it(api) -> None:
    """Coordinators and workers get 403 on planning (no job made); workers 403 on the report; a coordinator
    reads an unplanned week: seven days without versions, nothing placed."""
    for user in ("coordinator", "worker"):
        r = plan_week(api, user=user, time_limit_s=1)
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert jobs_count(api) == 0
    url = f"/api/v1/rosters/week/{MON.isoformat()}"
    assert api.client.get(url, headers=api.auth("worker")).status_code == 403
    r = api.client.get(url, headers=api.auth("coordinator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["version"] for d in body["days"]] == [None] * 7
    assert (body["visits_placed"], body["seniors"], body["regular_share"], body["rest_breaches"]) == (0, 0, None, 0)


def test_bad_input_is_a_422_problem_naming_the_field(api) -> None:
    """Not a Monday (planning or reading), not a date, a time limit out of range, an unknown area: 422 problems
    naming the field; no job is created."""
    h = api.auth("dispatcher")
    for method, url in (("post", "/api/v1/rosters/week/2026-12-01/plan"), ("get", "/api/v1/rosters/week/2026-12-01")):
        r = getattr(api.client, method)(url, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
        assert r.json()["errors"] == [{"field": "monday",
                                       "message": "2026-12-01 is a Tuesday, not a Monday; a week is planned from "
                                                  "its Monday"}]
    assert api.client.post("/api/v1/rosters/week/2026-02-30/plan", headers=h).status_code == 422
    assert plan_week(api, time_limit_s=0).status_code == 422
    assert plan_week(api, time_limit_s=5000).status_code == 422
    r = plan_week(api, area="office-mopr", time_limit_s=1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area"
    assert jobs_count(api) == 0


def test_a_day_of_a_week_being_planned_cannot_be_planned_meanwhile(api) -> None:
    """While the week job is active, planning its Wednesday (or the week again) is a 409 naming the job;
    the Monday after the week is free."""
    with BackgroundWorker(api):
        r = plan_week(api, time_limit_s=1)
        assert r.status_code == 202, r.text
        week = r.json()["id"]
        h = api.auth("dispatcher")
        day = api.client.post(f"/api/v1/rosters/{(MON + dt.timedelta(days=2)).isoformat()}/plan",
                              json={"time_limit_s": 1}, headers=h)
        again = plan_week(api, time_limit_s=1)
        assert (day.status_code, again.status_code) == (409, 409), (day.text, again.text)
        assert day.headers["location"] == again.headers["location"] == f"/api/v1/jobs/{week}"
        after = api.client.post(f"/api/v1/rosters/{(MON + dt.timedelta(days=7)).isoformat()}/plan",
                                json={"time_limit_s": 1}, headers=h)
        assert after.status_code == 202, after.text
        drain_queue(api)
        assert poll(api, week, timeout=180)["status"] == "succeeded"
        assert poll(api, after.json()["id"], timeout=180)["status"] == "succeeded"
