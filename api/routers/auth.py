"""Log in (OAuth2 password flow), log out, ask who you are; admins see and clear login throttles.

``POST /auth/token`` takes the form fields ``username`` and ``password`` and answers with a
bearer token signed with ``settings.secret_key`` (HS256) that lasts ``ACCESS_TOKEN_MINUTES``.
The role is the token's only scope; ``deps.current_user`` re-reads the user on every request,
so deactivating a user or changing their role ends their tokens at once; so does any change
to the account (tokens carry the user's token version, which every change raises, so a
reactivated user's old tokens stay dead).  ``POST /auth/logout`` ends the token presented.

Failed logins slow further attempts down (``dispatch.access.login_throttle``: a back-off per account
and address, shared by all API processes through the database); admins list the keys under
which failures are counted with ``GET /auth/throttles`` and clear one with
``DELETE /auth/throttles/{key}`` (audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import Session

from api.deps import CurrentUser, current_user, db_slot, get_session, require_roles
from api.problems import ProblemError
from api.schemas.users import Me, ThrottlePublic, Token
from api.security import create_access_token
from dispatch.access import login_throttle as throttle
from dispatch.access import users as use
from dispatch.storage.models import User, UserRole
from dispatch.timeutil import utc_to_local
from dispatch.access.token_revocation import revoke

#: Lifetime of an access token.  A module constant (not a setting) until an office asks to change it.
ACCESS_TOKEN_MINUTES = 60

router = APIRouter(prefix="/auth", tags=["auth"])

Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
DbSession = Annotated[Session, Depends(get_session, scope="function")]

_PROBLEM_401 = {"description": "wrong username or password, or a deactivated account (problem+json)"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _client_address(request: Request) -> str | None:
    """The caller's address as uvicorn reports it (behind a proxy on this machine, the
    X-Forwarded-For address: uvicorn trusts it from FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""
    return request.client.host if request.client else None


@router.post("/token", operation_id="auth-token", response_model=Token, dependencies=[Depends(db_slot)],
             responses={401: _PROBLEM_401, 429: {"description": "too many failed logins (problem+json, Retry-After)"}})
def login(
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a username and password for a bearer token (send it as ``Authorization: Bearer ...``).

    After failed logins the next attempt may have to wait: 429 with Retry-After, answered
    before the password is even checked (``dispatch.access.login_throttle``).
    """
    user, token = issue_token(request, form.username, form.password)
    response.headers["Cache-Control"] = "no-store"
    return Token(
        access_token=token, expires_in=ACCESS_TOKEN_MINUTES * 60, role=user.role, scope=user.role.value
    )


def issue_token(request: Request, username: str, password: str) -> tuple[User, str]:
    """Check a login (throttled) and sign an access token: the one way in, for the JSON API's
    ``POST /auth/token`` and the console's login form alike.  Raises 429/401 ``ProblemError``.

    Three short transactions, one connection at a time: count the attempt (committed before
    the slow password check, so other processes see it), check the password, and take the
    count back if the password was right.
    """
    engine = request.app.state.engine
    address = _client_address(request)
    wait = throttle.attempt(engine, username, address, _now())
    if wait:
        raise ProblemError(
            429, "too-many-logins", "Too many failed logins",
            f"too many failed logins for this account or from this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    try:
        with Session(engine) as session:  # reads only: no write lock held through the slow hash check
            user = use.authenticate(session, username, password)
    except (use.InvalidCredentials, use.InactiveUser) as exc:
        raise ProblemError(
            401, "invalid-credentials", "Login failed", str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None
    throttle.succeeded(engine, username, address, _now())
    secret = request.app.state.signing_secret
    token = create_access_token(
        secret, user.username, user.role.value, user.worker_id, _now(), ACCESS_TOKEN_MINUTES,
        user.token_version,
    )
    return user, token


@router.post("/logout", operation_id="auth-logout", status_code=204,
             responses={401: {"description": "no valid token (problem+json)"}})
def logout(user: Annotated[CurrentUser, Depends(current_user)], session: DbSession) -> Response:
    """End the token presented: from now on it gets 401 (the user's other tokens still work)."""
    expires = user.token_expires or _now() + dt.timedelta(minutes=ACCESS_TOKEN_MINUTES)
    revoke(session, user.token_id, user.username, expires, _now())
    return Response(status_code=204)


@router.get("/me", operation_id="auth-me", response_model=Me, responses={401: {"description": "no valid token"}})
def me(user: Annotated[CurrentUser, Depends(current_user)]) -> Me:
    """The user the token belongs to: username, role, and worker id for workers."""
    return Me(username=user.username, role=user.role, worker_id=user.worker_id)


_ADMIN_ERRORS = {401: {"description": "no valid token (problem+json)"}, 403: {"description": "not an admin (problem+json)"}}


@router.get("/throttles", operation_id="auth-throttles-list", response_model=list[ThrottlePublic],
            responses=_ADMIN_ERRORS)
def list_throttles(
    admin: Admin, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[ThrottlePublic]:
    """Keys under which failed logins are counted now, longest wait first (admins only)."""
    states = throttle.list_throttles(session, _now(), limit)
    return [
        ThrottlePublic(**vars(s) | {"last_failure_at": s.last_failure_at and utc_to_local(s.last_failure_at)})
        for s in states
    ]


@router.delete("/throttles/{key:path}", operation_id="auth-throttles-clear", status_code=204,
               responses={**_ADMIN_ERRORS, 404: {"description": "nothing counted under that key (problem+json)"}})
def clear_throttle(
    key: Annotated[str, Path(max_length=200, description="a key from GET /auth/throttles")],
    admin: Admin,
    session: DbSession,
) -> Response:
    """Forget the failed logins counted under ``key`` and end its wait (admins only; audited)."""
    try:
        throttle.clear(session, admin.username, key, _now())
    except throttle.ThrottleNotFound as exc:
        raise ProblemError(404, "not-found", "Not found", str(exc)) from None
    return Response(status_code=204)
