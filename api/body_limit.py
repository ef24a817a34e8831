"""Request body limits: a body over its limit is refused with 413 before anything parses it.

Without this a 50 MB JSON body was read and parsed in full before validation looked at it
(issue 21).  This pure ASGI middleware sits in front of the routers and

* refuses at once, without reading a byte, a request whose ``Content-Length`` is over the limit;
* counts the bytes of a body as the application reads them (a chunked upload declares no
  length) and, at the first chunk that passes the limit, answers 413 itself and tells the
  application the client has gone (``http.disconnect``), so the body is never buffered past
  the limit, the endpoint never runs, and nothing is stored.  Whatever the application sends
  after that is dropped.

Two limits, both settings: ``CAREPATH_MAX_JSON_BODY_BYTES`` for every body (JSON, and the login
form), and ``CAREPATH_MAX_UPLOAD_BODY_BYTES`` for ``multipart/form-data`` bodies sent to the
spreadsheet imports (``/api/v1/imports/...``), by default the import's own file limit
(``dispatch.exchange.imports.MAX_FILE_BYTES``) plus room for the multipart envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, ProblemError

#: Room for the multipart envelope around an import file (boundaries, part headers, file name).
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """The limits in bytes, and the path prefix (or prefixes: the API's and the console's import) whose
    multipart bodies get the upload limit."""

    json_bytes: int
    upload_bytes: int
    upload_prefix: str | tuple[str, ...]

    def for_request(self, scope: Scope) -> tuple[int, str]:
        """The limit for this request and the setting that sets it (named in the 413)."""
        content_type = _header(scope, b"content-type") or ""
        if content_type.lower().startswith("multipart/form-data") and scope.get("path", "").startswith(self.upload_prefix):
            return self.upload_bytes, "CAREPATH_MAX_UPLOAD_BODY_BYTES"
        return self.json_bytes, "CAREPATH_MAX_JSON_BODY_BYTES"


class BodyLimitMiddleware:
    """Answer 413 problem+json to a request body over its limit (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.limits.for_request(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit, setting, f"the request declares {declared} bytes")
            return
        guard = _Guard(scope, receive, send, limit, setting)
        await self.app(scope, guard.receive, guard.send)


class _Guard:
    """One request's byte count, and whether it has been refused already."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int, setting: str) -> None:
        self.scope, self._receive, self._send = scope, receive, send
        self.limit, self.setting = limit, setting
        self.received = 0
        self.started = False  # the application has begun its answer
        self.refused = False  # the body passed the limit
        self.answered = False  # ... and the 413 went out instead of the application's answer

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        if self.received <= self.limit:
            return message
        self.refused = True
        if not self.started:  # an application that answers before reading its body keeps its answer
            self.answered = True
            await _refuse(self.scope, self._send, self.limit, self.setting,
                          f"more than {self.limit} bytes arrived")
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _refuse(scope: Scope, send: Send, limit: int, setting: str, what: str) -> None:
    problem = ProblemError(
        413, "payload-too-large", "Request body too large",
        f"{what}; request bodies here are limited to {limit} bytes ({setting})",
        [{"field": "body", "message": f"at most {limit} bytes ({setting})"}],
    )
    body = json.dumps(problem.body(scope.get("path"))).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _content_length(scope: Scope) -> int | None:
    """The declared length, or None if absent or unreadable (the byte count still applies then)."""
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
