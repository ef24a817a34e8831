"""The dispatcher's live-day pages: move, pin or unassign a visit with the checker's verdict, compare the
draft with the published version, recommended slots for a visit, re-plan a published day.

Every action calls the service the JSON API calls, with the same rules:

* the edit form -> ``dispatch.planning.roster_edits.edit_visit`` (``PATCH /rosters/{date}/visits/{id}``):
  "check" is its dry run (``?dry_run=true``: the verdict, nothing stored), "save" makes the new draft
  version; the form carries the ETag of the version shown (``If-Match``).  A saved edit renders the day
  page at once with the checker's warnings (not a redirect: the warnings belong to this answer only;
  sending the form again is refused as stale, since the ETag it carries is no longer the latest);
* "compare with published" -> ``dispatch.planning.roster_diff.roster_diff`` (``GET /rosters/{date}/diff``);
* "recommend" -> ``dispatch.planning.recommend.recommend_for`` (``POST /rosters/{date}/recommendations``);
  each option's button posts the edit form's "save" with the option's workers and start;
* "re-plan" -> ``api.routers.replan.start_replan`` (``POST /rosters/{date}/replan``); the day page then
  shows the job's progress as it does for planning.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.clock import now_utc
from api.console import PREFIX
from api.console.guards import DbSession, check_csrf
from api.console.pages_dispatcher import Planner, day_url, render_day
from api.console.templating import render
from api.problems import ProblemError
from api.routers.replan import ReplanRequest, UnavailableIn, start_replan
from api.routers.rosters import check_area
from dispatch.catalog.records import InvalidInput, NotFound
from dispatch.planning import day_lock, publish
from dispatch.planning import replan as replan_rules
from dispatch.planning.recommend import recommend_for
from dispatch.planning.roster_diff import VersionNotFound, roster_diff
from dispatch.planning.roster_edits import Edit, EditRefused, edit_visit

router = APIRouter(prefix=PREFIX, include_in_schema=False)

#: What the edit form's "pin" choice means for ``Edit.pin``.
PIN_CHOICES = {"": None, "pin": True, "unpin": False}


def _now(request: Request) -> dt.datetime:
    return now_utc(request)


def _area(session: Session, area: str) -> str | None:
    try:
        check_area(session, area or None)
    except ProblemError:
        return None
    return area or None


def _clock(value: str, field: str) -> dt.time | None:
    """A "HH:MM" form field (empty: not given); a bad one is ``InvalidInput`` naming the field."""
    text = value.strip()
    if not text:
        return None
    try:
        return dt.time.fromisoformat(text).replace(second=0, microsecond=0)
    except ValueError:
        raise InvalidInput([{"field": field, "message": f"{text!r} is not a time HH:MM"}]) from None


@router.post("/day/{day}/edit", response_class=HTMLResponse)
def edit(
    request: Request, session: DbSession, user: Planner, day: dt.date,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    etag: Annotated[str, Form(max_length=200)] = "",
    area: Annotated[str, Form(max_length=64)] = "",
    visit: Annotated[str, Form(max_length=64)] = "",
    worker: Annotated[list[str] | None, Form()] = None,
    start: Annotated[str, Form(max_length=10)] = "",
    pin: Annotated[str, Form(max_length=10)] = "",
    unassign: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    action: Annotated[str, Form(max_length=10)] = "check",
) -> Response:
    """Check (dry run) or save one hand edit of the latest version; the day page shows the verdict."""
    check_csrf(request, user, csrf_token)
    area_id = _area(session, area)
    workers = tuple(w for w in (worker or []) if w)
    form = {"visit": visit, "workers": workers, "start": start, "pin": pin, "unassign": bool(unassign),
            "reason": reason}
    dry_run = action != "save"

    def page(status: int, **extra: Any) -> HTMLResponse:
        session.rollback()
        return render_day(request, session, user, day, area_id, status, edit_form=form, edit_action=action, **extra)

    try:
        if not visit:
            raise InvalidInput([{"field": "visit", "message": "choose the visit to change"}])
        if pin not in PIN_CHOICES:
            raise InvalidInput([{"field": "pin", "message": "choose pin, unpin or leave it"}])
        change = Edit(workers, _clock(start, "start"), bool(unassign), PIN_CHOICES[pin], reason.strip() or None)
        result = edit_visit(session, day, visit, change, actor=user.user.username, role=user.role,
                            if_match=etag or None, settings=request.app.state.settings, now=_now(request),
                            area=area_id, dry_run=dry_run)
    except EditRefused as exc:
        return page(409, edit_refused=exc.findings)
    except (InvalidInput, NotFound) as exc:
        return page(422, edit_error="invalid", edit_detail=str(exc))
    except (publish.PreconditionFailed, publish.PreconditionRequired):
        return page(412, edit_error="changed")
    except publish.RosterNotFound:
        return page(404, edit_error="no_roster")
    except day_lock.DayClosed:
        return page(409, edit_error="closed")
    if result.roster is None:
        return page(200, edit_checked=result.warnings)
    session.commit()
    form = {}
    return render_day(request, session, user, day, area_id, 200, edit_saved=result.roster.version,
                      edit_warnings=result.warnings, edit_form=form)


@router.get("/day/{day}/compare", response_class=HTMLResponse)
def compare(request: Request, session: DbSession, user: Planner, day: dt.date, area: str | None = None) -> Response:
    """The latest version against the published one, per worker (the API's diff)."""
    area = _area(session, area or "")
    try:
        diff = roster_diff(session, day, request.app.state.settings.timezone, None, None, area)
    except VersionNotFound:
        diff = None
    session.commit()
    return render(request, "compare.html", {"day": day, "area": area, "diff": diff, "day_url": day_url}, user)


@router.get("/day/{day}/recommend", response_class=HTMLResponse)
def recommend(request: Request, session: DbSession, user: Planner, day: dt.date, visit: str = "",
              area: str | None = None) -> Response:
    """Who could take ``visit`` in the latest version, and when; each option applies as an edit."""
    area = _area(session, area or "")
    roster = publish.latest_roster(session, day, area)
    context: dict[str, Any] = {"day": day, "area": area, "visit": visit, "day_url": day_url,
                               "etag": publish.etag(roster) if roster else "", "view": None, "error": None}
    status = 200
    try:
        context["view"] = recommend_for(session, day, request.app.state.settings, request_id=visit or None,
                                        area=area)
    except (InvalidInput, NotFound) as exc:
        context["error"], status = str(exc), 422
    session.commit()
    return render(request, "recommend.html", context, user, status_code=status)


@router.post("/day/{day}/replan", response_class=HTMLResponse)
def replan(
    request: Request, session: DbSession, user: Planner, day: dt.date,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    area: Annotated[str, Form(max_length=64)] = "",
    from_time: Annotated[str, Form(max_length=10)] = "",
    unavailable: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
    time_limit_s: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Start re-planning the published day from a time with the workers who are out (the API's service)."""
    check_csrf(request, user, csrf_token)
    area_id = _area(session, area)
    try:
        start = _clock(from_time, "from") or replan_rules.default_from_time(
            _now(request), day, request.app.state.settings.timezone)
        limit = float(time_limit_s) if time_limit_s.strip() else None
        body = ReplanRequest(
            from_=start, reason=reason.strip() or None, area=area_id, time_limit_s=limit,
            unavailable=[UnavailableIn(worker_id=w, from_=start) for w in unavailable or [] if w],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "time_limit_s"
        return render_day(request, session, user, day, area_id, 422, replan_error=f"{where}: {first['msg']}")
    except (InvalidInput, ValueError) as exc:
        return render_day(request, session, user, day, area_id, 422, replan_error=str(exc))
    try:
        start_replan(request, session, day, body, user.user.username, user.role, _now(request))
        session.commit()
    except ProblemError as exc:
        session.rollback()
        return render_day(request, session, user, day, area_id, exc.status, replan_error=exc.detail)
    return RedirectResponse(day_url(day, area_id), status_code=303)

