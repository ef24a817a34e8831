"""Rosters: plan a day (background job), read a version, publish, export.

A dispatcher's loop: ``POST /rosters/{date}/plan`` (202 + job) -> poll ``GET /jobs/{id}`` ->
``GET /rosters/{date}`` (the new draft, with its ``ETag``) -> ``POST /rosters/{date}/publish``
with ``If-Match: <that ETag>`` (and, when the draft leaves mandatory visits out, a body
acknowledging them by id).  See ``dispatch.planning.publish`` for versions, the ETag and acknowledgement rules.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from sqlmodel import Session

from api.clock import now_utc
from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.routers.jobs import job_public, runner_of
from api.schemas.common import ERRORS
from api.schemas.rosters import JobPublic, PlanRequest, PublishRequest, RosterPublic
from dispatch.fields import SaneDate
from api.schemas.types import date_path, int_query
from dispatch.domain import PlaceKind
from dispatch import jobs
from dispatch.planning import checkin, day_lock, publish, work_spans
from dispatch.exchange import roster_export
from dispatch.storage import models as m
from dispatch.storage.models import ID_LEN

log = logging.getLogger(__name__)
router = APIRouter(prefix="/rosters", tags=["rosters"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Planner = Annotated[CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.ADMIN))]
Reader = Annotated[
    CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.COORDINATOR, m.UserRole.ADMIN))
]
RosterDate = Annotated[SaneDate, date_path("the roster day (local date, YYYY-MM-DD)")]
AreaQuery = Annotated[str | None, Query(max_length=ID_LEN, description="the area's roster (default: city-wide)")]
NO_ROSTER = {404: {"description": "no roster for that day/version (problem+json)"}}


def check_area(session: Session, area: str | None) -> None:
    if area is None:
        return
    place = session.get(m.Place, area)
    if place is None or place.kind != PlaceKind.AREA:
        raise ProblemError(422, "validation-error", "Invalid input", f"area: no area with id '{area}'",
                           [{"field": "area", "message": f"no area with id '{area}'"}])


@router.post(
    "/{date}/plan", operation_id="rosters-plan", status_code=202, response_model=JobPublic,
    responses={**ERRORS, 409: {"description": "a job for this day is already queued or running (problem+json)"}},
)
def plan(
    date: RosterDate,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    body: Annotated[PlanRequest | None, Body()] = None,
) -> JobPublic:
    """Start planning ``date`` in the background; answers 202 with the job (``Location: /api/v1/jobs/{id}``).

    The result is a new **draft** version; nothing is published.  Optional body:
    ``{"area": ..., "time_limit_s": ...}``.  One job per day and area at a time (409 otherwise);
    a job stays ``queued`` until a solver is free (SQLite: ``CAREPATH_MAX_PLAN_JOBS`` at once;
    PostgreSQL: the workers' concurrency).  A day with no visits succeeds at once, empty.
    """
    body = body or PlanRequest()
    check_area(session, body.area)
    try:
        job = start_planning(request, session, date, body.area, body.time_limit_s, user.username)
    except jobs.JobConflict as exc:
        raise ProblemError(
            409, "job-running", "A planning job for this day is already running",
            f"job {exc.job.id} is {exc.job.status.value}: wait for it or cancel it (/api/v1/jobs/{exc.job.id})",
            headers={"Location": f"/api/v1/jobs/{exc.job.id}"},
        ) from None
    runner = runner_of(request.app)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    response.headers["Retry-After"] = "1"
    out = job_public(session, job, runner)
    session.commit()
    return out


def start_planning(request: Request, session: Session, date: dt.date, area: str | None, time_limit_s: float | None,
                   actor: str) -> m.PlanJob:
    """Create the planning job of ``date`` (and ``area``) and hand it to the app's runner: the one way a plan
    starts, for ``POST /rosters/{date}/plan`` and the console's plan form.  Raises ``jobs.JobConflict``.
    A runner that cannot take the job fails it (reported on the job, not as an error)."""
    settings = request.app.state.settings
    time_limit = time_limit_s or float(settings.solve_time_limit_s)
    job = jobs.create_job(session, date, area, time_limit, actor)
    return submit_job(request, session, job)


def submit_job(request: Request, session: Session, job: m.PlanJob) -> m.PlanJob:
    """Commit ``job`` (the runner's process must see the row) and hand it to the app's runner (plan and
    re-plan).  A runner that cannot take the job fails it: reported on the job, not as a 500."""
    session.commit()
    try:
        runner_of(request.app).submit(job)
    except Exception as exc:  # noqa: BLE001 - report on the job, not as a 500
        log.exception("could not start planning job %s", job.id)
        jobs.fail_job(session, job.id, f"could not start the job: {type(exc).__name__}: {exc}")
        session.commit()
    session.refresh(job)
    return job


def _local_state(state: checkin.StopState, tz: str) -> dict:
    """A stop's check-in state with its instants in local time (with the offset), as every roster time."""
    zone = ZoneInfo(tz)
    return {**state.__dict__,
            "started_at": state.started_at.astimezone(zone) if state.started_at else None,
            "finished_at": state.finished_at.astimezone(zone) if state.finished_at else None}


def _view(session: Session, roster: m.Roster, tz: str, now: dt.datetime) -> RosterPublic:
    view = publish.roster_detail(session, roster, tz)
    r = view.roster
    states = checkin.stop_states(session, r, (
        ((v.visit_request_id, v.occurrence_date, v.leg, v.worker_id), v.start, v.end)
        for rt in view.routes for v in rt.visits), now)
    mandatory_ids = view.unplaced_mandatory_ids
    return RosterPublic(
        id=r.id or 0, date=r.date, area=r.area, version=r.version, status=r.status.value, etag=view.etag,
        created_at=r.created_at, unplaced_mandatory=len(mandatory_ids), unplaced_mandatory_ids=mandatory_ids,
        objective=r.objective, kpis=r.kpis or {}, solver=r.solver_stats or {},
        routes=[
            {"worker_id": rt.worker_id, "worker_name": rt.worker_name, "worker_kind": rt.worker_kind,
             "visits": [{**v.__dict__, "checkin": _local_state(states[(v.visit_request_id, v.occurrence_date, v.leg,
                                                                       v.worker_id)], tz)} for v in rt.visits],
             "breaks": [{**b.__dict__, "minutes": b.minutes} for b in rt.breaks]}
            for rt in view.routes
        ],
        unassigned=[u.__dict__ for u in view.unassigned],
        labour_limits=work_spans.limit_views(session, r, tz),
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
    date: RosterDate,
    request: Request,
    response: Response,
    session: DbSession,
    user: Reader,
    version: Annotated[int | None, int_query("a specific version (default: the latest)")] = None,
    area: AreaQuery = None,
) -> RosterPublic:
    """The latest roster of ``date`` (the newest draft if newer than the published one, else the published
    one), or ``?version=N``: per worker the visits in route order and the planned breaks, with local times;
    the unplaced visits with reasons (Polish and English), **mandatory ones first** and counted in
    ``unplaced_mandatory``; KPIs.  Each visit of a **published** version carries its ``checkin`` (planned,
    started, finished, with times, outcome and note) and, at the server's clock, ``late`` (not started 15 min
    after the planned start) or ``missed`` (not started by the planned end).  ``ETag`` identifies the version (send it in ``If-Match`` to publish)."""
    roster = _find(session, date, version, area)
    body = _view(session, roster, request.app.state.settings.timezone, now_utc(request))
    response.headers["ETag"] = body.etag
    response.headers["Cache-Control"] = "private, no-cache"
    return body


@router.post(
    "/{date}/publish", operation_id="rosters-publish", response_model=RosterPublic,
    responses={**ERRORS, **NO_ROSTER,
               409: {"description": "already published, a simultaneous publish won, unplaced mandatory visits "
                                   "not acknowledged (problem+json listing them in `unplaced_mandatory_visits`), "
                                   "or the day has ended and you are not an admin"},
               412: {"description": "If-Match is not the latest version's ETag (problem+json)"},
               428: {"description": "If-Match missing (problem+json)"}},
)
def publish_roster(
    date: RosterDate,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    now: Annotated[dt.datetime, Depends(now_utc)],
    if_match: Annotated[str | None, Header(description="the ETag of the draft you reviewed")] = None,
    area: AreaQuery = None,
    body: Annotated[PublishRequest | None, Body()] = None,
) -> RosterPublic:
    """Publish the latest draft of ``date``: workers see it from now on; the previously published version
    becomes ``superseded`` (kept).  Requires ``If-Match`` with the ETag you reviewed (428 without, 412 if
    the roster changed since).  A draft that leaves mandatory visits out is published only with
    ``{"acknowledge_unplaced_mandatory": [<its unplaced_mandatory_ids>]}``, exactly those (409 listing them
    otherwise).  Audited, with the visits acknowledged.  A day whose end has passed is published only by an
    admin (audited as an override); 409 for anyone else."""
    acknowledged = body.acknowledge_unplaced_mandatory if body is not None else None
    try:
        roster = publish.publish_latest(session, date, if_match, user.username, area, acknowledged)
        # In the publish's transaction: refused on a closed day (not an admin), an admin's override audited.
        day_lock.require_open_day(session, date, actor=user.username, role=user.role, action="publish", now=now,
                                  tz=request.app.state.settings.timezone)
        session.commit()  # here, not after the response: a lost race must be a 409, not a silent 200
    except day_lock.DayClosed as exc:
        session.rollback()
        raise ProblemError(409, "day-closed", "The day is closed", str(exc)) from None
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
    except publish.UnacknowledgedMandatory as exc:
        raise _unacknowledged(exc) from None
    except Exception as exc:
        session.rollback()
        if publish.is_conflict_error(exc):
            raise ProblemError(409, "publish-conflict", "Conflict",
                               "another publish of this roster happened at the same moment; reload it") from None
        raise
    body = _view(session, roster, request.app.state.settings.timezone, now)
    response.headers["ETag"] = body.etag
    return body


def _unacknowledged(exc: publish.UnacknowledgedMandatory) -> ProblemError:
    """409: the draft leaves mandatory visits out and the request does not acknowledge exactly those."""
    field = "acknowledge_unplaced_mandatory"
    by_request: dict[str, m.RosterUnassigned] = {}
    for row in exc.unplaced:
        by_request.setdefault(row.visit_request_id, row)
    errors = [{"field": field, "message": f"{rid}: mandatory and not placed ({by_request[rid].reason}: "
                                          f"{by_request[rid].message_en}); acknowledge it to publish without it"}
              for rid in exc.missing]
    errors += [{"field": field, "message": f"{rid}: not an unplaced mandatory visit of this version; "
                                          "reload the roster and review it again"} for rid in exc.unexpected]
    return ProblemError(
        409, "unplaced-mandatory-not-acknowledged", "Mandatory visits are not placed",
        f"{exc}. This version leaves {len(by_request)} mandatory visit(s) out; to publish it anyway send "
        + json.dumps({field: sorted(by_request)}),
        errors,
        extensions={"unplaced_mandatory_visits": [
            {"visit_request_id": row.visit_request_id, "leg": str((row.details or {}).get("leg", "visit")),
             "reason": row.reason, "message_pl": row.message_pl, "message_en": row.message_en}
            for row in exc.unplaced]},
    )


@router.get(
    "/{date}/export", operation_id="rosters-export", responses={
        **ERRORS, **NO_ROSTER,
        200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
              "description": "the roster as a spreadsheet"}},
    response_class=Response,
)
def export_roster(
    date: RosterDate,
    request: Request,
    session: DbSession,
    user: Reader,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv (`;`, UTF-8 with BOM, for Excel) or xlsx")]
    = "csv",
    version: Annotated[int | None, int_query("a specific version (default: the latest)")] = None,
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
