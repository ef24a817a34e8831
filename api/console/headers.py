"""Security headers on every console answer (pages, fragments, static files) and on ``/``.

The Content-Security-Policy allows scripts and styles from this origin only: no inline script,
no inline style, no ``eval`` (htmx is configured with ``allowEval: false`` and without its
injected indicator style; Leaflet sets positions through the CSSOM, which CSP permits).  Images
may come from the map tile server of ``CAREPATH_MAP_TILES`` when one is set.  The JSON API's
answers are left as they are.
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


class SecurityHeadersMiddleware:
    """Adds CSP, X-Frame-Options, Referrer-Policy, X-Content-Type-Options to console answers."""

    def __init__(self, app: ASGIApp, tile_url: str | None = None) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", policy(tile_url).encode()),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"x-content-type-options", b"nosniff"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in self.headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)
