"""Who may see a console page, and what happens when they may not.

A page asks for ``page_user(roles)``: no valid session -> redirect to the login page (htmx
requests get ``HX-Redirect`` so the whole page goes, not a fragment); the wrong role -> 403
page.  Unsafe requests also pass ``check_csrf`` (see ``api.console.session``); a missing or
wrong token is refused with 403 before anything is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.console import PREFIX
from api.console.session import ConsoleUser, csrf_ok, read_user, sent_csrf
from api.deps import get_session
from dispatch.storage.models import UserRole

DbSession = Annotated[Session, Depends(get_session, scope="function")]


class LoginRequired(Exception):
    """No valid session."""


class NotAllowed(Exception):
    """Signed in, but the role may not see this."""


class CsrfRefused(Exception):
    """An unsafe request without the right CSRF token."""


class PageNotFound(Exception):
    """The record a page is about does not exist (the 404 page)."""


def page_user(*roles: UserRole) -> Callable[..., ConsoleUser]:
    allowed = set(roles)

    def guard(request: Request, session: DbSession) -> ConsoleUser:
        user = read_user(request, session)
        if user is None:
            raise LoginRequired()
        if allowed and user.role not in allowed:
            raise NotAllowed()
        return user

    return guard


def check_csrf(request: Request, user: ConsoleUser, form_value: str | None) -> None:
    if not csrf_ok(user.csrf, sent_csrf(request, form_value)):
        raise CsrfRefused()


def home_of(role: UserRole) -> str:
    """Each role's first page."""
    if role in (UserRole.DISPATCHER, UserRole.ADMIN):
        return f"{PREFIX}/day"
    if role == UserRole.COORDINATOR:
        return f"{PREFIX}/seniors"
    return f"{PREFIX}/me"


def install_handlers(app: FastAPI) -> None:
    from api.console.templating import render

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = f"{PREFIX}/login?next={quote(target, safe='')}" if request.method == "GET" else f"{PREFIX}/login"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(NotAllowed)
    async def _forbidden(request: Request, exc: NotAllowed) -> HTMLResponse:
        return render(request, "error.html", {"title_key": "forbidden"}, status_code=403)

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> HTMLResponse:
        return render(request, "error.html", {"title_key": "not_found"}, status_code=404)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> HTMLResponse:
        return render(request, "error.html", {"title_key": "csrf"}, status_code=403)
