"""No U+0000 (NUL) in any text a request carries: 422 naming where it is, before any route runs.

PostgreSQL cannot store NUL in a text column (psycopg refuses the value), so a name, a note or an
id with ``\\x00`` in it was a 500 there and stored on SQLite (found by the schemathesis fuzzing,
issue 20).  No field has a use for it, so the API refuses it everywhere, the same on both
backends, in one place: the path (``path``), each query parameter (``query.<name>``), and the
strings and keys of a JSON body (``name``, ``forbidden_workers.1``: the field names validation
errors use) or of a urlencoded form (the field's name).  Spreadsheet imports check their cells
themselves (``dispatch.exchange.imports``), where the line and column can be named.

A JSON or form body is read here in full to look at it (the body limits of ``api.body_limit``,
which wraps this middleware, still apply) and handed on unchanged; a body that is not valid JSON
is left for the route to refuse.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, ProblemError

NUL = "\x00"


def nul_in_json(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string (or key) holding NUL in a parsed JSON value, or None."""
    if isinstance(value, str):
        return ".".join(path) if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return ".".join((*path, key.replace(NUL, "\\x00")))
            found = nul_in_json(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_in_json(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def nul_in_url(scope: Scope) -> str | None:
    """``path`` or ``query.<name>`` if the URL holds NUL (raw or as ``%00``), else None."""
    if NUL in scope.get("path", "") or NUL in unquote(scope.get("raw_path", b"").decode("latin-1")):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            return f"query.{name.replace(NUL, '')}"
    return None


def _could_hold_nul(body: bytes) -> bool:
    """Whether the raw bytes can hold NUL at all: raw, as JSON's ``\\u0000`` or a form's ``%00``.
    Almost no body does, so the parse below (a second one: the route parses the body too) runs
    only for those that may."""
    return b"\x00" in body or b"\\u0000" in body or b"%00" in body


def _nul_in_body(content_type: str, body: bytes) -> str | None:
    if not _could_hold_nul(body):
        return None
    if content_type.startswith("application/x-www-form-urlencoded"):
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if NUL in name or NUL in value:
                return name.replace(NUL, "") or "body"
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None  # not JSON: the route answers that
    found = nul_in_json(parsed)
    return None if found is None else (found or "body")


class NulGuard:
    """ASGI middleware: 422 problem+json for NUL in the URL or a JSON/form body (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = nul_in_url(scope)
        if field is not None:
            await _refuse(scope, send, field)
            return
        content_type = _content_type(scope)
        if not (content_type.startswith("application/json") or content_type.endswith("+json")
                or content_type.startswith("application/x-www-form-urlencoded")):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away (or the body limit cut it off): let the app see it
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        field = _nul_in_body(content_type, body) if body else None
        if field is not None:
            await _refuse(scope, send, field)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-type":
            return value.decode("latin-1").lower()
    return ""


async def _refuse(scope: Scope, send: Send, field: str) -> None:
    problem = ProblemError(
        422, "validation-error", "Invalid input", f"{field}: text must not contain the NUL character (U+0000)",
        [{"field": field, "message": "text must not contain the NUL character (U+0000)"}],
    )
    body = json.dumps(problem.body(scope.get("path", "").replace(NUL, "\\x00"))).encode()
    await send({"type": "http.response.start", "status": 422, "headers": [
        (b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})
