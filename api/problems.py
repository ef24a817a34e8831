"""RFC 9457 problem details for every error the API returns.

Every error body is ``application/problem+json`` with a stable ``type`` URI, a ``title``,
the HTTP ``status``, a ``detail`` a person can act on, ``instance`` (the request's path), and,
for field or row errors, an ``errors`` list of ``{"field": ..., "message": ...}`` (imports add
``"row"``).

That holds for errors nobody planned for too.  An unhandled exception answers 500
``.../problems/internal-error`` with an ``error_id`` member (a random UUID, an RFC 9457
extension member: ``instance`` already names the path) and nothing else about the failure: no
exception text, no SQL, no traceback, which may carry personal data or the database's layout.
The same ``error_id`` starts the ``ERROR`` log line of logger ``api.errors`` that carries the
traceback, so a user's "error 6f1c..." leads an administrator to the cause.  Routing errors
(unknown path 404, method 405), Starlette's own errors (a malformed form, 400) and validation
errors (422) are problem+json through the handlers below.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.storage.db import is_lock_error, is_unavailable_error

PROBLEM_BASE = "https://carepath.example/problems/"
MEDIA_TYPE = "application/problem+json"
#: Seconds a client is told to wait after a 503 ``database-busy``.
BUSY_RETRY_AFTER_S = 1
#: Seconds a client is told to wait after a 503 ``database-unavailable`` (a restart takes seconds).
UNAVAILABLE_RETRY_AFTER_S = 5

log = logging.getLogger("api.errors")


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str = "",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extensions = extensions or {}
        """RFC 9457 extension members (e.g. the unplaced visits a publish must acknowledge)."""

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if instance:
            out["instance"] = instance
        if self.errors:
            out["errors"] = self.errors
        return {**self.extensions, **out}


def problem_response(problem: ProblemError, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid input"),
    428: ("precondition-required", "Precondition required"),
}


def internal_error(error_id: str, path: str | None = None) -> JSONResponse:
    """The 500 answer: an id to quote, nothing about the failure itself."""
    problem = ProblemError(
        500, "internal-error", "Internal server error",
        f"The server failed to answer this request. If it happens again, give the administrator error id "
        f"{error_id}; the details are in the server log under that id.",
    )
    body = problem.body(path) | {"error_id": error_id}
    return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)


def _log_unhandled(error_id: str, scope: Scope, exc: BaseException) -> None:
    """One ERROR line with the id, the method and the route (not the raw path: calendar paths hold tokens)."""
    route = scope.get("route")
    where = getattr(route, "path", None) or scope.get("path", "")
    log.error("error_id=%s unhandled %s in %s %s", error_id, type(exc).__name__, scope.get("method", ""), where,
              exc_info=(type(exc), exc, exc.__traceback__))


class CatchAll:
    """ASGI middleware: any exception that escapes the app becomes a logged, problem+json 500.

    Starlette's own last resort (``ServerErrorMiddleware``) answers plain text and re-raises, so
    the server logs a second traceback without the id; this one answers and stops there.  An
    exception after the answer has started cannot change the answer: it is logged with an id
    and re-raised, and the server closes the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the whole point: nothing escapes as a plain-text 500
            error_id = str(uuid.uuid4())
            _log_unhandled(error_id, scope, exc)
            if started:
                raise
            await internal_error(error_id, scope.get("path"))(scope, receive, send)


def install(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json response.

    ``CatchAll`` is added as middleware here; middleware added later wraps it, so an exception
    raised *in* such middleware reaches Starlette's ``ServerErrorMiddleware``, whose handler
    (the ``Exception`` handler below) answers the same problem+json 500 with an id.
    """
    app.add_middleware(CatchAll)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        error_id = str(uuid.uuid4())
        _log_unhandled(error_id, request.scope, exc)
        return internal_error(error_id, request.url.path)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        problem = ProblemError(
            422, "validation-error", "Invalid input", f"{first['field']}: {first['message']}", errors
        )
        return problem_response(problem, request)

    app.add_exception_handler(DBAPIError, database_busy)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_SLUGS.get(exc.status_code, ("error", "Error"))
        problem = ProblemError(exc.status_code, slug, title, str(exc.detail), headers=dict(exc.headers or {}))
        return problem_response(problem, request)


async def database_busy(request: Request, exc: DBAPIError) -> JSONResponse:
    """A lock the database could not get in time (SQLite busy timeout, PostgreSQL lock timeout,
    deadlock, serialization failure) is 503 ``database-busy`` with ``Retry-After``: the request
    changed nothing (its transaction rolled back) and may simply be sent again.

    A database that cannot be reached (restarting, down, not answering within
    ``db_connect_timeout_s``) is 503 ``database-unavailable`` with ``Retry-After``: the request's
    transaction did not commit, and the server itself is fine.

    Any other database error is not ours to explain: it is raised on to the 500 handling.
    """
    if is_unavailable_error(exc):
        log.warning("%s %s: database unavailable (%s)", request.method, request.url.path,
                    (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0])
        return problem_response(ProblemError(
            503, "database-unavailable", "Database unavailable",
            f"the database cannot be reached just now (restarting or down); nothing was changed, retry in "
            f"{UNAVAILABLE_RETRY_AFTER_S} s",
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
        ), request)
    if not is_lock_error(exc):
        raise exc
    log.warning("%s %s: database busy (%s)", request.method, request.url.path, str(exc.orig).splitlines()[0])
    problem = ProblemError(
        503, "database-busy", "Database busy",
        f"the database was busy with other changes for too long; nothing was changed, retry in {BUSY_RETRY_AFTER_S} s",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )
    return problem_response(problem, request)
