"""The console's login session: the API's own access token, kept in an HttpOnly cookie.

Why the same token: one way to sign in (``api.routers.auth.issue_token``: throttling, password
check, token version), one way to check a caller (``dispatch.access.token_revocation.token_holder``: a
deactivated user, a changed role or password, or a logout ends the session at once), and
logging out of the console revokes that token exactly as ``POST /auth/logout`` does.  The JSON
API never reads this cookie (it wants ``Authorization: Bearer``), so cookies can't be used to
make cross-site API calls; only the console's own pages and forms accept it.

CSRF: every unsafe console request carries a token, in the form field ``csrf_token`` or the
``X-CSRF-Token`` header (htmx).  Signed in, the token is an HMAC of the session token's id
(``jti``) under the app's signing secret: a synchronizer token that needs no storage and dies
with the session.  Before signing in (the login form) it is a double-submit pair: a random value
in a SameSite=Strict cookie and the same value in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from sqlmodel import Session

from api.deps import CurrentUser
from api.security import InvalidToken, decode_access_token
from dispatch.storage.models import UserRole
from dispatch.access.token_revocation import token_holder

SESSION_COOKIE = "carepath_session"
LOGIN_CSRF_COOKIE = "carepath_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in console user, with the CSRF token their forms must send."""

    user: CurrentUser
    csrf: str

    @property
    def role(self) -> UserRole:
        return self.user.role


def is_https(request: Request) -> bool:
    """Served over HTTPS (directly, or behind a proxy uvicorn trusts for X-Forwarded-Proto)."""
    return request.url.scheme == "https"


def set_session(request: Request, response: Response, token: str, max_age_s: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age_s, path="/", httponly=True, samesite="lax",
                        secure=is_https(request))


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))


def session_csrf(secret: str, jti: str) -> str:
    """The synchronizer token of one session (see the module docstring)."""
    return hmac.new(secret.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def read_user(request: Request, session: Session) -> ConsoleUser | None:
    """The user of the session cookie, or None (no cookie, expired, revoked, changed account)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    secret = request.app.state.signing_secret
    try:
        claims = decode_access_token(secret, token)
    except InvalidToken:
        return None
    user, revoked = token_holder(session, claims.username, claims.jti)
    if user is None or not user.active or user.role.value != claims.role or revoked:
        return None
    if claims.version != user.token_version:
        return None
    current = CurrentUser(user.id or 0, user.username, user.role, user.worker_id, claims.jti, claims.expires)
    return ConsoleUser(current, session_csrf(secret, claims.jti))


def login_csrf(request: Request) -> str:
    """The login form's double-submit value: the cookie's if there is one, else a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, value, max_age=3600, path="/console", httponly=True, samesite="strict",
                        secure=is_https(request))


def sent_csrf(request: Request, form_value: str | None) -> str:
    return form_value or request.headers.get(CSRF_HEADER, "")


def csrf_ok(expected: str | None, sent: str) -> bool:
    return bool(expected) and bool(sent) and hmac.compare_digest(str(expected), sent)
