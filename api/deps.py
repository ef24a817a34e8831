"""Request dependencies: a database session per request, the current user, role guards.

Routers use::

    session: Annotated[Session, Depends(get_session, scope="function")]
    user: Annotated[CurrentUser, Depends(require_roles(UserRole.DISPATCHER, UserRole.ADMIN))]

``get_session`` commits when the handler returns normally and rolls back on any error,
so a multi-row write is one transaction.  Use it with ``scope="function"``: FastAPI then
commits before the response is sent, so a failed commit becomes an error response instead
of a 200 for data that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session, select

from api.problems import ProblemError
from api.security import InvalidToken, decode_access_token
from dispatch.models import User, UserRole

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    scopes={r.value: f"act as {r.value}" for r in UserRole},
    auto_error=False,
)


def get_session(request: Request) -> Iterator[Session]:
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: UserRole
    worker_id: str | None


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "unauthorized", "Not authenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def current_user(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: Annotated[Session, Depends(get_session, scope="function")],
) -> CurrentUser:
    if not token:
        raise _unauthorized("send 'Authorization: Bearer <token>' (POST /api/v1/auth/token to get one)")
    try:
        claims = decode_access_token(request.app.state.settings.secret_key.get_secret_value(), token)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from None
    user = session.exec(select(User).where(User.username == claims.username)).first()
    if user is None or not user.active or user.role.value != claims.role:
        raise _unauthorized("the token's user is unknown, inactive or has another role now")
    if claims.version != user.token_version:
        raise _unauthorized("the password was changed after this token was issued; log in again")
    return CurrentUser(user.id or 0, user.username, user.role, user.worker_id)


def require_roles(*roles: UserRole) -> Callable[..., CurrentUser]:
    """A dependency that lets only ``roles`` through (403 problem otherwise)."""
    allowed = set(roles)

    def guard(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise ProblemError(403, "forbidden", "Not allowed", f"this needs the role {names}; you are {user.role.value}")
        return user

    return guard
