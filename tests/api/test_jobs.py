"""Planning jobs over HTTP: 202 + Location, polling, cancelling, dead runners, both runners.

On SQLite the API starts each job in a child process; on PostgreSQL jobs go through the
procrastinate queue and the test runs the worker in-process (``work_async(wait=False)``),
in a background thread when the test must act while the job runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dispatch import jobs
from dispatch.storage import models as m
from tests.api.conftest import DAY

FINAL = {"succeeded", "failed", "cancelled"}


def is_queue(api) -> bool:
    return api.engine.url.get_backend_name() != "sqlite"


def drain_queue(api) -> None:
    """PostgreSQL: run the procrastinate worker in-process until the queue is empty."""
    if is_queue(api):
        asyncio.run(jobs.work_async(jobs.engine_url(api.engine), api.settings, wait=False,
                                    install_signal_handlers=False))


class BackgroundWorker:
    """PostgreSQL: the queue worker in a thread, so the test can act while a job runs."""

    def __init__(self, api) -> None:
        self.thread = threading.Thread(target=drain_queue, args=(api,), daemon=True) if is_queue(api) else None

    def __enter__(self) -> BackgroundWorker:
        if self.thread:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread:
            self.thread.join(timeout=120)
            assert not self.thread.is_alive(), "queue worker did not finish"


def plan(api, user: str = "dispatcher", day: dt.date = DAY, **body) -> object:
    return api.client.post(f"/api/v1/rosters/{day.isoformat()}/plan", json=body or None, headers=api.auth(user))


def poll(api, job_id: str, until: set[str] = FINAL, timeout: float = 90.0, check=None) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = api.client.get(f"/api/v1/jobs/{job_id}", headers=api.auth("dispatcher"))
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in until and (check is None or check(body)):
            return body
        assert time.monotonic() < deadline, f"job still {body['status']}: {body}"
        time.sleep(0.2)


def roster_count(api) -> int:
    with Session(api.engine) as s:
        return s.scalar(select(func.count()).select_from(m.Roster)) or 0


def test_plan_answers_202_with_job_and_location_then_succeeds(api) -> None:
    """POST plan gives 202 + Location of the job; polling shows progress and, when done, the draft roster."""
    r = plan(api, time_limit_s=1)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert job["status"] in ("queued", "running") and job["date"] == DAY.isoformat()
    assert job["runner"] == ("queue" if is_queue(api) else "process")
    assert job["created_by"] == "dispatcher" and job["time_limit_s"] == 1.0
    drain_queue(api)
    done = poll(api, job["id"])
    assert done["status"] == "succeeded", done
    assert done["roster_id"] and done["roster_version"] == 1
    assert done["roster_url"] == f"/api/v1/rosters/{DAY.isoformat()}?version=1"
    assert done["progress"]["visits_total"] == 7 and done["progress"]["visits_placed"] == 7  # 3 visits + 4 taxi stops
    assert done["progress"]["elapsed_s"] is not None and done["finished_at"] and done["started_at"]
    roster = api.client.get(done["roster_url"], headers=api.auth("dispatcher")).json()
    assert roster["status"] == "draft" and roster["id"] == done["roster_id"]
    with Session(api.engine) as s:
        actions = s.scalars(select(m.AuditLog.action)).all()
    assert "plan_job.create" in actions


def test_only_dispatchers_and_admins_can_plan_or_read_jobs(api) -> None:
    """Coordinators and workers get 403 on planning and on job reads; no job is created."""
    for user in ("coordinator", "worker"):
        r = plan(api, user=user, time_limit_s=1)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert api.client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=api.auth("coordinator")).status_code == 403
    with Session(api.engine) as s:
        assert s.scalar(select(func.count()).select_from(m.PlanJob)) == 0


def test_plan_input_is_validated(api) -> None:
    """A bad date, a time limit out of range or an unknown area are 422 problems; an unknown job is 404."""
    h = api.auth("dispatcher")
    assert api.client.post("/api/v1/rosters/2026-02-30/plan", headers=h).status_code == 422
    r = plan(api, time_limit_s=0)
    assert r.status_code == 422 and r.json()["errors"]
    r = plan(api, time_limit_s=5000)
    assert r.status_code == 422
    r = plan(api, area="office-mopr", time_limit_s=1)  # a place, but not an area
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area"
    r = plan(api, priority=1)  # unknown field
    assert r.status_code == 422
    r = api.client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=h)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_second_plan_for_the_same_day_while_one_is_active_is_409(api) -> None:
    """Two planning runs of one day at once would race for the version number: the second is refused."""
    first = plan(api, time_limit_s=20)
    assert first.status_code == 202
    second = plan(api, time_limit_s=1)
    assert second.status_code == 409, second.text
    assert second.json()["type"].endswith("/job-running")
    assert second.headers["location"] == f"/api/v1/jobs/{first.json()['id']}"
    other_day = plan(api, day=DAY + dt.timedelta(days=1), time_limit_s=20)
    assert other_day.status_code == 202
    for job_id in (first.json()["id"], other_day.json()["id"]):
        api.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=api.auth("dispatcher"))
    with BackgroundWorker(api):
        for job_id in (first.json()["id"], other_day.json()["id"]):
            assert poll(api, job_id)["status"] == "cancelled"


def test_cancelled_running_job_stores_no_roster(api) -> None:
    """Cancelling a running job stops it within seconds; it ends 'cancelled' and no roster exists."""
    r = plan(api, time_limit_s=30)
    job_id = r.json()["id"]
    started = time.monotonic()
    with BackgroundWorker(api):
        poll(api, job_id, until={"running"}, check=lambda b: b["heartbeat_at"] is not None)
        c = api.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=api.auth("dispatcher"))
        assert c.status_code == 202, c.text
        assert c.json()["cancel_requested"] is True
        done = poll(api, job_id, timeout=25)
    assert done["status"] == "cancelled", done
    assert done["roster_id"] is None
    assert time.monotonic() - started < 28, "cancel did not cut the 30 s solve short"
    assert roster_count(api) == 0
    assert api.client.get(f"/api/v1/rosters/{DAY.isoformat()}", headers=api.auth("dispatcher")).status_code == 404


def test_cancelling_a_queued_job_is_immediate_and_delete_is_the_same(api) -> None:
    """DELETE /jobs/{id} cancels like POST .../cancel; a second cancel is a no-op; nothing is stored."""
    with Session(api.engine) as s:
        job = jobs.create_job(s, DAY, None, 1.0, "dispatcher")
        s.commit()
        job_id = job.id
    r = api.client.delete(f"/api/v1/jobs/{job_id}", headers=api.auth("dispatcher"))
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    r = api.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=api.auth("dispatcher"))
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    # Even if a runner picks it up now, it does not start.
    jobs.run_job(jobs.engine_url(api.engine), job_id, api.settings)
    assert poll(api, job_id)["status"] == "cancelled"
    assert roster_count(api) == 0


def test_cancelling_a_finished_job_is_409(api) -> None:
    """A job that already succeeded cannot be cancelled: 409 problem, and its roster stays."""
    r = plan(api, time_limit_s=1)
    drain_queue(api)
    job = poll(api, r.json()["id"])
    assert job["status"] == "succeeded"
    c = api.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=api.auth("dispatcher"))
    assert c.status_code == 409 and c.json()["type"].endswith("/job-finished")
    assert roster_count(api) == 1


def test_job_whose_process_is_killed_is_reported_failed(api) -> None:
    """Kill -9 the planning process: the next read says 'failed' with the reason, and nothing is stored."""
    r = plan(api, time_limit_s=30)
    job_id = r.json()["id"]
    with BackgroundWorker(api):
        running = poll(api, job_id, until={"running"}, check=lambda b: b["heartbeat_at"] is not None)
        with Session(api.engine) as s:
            pid = s.get(m.PlanJob, job_id).runner_pid
        assert pid and pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        done = poll(api, job_id, timeout=20)
    assert running["status"] == "running"
    assert done["status"] == "failed", done
    assert "killed by signal 9" in done["error"] and "Nothing was stored" in done["error"]
    assert roster_count(api) == 0


def test_job_with_a_stale_heartbeat_is_reported_failed(api) -> None:
    """A 'running' job whose runner stopped beating (host crash, lost worker) is failed on the next read."""
    now = dt.datetime.now(dt.UTC)
    with Session(api.engine) as s:
        for job_id, beat in (("stale", now - dt.timedelta(minutes=5)), ("fresh", now)):
            s.add(m.PlanJob(id=job_id, date=DAY, status=m.JobStatus.RUNNING, created_by="dispatcher",
                            created_at=now - dt.timedelta(minutes=6), started_at=now - dt.timedelta(minutes=6),
                            heartbeat_at=beat, runner_pid=999999))
        s.commit()
    stale = api.client.get("/api/v1/jobs/stale", headers=api.auth("dispatcher")).json()
    assert stale["status"] == "failed" and "stopped reporting" in stale["error"] and stale["finished_at"]
    fresh = api.client.get("/api/v1/jobs/fresh", headers=api.auth("dispatcher")).json()
    assert fresh["status"] == "running"
    listed = api.client.get(f"/api/v1/jobs?date={DAY.isoformat()}&active=true",
                            headers=api.auth("dispatcher")).json()
    assert [j["id"] for j in listed] == ["fresh"]


def test_queued_job_that_no_runner_starts_fails_after_the_timeout(api) -> None:
    """A job left 'queued' far beyond the runner's start timeout is failed with a hint, not kept forever."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with Session(api.engine) as s:
        s.add(m.PlanJob(id="orphan", date=DAY, created_by="dispatcher", created_at=old))
        s.commit()
    body = api.client.get("/api/v1/jobs/orphan", headers=api.auth("dispatcher")).json()
    assert body["status"] == "failed" and "no runner started this job" in body["error"]
    if is_queue(api):
        assert "carepath worker" in body["error"]


def test_queue_schema_is_applied_idempotently_beside_the_app_tables(api) -> None:
    """PostgreSQL: procrastinate's tables exist after startup in their own schema, never among Alembic's."""
    if not is_queue(api):
        pytest.skip("the queue runner is used with PostgreSQL only")
    url = jobs.engine_url(api.engine)
    assert jobs.ensure_queue_schema(url) is False
    schema = jobs.queue_schema(url)
    with api.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is None
        assert conn.exec_driver_sql(f"SELECT to_regclass('{schema}.procrastinate_jobs')").scalar() is not None


def test_planning_a_day_without_visits_answers_at_once_with_an_empty_draft(api) -> None:
    """A day with no visits (a Sunday here) is planned without a search despite a 600 s limit:
    the job succeeds with an empty draft whose solver record says no search ran."""
    sunday = DAY + dt.timedelta(days=5)
    r = plan(api, day=sunday, time_limit_s=600)
    assert r.status_code == 202, r.text
    drain_queue(api)
    done = poll(api, r.json()["id"], timeout=60)
    assert done["status"] == "succeeded", done
    assert done["progress"]["visits_total"] == 0 and done["progress"]["visits_placed"] == 0
    roster = api.client.get(done["roster_url"], headers=api.auth("dispatcher")).json()
    assert roster["date"] == sunday.isoformat() and roster["status"] == "draft"
    assert roster["routes"] == [] and roster["unassigned"] == []
    assert roster["solver"]["status"] == "NO_VISITS" and roster["solver"]["solutions_found"] == 0
