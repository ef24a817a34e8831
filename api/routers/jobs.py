"""Planning jobs: poll progress, cancel.  (Jobs are created by ``POST /rosters/{date}/plan``.)

The runner is picked once per API process from the database backend (see ``dispatch.jobs``):
SQLite -> a child process per job started by this process; PostgreSQL -> the procrastinate
queue served by ``carepath worker``.  At startup this router's lifespan creates the runner,
makes sure procrastinate's tables exist (PostgreSQL) and fails jobs whose runner has died; at
shutdown it stops children still planning.  Every read of a job re-checks its runner too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from sqlalchemy import select
from sqlmodel import Session, col

from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.schemas.common import ERRORS, NOT_FOUND
from api.schemas.rosters import JobPublic
from dispatch.fields import SaneDate
from dispatch import jobs
from dispatch.planning import publish
from dispatch.storage import models as m

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runner = runner_of(app)
    try:
        if isinstance(runner, jobs.QueueRunner):
            jobs.ensure_queue_schema(jobs.engine_url(app.state.engine), app.state.settings.db_connect_timeout_s)
        with Session(app.state.engine) as session:
            failed = runner.reap_all(session)
            session.commit()
        if failed:
            log.warning("failed %d planning job(s) whose runner had stopped", failed)
    except Exception:  # noqa: BLE001 - the API must start even if the queue is not reachable yet
        log.exception("planning jobs: startup checks failed")
    try:
        yield
    finally:
        runner.shutdown()


router = APIRouter(prefix="/jobs", tags=["jobs"], lifespan=lifespan)

Planner = Annotated[CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.ADMIN))]
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def runner_of(app: FastAPI) -> Any:
    """The app's job runner, created on first use (by backend of the app's engine)."""
    runner = getattr(app.state, "plan_runner", None)
    if runner is None:
        runner = jobs.runner_for(app.state.engine, app.state.settings)
        app.state.plan_runner = runner
    return runner


def job_public(session: Session, job: m.PlanJob, runner: Any, prefix: str = "/api/v1") -> JobPublic:
    """The job resource, after re-checking that its runner is alive."""
    job = runner.check(session, job)
    version = None
    url = None
    unplaced = None
    if job.roster_id is not None:
        roster = session.get(m.Roster, job.roster_id)
        if roster is not None:
            version = roster.version
            url = f"{prefix}/rosters/{roster.date.isoformat()}?version={roster.version}"
            if roster.area:
                url += f"&area={roster.area}"
            unplaced = len(publish.mandatory_request_ids(publish.unplaced_mandatory(session, roster.id or 0)))
    if (job.days or 1) > 1 and job.status == m.JobStatus.SUCCEEDED:
        url = f"{prefix}/rosters/week/{job.date.isoformat()}" + (f"?area={job.area}" if job.area else "")
    body = jobs.job_view(job, runner.name, version)
    return JobPublic(**body, roster_url=url, unplaced_mandatory=unplaced)


def _get(session: Session, job_id: str) -> m.PlanJob:
    job = session.get(m.PlanJob, job_id)
    if job is None:
        raise ProblemError(404, "not-found", "Not found", f"no planning job {job_id}")
    return job


@router.get("/{job_id}", operation_id="jobs-get", response_model=JobPublic, responses={**ERRORS, **NOT_FOUND})
def get_job(job_id: str, request: Request, session: DbSession, user: Planner) -> JobPublic:
    """Status and progress of a planning job (visits placed/total, best cost, elapsed; roster when done).

    A job whose runner died is reported ``failed`` with the reason, never left ``running``.
    """
    body = job_public(session, _get(session, job_id), runner_of(request.app))
    session.commit()
    return body


@router.get("", operation_id="jobs-list", response_model=list[JobPublic], responses=ERRORS)
def list_jobs(
    request: Request,
    session: DbSession,
    user: Planner,
    date: Annotated[SaneDate | None, Query(description="only jobs planning this day")] = None,
    active: Annotated[bool, Query(description="only queued or running jobs")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[JobPublic]:
    """The newest planning jobs (e.g. to find a running one after a page reload)."""
    query = select(m.PlanJob).order_by(col(m.PlanJob.created_at).desc()).limit(limit)
    if date is not None:
        query = query.where(col(m.PlanJob.date) == date)
    if active:
        query = query.where(col(m.PlanJob.status).in_(jobs.ACTIVE))
    runner = runner_of(request.app)
    out = [job_public(session, job, runner) for job in session.scalars(query).all()]
    session.commit()
    if active:
        out = [j for j in out if j.status in ("queued", "running")]
    return out


def _cancel(job_id: str, request: Request, session: Session, user: CurrentUser) -> JobPublic:
    try:
        job = jobs.request_cancel(session, job_id, user.username)
    except jobs.JobFinished as exc:
        raise ProblemError(409, "job-finished", "The job has already finished",
                           f"job {job_id} already {exc.job.status.value}; nothing to cancel") from None
    if job is None:
        raise ProblemError(404, "not-found", "Not found", f"no planning job {job_id}")
    body = job_public(session, job, runner_of(request.app))
    session.commit()
    return body


_CANCEL_DOC = """Cancel a planning job.  A queued job is cancelled at once; a running one stops
cooperatively within seconds (poll until ``cancelled``).  A cancelled job stores no roster.
409 if it already succeeded or failed."""


@router.post("/{job_id}/cancel", operation_id="jobs-cancel", status_code=202, response_model=JobPublic,
             responses={**ERRORS, **NOT_FOUND, 409: {"description": "already finished (problem+json)"}},
             description=_CANCEL_DOC)
def cancel_job(job_id: str, request: Request, session: DbSession, user: Planner) -> JobPublic:
    return _cancel(job_id, request, session, user)


@router.delete("/{job_id}", operation_id="jobs-delete", status_code=202, response_model=JobPublic,
               responses={**ERRORS, **NOT_FOUND, 409: {"description": "already finished (problem+json)"}},
               description=_CANCEL_DOC + "\n\nThe same as ``POST /jobs/{id}/cancel``; the job record is kept.")
def delete_job(job_id: str, request: Request, session: DbSession, user: Planner) -> JobPublic:
    return _cancel(job_id, request, session, user)
