"""The coordinator's request pages: the seniors list, entering, changing and cancelling a visit request.

One form serves a new request (``create_request``) and a change of a stored one
(``dispatch.catalog.requests.update_request``, ``PATCH /requests/{id}``); cancelling is
``cancel_request`` (``DELETE /requests/{id}``).  A coordinator may write an override reason: the
intake rules' violations are then accepted and audited by the same service, as over the API.
The form is read into the JSON API's own body model (``VisitRequestCreate``: the per-field checks)
and given to ``dispatch.catalog.requests.create_request`` at the app's clock (every rule, the intake
rules included: ``IntakeRefused`` is an ``InvalidInput`` naming its field), so a form and a JSON client
get the same verdicts; each error is shown next to the field it names (``errors[].field`` of the
API's problem+json: ``window_end``, ``extra_windows.1.start`` -> ``extra_windows``), and a broken
intake rule also names its rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import col, select

from api.clock import ClockDep
from api.console import PREFIX, i18n, intake_wording
from api.console.guards import DbSession, PageNotFound, check_csrf, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from api.schemas.requests import VisitRequestCreate, VisitRequestUpdate
from dispatch.catalog import records as catalog
from dispatch.catalog import requests as requests_service
from dispatch.catalog.intake_rules import IntakeRefused
from dispatch.storage import models as m
from dispatch.storage.care_models import RequestCancellation

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Coordinator = Annotated[ConsoleUser, Depends(page_user(m.UserRole.COORDINATOR, m.UserRole.ADMIN))]
PAGE_SIZE = 50
#: Recurrences offered in the form (RFC 5545 RRULEs; empty: one-off); any other RRULE can be typed in.
RECURRENCES = ("", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "FREQ=DAILY", "FREQ=WEEKLY")
#: The form's fields, in the order of the page (``mandatory`` is a checkbox).
FIELDS = ("senior_id", "service", "first_date", "window_start", "window_end", "duration", "rrule", "until",
          "priority", "mandatory", "tasks", "destination_place_id", "appointment", "appointment_minutes", "one_way",
          "override_reason")
#: Checkboxes of the form: "on" or empty.
CHECKBOXES = ("mandatory", "one_way")
#: A ride's fields (the senior taxi): sent only when a destination is chosen.
RIDE_FIELDS = ("destination_place_id", "appointment", "appointment_minutes")
#: Fields a change sends even when empty: emptied, they clear the value (a recurring request made one-off).
CLEARABLE = ("rrule", "until")


@router.get("/seniors", response_class=HTMLResponse)
def seniors(request: Request, session: DbSession, user: Coordinator, name: str | None = None) -> HTMLResponse:
    name = (name or "").strip()[:100] or None
    stmt = catalog.senior_query(None, name).order_by(col(m.Senior.last_name), col(m.Senior.first_name),
                                                     col(m.Senior.id)).limit(PAGE_SIZE + 1)
    rows = list(session.scalars(stmt).all())
    return render(request, "seniors.html", {"seniors": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE,
                                            "name": name or ""}, user)


def _form_page(request: Request, session: DbSession, user: ConsoleUser, values: dict[str, Any],
               errors: dict[str, list[str]], status_code: int = 200, created: m.VisitRequest | None = None,
               editing: m.VisitRequest | None = None, rules: list[str] | None = None,
               saved: str | None = None) -> HTMLResponse:
    services = list(session.scalars(select(m.Service).order_by(col(m.Service.code))).all())
    senior = session.get(m.Senior, values.get("senior_id") or "")
    destinations = list(session.scalars(select(m.Place).where(col(m.Place.kind) == m.PlaceKind.DESTINATION)
                                        .order_by(col(m.Place.name))).all())
    cancellation = session.get(RequestCancellation, editing.id) if editing is not None else None
    return render(request, "request_form.html", {
        "values": values, "errors": on_the_form(errors), "services": services, "senior": senior, "recurrences": RECURRENCES,
        "created": created, "editing": editing, "rules": rules or [], "saved": saved, "cancellation": cancellation,
        "destinations": destinations,
    }, user, status_code=status_code)


def _values_of(row: m.VisitRequest) -> dict[str, str]:
    """A stored request as the form's text values (times HH:MM, dates ISO)."""
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "on" if value else ""
        if isinstance(value, dt.time):
            return value.strftime("%H:%M")
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    values = {name: text(getattr(row, name, None)) for name in FIELDS if name not in ("override_reason", "one_way")}
    values["one_way"] = "on" if row.return_trip is False else ""
    return values


def _read_form(form: dict[str, str]) -> dict[str, str]:
    values = {name: (form.get(name) or "").strip() for name in FIELDS}
    for name in CHECKBOXES:
        values[name] = "on" if values[name] else ""
    return values


def _ride(values: dict[str, str]) -> dict[str, Any]:
    """The ride part of the body: the destination, appointment and its length, and a one-way ride
    (``return_trip`` false); nothing when no destination is chosen (a visit)."""
    if not values["destination_place_id"]:
        return {}
    body: dict[str, Any] = {k: values[k] for k in RIDE_FIELDS if values[k] != ""}
    body["return_trip"] = not values["one_way"]
    return body


@router.get("/requests/new", response_class=HTMLResponse)
def new_request(request: Request, session: DbSession, user: Coordinator, senior_id: str = "",
                created: str | None = None) -> HTMLResponse:
    done = session.get(m.VisitRequest, created[:64]) if created else None
    return _form_page(request, session, user, {"senior_id": senior_id[:64], "priority": "3"}, {}, created=done)


def _field(loc: tuple[Any, ...]) -> str:
    return str(loc[0]) if loc else ""


def form_errors(exc: ValidationError | catalog.InvalidInput,
                gettext: Callable[[str], str] = str) -> dict[str, list[str]]:
    """Errors per form field (the first part of the API's field path); a broken intake rule worded in the
    page's language with its code (``intake_wording``)."""
    out: dict[str, list[str]] = {}
    if isinstance(exc, ValidationError):
        for e in exc.errors():
            out.setdefault(_field(tuple(e["loc"])), []).append(str(e["msg"]))
    else:
        for e in exc.errors:
            message = intake_wording.word(e, gettext) if e.get("rule") else str(e.get("message", ""))
            out.setdefault(str(e.get("field", "")).split(".")[0], []).append(message)
    return out


def on_the_form(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors of fields the form has stay next to them; any other (a ride's appointment) goes on top."""
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        out.setdefault(name if name in FIELDS else "", []).extend(
            messages if name in FIELDS or not name else [f"{name}: {m}" for m in messages])
    return out


def _gettext(request: Request) -> Callable[[str], str]:
    return i18n.translations(i18n.language(request)).gettext


def broken_rules(exc: Exception) -> list[str]:
    """The intake rules a refusal names (the page then offers the override with a reason)."""
    return [v.rule for v in exc.violations] if isinstance(exc, IntakeRefused) else []


FormText = Annotated[str, Form(max_length=4000)]


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
    tasks: FormText = "",
    destination_place_id: Annotated[str, Form(max_length=200)] = "",
    appointment: Annotated[str, Form(max_length=40)] = "",
    appointment_minutes: Annotated[str, Form(max_length=40)] = "",
    one_way: Annotated[str, Form(max_length=10)] = "",
    override_reason: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    """Enter a request from the form: 303 to a fresh form saying what was entered, or the form again
    (422, 409 when only quotas or budgets are used up) with each error next to its field."""
    check_csrf(request, user, csrf_token)
    values = _read_form(dict(senior_id=senior_id, service=service, first_date=first_date, window_start=window_start,
                             window_end=window_end, duration=duration, rrule=rrule, until=until, priority=priority,
                             mandatory=mandatory, tasks=tasks, destination_place_id=destination_place_id,
                             appointment=appointment, appointment_minutes=appointment_minutes, one_way=one_way,
                             override_reason=override_reason))
    body: dict[str, Any] = {k: v for k, v in values.items()
                            if v != "" and k not in CHECKBOXES and k not in RIDE_FIELDS} | _ride(values)
    if values["mandatory"]:
        body["mandatory"] = True
    try:
        data = VisitRequestCreate.model_validate(body).model_dump()
        row = requests_service.create_request(session, user.user.username, data, now=clock())
        session.commit()
    except (ValidationError, catalog.InvalidInput) as exc:
        session.rollback()
        return _form_page(request, session, user, values, form_errors(exc, _gettext(request)), _status(exc),
                          rules=broken_rules(exc))
    return RedirectResponse(f"{PREFIX}/requests/new?senior_id={row.senior_id}&created={row.id}", status_code=303)


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, IntakeRefused) else 422


def _stored(session: DbSession, request_id: str) -> m.VisitRequest:
    row = session.get(m.VisitRequest, request_id[:64])
    if row is None:
        raise PageNotFound()
    return row


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def edit_request_page(request: Request, session: DbSession, user: Coordinator, request_id: str,
                      saved: str | None = None) -> HTMLResponse:
    """The stored request in the form, to change or cancel it."""
    row = _stored(session, request_id)
    return _form_page(request, session, user, _values_of(row), {}, editing=row, saved=saved)


@router.post("/requests/{request_id}", response_class=HTMLResponse)
def change_request(
    request: Request, session: DbSession, user: Coordinator, clock: ClockDep, request_id: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    service: Annotated[str, Form(max_length=200)] = "",
    first_date: Annotated[str, Form(max_length=40)] = "",
    window_start: Annotated[str, Form(max_length=40)] = "",
    window_end: Annotated[str, Form(max_length=40)] = "",
    duration: Annotated[str, Form(max_length=40)] = "",
    rrule: Annotated[str, Form(max_length=600)] = "",
    until: Annotated[str, Form(max_length=40)] = "",
    priority: Annotated[str, Form(max_length=40)] = "",
    mandatory: Annotated[str, Form(max_length=10)] = "",
    tasks: FormText = "",
    destination_place_id: Annotated[str, Form(max_length=200)] = "",
    appointment: Annotated[str, Form(max_length=40)] = "",
    appointment_minutes: Annotated[str, Form(max_length=40)] = "",
    one_way: Annotated[str, Form(max_length=10)] = "",
    override_reason: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    """Change the stored request as ``PATCH /requests/{id}`` does: 303 back to it, or the form again with
    each error next to its field (nothing changed)."""
    check_csrf(request, user, csrf_token)
    row = _stored(session, request_id)
    values = _read_form(dict(senior_id=row.senior_id, service=service, first_date=first_date,
                             window_start=window_start, window_end=window_end, duration=duration, rrule=rrule,
                             until=until, priority=priority, mandatory=mandatory, tasks=tasks,
                             destination_place_id=destination_place_id, appointment=appointment,
                             appointment_minutes=appointment_minutes, one_way=one_way,
                             override_reason=override_reason))
    body: dict[str, Any] = {k: v for k, v in values.items()
                            if k not in ("senior_id", *CHECKBOXES, *RIDE_FIELDS) and (v != "" or k == "tasks")}
    body |= _ride(values)
    body.update({k: None for k in CLEARABLE if values[k] == ""})
    body["mandatory"] = bool(values["mandatory"])
    try:
        changes = VisitRequestUpdate.model_validate(body).model_dump(exclude_unset=True)
        requests_service.update_request(session, user.user.username, row.id, changes, now=clock())
        session.commit()
    except (ValidationError, catalog.InvalidInput) as exc:
        session.rollback()
        return _form_page(request, session, user, values, form_errors(exc, _gettext(request)), _status(exc),
                          editing=_stored(session, request_id), rules=broken_rules(exc))
    except catalog.Conflict as exc:
        session.rollback()
        return _form_page(request, session, user, values, {"": [str(exc)]}, 409, editing=_stored(session, request_id))
    return RedirectResponse(f"{PREFIX}/requests/{row.id}?saved=changed", status_code=303)


@router.post("/requests/{request_id}/cancel", response_class=HTMLResponse)
def cancel_request(request: Request, session: DbSession, user: Coordinator, clock: ClockDep, request_id: str,
                   csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Cancel the request as ``DELETE /requests/{id}`` does (kept as history; a late cancellation still
    counts against quotas and budgets, and the page says so)."""
    check_csrf(request, user, csrf_token)
    row = _stored(session, request_id)
    requests_service.cancel_request(session, user.user.username, row.id, now=clock())
    session.commit()
    return RedirectResponse(f"{PREFIX}/requests/{row.id}?saved=cancelled", status_code=303)
