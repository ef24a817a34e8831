"""Plan a week in one job and read it as a week (issue 17, item 6).

``POST /rosters/week/{monday}/plan`` starts one background job that plans Monday to Sunday in
order, each day a new draft version seeing the days before it (``dispatch.planning.week_plan``);
``GET /rosters/week/{monday}`` is the week's report (``dispatch.planning.week_report``) with the
version of each day it reads.  Each day is then reviewed and published as any other
(``/rosters/{date}``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from sqlmodel import Session

from api.problems import ProblemError
from api.routers.jobs import job_public, runner_of
from api.routers.rosters import AreaQuery, DbSession, Planner, Reader, check_area, submit_job
from api.schemas.common import ERRORS
from api.schemas.rosters import JobPublic, PlanRequest
from api.schemas.types import date_path
from api.schemas.week import WeekReportPublic
from dispatch import jobs
from dispatch.fields import SaneDate
from dispatch.planning import week_plan, week_report

router = APIRouter(prefix="/rosters/week", tags=["rosters"])

Monday = Annotated[SaneDate, date_path("the week's Monday (local date, YYYY-MM-DD)")]


def _require_monday(monday: SaneDate) -> None:
    problem = week_plan.monday_problem(monday)
    if problem is not None:
        raise ProblemError(422, "validation-error", "Invalid input", f"monday: {problem}",
                           [{"field": "monday", "message": problem}])


@router.post(
    "/{monday}/plan", operation_id="rosters-plan-week", status_code=202, response_model=JobPublic,
    responses={**ERRORS, 409: {"description": "a planning job for a day of this week is already queued or running "
                                              "(problem+json)"}},
)
def plan_week(
    monday: Monday,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    body: Annotated[PlanRequest | None, Body()] = None,
) -> JobPublic:
    """Start planning the week from ``monday`` (Monday to Sunday) in one background job; 202 with the job.

    The days are planned in order, each stored as a new **draft** version of its day: a day sees the
    drafts of the days before it (who already serves each senior is preferred where none of her regular
    workers can come; the labour rules see the previous day's work).  ``time_limit_s`` is **each day's**
    search time.  The job's ``progress.days`` lists the days stored; when it succeeds, ``roster_url`` is
    the week's report.  A cancelled job keeps the whole days already stored.  409 while another job
    plans a day of this week; 422 (naming ``monday``) if the date is not a Monday.
    """
    _require_monday(monday)
    body = body or PlanRequest()
    check_area(session, body.area)
    settings = request.app.state.settings
    time_limit = body.time_limit_s or float(settings.solve_time_limit_s)
    try:
        job = jobs.create_job(session, monday, body.area, time_limit, user.username, days=week_plan.WEEK_DAYS)
    except jobs.JobConflict as exc:
        raise ProblemError(
            409, "job-running", "A planning job for this week is already running",
            f"job {exc.job.id} ({exc.job.date.isoformat()}, {exc.job.days or 1} day(s)) is {exc.job.status.value}: "
            f"wait for it or cancel it (/api/v1/jobs/{exc.job.id})",
            headers={"Location": f"/api/v1/jobs/{exc.job.id}"},
        ) from None
    job = submit_job(request, session, job)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    response.headers["Retry-After"] = "1"
    out = job_public(session, job, runner_of(request.app))
    session.commit()
    return out


def _report(session: Session, monday: SaneDate, tz: str, area: str | None) -> WeekReportPublic:
    body = week_report.week_report(session, monday, tz, area).as_dict()
    for day in body["days"]:
        if day["version"] is not None:
            day["roster_url"] = (f"/api/v1/rosters/{day['date'].isoformat()}?version={day['version']}"
                                 + (f"&area={area}" if area else ""))
    return WeekReportPublic(**body)


@router.get("/{monday}", operation_id="rosters-get-week", response_model=WeekReportPublic, responses=ERRORS)
def get_week(monday: Monday, request: Request, session: DbSession, user: Reader,
             area: AreaQuery = None) -> WeekReportPublic:
    """The week from ``monday`` as a week, over the latest (draft or published) version of each day: visits
    placed; continuity of care (different workers per senior, the share of visits by her regular workers on
    record); daily (11 h) and weekly (35 h) rest breaches found by an independent check of the stored stops;
    and each day's version with its URL (a day not planned yet has none).  422 if not a Monday."""
    _require_monday(monday)
    check_area(session, area)
    return _report(session, monday, request.app.state.settings.timezone, area)
