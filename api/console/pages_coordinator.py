"""The coordinator's pages: the seniors list and entering a visit request.

The form is read into the JSON API's own body model (``VisitRequestCreate``: the per-field checks)
and given to ``dispatch.catalog.requests.create_request`` at the app's clock (every rule, the intake
rules included: ``IntakeRefused`` is an ``InvalidInput`` naming its field), so a form and a JSON client
get the same verdicts; each error is shown next to the field it names (``errors[].field`` of the
API's problem+json: ``window_end``, ``extra_windows.1.start`` -> ``extra_windows``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import col, select

from api.clock import ClockDep
from api.console import PREFIX
from api.console.guards import DbSession, check_csrf, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from api.schemas.requests import VisitRequestCreate
from dispatch.catalog import records as catalog
from dispatch.catalog import requests as requests_service
from dispatch.storage import models as m

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Coordinator = Annotated[ConsoleUser, Depends(page_user(m.UserRole.COORDINATOR, m.UserRole.ADMIN))]
PAGE_SIZE = 50
#: Recurrences offered in the form (RFC 5545 RRULEs; empty: one-off); any other RRULE can be typed in.
RECURRENCES = ("", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "FREQ=DAILY", "FREQ=WEEKLY")


@router.get("/seniors", response_class=HTMLResponse)
def seniors(request: Request, session: DbSession, user: Coordinator, name: str | None = None) -> HTMLResponse:
    name = (name or "").strip()[:100] or None
    stmt = catalog.senior_query(None, name).order_by(col(m.Senior.last_name), col(m.Senior.first_name),
                                                     col(m.Senior.id)).limit(PAGE_SIZE + 1)
    rows = list(session.scalars(stmt).all())
    return render(request, "seniors.html", {"seniors": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE,
                                            "name": name or ""}, user)


def _form_page(request: Request, session: DbSession, user: ConsoleUser, values: dict[str, Any],
               errors: dict[str, list[str]], status_code: int = 200, created: m.VisitRequest | None = None) -> HTMLResponse:
    services = list(session.scalars(select(m.Service).order_by(col(m.Service.code))).all())
    senior = session.get(m.Senior, values.get("senior_id") or "")
    return render(request, "request_form.html", {
        "values": values, "errors": errors, "services": services, "senior": senior, "recurrences": RECURRENCES,
        "created": created,
    }, user, status_code=status_code)


@router.get("/requests/new", response_class=HTMLResponse)
def new_request(request: Request, session: DbSession, user: Coordinator, senior_id: str = "",
                created: str | None = None) -> HTMLResponse:
    done = session.get(m.VisitRequest, created[:64]) if created else None
    return _form_page(request, session, user, {"senior_id": senior_id[:64], "priority": "3"}, {}, created=done)


def _field(loc: tuple[Any, ...]) -> str:
    return str(loc[0]) if loc else ""


def form_errors(exc: ValidationError | catalog.InvalidInput) -> dict[str, list[str]]:
    """Errors per form field (the first part of the API's field path)."""
    out: dict[str, list[str]] = {}
    if isinstance(exc, ValidationError):
        for e in exc.errors():
            out.setdefault(_field(tuple(e["loc"])), []).append(str(e["msg"]))
    else:
        for e in exc.errors:
            out.setdefault(str(e.get("field", "")).split(".")[0], []).append(str(e.get("message", "")))
    return out


@router.post("/requests", response_class=HTMLResponse)
def submit_request(
    request: Request, session: DbSession, user: Coordinator, clock: ClockDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    senior_id: Annotated[str, Form(max_length=200)] = "",
    service: Annotated[str, Form(max_length=200)] = "",
    first_date: Annotated[str, Form(max_length=40)] = "",
    window_start: Annotated[str, Form(max_length=40)] = "",
    window_end: Annotated[str, Form(max_length=40)] = "",
    duration: Annotated[str, Form(max_length=40)] = "",
    rrule: Annotated[str, Form(max_length=600)] = "",
    until: Annotated[str, Form(max_length=40)] = "",
    priority: Annotated[str, Form(max_length=40)] = "",
    mandatory: Annotated[str, Form(max_length=10)] = "",
    tasks: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Enter a request from the form: 303 to a fresh form saying what was entered, or the form again
    (422) with each error next to its field."""
    check_csrf(request, user, csrf_token)
    values = {"senior_id": senior_id, "service": service, "first_date": first_date, "window_start": window_start,
              "window_end": window_end, "duration": duration, "rrule": rrule, "until": until, "priority": priority,
              "mandatory": "on" if mandatory else "", "tasks": tasks}
    values = {k: v.strip() for k, v in values.items()}
    body: dict[str, Any] = {k: v for k, v in values.items() if v != "" and k != "mandatory"}
    if values["mandatory"]:
        body["mandatory"] = True
    try:
        data = VisitRequestCreate.model_validate(body).model_dump()
        row = requests_service.create_request(session, user.user.username, data, now=clock())
        session.commit()
    except (ValidationError, catalog.InvalidInput) as exc:
        session.rollback()
        return _form_page(request, session, user, values, form_errors(exc), 422)
    return RedirectResponse(f"{PREFIX}/requests/new?senior_id={row.senior_id}&created={row.id}", status_code=303)
