"""Rosters: plan a day (background job), read a version, publish, export.

A dispatcher's loop: ``POST /rosters/{date}/plan`` (202 + job) -> poll ``GET /jobs/{id}`` ->
``GET /rosters/{date}`` (the new draft, with its ``ETag``) -> ``POST /rosters/{date}/publish``
with ``If-Match: <that ETag>``.  See ``dispatch.publish`` for versions and the ETag rules.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from sqlmodel import Session

from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.routers.jobs import job_public, runner_of
from api.schemas.common import ERRORS
from api.schemas.rosters import JobPublic, PlanRequest, RosterPublic
from dispatch import jobs
from dispatch import models as m
from dispatch import publish, roster_export

log = logging.getLogger(__name__)
router = APIRouter(prefix="/rosters", tags=["rosters"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Planner = Annotated[CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.ADMIN))]
Reader = Annotated[
    CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.COORDINATOR, m.UserRole.ADMIN))
]
AreaQuery = Annotated[str | None, Query(max_length=32, description="the area's roster (default: city-wide)")]
NO_ROSTER = {404: {"description": "no roster for that day/version (problem+json)"}}


def _check_area(session: Session, area: str | None) -> None:
    if area is None:
        return
    place = session.get(m.Place, area)
    if place is None or str(getattr(place.kind, "value", place.kind)) != "area":
        raise ProblemError(422, "validation-error", "Invalid input", f"area: no area with id '{area}'",
                           [{"field": "area", "message": f"no area with id '{area}'"}])


@router.post(
    "/{date}/plan", operation_id="rosters-plan", status_code=202, response_model=JobPublic,
    responses={**ERRORS, 409: {"description": "a job for this day is already queued or running (problem+json)"}},
)
def plan(
    date: dt.date,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    body: Annotated[PlanRequest | None, Body()] = None,
) -> JobPublic:
    """Start planning ``date`` in the background; answers 202 with the job (``Location: /api/v1/jobs/{id}``).

    The result is a new **draft** version; nothing is published.  Optional body:
    ``{"area": ..., "time_limit_s": ...}``.
    """
    body = body or PlanRequest()
    _check_area(session, body.area)
    settings = request.app.state.settings
    time_limit = body.time_limit_s or float(settings.solve_time_limit_s)
    try:
        job = jobs.create_job(session, date, body.area, time_limit, user.username)
    except jobs.JobConflict as exc:
        raise ProblemError(
            409, "job-running", "A planning job for this day is already running",
            f"job {exc.job.id} is {exc.job.status.value}: wait for it or cancel it (/api/v1/jobs/{exc.job.id})",
            headers={"Location": f"/api/v1/jobs/{exc.job.id}"},
        ) from None
    session.commit()  # the runner's process must see the row
    runner = runner_of(request.app)
    try:
        runner.submit(job)
    except Exception as exc:  # noqa: BLE001 - report on the job, not as a 500
        log.exception("could not start planning job %s", job.id)
        jobs.fail_job(session, job.id, f"could not start the job: {type(exc).__name__}: {exc}")
        session.commit()
    session.refresh(job)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    response.headers["Retry-After"] = "1"
    out = job_public(session, job, runner)
    session.commit()
    return out


def _view(session: Session, roster: m.Roster, tz: str) -> RosterPublic:
    view = publish.roster_detail(session, roster, tz)
    r = view.roster
    return RosterPublic(
        id=r.id or 0, date=r.date, area=r.area, version=r.version, status=r.status.value, etag=view.etag,
        created_at=r.created_at, objective=r.objective, kpis=r.kpis or {}, solver=r.solver_stats or {},
        routes=[
            {"worker_id": rt.worker_id, "worker_name": rt.worker_name, "worker_kind": rt.worker_kind,
             "visits": [v.__dict__ for v in rt.visits]}
            for rt in view.routes
        ],
        unassigned=[u.__dict__ for u in view.unassigned],
        versions=[{"version": v.version, "status": v.status.value, "roster_id": v.id, "created_at": v.created_at}
                  for v in view.versions],
    )


def _find(session: Session, date: dt.date, version: int | None, area: str | None) -> m.Roster:
    roster = (publish.roster_version(session, date, version, area) if version is not None
              else publish.latest_roster(session, date, area))
    if roster is None:
        what = f"version {version} of the roster" if version is not None else "a roster"
        raise ProblemError(404, "roster-not-found", "No roster", f"there is no {what} for {date.isoformat()}"
                           + (f" in area {area}" if area else "") + "; plan the day first")
    return roster


@router.get("/{date}", operation_id="rosters-get", response_model=RosterPublic, responses={**ERRORS, **NO_ROSTER})
def get_roster(
    date: dt.date,
    request: Request,
    response: Response,
    session: DbSession,
    user: Reader,
    version: Annotated[int | None, Query(ge=1, description="a specific version (default: the latest)")] = None,
    area: AreaQuery = None,
) -> RosterPublic:
    """The latest roster of ``date`` (the newest draft if newer than the published one, else the published
    one), or ``?version=N``: per worker the visits in route order with local times, the unplaced visits
    with reasons (Polish and English), KPIs.  ``ETag`` identifies the version (send it in ``If-Match`` to
    publish)."""
    roster = _find(session, date, version, area)
    body = _view(session, roster, request.app.state.settings.timezone)
    response.headers["ETag"] = body.etag
    response.headers["Cache-Control"] = "private, no-cache"
    return body


@router.post(
    "/{date}/publish", operation_id="rosters-publish", response_model=RosterPublic,
    responses={**ERRORS, **NO_ROSTER,
               409: {"description": "already published, or a simultaneous publish won (problem+json)"},
               412: {"description": "If-Match is not the latest version's ETag (problem+json)"},
               428: {"description": "If-Match missing (problem+json)"}},
)
def publish_roster(
    date: dt.date,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    if_match: Annotated[str | None, Header(description="the ETag of the draft you reviewed")] = None,
    area: AreaQuery = None,
) -> RosterPublic:
    """Publish the latest draft of ``date``: workers see it from now on; the previously published version
    becomes ``superseded`` (kept).  Requires ``If-Match`` with the ETag you reviewed (428 without, 412 if
    the roster changed since).  Audited."""
    try:
        roster = publish.publish_latest(session, date, if_match, user.username, area)
        session.commit()  # here, not after the response: a lost race must be a 409, not a silent 200
    except publish.PreconditionRequired:
        raise ProblemError(428, "precondition-required", "Precondition required",
                           "send If-Match with the ETag of the roster you reviewed (GET /rosters/{date})") from None
    except publish.RosterNotFound as exc:
        raise ProblemError(404, "roster-not-found", "No roster", str(exc)) from None
    except publish.PreconditionFailed as exc:
        raise ProblemError(412, "precondition-failed", "The roster changed",
                           f"{exc}; reload it, review and publish again",
                           headers={"ETag": publish.etag(exc.current)}) from None
    except publish.PublishConflict as exc:
        raise ProblemError(409, "publish-conflict", "Conflict", str(exc)) from None
    except Exception as exc:
        session.rollback()
        if publish.is_conflict_error(exc):
            raise ProblemError(409, "publish-conflict", "Conflict",
                               "another publish of this roster happened at the same moment; reload it") from None
        raise
    body = _view(session, roster, request.app.state.settings.timezone)
    response.headers["ETag"] = body.etag
    return body


@router.get(
    "/{date}/export", operation_id="rosters-export", responses={
        **ERRORS, **NO_ROSTER,
        200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
              "description": "the roster as a spreadsheet"}},
    response_class=Response,
)
def export_roster(
    date: dt.date,
    request: Request,
    session: DbSession,
    user: Reader,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv (`;`, UTF-8 with BOM, for Excel) or xlsx")]
    = "csv",
    version: Annotated[int | None, Query(ge=1)] = None,
    area: AreaQuery = None,
) -> Response:
    """The roster (latest, or ``?version=N``) as CSV for Polish Excel or XLSX: one row per visit, then the
    unplaced visits with the reason."""
    roster = _find(session, date, version, area)
    view = publish.roster_detail(session, roster, request.app.state.settings.timezone)
    if format == "xlsx":
        content = roster_export.to_xlsx(view)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = roster_export.to_csv(view)
        media = "text/csv; charset=utf-8"
    return Response(content, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{roster_export.filename(view, format)}"',
        "ETag": view.etag,
    })
