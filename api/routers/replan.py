"""Re-planning a published day: ``POST /rosters/{date}/replan`` (202 + job, like ``plan``).

The dispatcher says what changed (from when, who or which car is unavailable, why); the job
re-plans the published version with as few changes as it can (``dispatch.planning.replan``) and stores a
new draft, which is reviewed and published like any other.  A day whose end has passed is
refused unless the caller is an admin (``dispatch.planning.day_lock``, audited); every re-plan is audited
(``roster.replan``: who, what, why).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import Field, model_validator
from sqlmodel import Session

from api.clock import now_utc
from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.routers.jobs import job_public, runner_of
from api.routers.rosters import check_area, submit_job
from api.schemas.common import ERRORS, InputModel
from api.schemas.rosters import JobPublic
from api.schemas.types import date_path
from dispatch.fields import LOCAL_TIME_DOC, LocalTime, SaneDate
from dispatch import jobs
from dispatch.planning import day_lock
from dispatch.planning import replan
from dispatch.storage import models as m
from dispatch.storage.models import ID_LEN

router = APIRouter(prefix="/rosters", tags=["rosters"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Planner = Annotated[CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.ADMIN))]
RosterDate = Annotated[SaneDate, date_path("the roster day (local date, YYYY-MM-DD)")]
MAX_UNAVAILABLE = 200


class UnavailableIn(InputModel):
    """A worker or a car out of service on the day: name one of them."""

    worker_id: str | None = Field(default=None, min_length=1, max_length=ID_LEN, description="a worker who is out")
    car_id: str | None = Field(default=None, min_length=1, max_length=ID_LEN, description="a car that is out")
    from_: LocalTime = Field(alias="from", description="out from this time; " + LOCAL_TIME_DOC)
    until: LocalTime | None = Field(default=None, description="back at this time (default: for the rest of the "
                                                              "day); " + LOCAL_TIME_DOC)

    model_config = {**InputModel.model_config, "populate_by_name": True}

    @model_validator(mode="after")
    def _one_of(self) -> UnavailableIn:
        if (self.worker_id is None) == (self.car_id is None):
            raise ValueError("name exactly one of worker_id and car_id")
        return self


class ReplanRequest(InputModel):
    """Body of ``POST /rosters/{date}/replan`` (all optional)."""

    from_: LocalTime | None = Field(default=None, alias="from",
                                    description="re-plan from this time; work starting before it is kept as it was "
                                                "(default: now); " + LOCAL_TIME_DOC)
    unavailable: list[UnavailableIn] = Field(default_factory=list, max_length=MAX_UNAVAILABLE,
                                             description="workers (sick) or cars (broken down) out from a time")
    reason: str | None = Field(default=None, max_length=500, description="why (kept in the audit log)")
    area: str | None = Field(default=None, max_length=ID_LEN, description="the area's roster (default: city-wide)")
    time_limit_s: float | None = Field(default=None, gt=0, le=600,
                                       description=f"seconds of search (default {replan.REPLAN_TIME_LIMIT_S:g})")

    model_config = {**InputModel.model_config, "populate_by_name": True}

    def spec(self, default_from: dt.time) -> replan.ReplanSpec:
        return replan.ReplanSpec(
            from_time=self.from_ or default_from,
            unavailable=tuple(replan.Unavailability(u.from_, u.worker_id, u.car_id, u.until) for u in self.unavailable),
            reason=self.reason,
        )


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "validation-error", "Invalid input", f"{field}: {message}",
                        [{"field": field, "message": message}])


@router.post(
    "/{date}/replan", operation_id="rosters-replan", status_code=202, response_model=JobPublic,
    responses={**ERRORS, 409: {"description": "no published version to re-plan, the day is closed (not an admin), "
                                              "or a job for this day is already running (problem+json)"}},
)
def replan_day(
    date: RosterDate,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    now: Annotated[dt.datetime, Depends(now_utc)],
    body: Annotated[ReplanRequest | None, Body()] = None,
) -> JobPublic:
    """Re-plan the **published** roster of ``date`` from ``from`` (default: now) with as few changes as possible;
    answers 202 with the job (``Location: /api/v1/jobs/{id}``), as ``plan`` does.

    Work starting before ``from`` is kept as it was (frozen); ``unavailable`` workers' routes end at their
    ``from`` (and resume at ``until``), a car's rides go to other cars; requests added, changed or cancelled
    since the published version are taken as they are stored now.  Each published stop keeps its worker and
    a start within 15 minutes unless that blocks placing work (the stability term, ``optimizer/params.toml``).
    The result is a new **draft**; the finished job's ``progress.changes`` counts what changed.
    409 when nothing is published, or the day has ended and you are not an admin; audited (``roster.replan``).
    """
    body = body or ReplanRequest()
    job = start_replan(request, session, date, body, user.username, user.role, now)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    response.headers["Retry-After"] = "1"
    out = job_public(session, job, runner_of(request.app))
    session.commit()
    return out


def start_replan(request: Request, session: Session, date: dt.date, body: ReplanRequest, actor: str,
                 role: m.UserRole, now: dt.datetime) -> m.PlanJob:
    """Check the re-plan, store its job and submit it (audited): the one way the JSON API and the console
    start a re-plan.  Raises ``ProblemError`` (422 bad input, 409 nothing published, day closed or a job
    already running)."""
    check_area(session, body.area)
    settings = request.app.state.settings
    tz = settings.timezone
    spec = body.spec(replan.default_from_time(now, date, tz))
    try:
        replan.validate(session, spec)
    except replan.ReplanInputError as exc:
        raise _invalid(exc.field, str(exc).split(": ", 1)[1]) from None
    from dispatch.planning.publish import published_roster

    published = published_roster(session, date, body.area)
    if published is None:
        raise ProblemError(409, "nothing-published", "No published roster",
                           f"{date.isoformat()} has no published roster to re-plan; plan it "
                           f"(POST /api/v1/rosters/{date.isoformat()}/plan) and publish it first")
    try:
        job = jobs.create_job(session, date, body.area, body.time_limit_s or replan.REPLAN_TIME_LIMIT_S,
                              actor, replan=spec.to_json())
        # In the job's transaction: a refusal stores no job, an admin's override is audited with it.
        day_lock.require_open_day(session, date, actor=actor, role=role, action="re-plan", now=now,
                                  tz=tz, reason=body.reason)
    except day_lock.DayClosed as exc:
        session.rollback()
        raise ProblemError(409, "day-closed", "The day is closed", str(exc)) from None
    except jobs.JobConflict as exc:
        raise ProblemError(
            409, "job-running", "A planning job for this day is already running",
            f"job {exc.job.id} is {exc.job.status.value}: wait for it or cancel it (/api/v1/jobs/{exc.job.id})",
            headers={"Location": f"/api/v1/jobs/{exc.job.id}"},
        ) from None
    replan.audit_replan(session, actor, date, published, spec, job=job.id)
    return submit_job(request, session, job)
