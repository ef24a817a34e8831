"""Re-planning a published day over HTTP (issue 16 items 1 and 5), on SQLite and PostgreSQL.

The small scenario's Tuesday (W1 and W2 carers 07:00-15:00, W3 the driver of car C1) is planned and
published; then a sick call, a closed day, bad input.  Every re-plan runs as a planning job, which
checks its plan with the independent checker before storing it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dispatch import jobs
from dispatch.planning import publish
from dispatch.storage import models as m
from dispatch.planning import replan as rp
from dispatch.planning.rosters import plan_day
from dispatch.providers.travel import provider_from_settings
from fixtures.scenario import ServiceCode
from optimizer.params import load_params
from tests.api.test_rosters import PROBLEM

DAY = dt.date(2026, 12, 1)
URL = f"/api/v1/rosters/{DAY.isoformat()}"
PARAMS = dict(time_limit_s=None, solution_limit=5, lns_iterations=10, seed=0)


def plan_and_publish(api, day: dt.date = DAY) -> m.Roster:
    """Plan ``day`` deterministically (checked by the checker in ``plan_day``) and publish it."""
    plan_day(api.engine, day, provider_from_settings(api.settings), load_params(None, **PARAMS))
    with Session(api.engine, expire_on_commit=False) as s:
        latest = publish.latest_roster(s, day)
        assert latest is not None
        rows = publish.unplaced_mandatory(s, latest.id or 0)
        roster = publish.publish_latest(s, day, publish.etag(latest), "dispatcher", None,
                                        publish.mandatory_request_ids(rows))
        s.commit()
        return roster


def stops(api, roster_id: int) -> dict[tuple[str, str], tuple[str, dt.datetime]]:
    """(request id, leg) -> (worker, start) of a stored version (one-person visits only here)."""
    with Session(api.engine) as s:
        rows = s.scalars(select(m.RosterAssignment).where(m.RosterAssignment.roster_id == roster_id)).all()
        return {(r.visit_request_id, r.leg or "visit"): (r.worker_id, r.start) for r in rows}


def finish(api, job_url: str, h: dict[str, str]) -> dict:
    """Run (PostgreSQL: through the queue worker) and poll the job until it is final."""
    if api.engine.url.get_backend_name() != "sqlite":
        asyncio.run(jobs.work_async(jobs.engine_url(api.engine), api.settings, wait=False,
                                    install_signal_handlers=False))
    deadline = time.monotonic() + 120
    while (job := api.client.get(job_url, headers=h).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return job


def test_a_sick_carer_s_visits_move_frozen_work_stays_and_it_is_audited(api) -> None:
    """A carer with a visit before 10:00 and one after calls in sick at 10:00: the visit started before
    10:00 stays on them at its time (frozen), their later visits go to someone else, the other stops are
    kept; the answer is 202 + job, the result a new draft whose counts say so, and the audit log has who,
    what and why."""
    published = plan_and_publish(api)
    before = stops(api, published.id or 0)
    cut = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # 10:00 in Warsaw
    [sick] = [w for w in ("W1", "W2") if any(v == w and s < cut for v, s in before.values())
              and any(v == w and s >= cut for v, s in before.values())]
    w1 = {k: v for k, v in before.items() if v[0] == sick}

    h = api.auth("dispatcher")
    body = {"from": "10:00", "unavailable": [{"worker_id": sick, "from": "10:00"}],
            "reason": f"{sick} sick (phone 9:40)", "time_limit_s": 1}
    r = api.client.post(URL + "/replan", json=body, headers=h)
    assert r.status_code == 202, r.text
    assert r.headers["location"].startswith("/api/v1/jobs/")
    job = finish(api, r.headers["location"], h)
    assert job["status"] == "succeeded", job
    assert job["roster_version"] == 2

    after = stops(api, job["roster_id"])
    for key, (worker, start) in before.items():
        if start < cut:
            assert after[key] == (worker, start), key  # frozen: same worker, same start
        elif worker == sick:
            assert key in after and after[key][0] != sick, key  # re-assigned (the day has room)
        else:
            assert after[key][0] == worker and abs((after[key][1] - start).total_seconds()) <= 15 * 60, key
    moved = sum(1 for k, (w, s) in w1.items() if s >= cut)
    changes = job["progress"]["changes"]
    assert changes["before"] == len(before) and changes["moved_worker"] == moved and changes["removed"] == 0
    assert changes["kept"] == len(before) - moved and changes["published_version"] == 1

    draft = api.client.get(URL, headers=h).json()
    assert draft["status"] == "draft" and draft["version"] == 2
    assert draft["solver"]["replan"]["reason"] == f"{sick} sick (phone 9:40)"
    with Session(api.engine) as s:
        [row] = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.replan")).all()
    assert row.actor == "dispatcher" and row.entity_id == str(published.id)
    assert row.changes["reason"]["new"] == f"{sick} sick (phone 9:40)"
    assert row.changes["replan"]["new"]["unavailable"][0]["worker_id"] == sick
    assert row.changes["replan"]["new"]["from"] == "10:00" and row.changes["job"]["new"] == job["id"]


def test_a_day_without_a_published_version_is_409(api) -> None:
    r = api.client.post(URL + "/replan", json={"from": "09:00"}, headers=api.auth("dispatcher"))
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)
    assert "no published roster" in r.json()["detail"] and "publish it first" in r.json()["detail"]


def test_only_dispatchers_and_admins_re_plan(api) -> None:
    plan_and_publish(api)
    for user in ("coordinator", "worker"):
        assert api.client.post(URL + "/replan", json={}, headers=api.auth(user)).status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"from": "25:00"}, "from"),
    ({"from": "08:00+02:00"}, "from"),
    ({"unavailable": [{"worker_id": "W9", "from": "08:00"}]}, "unavailable.0.worker_id"),
    ({"unavailable": [{"worker_id": "W1", "from": "08:00"}, {"car_id": "C9", "from": "10:00"}]},
     "unavailable.1.car_id"),
    ({"unavailable": [{"worker_id": "W1", "from": "10:00", "until": "09:00"}]}, "unavailable.0.until"),
    ({"unavailable": [{"worker_id": "W1", "car_id": "C1", "from": "10:00"}]}, "unavailable.0"),
    ({"unavailable": [{"worker_id": "W1"}]}, "unavailable.0.from"),
])
def test_bad_input_is_422_naming_the_field(api, body: dict, field: str) -> None:
    plan_and_publish(api)
    r = api.client.post(URL + "/replan", json=body, headers=api.auth("dispatcher"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert any(field in e["field"] for e in r.json()["errors"]), r.json()
    with Session(api.engine) as s:
        assert s.scalars(select(m.PlanJob)).all() == []


def test_a_closed_day_is_refused_for_a_dispatcher_and_allowed_and_audited_for_an_admin(api, monkeypatch) -> None:
    """After midnight at the end of the day, re-plan and publish answer 409 to a dispatcher (nothing stored,
    nothing audited); an admin may, and the override is audited with the reason."""
    plan_and_publish(api)
    api.set_now(dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC))  # 00:00 Dec 2
    body = {"from": "12:00", "reason": "late correction", "time_limit_s": 1}
    r = api.client.post(URL + "/replan", json=body, headers=api.auth("dispatcher"))
    assert r.status_code == 409 and r.json()["type"].endswith("day-closed"), r.text
    assert "only an admin may re-plan" in r.json()["detail"]
    with Session(api.engine) as s:
        assert s.scalars(select(m.PlanJob)).all() == []
        assert s.scalars(select(m.AuditLog).where(m.AuditLog.action.in_(
            ["roster.replan", "roster.closed_day_override"]))).all() == []

    h = api.auth("admin")
    r = api.client.post(URL + "/replan", json=body, headers=h)
    assert r.status_code == 202, r.text
    job = finish(api, r.headers["location"], h)
    assert job["status"] == "succeeded", job
    with Session(api.engine) as s:
        override = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.closed_day_override")).one()
        replanned = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.replan")).one()
    assert override.actor == "admin" and override.changes["reason"]["new"] == "late correction"
    assert override.changes["action"]["new"] == "re-plan" and replanned.actor == "admin"

    draft = api.client.get(URL, headers=h)
    refused = api.client.post(URL + "/publish", headers=api.auth("dispatcher", **{"If-Match": draft.headers["etag"]}),
                              json={"acknowledge_unplaced_mandatory": draft.json()["unplaced_mandatory_ids"]})
    assert refused.status_code == 409 and "only an admin may publish" in refused.json()["detail"]
    assert api.client.get(URL, headers=h).json()["status"] == "draft"  # nothing published
    done = api.client.post(URL + "/publish", headers={**h, "If-Match": draft.headers["etag"]},
                           json={"acknowledge_unplaced_mandatory": draft.json()["unplaced_mandatory_ids"]})
    assert done.status_code == 200, done.text
    with Session(api.engine) as s:
        actions = [a.changes["action"]["new"] for a in s.scalars(
            select(m.AuditLog).where(m.AuditLog.action == "roster.closed_day_override")).all()]
    assert sorted(actions) == ["publish", "re-plan"]


def test_from_defaults_to_now_in_warsaw(api, monkeypatch) -> None:
    """No ``from``: the API's clock, in local time (09:47 UTC is 10:47 in December)."""
    plan_and_publish(api)
    api.set_now(dt.datetime(2026, 12, 1, 9, 47, 30, tzinfo=dt.UTC))
    h = api.auth("dispatcher")
    r = api.client.post(URL + "/replan", json={"time_limit_s": 1}, headers=h)
    assert r.status_code == 202, r.text
    with Session(api.engine) as s:
        job = s.get(m.PlanJob, r.json()["id"])
        assert job is not None and job.replan is not None and job.replan["from"] == "10:47"
    assert finish(api, r.headers["location"], h)["status"] == "succeeded"


AUTUMN = dt.date(2026, 10, 25)  # a Sunday of 25 hours in Warsaw


def test_a_dst_day_is_re_planned_in_local_time(api) -> None:
    """2026-10-25: W1 and W2 work 07:00-15:00 that Sunday; visits at exactly 08:00, 10:00 and 12:00 local are
    published; W1 is sick from 09:00 (re-planned through the service the CLI uses).  The 08:00 visit (minute
    540 of that day, not 480) started before 09:00 and is kept as it was; W1's later ones go to W2 at the
    same local times."""
    with Session(api.engine) as s:
        for wid in ("W1", "W2"):
            s.add(m.WorkerShift(worker_id=wid, weekday=6, start=dt.time(7), end=dt.time(15)))
        for rid, sid, start in (("R-A", "S1", 8), ("R-B", "S2", 10), ("R-C", "S3", 12)):
            s.add(m.VisitRequest(id=rid, senior_id=sid, service=ServiceCode.HOME_CARE, first_date=AUTUMN,
                                 window_start=dt.time(start), window_end=dt.time(start), duration=45))
        s.commit()
    published = plan_and_publish(api, AUTUMN)
    before = stops(api, published.id or 0)
    assert before[("R-A", "visit")][1] == dt.datetime(2026, 10, 25, 7, 0, tzinfo=dt.UTC)  # 08:00 CET
    w1_later = [k for k, (w, s) in before.items() if w == "W1" and k[0] != "R-A"]

    spec = rp.ReplanSpec(dt.time(9), (rp.Unavailability(dt.time(9), "W1"),), "sick")
    roster, counts, solution = rp.replan_and_store(
        api.engine, AUTUMN, spec, provider_from_settings(api.settings), load_params(None, **PARAMS),
        "Europe/Warsaw", None, now=dt.datetime(2026, 10, 25, 8, 5, tzinfo=dt.UTC), actor="dispatcher",
        role=m.UserRole.DISPATCHER)
    after = stops(api, roster.id or 0)
    assert after[("R-A", "visit")] == before[("R-A", "visit")]  # started before 09:00: kept as it was
    for key in w1_later:
        assert after[key][0] == "W2" and after[key][1] == before[key][1]  # same time, the other carer
    assert counts.removed == 0 and counts.moved_worker == len(w1_later)
    assert solution.kpis is not None and solution.kpis.visits_placed == 3
