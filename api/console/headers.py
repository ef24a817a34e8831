"""Security headers on every answer: console pages, fragments, static files, ``/``, and the API.

Console: the Content-Security-Policy allows scripts and styles from this origin only: no inline
script, no inline style, no ``eval`` (htmx is configured with ``allowEval: false`` and without its
injected indicator style; Leaflet sets positions through the CSSOM, which CSP permits).  Images
may come from the map tile server of ``CAREPATH_MAP_TILES`` when one is set.

API (issue 20): JSON is never a document to render, so its policy allows nothing
(``default-src 'none'``), it may not be framed, sends no referrer, and is not stored by caches
(``Cache-Control: no-store``: answers carry personal data) unless a route says otherwise (the
calendar feed lets the calendar app keep it for five minutes).  The interactive documentation
(``/api/v1/docs``) is FastAPI's Swagger UI page, which loads its script and style from
cdn.jsdelivr.net and starts with an inline script: its policy allows exactly that.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console import PREFIX


def tile_origin(tile_url: str | None) -> str | None:
    """The CSP source of a tile URL template: ``https://{s}.tile.example.org/{z}/{x}/{y}.png`` ->
    ``https://*.tile.example.org``."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "SUBDOMAIN"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.replace("SUBDOMAIN", "*")
    return f"{parts.scheme}://{host}"


def policy(tile_url: str | None) -> str:
    images = "'self' data:" + (f" {origin}" if (origin := tile_origin(tile_url)) else "")
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", f"img-src {images}",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = "; ".join([
    "default-src 'none'", "script-src https://cdn.jsdelivr.net 'unsafe-inline'", "style-src https://cdn.jsdelivr.net",
    "img-src 'self' data: https://fastapi.tiangolo.com", "connect-src 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "form-action 'none'",
])
_COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeadersMiddleware:
    """Adds CSP, X-Frame-Options, Referrer-Policy, X-Content-Type-Options (and, for the API,
    Cache-Control) to every HTTP answer; a header the route set itself is kept."""

    def __init__(self, app: ASGIApp, tile_url: str | None = None, docs_path: str = "/api/v1/docs") -> None:
        self.app = app
        self.docs_path = docs_path
        self.console = [(b"content-security-policy", policy(tile_url).encode()),
                        (b"referrer-policy", b"same-origin"), *_COMMON]
        self.api = [(b"content-security-policy", API_POLICY.encode()), (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"), *_COMMON]
        self.docs = [(b"content-security-policy", DOCS_POLICY.encode()), (b"referrer-policy", b"no-referrer"),
                     *_COMMON]

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        if path == "/" or path == PREFIX or path.startswith(PREFIX + "/"):
            return self.console
        if path == self.docs_path or path.startswith(self.docs_path + "/"):
            return self.docs
        return self.api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)
