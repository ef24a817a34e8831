"""Signing in and out of the console, the language switch, and where ``/`` leads.

The login form goes through ``api.routers.auth.issue_token`` (the JSON API's own login: the same
accounts, the same throttling) and keeps the token in the session cookie (``session``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console import PREFIX, i18n
from api.console.guards import DbSession, check_csrf, home_of, page_user
from api.console.session import (
    LOGIN_CSRF_COOKIE,
    clear_session,
    csrf_ok,
    login_csrf,
    read_user,
    set_login_csrf,
    set_session,
)
from api.console.templating import render
from api.deps import db_slot
from api.problems import ProblemError
from api.routers.auth import ACCESS_TOKEN_MINUTES, issue_token
from dispatch.access.token_revocation import revoke

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str | None:
    """Only a console path of this site (no ``//host``, no scheme): never an open redirect."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(PREFIX, status_code=303)


@router.get(PREFIX)
def console_home(request: Request, session: DbSession) -> RedirectResponse:
    user = read_user(request, session)
    return RedirectResponse(home_of(user.role) if user else f"{PREFIX}/login", status_code=303)


def _login_page(request: Request, error: str | None = None, status_code: int = 200, username: str = "",
                next_url: str | None = None) -> HTMLResponse:
    token = login_csrf(request)
    response = render(request, "login.html", {"error": error, "username": username, "next": next_url or ""},
                      status_code=status_code, csrf=token)
    set_login_csrf(request, response, token)
    return response


@router.get(f"{PREFIX}/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next_url=safe_next(next))


@router.post(f"{PREFIX}/login", response_class=HTMLResponse, dependencies=[Depends(db_slot)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, "csrf", 403, username, safe_next(next))
    try:
        user, token = issue_token(request, username, password)
    except ProblemError as exc:
        error = "throttled" if exc.status == 429 else "invalid"
        return _login_page(request, error, exc.status, username, safe_next(next))
    response = RedirectResponse(safe_next(next) or home_of(user.role), status_code=303)
    set_session(request, response, token, ACCESS_TOKEN_MINUTES * 60)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post(f"{PREFIX}/logout")
def logout(
    request: Request,
    session: DbSession,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """End the session's token (revoked like ``POST /auth/logout``) and drop the cookie."""
    user = page_user()(request, session)
    check_csrf(request, user, csrf_token)
    now = dt.datetime.now(dt.UTC)
    revoke(session, user.user.token_id, user.user.username,
           user.user.token_expires or now + dt.timedelta(minutes=ACCESS_TOKEN_MINUTES), now)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    clear_session(request, response)
    return response


@router.get(f"{PREFIX}/lang/{{code}}")
def switch_language(request: Request, code: str, next: str | None = None) -> RedirectResponse:
    """Remember the language in a cookie (a preference, not account data: GET, so it works before login)."""
    response = RedirectResponse(safe_next(next) or PREFIX, status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.LANG_COOKIE, code, max_age=365 * 24 * 3600, path="/", samesite="lax",
                            httponly=True, secure=request.url.scheme == "https")
    return response
