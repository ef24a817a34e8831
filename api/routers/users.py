"""User management, for admins only: create, list, read, change (role, active, worker, password).

Every write is audited (``user.create`` / ``user.update``) in the request's transaction by
``dispatch.access.users``; no response or audit row ever carries a password or its hash.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlmodel import Session

from api.app import API_PREFIX
from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.schemas.users import UserCreate, UserPublic, UserUpdate
from dispatch.access import users as use
from dispatch.errors import UserError
from dispatch.storage.models import User, UserRole

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
DbSession = Annotated[Session, Depends(get_session, scope="function")]

_ERRORS = {
    401: {"description": "no valid token (problem+json)"},
    403: {"description": "not an admin (problem+json)"},
}


def user_problem(exc: UserError) -> ProblemError:
    """The problem+json answer for a ``dispatch.access.users`` error."""
    if isinstance(exc, use.UserFieldError):
        return ProblemError(
            422, "validation-error", "Invalid input", str(exc), [{"field": exc.field, "message": exc.message}]
        )
    if isinstance(exc, use.UserExists):
        return ProblemError(409, "user-exists", "Username taken", str(exc), [{"field": "username", "message": str(exc)}])
    if isinstance(exc, use.UserNotFound):
        return ProblemError(404, "not-found", "Not found", str(exc))
    if isinstance(exc, use.LastAdmin):
        return ProblemError(409, "last-admin", "Last active admin", str(exc))
    return ProblemError(400, "bad-request", "Bad request", str(exc))


def _public(user: User) -> UserPublic:
    return UserPublic(username=user.username, role=user.role, worker_id=user.worker_id, active=user.active)


@router.post(
    "",
    operation_id="users-create",
    status_code=201,
    response_model=UserPublic,
    responses={**_ERRORS, 409: {"description": "username taken"}, 422: {"description": "invalid field"}},
)
def create_user(body: UserCreate, admin: Admin, session: DbSession, response: Response) -> UserPublic:
    """Create an active user; a ``worker`` user must name an existing ``worker_id``."""
    try:
        user = use.create_user(session, admin.username, body.username, body.password, body.role, body.worker_id)
    except UserError as exc:
        raise user_problem(exc) from None
    response.headers["Location"] = f"{API_PREFIX}{router.prefix}/{user.username}"
    return _public(user)


@router.get("", operation_id="users-list", response_model=list[UserPublic], responses=_ERRORS)
def list_users(admin: Admin, session: DbSession) -> list[UserPublic]:
    """All users (active and deactivated), by username."""
    return [_public(u) for u in use.list_users(session)]


@router.get(
    "/{username}", operation_id="users-get", response_model=UserPublic, responses={**_ERRORS, 404: {"description": "no such user"}}
)
def get_user(username: str, admin: Admin, session: DbSession) -> UserPublic:
    """One user."""
    try:
        return _public(use.get_user(session, username))
    except UserError as exc:
        raise user_problem(exc) from None


@router.patch(
    "/{username}",
    operation_id="users-update",
    response_model=UserPublic,
    responses={
        **_ERRORS,
        404: {"description": "no such user"},
        409: {"description": "would leave no active admin"},
        422: {"description": "invalid field"},
    },
)
def update_user(username: str, body: UserUpdate, admin: Admin, session: DbSession) -> UserPublic:
    """Change a user's role, active flag, worker link or password (fields left out stay)."""
    try:
        user = use.update_user(session, admin.username, username, **body.changes())
    except UserError as exc:
        raise user_problem(exc) from None
    return _public(user)
