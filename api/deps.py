"""Request dependencies: a database session per request, the current user, role guards.

Routers use::

    session: Annotated[Session, Depends(get_session, scope="function")]
    user: Annotated[CurrentUser, Depends(require_roles(UserRole.DISPATCHER, UserRole.ADMIN))]

``get_session`` commits when the handler returns normally and rolls back on any error,
so a multi-row write is one transaction.  Use it with ``scope="function"``: FastAPI then
commits before the response is sent, so a failed commit becomes an error response instead
of a 200 for data that was rolled back.

**Why requests queue for a database slot** (``db_slot``).  Sync dependencies and handlers run
in AnyIO's worker threads (40).  A request takes a pooled connection in its first thread
(``current_user`` reads the user) and keeps it until its session closes, but in between it
needs more threads: the handler, then the response's validation.  With 100 clients, 40
threads were all blocked waiting for one of the pool's 15 connections while the 15 requests
holding connections waited for a free thread to finish: a deadlock that only the pool's 30 s
timeout broke, as a flood of 500s, and ``/health`` could not get a thread either (issue 21).
So at most ``db_pool_size + db_max_overflow`` requests hold or wait for a connection at a
time; the others wait in the event loop, holding nothing, and give up after
``db_queue_timeout_s`` with a 503 and ``Retry-After``.  An admitted request always finds a
connection and threads; guards without I/O are ``async`` so they take no thread at all.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, FastAPI, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from api.problems import ProblemError
from api.security import InvalidToken, decode_access_token
from dispatch.storage.db import for_writing
from dispatch.providers.geocoding import Geocoder
from dispatch.storage.models import UserRole
from dispatch.access.token_revocation import token_holder

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    scopes={r.value: f"act as {r.value}" for r in UserRole},
    auto_error=False,
)

#: Per event loop (AnyIO primitives belong to one loop), per app: the semaphore of database slots.
_DB_SLOTS: RunVar[weakref.WeakKeyDictionary[FastAPI, anyio.Semaphore]] = RunVar("carepath_db_slots")

#: Methods whose request session writes (SQLite: write lock at BEGIN, see ``dispatch.storage.db.for_writing``).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def db_slots(app: FastAPI) -> int:
    """How many requests may use the database at once: the engine pool's capacity."""
    settings = app.state.settings
    return int(settings.db_pool_size + settings.db_max_overflow)


def _semaphores(app: FastAPI) -> tuple[anyio.Semaphore, anyio.Semaphore]:
    """(all slots, write slots): writers may take at most half the slots, so that writers queued
    on SQLite's single write lock never leave readers (which WAL lets through) without a slot."""
    try:
        table = _DB_SLOTS.get()
    except LookupError:
        table = weakref.WeakKeyDictionary()
        _DB_SLOTS.set(table)
    pair = table.get(app)
    if pair is None:
        slots = db_slots(app)
        pair = table[app] = (anyio.Semaphore(slots), anyio.Semaphore(max(1, slots // 2)))
    return pair


def _busy(timeout: float) -> ProblemError:
    return ProblemError(503, "busy", "Server busy",
                        f"no database connection became free within {timeout:g} s; try again shortly",
                        headers={"Retry-After": str(max(1, math.ceil(timeout / 3)))})


async def db_slot(request: Request) -> AsyncIterator[None]:
    """Wait (in the event loop, holding nothing) for a database slot; see the module docstring."""
    every, writes = _semaphores(request.app)
    timeout = float(request.app.state.settings.db_queue_timeout_s)
    held: list[anyio.Semaphore] = []
    with anyio.move_on_after(timeout):
        if request.method in WRITE_METHODS:
            await writes.acquire()
            held.append(writes)
        await every.acquire()
        held.append(every)
    try:
        if held[-1:] != [every]:
            raise _busy(timeout)
        yield
    finally:
        for semaphore in reversed(held):
            semaphore.release()


def _finish(session: Session, failed: bool) -> None:
    """Commit (or roll back after an error) and give the connection back to the pool."""
    try:
        if failed:
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()


async def get_session(request: Request, _slot: Annotated[None, Depends(db_slot, scope="function")]) -> AsyncIterator[Session]:
    """The request's session: committed when the handler returns, rolled back on any error.

    ``async`` on purpose: making a ``Session`` does no I/O (it connects on first use, in the
    handler's thread), so only the end (commit and close, which do) takes a worker thread,
    shielded so that a client that hangs up cannot leave a connection checked out.  A sync
    generator would take a thread at the start too: a hop per request that phones polling
    their schedule all pay (issue 21's load benchmark).
    """
    engine = request.app.state.engine
    if request.method in WRITE_METHODS:
        engine = for_writing(engine)
    session = Session(engine, expire_on_commit=False)
    failed = False
    try:
        yield session
    except BaseException:
        failed = True
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_finish, session, failed)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: UserRole
    worker_id: str | None
    token_id: str = ""
    """The presented token's ``jti`` (what ``POST /auth/logout`` revokes)."""
    token_expires: dt.datetime | None = None


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
        claims = decode_access_token(request.app.state.signing_secret, token)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from None
    user, revoked = token_holder(session, claims.username, claims.jti)
    if user is None or not user.active or user.role.value != claims.role:
        raise _unauthorized("the token's user is unknown, inactive or has another role now")
    if claims.version != user.token_version:
        raise _unauthorized(
            "the account's password, role or status was changed after this token was issued; log in again"
        )
    if revoked:
        raise _unauthorized("this token was ended by logging out; log in again")
    return CurrentUser(user.id or 0, user.username, user.role, user.worker_id, claims.jti, claims.expires)


def require_roles(*roles: UserRole) -> Callable[..., CurrentUser]:
    """A dependency that lets only ``roles`` through (403 problem otherwise)."""
    allowed = set(roles)

    async def guard(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:  # no I/O: no thread
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise ProblemError(403, "forbidden", "Not allowed", f"this needs the role {names}; you are {user.role.value}")
        return user

    return guard


def get_geocoder(request: Request) -> Geocoder | None:
    """The process's geocoder (``dispatch.providers.geocoding``), or None when none is configured."""
    return request.app.state.geocoder  # type: ignore[no-any-return]


#: The geocoder a route looks addresses up with (None: coordinates must be given).
GeocoderDep = Annotated[Geocoder | None, Depends(get_geocoder)]
