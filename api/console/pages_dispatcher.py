"""The dispatcher's pages: a day (and area), planning it with live progress, the day board, the
unplaced visits with their reasons, the routes on a map, publishing.

Every action goes through the service the JSON API uses: ``api.routers.rosters.start_planning``
(``POST /rosters/{date}/plan``), ``api.routers.jobs.job_public`` (``GET /jobs/{id}``),
``dispatch.planning.publish.roster_detail`` and ``publish_latest`` (``GET`` and ``POST /rosters/{date}/publish``,
with the same ETag and acknowledgement rules: the form carries the ETag of the version shown and one
checkbox per unplaced mandatory visit).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.console import PREFIX
from api.console.board import build_board, visit_choices
from api.console.guards import DbSession, check_csrf, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from api.problems import ProblemError
from api.routers.jobs import job_public, runner_of
from api.routers.rosters import check_area, start_planning
from api.schemas.rosters import PlanRequest
from dispatch import jobs
from dispatch.planning import publish
from dispatch.storage import models as m
from dispatch.planning.route_map import route_stops

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Planner = Annotated[ConsoleUser, Depends(page_user(m.UserRole.DISPATCHER, m.UserRole.ADMIN))]


def _today(request: Request) -> dt.date:
    return dt.datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def day_url(day: dt.date, area: str | None = None, **extra: Any) -> str:
    query = {k: v for k, v in {"area": area, **extra}.items() if v not in (None, "")}
    return f"{PREFIX}/day/{day.isoformat()}" + (f"?{urlencode(query)}" if query else "")


def _areas(session: Session) -> list[m.Place]:
    return list(session.scalars(select(m.Place).where(col(m.Place.kind) == m.PlaceKind.AREA)
                                .order_by(col(m.Place.name))).all())


def _active_job(session: Session, day: dt.date, area: str | None) -> m.PlanJob | None:
    query = (select(m.PlanJob).where(col(m.PlanJob.date) == day, col(m.PlanJob.status).in_(jobs.ACTIVE))
             .order_by(col(m.PlanJob.created_at).desc()))
    query = query.where(col(m.PlanJob.area) == area) if area else query.where(col(m.PlanJob.area).is_(None))
    return session.scalars(query).first()


@router.get("/day")
def today(request: Request, user: Planner, date: dt.date | None = None, area: str | None = None) -> RedirectResponse:
    """The date picker's target (GET form) and the dispatcher's start page: today."""
    return RedirectResponse(day_url(date or _today(request), area or None), status_code=303)


def render_day(request: Request, session: Session, user: ConsoleUser, day: dt.date, area: str | None,
              status_code: int = 200, **extra: Any) -> HTMLResponse:
    tz = request.app.state.settings.timezone
    roster = publish.latest_roster(session, day, area)
    view = publish.roster_detail(session, roster, tz) if roster is not None else None
    published = publish.published_roster(session, day, area)
    job = _active_job(session, day, area)
    context = {
        "day": day, "area": area, "areas": _areas(session), "view": view,
        "board": build_board(view, day) if view else None,
        "mandatory_ids": publish.mandatory_request_ids(view.unassigned) if view else [],
        "published": published, "job": job_public(session, job, runner_of(request.app)) if job else None,
        "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "default_time_limit": request.app.state.settings.solve_time_limit_s,
        "day_url": day_url,
        "visit_choices": visit_choices(view) if view else [],
        "workers": list(session.scalars(select(m.Worker).order_by(col(m.Worker.last_name), col(m.Worker.first_name)))
                        .all()) if view else [],
        **extra,
    }
    session.commit()
    return render(request, "day.html", context, user, status_code=status_code)


@router.get("/day/{day}", response_class=HTMLResponse)
def day_page(request: Request, session: DbSession, user: Planner, day: dt.date, area: str | None = None,
             published: int | None = None, visit: str | None = None) -> HTMLResponse:
    area = area or None
    try:
        check_area(session, area)
    except ProblemError:
        area = None
    return render_day(request, session, user, day, area, just_published=published,
                      edit_form={"visit": visit or ""})


@router.post("/day/{day}/plan", response_class=HTMLResponse)
def plan(
    request: Request, session: DbSession, user: Planner, day: dt.date,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    area: Annotated[str, Form(max_length=64)] = "",
    time_limit_s: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Start planning the day (the JSON API's service); the page then polls the job."""
    check_csrf(request, user, csrf_token)
    try:
        body = PlanRequest(area=area or None, time_limit_s=float(time_limit_s) if time_limit_s.strip() else None)
        check_area(session, body.area)
    except (ValueError, ValidationError, ProblemError):
        return render_day(request, session, user, day, area or None, 422, plan_error="time_limit_s")
    try:
        start_planning(request, session, day, body.area, body.time_limit_s, user.user.username)
    except jobs.JobConflict:
        pass  # a job for this day is already queued or running: the day page shows its progress
    return RedirectResponse(day_url(day, body.area), status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_fragment(request: Request, session: DbSession, user: Planner, job_id: str) -> Response:
    """The job's progress as a fragment for htmx polling; once it succeeded, htmx reloads the day."""
    job = session.get(m.PlanJob, job_id)
    if job is None:
        return render(request, "error.html", {"title_key": "not_found"}, user, status_code=404)
    body = job_public(session, job, runner_of(request.app))
    session.commit()
    if body.status == "succeeded" and request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": day_url(body.date, body.area)})
    return render(request, "_job.html", {"job": body, "day_url": day_url}, user)


@router.post("/day/{day}/publish", response_class=HTMLResponse)
def publish_day(
    request: Request, session: DbSession, user: Planner, day: dt.date,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    etag: Annotated[str, Form(max_length=200)] = "",
    area: Annotated[str, Form(max_length=64)] = "",
    ack: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Publish the version shown (its ETag) with the mandatory visits it leaves out acknowledged."""
    check_csrf(request, user, csrf_token)
    area_id = area or None
    try:
        roster = publish.publish_latest(session, day, etag or None, user.user.username, area_id, ack or [])
        session.commit()
    except publish.PreconditionFailed:
        session.rollback()
        return render_day(request, session, user, day, area_id, 412, publish_error="changed")
    except publish.UnacknowledgedMandatory:
        session.rollback()
        return render_day(request, session, user, day, area_id, 409, publish_error="acknowledge")
    except (publish.PreconditionRequired, publish.RosterNotFound, publish.PublishConflict):
        session.rollback()
        return render_day(request, session, user, day, area_id, 409, publish_error="conflict")
    except Exception as exc:
        session.rollback()
        if publish.is_conflict_error(exc):
            return render_day(request, session, user, day, area_id, 409, publish_error="conflict")
        raise
    return RedirectResponse(day_url(day, area_id, published=roster.version), status_code=303)


@router.get("/day/{day}/map", response_class=HTMLResponse)
def map_page(request: Request, session: DbSession, user: Planner, day: dt.date, area: str | None = None,
             worker: str | None = None) -> HTMLResponse:
    """The routes of the latest version on a map (one worker's with ``?worker=``)."""
    area = area or None
    settings = request.app.state.settings
    roster = publish.latest_roster(session, day, area)
    view = publish.roster_detail(session, roster, settings.timezone) if roster is not None else None
    routes = route_stops(session, view) if view else []
    shown = [r for r in routes if not worker or r.worker_id == worker]
    data = {
        "tiles": settings.map_tiles or None, "attribution": settings.map_attribution,
        "routes": [{"worker": r.worker_name, "home": r.home,
                    "stops": [{"lat": s.lat, "lon": s.lon, "start": s.start, "label": s.label} for s in r.stops]}
                   for r in shown],
    }
    return render(request, "map.html", {
        "day": day, "area": area, "view": view, "routes": routes, "worker": worker, "shown": shown,
        "map_json": json.dumps(data, ensure_ascii=False), "day_url": day_url,
    }, user)
