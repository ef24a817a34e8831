"""Log in (OAuth2 password flow) and ask who you are.

``POST /auth/token`` takes the form fields ``username`` and ``password`` and answers with a
bearer token signed with ``settings.secret_key`` (HS256) that lasts ``ACCESS_TOKEN_MINUTES``.
The role is the token's only scope; ``deps.current_user`` re-reads the user on every request,
so deactivating a user or changing their role ends their tokens at once; so does a password
reset (tokens carry the user's token version, which the reset raises).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import Session

from api.deps import CurrentUser, current_user, get_session
from api.problems import ProblemError
from api.schemas.users import Me, Token
from api.security import create_access_token
from dispatch import users as use

#: Lifetime of an access token.  A module constant (not a setting) until an office asks to change it.
ACCESS_TOKEN_MINUTES = 60

router = APIRouter(prefix="/auth", tags=["auth"])

_PROBLEM_401 = {"description": "wrong username or password, or a deactivated account (problem+json)"}


@router.post("/token", operation_id="auth-token", response_model=Token,
             responses={401: _PROBLEM_401, 429: {"description": "too many failed logins (problem+json, Retry-After)"}})
def login(
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: Annotated[Session, Depends(get_session, scope="function")],
) -> Token:
    """Exchange a username and password for a bearer token (send it as ``Authorization: Bearer ...``).

    Too many failed logins for a username (or from one address) answer 429 with Retry-After
    before the password is even checked (``api.login_throttle``).
    """
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else None
    wait = throttle.wait_s(form.username, address)
    if wait:
        raise ProblemError(
            429, "too-many-logins", "Too many failed logins",
            f"too many failed logins for this account or address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    try:
        user = use.authenticate(session, form.username, form.password)
    except (use.InvalidCredentials, use.InactiveUser) as exc:
        throttle.failed(form.username, address)
        raise ProblemError(
            401, "invalid-credentials", "Login failed", str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None
    throttle.succeeded(form.username)
    secret = request.app.state.settings.secret_key.get_secret_value()
    token = create_access_token(
        secret, user.username, user.role.value, user.worker_id, dt.datetime.now(dt.UTC), ACCESS_TOKEN_MINUTES,
        user.token_version,
    )
    response.headers["Cache-Control"] = "no-store"
    return Token(
        access_token=token, expires_in=ACCESS_TOKEN_MINUTES * 60, role=user.role, scope=user.role.value
    )


@router.get("/me", operation_id="auth-me", response_model=Me, responses={401: {"description": "no valid token"}})
def me(user: Annotated[CurrentUser, Depends(current_user)]) -> Me:
    """The user the token belongs to: username, role, and worker id for workers."""
    return Me(username=user.username, role=user.role, worker_id=user.worker_id)
