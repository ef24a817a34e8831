"""The HTTP API application factory (``carepath serve`` runs ``create_app``).

Thin by design: routers translate HTTP to calls into ``dispatch/`` and back.  The OpenAPI
document lives at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from fastapi import FastAPI

from dispatch.settings import get_settings

API_PREFIX = "/api/v1"


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="carepath",
        version="0.1.0",
        summary="Scheduling and dispatch of in-home services for seniors.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )

    @app.get(f"{API_PREFIX}/health", operation_id="health-get", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the process answers and knows its time zone."""
        return {"status": "ok", "timezone": settings.timezone}

    return app
